#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "manifests/manifest_json.h"
#include "packager/kb_table.h"
#include "tests/support/temp_dir.h"

using hotfix::Arch;
using hotfix::FileEntry;
using hotfix::KbTable;
using hotfix::KbTableOptions;
using hotfix::Manifest;
using hotfix::Timestamp;
using hotfix::Version;

namespace {

Timestamp at(const char* iso) {
  auto t = Timestamp::parse_iso8601(iso);
  REQUIRE(t);
  return *t;
}

FileEntry file(std::string name, std::string destination, std::optional<Version> version,
               std::uint64_t size, const char* iso, Arch platform) {
  FileEntry f;
  f.name = std::move(name);
  f.destination = std::move(destination);
  f.version = version;
  f.size = size;
  f.timestamp = at(iso);
  f.platform = platform;
  return f;
}

const Version kIis(7, 0, 6001, 22329);

// A few rows of KB967131, built in code so the renderer is tested without the JSON reader.
Manifest small_manifest() {
  Manifest m;
  m.id = "KB967131";
  m.title = "test";
  m.languages = {"en-US"};
  m.architectures[Arch::kX86] = {
      file("Admwprox.dll", "Windows/System32/inetsrv", kIis, 51712, "2008-12-13T04:27:00Z",
           Arch::kX86),
      file("Appcmd.xml", "Windows/System32/inetsrv", std::nullopt, 3654, "2007-12-18T21:00:00Z",
           Arch::kNeutral),
  };
  m.architectures[Arch::kX64] = {
      file("Iis_schema.xml", "Windows/System32/inetsrv/config/schema", std::nullopt, 77747,
           "2008-09-09T23:02:00Z", Arch::kNeutral),
      file("Appcmd.xml", "Windows/SysWOW64/inetsrv", std::nullopt, 3654, "2007-12-18T21:00:00Z",
           Arch::kNeutral),
  };
  m.architectures[Arch::kIa64] = {
      file("Rscaext.dll", "Windows/System32/inetsrv", Version(6, 0, 6001, 22329), 111616,
           "2008-12-13T04:45:00Z", Arch::kIa64),
  };
  return m;
}

// Sets TZ for one test and puts the old value back afterwards.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~ScopedTimeZone() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  ScopedTimeZone(const ScopedTimeZone&) = delete;
  ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

 private:
  std::optional<std::string> old_;
};

// The article's "File information" section, read independently of the renderer: in the
// article's text every cell is a line of its own (blank lines between them).
struct ArticleTable {
  std::string heading;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

struct Article {
  std::string title;
  std::string intro;
  std::vector<ArticleTable> tables;
};

bool is_heading(const std::string& line) {
  auto ends_with = [&](std::string_view suffix) {
    return line.size() >= suffix.size() &&
           line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with("-based version") || line == "IA-64 based version";
}

Article read_article() {
  std::string text =
      hotfix::test::read_file(HOTFIX_SOURCE_DIR "/samples/KB967131/article-file-information.txt");
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  Article article;
  REQUIRE(lines.size() >= 2);
  article.title = lines[0];
  article.intro = lines[1];
  std::size_t i = 2;
  while (i < lines.size()) {
    REQUIRE(is_heading(lines[i]));
    ArticleTable table;
    table.heading = lines[i++];
    REQUIRE(i + 6 <= lines.size());
    table.header.assign(lines.begin() + static_cast<std::ptrdiff_t>(i),
                        lines.begin() + static_cast<std::ptrdiff_t>(i + 6));
    i += 6;
    while (i < lines.size() && !is_heading(lines[i])) {
      INFO(table.heading << ", row " << table.rows.size());
      REQUIRE(i + 6 <= lines.size());
      std::vector<std::string> row(lines.begin() + static_cast<std::ptrdiff_t>(i),
                                   lines.begin() + static_cast<std::ptrdiff_t>(i + 6));
      for (const std::string& cell : row) REQUIRE_FALSE(is_heading(cell));
      table.rows.push_back(std::move(row));
      i += 6;
    }
    article.tables.push_back(std::move(table));
  }
  return article;
}

std::size_t count_column(const ArticleTable& table, std::size_t column, std::string_view value) {
  std::size_t n = 0;
  for (const auto& row : table.rows) n += row[column] == value;
  return n;
}

Manifest read_sample() {
  return hotfix::read_manifest_file(HOTFIX_SOURCE_DIR "/samples/KB967131/hotfix.json");
}

// The tables back out of the rendered Markdown: each "### " heading, then its body rows
// (the header and the |---| line skipped), cells split at " | ".
std::vector<ArticleTable> parse_markdown(const std::string& markdown) {
  std::vector<ArticleTable> tables;
  std::istringstream in(markdown);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("### ", 0) == 0) {
      tables.push_back(ArticleTable{line.substr(4), {}, {}});
      continue;
    }
    if (line.rfind("| ", 0) != 0 || tables.empty()) continue;
    REQUIRE(line.size() >= 4);
    REQUIRE(line.compare(line.size() - 2, 2, " |") == 0);
    std::string inner = line.substr(2, line.size() - 4);
    std::vector<std::string> cells;
    for (std::size_t start = 0;;) {
      std::size_t bar = inner.find(" | ", start);
      cells.push_back(inner.substr(start, bar == std::string::npos ? bar : bar - start));
      if (bar == std::string::npos) break;
      start = bar + 3;
    }
    if (tables.back().header.empty()) {
      tables.back().header = cells;
    } else {
      tables.back().rows.push_back(cells);
    }
  }
  return tables;
}

