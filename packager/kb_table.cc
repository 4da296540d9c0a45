#include "packager/kb_table.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "manifests/case_fold.h"

namespace hotfix {

namespace {

constexpr std::string_view kSectionTitle = "File information";

struct LanguageName {
  std::string_view tag;
  std::string_view name;
};

// The languages Microsoft ships hotfixes in most often; anything else prints as its tag.
constexpr std::array<LanguageName, 20> kLanguages{{
    {"neutral", "language-neutral"},
    {"en-US", "English"},
    {"en-GB", "English (United Kingdom)"},
    {"de-DE", "German"},
    {"fr-FR", "French"},
    {"ja-JP", "Japanese"},
    {"es-ES", "Spanish"},
    {"it-IT", "Italian"},
    {"ko-KR", "Korean"},
    {"zh-CN", "Chinese (Simplified)"},
    {"zh-TW", "Chinese (Traditional)"},
    {"zh-HK", "Chinese (Hong Kong SAR)"},
    {"pt-BR", "Portuguese (Brazil)"},
    {"pt-PT", "Portuguese (Portugal)"},
    {"ru-RU", "Russian"},
    {"nl-NL", "Dutch"},
    {"sv-SE", "Swedish"},
    {"pl-PL", "Polish"},
    {"tr-TR", "Turkish"},
    {"cs-CZ", "Czech"},
}};

// Language tags are case-insensitive (BCP 47).
bool equal_ignoring_case(std::string_view a, std::string_view b) { return equal_fold(a, b); }

constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct LocalCells {
  std::string date;  // "13-Dec-2008"
  std::string time;  // "05:27"
  std::string zone;  // "CET (UTC+01:00)"
};

// Timestamp::local_display() gives "2008-12-13 05:27 CET"; the table shows the date the way
// the article does, so that only the values change between UTC and local time.
LocalCells local_cells(Timestamp timestamp) {
  std::string text = timestamp.local_display();
  LocalCells cells;
  std::size_t first = text.find(' ');
  std::size_t second = first == std::string::npos ? first : text.find(' ', first + 1);
  std::string date = text.substr(0, first);
  if (first != std::string::npos) {
    cells.time = text.substr(first + 1, second == std::string::npos ? second : second - first - 1);
  }
  cells.zone = timestamp.local_zone();
  // "YYYY-MM-DD" -> "DD-Mon-YYYY"; anything unexpected is shown as it came.
  std::size_t dash1 = date.find('-');
  std::size_t dash2 = dash1 == std::string::npos ? dash1 : date.find('-', dash1 + 1);
  cells.date = date;
  if (dash2 != std::string::npos && dash2 - dash1 == 3) {
    int month = (date[dash1 + 1] - '0') * 10 + (date[dash1 + 2] - '0');
    if (month >= 1 && month <= 12) {
      cells.date = date.substr(dash2 + 1) + "-" + std::string(kMonths[month - 1]) + "-" +
                   date.substr(0, dash1);
    }
  }
  return cells;
}

}  // namespace

std::vector<std::string> kb_time_cells(Timestamp timestamp, bool local_time) {
  if (!local_time) return {timestamp.kb_date(), timestamp.kb_time()};
  LocalCells local = local_cells(timestamp);
  return {std::move(local.date), std::move(local.time), std::move(local.zone)};
}

namespace {

std::vector<std::string> row_for(const FileEntry& file, const KbTableOptions& options) {
  std::vector<std::string> row{file.name, format_file_version(file.version),
                               format_thousands(file.size)};
  for (std::string& cell : kb_time_cells(file.timestamp, options.local_time)) {
    row.push_back(std::move(cell));
  }
  row.emplace_back(arch_display(file.platform));
  return row;
}

// A cell must stay on one line and must not end the cell early.
std::string markdown_cell(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

void append_row(std::string& out, const std::vector<std::string>& cells) {
  out += '|';
  for (const std::string& cell : cells) {
    out += ' ';
    out += markdown_cell(cell);
    out += " |";
  }
  out += '\n';
}

}  // namespace

std::string format_thousands(std::uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string language_display_name(std::string_view tag) {
  for (const LanguageName& language : kLanguages) {
    if (equal_ignoring_case(language.tag, tag)) return std::string(language.name);
  }
  return std::string(tag);
}

std::string kb_languages_sentence(const std::vector<std::string>& languages) {
  constexpr std::string_view kRest =
      " the file attributes (or later file attributes) that are listed in the following table.";
  if (languages.empty()) return "This hotfix has" + std::string(kRest);
  std::string names;
  for (std::size_t i = 0; i < languages.size(); ++i) {
    if (i > 0) {
      if (languages.size() > 2) names += ',';
      names += ' ';
      if (i + 1 == languages.size()) names += "and ";
    }
    names += language_display_name(languages[i]);
  }
  bool several = languages.size() > 1;
  return "The " + names +
         (several ? " versions of this hotfix have" : " version of this hotfix has") +
         std::string(kRest);
}

std::string kb_section_heading(Arch arch) {
  // The article writes "IA-64 based version" without the hyphen the others have.
  if (arch == Arch::kIa64) return std::string(arch_display(arch)) + " based version";
  return std::string(arch_display(arch)) + "-based version";
}

KbTable build_kb_table(const Manifest& manifest, const KbTableOptions& options) {
  KbTable table;
  std::vector<std::string> languages = manifest.languages;
  if (manifest.bundle && manifest.bundle->language) languages = {*manifest.bundle->language};
  table.intro = kb_languages_sentence(languages);
  table.intro += options.local_time
                     ? " The dates and times for these files are listed in local time."
                     : " The dates and times for these files are listed in Coordinated Universal "
                       "Time (UTC).";

  table.columns = {"File name", "File version", "File size", "Date", "Time"};
  if (options.local_time) table.columns.emplace_back("Time zone");
  table.columns.emplace_back("Platform");

  for (const auto& [arch, files] : manifest.architectures) {
    if (manifest.bundle && arch != manifest.bundle->arch) continue;
    KbTableSection section;
    section.arch = arch;
    section.heading = kb_section_heading(arch);
    section.rows.reserve(files.size());
    for (const FileEntry& file : files) section.rows.push_back(row_for(file, options));
    table.sections.push_back(std::move(section));
  }
  return table;
}

std::string render_kb_table_markdown(const KbTable& table) {
  std::string out = "## " + std::string(kSectionTitle) + "\n\n" + table.intro + "\n";
  for (const KbTableSection& section : table.sections) {
    out += "\n### " + section.heading + "\n\n";
    append_row(out, table.columns);
    out += '|';
    for (std::size_t i = 0; i < table.columns.size(); ++i) out += "---|";
    out += '\n';
    for (const auto& row : section.rows) append_row(out, row);
  }
  return out;
}

std::string render_kb_table_markdown(const Manifest& manifest, const KbTableOptions& options) {
  return render_kb_table_markdown(build_kb_table(manifest, options));
}

}  // namespace hotfix
