// The Knowledge Base article's "File information" section, rendered from a manifest:
// one table per architecture listing each file's name, version, size, date, time and platform.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "manifests/arch.h"
#include "manifests/manifest.h"

namespace hotfix {

struct KbTableOptions {
  // Dates and times in this machine's time zone instead of UTC (the article's choice).
  // Adds a "Time zone" column after "Time" ("CET (UTC+01:00)"), because the zone can differ
  // per row (DST).
  bool local_time = false;
};

// One architecture's table, as plain text cells (no Markdown escaping).
struct KbTableSection {
  Arch arch = Arch::kX86;
  std::string heading;                         // "x86-based version", "IA-64 based version"
  std::vector<std::vector<std::string>> rows;  // one cell per column, in the manifest's order
};

struct KbTable {
  std::string intro;  // "The English version of this hotfix has the file attributes ..."
  // File name, File version, File size, Date, Time, Platform; with local_time, Time zone
  // is inserted after Time.
  std::vector<std::string> columns;
  std::vector<KbTableSection> sections;  // x86, x64, IA-64, ARM64, as present
};

// The tables as data. A bundle's manifest yields only the bundle's architecture, and its
// language (if the bundle names one) is the only language the intro mentions.
KbTable build_kb_table(const Manifest& manifest, const KbTableOptions& options = {});

// The whole section in Markdown, starting with "## File information".
std::string render_kb_table_markdown(const KbTable& table);
std::string render_kb_table_markdown(const Manifest& manifest, const KbTableOptions& options = {});

// The Date and Time cells of a file row, as the article writes them ("13-Dec-2008", "04:27")
// in UTC; with `local_time`, in local time and a third cell, the zone with its offset
// ("CET (UTC+01:00)"), since it can differ per row (DST).
std::vector<std::string> kb_time_cells(Timestamp timestamp, bool local_time);

// The article's heading: "x86-based version", "x64-based version", "IA-64 based version",
// "ARM64-based version".
std::string kb_section_heading(Arch arch);

// 51712 -> "51,712".
std::string format_thousands(std::uint64_t value);

// "en-US" -> "English"; tags not in the built-in list are returned as given.
std::string language_display_name(std::string_view tag);

// The intro's first sentence, e.g. "The English version of this hotfix has the file
// attributes (or later file attributes) that are listed in the following table."; several
// languages are listed in one sentence ("The English, German, and French versions ...").
std::string kb_languages_sentence(const std::vector<std::string>& languages);

}  // namespace hotfix