void check_same_table(const ArticleTable& expected, const std::string& heading,
                      const std::vector<std::vector<std::string>>& rows) {
  INFO(expected.heading);
  CHECK(heading == expected.heading);
  REQUIRE(rows.size() == expected.rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    REQUIRE(rows[r].size() == expected.header.size());
    for (std::size_t c = 0; c < expected.header.size(); ++c) {
      INFO("row " << r << " (" << expected.rows[r][0] << "), column " << expected.header[c]);
      CHECK(rows[r][c] == expected.rows[r][c]);
    }
  }
}

}  // namespace

TEST_CASE("format_thousands groups digits by three") {
  CHECK(hotfix::format_thousands(0) == "0");
  CHECK(hotfix::format_thousands(7) == "7");
  CHECK(hotfix::format_thousands(490) == "490");
  CHECK(hotfix::format_thousands(999) == "999");
  CHECK(hotfix::format_thousands(1000) == "1,000");
  CHECK(hotfix::format_thousands(8192) == "8,192");
  CHECK(hotfix::format_thousands(51712) == "51,712");
  CHECK(hotfix::format_thousands(100000) == "100,000");
  CHECK(hotfix::format_thousands(999999) == "999,999");
  CHECK(hotfix::format_thousands(1000000) == "1,000,000");
  CHECK(hotfix::format_thousands(1234567) == "1,234,567");
  CHECK(hotfix::format_thousands(18446744073709551615ull) == "18,446,744,073,709,551,615");
}

TEST_CASE("language tags map to English names, unknown tags print as given") {
  CHECK(hotfix::language_display_name("en-US") == "English");
  CHECK(hotfix::language_display_name("de-DE") == "German");
  CHECK(hotfix::language_display_name("fr-FR") == "French");
  CHECK(hotfix::language_display_name("ja-JP") == "Japanese");
  CHECK(hotfix::language_display_name("EN-us") == "English");
  CHECK(hotfix::language_display_name("xx-YY") == "xx-YY");
  CHECK(hotfix::language_display_name("") == "");
}

TEST_CASE("the language sentence names one or several languages") {
  const std::string rest =
      " the file attributes (or later file attributes) that are listed in the following table.";
  CHECK(hotfix::kb_languages_sentence({"en-US"}) ==
        "The English version of this hotfix has" + rest);
  CHECK(hotfix::kb_languages_sentence({"de-DE"}) == "The German version of this hotfix has" + rest);
  CHECK(hotfix::kb_languages_sentence({"en-US", "de-DE"}) ==
        "The English and German versions of this hotfix have" + rest);
  CHECK(hotfix::kb_languages_sentence({"en-US", "de-DE", "fr-FR"}) ==
        "The English, German, and French versions of this hotfix have" + rest);
  CHECK(hotfix::kb_languages_sentence({"en-US", "de-DE", "fr-FR", "ja-JP"}) ==
        "The English, German, French, and Japanese versions of this hotfix have" + rest);
  CHECK(hotfix::kb_languages_sentence({"xx-YY"}) == "The xx-YY version of this hotfix has" + rest);
  CHECK(hotfix::kb_languages_sentence({}) == "This hotfix has" + rest);
}

TEST_CASE("section headings use the article's spellings") {
  CHECK(hotfix::kb_section_heading(Arch::kX86) == "x86-based version");
  CHECK(hotfix::kb_section_heading(Arch::kX64) == "x64-based version");
  CHECK(hotfix::kb_section_heading(Arch::kIa64) == "IA-64 based version");
  CHECK(hotfix::kb_section_heading(Arch::kArm64) == "ARM64-based version");
}

TEST_CASE("a manifest renders as the article's Markdown section") {
  const std::string expected =
      "## File information\n"
      "\n"
      "The English version of this hotfix has the file attributes (or later file attributes) "
      "that are listed in the following table. The dates and times for these files are listed "
      "in Coordinated Universal Time (UTC).\n"
      "\n"
      "### x86-based version\n"
      "\n"
      "| File name | File version | File size | Date | Time | Platform |\n"
      "|---|---|---|---|---|---|\n"
      "| Admwprox.dll | 7.0.6001.22329 | 51,712 | 13-Dec-2008 | 04:27 | x86 |\n"
      "| Appcmd.xml | Not Applicable | 3,654 | 18-Dec-2007 | 21:00 | Not Applicable |\n"
      "\n"
      "### x64-based version\n"
      "\n"
      "| File name | File version | File size | Date | Time | Platform |\n"
      "|---|---|---|---|---|---|\n"
      "| Iis_schema.xml | Not Applicable | 77,747 | 09-Sep-2008 | 23:02 | Not Applicable |\n"
      "| Appcmd.xml | Not Applicable | 3,654 | 18-Dec-2007 | 21:00 | Not Applicable |\n"
      "\n"
      "### IA-64 based version\n"
      "\n"
      "| File name | File version | File size | Date | Time | Platform |\n"
      "|---|---|---|---|---|---|\n"
      "| Rscaext.dll | 6.0.6001.22329 | 111,616 | 13-Dec-2008 | 04:45 | IA-64 |\n";
  CHECK(hotfix::render_kb_table_markdown(small_manifest()) == expected);
}

TEST_CASE("the structured table has six cells per row, per architecture, in manifest order") {
  KbTable table = hotfix::build_kb_table(small_manifest());
  CHECK(table.columns == std::vector<std::string>{"File name", "File version", "File size", "Date",
                                                  "Time", "Platform"});
  REQUIRE(table.sections.size() == 3);
  CHECK(table.sections[0].arch == Arch::kX86);
  CHECK(table.sections[1].arch == Arch::kX64);
  CHECK(table.sections[2].arch == Arch::kIa64);
  REQUIRE(table.sections[1].rows.size() == 2);
  CHECK(table.sections[1].rows[0] == std::vector<std::string>{"Iis_schema.xml", "Not Applicable",
                                                              "77,747", "09-Sep-2008", "23:02",
                                                              "Not Applicable"});
  CHECK(table.sections[1].rows[1][0] == "Appcmd.xml");
  for (const auto& section : table.sections) {
    for (const auto& row : section.rows) CHECK(row.size() == 6);
  }
}

TEST_CASE("an ARM64 architecture gets its own section") {
  Manifest m = small_manifest();
  m.architectures[Arch::kArm64] = {file("Admwprox.dll", "Windows/System32/inetsrv", kIis, 1,
                                        "2008-12-13T04:27:00Z", Arch::kArm64)};
  std::string md = hotfix::render_kb_table_markdown(m);
  CHECK(md.find("\n### ARM64-based version\n") != std::string::npos);
  CHECK(md.find("| Admwprox.dll | 7.0.6001.22329 | 1 | 13-Dec-2008 | 04:27 | ARM64 |\n") !=
        std::string::npos);
  // Sections follow the order x86, x64, IA-64, ARM64.
  CHECK(md.find("### IA-64 based version") < md.find("### ARM64-based version"));
}

TEST_CASE("a bundle manifest renders only its architecture and its language") {
  Manifest m = small_manifest();
  m.languages = {"en-US", "de-DE"};
  m.bundle.emplace();
  m.bundle->arch = Arch::kX64;
  m.bundle->language = "de-DE";
  KbTable table = hotfix::build_kb_table(m);
  REQUIRE(table.sections.size() == 1);
  CHECK(table.sections[0].arch == Arch::kX64);
  CHECK(table.sections[0].rows.size() == 2);
  CHECK(table.intro.rfind("The German version of this hotfix has ", 0) == 0);

  std::string md = hotfix::render_kb_table_markdown(m);
  CHECK(md.find("### x64-based version") != std::string::npos);
  CHECK(md.find("### x86-based version") == std::string::npos);
  CHECK(md.find("### IA-64 based version") == std::string::npos);

  // A bundle without a language keeps the hotfix's languages.
  m.bundle->language.reset();
  CHECK(hotfix::build_kb_table(m).intro.rfind("The English and German versions", 0) == 0);
}

TEST_CASE("a manifest with several languages names them in the intro") {
  Manifest m = small_manifest();
  m.languages = {"en-US", "ja-JP"};
  CHECK(hotfix::render_kb_table_markdown(m).find(
            "\n\nThe English and Japanese versions of this hotfix have the file attributes") !=
        std::string::npos);
}

TEST_CASE("local time replaces UTC on request, with the zone of each row") {
  // Central European time with its DST rule, spelled out so no zone database is needed.
  ScopedTimeZone tz("CET-1CEST,M3.5.0,M10.5.0/3");
  KbTable table = hotfix::build_kb_table(small_manifest(), KbTableOptions{true});
  CHECK(table.columns == std::vector<std::string>{"File name", "File version", "File size", "Date",
                                                  "Time", "Time zone", "Platform"});
  CHECK(table.intro.find("listed in local time.") != std::string::npos);
  CHECK(table.intro.find("UTC") == std::string::npos);
  REQUIRE(table.sections.size() == 3);
  // Winter: UTC+1.
  CHECK(table.sections[0].rows[0] == std::vector<std::string>{"Admwprox.dll", "7.0.6001.22329",
                                                              "51,712", "13-Dec-2008", "05:27",
                                                              "CET (UTC+01:00)", "x86"});
  // Summer: UTC+2, and the date moves to the next day.
  CHECK(table.sections[1].rows[0] ==
        std::vector<std::string>{"Iis_schema.xml", "Not Applicable", "77,747", "10-Sep-2008",
                                 "01:02", "CEST (UTC+02:00)", "Not Applicable"});

  std::string md = hotfix::render_kb_table_markdown(small_manifest(), KbTableOptions{true});
  CHECK(md.find("| File name | File version | File size | Date | Time | Time zone | Platform |\n"
                "|---|---|---|---|---|---|---|\n") != std::string::npos);
  CHECK(md.find("| Admwprox.dll | 7.0.6001.22329 | 51,712 | 13-Dec-2008 | 05:27 | CET (UTC+01:00) "
                "| x86 |\n") != std::string::npos);
}

TEST_CASE("local times carry their UTC offset, west of UTC too") {
  {
    ScopedTimeZone tz("CET-1CEST,M3.5.0,M10.5.0/3");
    CHECK(hotfix::Timestamp(1229142420).local_iso8601() == "2008-12-13T05:27:00+01:00");
    CHECK(hotfix::Timestamp(1221001320).local_iso8601() == "2008-09-10T01:02:00+02:00");
    CHECK(hotfix::Timestamp(1221001320).local_zone() == "CEST (UTC+02:00)");
  }
  {
    ScopedTimeZone tz("NST+3:30");  // a half-hour offset, west of UTC
    CHECK(hotfix::Timestamp(1229142420).local_iso8601() == "2008-12-13T00:57:00-03:30");
    CHECK(hotfix::Timestamp(1229142420).local_zone() == "NST (UTC-03:30)");
  }
  ScopedTimeZone tz("UTC0");
  CHECK(hotfix::Timestamp(1229142420).local_iso8601() == "2008-12-13T04:27:00+00:00");
  CHECK(hotfix::kb_time_cells(hotfix::Timestamp(1229142420), false) ==
        std::vector<std::string>{"13-Dec-2008", "04:27"});
}

TEST_CASE("UTC stays the default whatever the machine's time zone") {
  ScopedTimeZone tz("CET-1CEST,M3.5.0,M10.5.0/3");
  KbTable table = hotfix::build_kb_table(small_manifest());
  CHECK(table.sections[0].rows[0][3] == "13-Dec-2008");
  CHECK(table.sections[0].rows[0][4] == "04:27");
  CHECK(table.intro.find("Coordinated Universal Time (UTC)") != std::string::npos);
}

TEST_CASE("a '|' in a file name cannot break the Markdown table") {
  Manifest m = small_manifest();
  m.architectures[Arch::kX86][0].name = "a|b.dll";
  std::string md = hotfix::render_kb_table_markdown(m);
  CHECK(md.find("| a\\|b.dll | 7.0.6001.22329 |") != std::string::npos);
  // The structured rows keep the name as it is.
  CHECK(hotfix::build_kb_table(m).sections[0].rows[0][0] == "a|b.dll");
}

TEST_CASE("the article's File information section has the tables the manifest must match") {
  Article article = read_article();
  CHECK(article.title == "File information");
  REQUIRE(article.tables.size() == 3);
  CHECK(article.tables[0].heading == "x86-based version");
  CHECK(article.tables[1].heading == "x64-based version");
  CHECK(article.tables[2].heading == "IA-64 based version");
  CHECK(article.tables[0].rows.size() == 27);
  CHECK(article.tables[1].rows.size() == 47);
  CHECK(article.tables[2].rows.size() == 47);
  // 64-bit tables: 27 native or neutral rows, then 20 WOW64 rows: 19 x86 files and Appcmd.xml.
  for (std::size_t t = 1; t < 3; ++t) {
    const ArticleTable& table = article.tables[t];
    INFO(table.heading);
    std::string native = t == 1 ? "x64" : "IA-64";
    CHECK(count_column(table, 5, native) == 20);
    CHECK(count_column(table, 5, "x86") == 19);
    CHECK(count_column(table, 5, "Not Applicable") == 8);
    for (std::size_t r = 27; r < table.rows.size(); ++r) {
      INFO("row " << r << ": " << table.rows[r][0]);
      CHECK((table.rows[r][5] == "x86" || table.rows[r][0] == "Appcmd.xml"));
    }
    CHECK(count_column(table, 0, "Appcmd.xml") == 2);
  }
  CHECK(count_column(article.tables[0], 5, "x86") == 20);
  CHECK(count_column(article.tables[0], 5, "Not Applicable") == 7);
}

TEST_CASE("the rendered header and intro say what the article says") {
  Article article = read_article();
  KbTable table = hotfix::build_kb_table(small_manifest());
  for (const ArticleTable& article_table : article.tables) {
    CHECK(article_table.header == table.columns);
  }
  // The article goes on to explain Control Panel's time zone tab, which the product omits.
  CHECK(article.intro.rfind(table.intro + " ", 0) == 0);
  CHECK(hotfix::render_kb_table_markdown(table).rfind("## " + article.title + "\n\n", 0) == 0);
}

TEST_CASE("the KB967131 sample renders exactly as the article's tables") {
  Article article = read_article();
  Manifest m = read_sample();
  KbTable table = hotfix::build_kb_table(m);
  REQUIRE(table.sections.size() == article.tables.size());
  for (std::size_t t = 0; t < table.sections.size(); ++t) {
    CHECK(table.columns == article.tables[t].header);
    check_same_table(article.tables[t], table.sections[t].heading, table.sections[t].rows);
  }

  // The same, read back from the Markdown, so that the text users see is what is checked.
  std::string markdown = hotfix::render_kb_table_markdown(table);
  std::vector<ArticleTable> rendered = parse_markdown(markdown);
  REQUIRE(rendered.size() == article.tables.size());
  for (std::size_t t = 0; t < rendered.size(); ++t) {
    CHECK(rendered[t].header == article.tables[t].header);
    check_same_table(article.tables[t], rendered[t].heading, rendered[t].rows);
  }
  CHECK(markdown.rfind("## File information\n\n" + table.intro + "\n\n### x86-based version\n",
                       0) == 0);
  std::size_t x86 = markdown.find("\n### x86-based version\n");
  std::size_t x64 = markdown.find("\n### x64-based version\n");
  std::size_t ia64 = markdown.find("\n### IA-64 based version\n");
  CHECK(x86 < x64);
  CHECK(x64 < ia64);
  CHECK(ia64 != std::string::npos);
  CHECK(markdown.find("IA-64-based") == std::string::npos);
  CHECK(article.intro.rfind(table.intro + " ", 0) == 0);
}

TEST_CASE("the KB967131 sample has the article's rows per architecture") {
  Manifest m = read_sample();
  REQUIRE(m.architectures.size() == 3);
  CHECK(m.architectures.at(Arch::kX86).size() == 27);
  for (const FileEntry& f : m.architectures.at(Arch::kX86)) {
    CHECK((f.platform == Arch::kX86 || f.platform == Arch::kNeutral));
    CHECK(f.destination.rfind("Windows/System32/inetsrv", 0) == 0);
  }
  for (Arch arch : {Arch::kX64, Arch::kIa64}) {
    INFO(hotfix::arch_token(arch));
    const std::vector<FileEntry>& files = m.architectures.at(arch);
    REQUIRE(files.size() == 47);
    std::size_t native = 0, neutral = 0, wow64_x86 = 0, wow64_neutral = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
      const FileEntry& f = files[i];
      INFO(i << ": " << f.name);
      if (i < 27) {
        CHECK(f.destination.rfind("Windows/System32/inetsrv", 0) == 0);
        CHECK(f.platform != Arch::kX86);
        native += f.platform == arch;
        neutral += f.platform == Arch::kNeutral;
      } else {
        CHECK(f.destination == "Windows/SysWOW64/inetsrv");
        wow64_x86 += f.platform == Arch::kX86;
        if (f.platform == Arch::kNeutral) {
          ++wow64_neutral;
          CHECK(f.name == "Appcmd.xml");
        }
      }
    }
    CHECK(native == 20);
    CHECK(neutral == 7);
    CHECK(wow64_x86 == 19);
    CHECK(wow64_neutral == 1);

    std::vector<std::string> appcmd_xml;
    for (const FileEntry& f : files) {
      if (f.name == "Appcmd.xml") appcmd_xml.push_back(f.destination);
    }
    REQUIRE(appcmd_xml.size() == 2);
    CHECK(appcmd_xml[0] == "Windows/System32/inetsrv");
    CHECK(appcmd_xml[1] == "Windows/SysWOW64/inetsrv");
  }
}

TEST_CASE("the KB967131 sample is written in canonical form") {
  // Keeps the checked-in sample diffable against what the packager writes.
  std::string text = hotfix::test::read_file(HOTFIX_SOURCE_DIR "/samples/KB967131/hotfix.json");
  Manifest m = hotfix::parse_manifest(text, "hotfix.json");
  CHECK(hotfix::write_manifest(m) == text);
  CHECK(m.id == "KB967131");
  CHECK(m.languages == std::vector<std::string>{"en-US"});
  CHECK(m.restart == hotfix::RestartRequirement::kReboot);
  CHECK(m.supersedes.empty());
  CHECK(m.prerequisites.describe() == "Windows Vista SP1 or Windows Server 2008");
}
