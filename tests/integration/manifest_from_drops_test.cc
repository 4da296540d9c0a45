// A manifest from the drops (scan --drop ... --manifest-id) and kept up to date with them
// (manifest refresh), end to end with the real packager: what it writes, build takes.
#include <sys/stat.h>
#include <sys/time.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

using hotfix::test::read_file;
using hotfix::test::run;
using hotfix::test::RunResult;
using hotfix::test::TempDir;
using hotfix::test::write_file;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Sample {
  TempDir dir;
  Sample() {
    RunResult r = run({hotfix::test::make_standins_path(), "--manifest",
                       hotfix::test::source_path("samples/KB967131/hotfix.json"), "--out",
                       dir.path().string()});
    if (r.exit_code != 0) throw std::runtime_error("make-standins failed: " + r.err);
    r = run({hotfix::test::packager_path(), "keygen", "--out", (dir / "k").string()});
    if (r.exit_code != 0) throw std::runtime_error("keygen failed: " + r.err);
  }
  std::string drop(const std::string& arch) const { return (dir / ("drops/" + arch)).string(); }
  std::string key() const { return (dir / "k.key").string(); }
};

Sample& sample() {
  static Sample s;
  return s;
}

RunResult packager(std::vector<std::string> args) {
  args.insert(args.begin(), hotfix::test::packager_path());
  return run(args);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void set_mtime(const fs::path& path, std::int64_t seconds) {
  struct timeval times[2] = {{seconds, 0}, {seconds, 0}};
  REQUIRE(::utimes(path.c_str(), times) == 0);
}

// The entry at `path` (destination/name): x64 drops have the same names under SysWOW64.
json entry(const json& manifest, const std::string& arch, const std::string& path) {
  for (const json& f : manifest["architectures"][arch]["files"]) {
    if (f["destination"].get<std::string>() + "/" + f["name"].get<std::string>() == path) return f;
  }
  FAIL("no entry " << path << " for " << arch);
  return {};
}

}  // namespace

TEST_CASE("scan --drop for every architecture writes one manifest that build takes") {
  Sample& s = sample();
  TempDir tmp;
  RunResult r =
      packager({"scan", "--drop", "x86=" + s.drop("x86"), "--drop", "x64=" + s.drop("x64"),
                "--drop", "ia64=" + s.drop("ia64"), "--manifest-id", "KB967131", "--title",
                "IIS 7.0 update", "--restart", "reboot"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json m = json::parse(r.out);
  CHECK(m["id"] == "KB967131");
  CHECK(m["title"] == "IIS 7.0 update");
  CHECK(m["restart"] == "reboot");
  CHECK(m["architectures"].size() == 3);
  CHECK(entry(m, "x64", "Windows/System32/inetsrv/config/Applicationhost.config")["kind"] ==
        "config");
  CHECK(entry(m, "x64", "Windows/System32/inetsrv/Admwprox.dll")["kind"] == "binary");
  CHECK(entry(m, "x64", "Windows/System32/inetsrv/Admwprox.dll")["platform"] == "x64");
  CHECK(entry(m, "x64", "Windows/System32/inetsrv/Admwprox.dll")["mode"] == "0644");
  CHECK(entry(m, "x86", "Windows/System32/inetsrv/Admwprox.dll")["version"] == "7.0.6001.22329");
  CHECK(!m.contains("family"));
  write_file(tmp / "hotfix.json", r.out);
  RunResult b = packager({"build", (tmp / "hotfix.json").string(), "--drop", "x86=" + s.drop("x86"),
                          "--drop", "x64=" + s.drop("x64"), "--drop", "ia64=" + s.drop("ia64"),
                          "--key", s.key(), "--out", (tmp / "out").string()});
  INFO(b.err);
  CHECK(b.exit_code == 0);
  CHECK(fs::exists(tmp / "out/KB967131-ia64.hotfix"));
}

TEST_CASE("scan guesses configuration files by name and by etc/") {
  TempDir tmp;
  for (const char* p : {"etc/app/settings.txt", "etc/app.ini", "bin/site.CONF", "bin/web.config",
                        "bin/tool", "etcetera/notes", "opt/etc/file", "bin/config"}) {
    write_file(tmp / "drop" / p, std::string(p) + "\n");
  }
  RunResult r = packager({"scan", (tmp / "drop").string(), "--manifest-id", "LX-2"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json m = json::parse(r.out);
  std::map<std::string, std::string> kinds;
  for (const json& f : m["architectures"]["x64"]["files"]) {
    kinds[f["destination"].get<std::string>() + "/" + f["name"].get<std::string>()] = f["kind"];
  }
  CHECK(kinds == std::map<std::string, std::string>{{"bin/config", "binary"},
                                                    {"bin/site.CONF", "config"},
                                                    {"bin/tool", "binary"},
                                                    {"bin/web.config", "config"},
                                                    {"etc/app.ini", "config"},
                                                    {"etc/app/settings.txt", "config"},
                                                    {"etcetera/notes", "binary"},
                                                    {"opt/etc/file", "binary"}});
}

TEST_CASE("scan --os-release makes a Linux hotfix with os_id and os_version_at_least") {
  TempDir tmp;
  write_file(tmp / "drop/usr/bin/tool", "tool\n");
  std::vector<std::string> scan{
      "scan", "--drop",       "x64=" + (tmp / "drop").string(), "--manifest-id",
      "LX-3", "--os-release", (tmp / "os-release").string()};
  write_file(tmp / "os-release",
             "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"
             "VERSION_ID=\"12\"\n");
  RunResult r = packager(scan);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json m = json::parse(r.out);
  CHECK(m["family"] == "linux");
  CHECK(m["prerequisites"] ==
        json::parse(R"({"all_of": [{"os_id": "debian"}, {"os_version_at_least": "12"}]})"));

  write_file(tmp / "os-release", "ID=arch\nVERSION_ID=rolling\n");
  r = packager(scan);
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["prerequisites"] == json::parse(R"({"all_of": [{"os_id": "arch"}]})"));
  CHECK(contains(r.err,
                 "VERSION_ID \"rolling\" is not numeric: no os_version_at_least "
                 "prerequisite, the hotfix is for any version of arch"));

  write_file(tmp / "os-release", "NAME=Nameless\n");
  r = packager(scan);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "os-release: has no ID"));
  fs::remove(tmp / "os-release");
  r = packager(scan);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "os-release: does not exist (an os-release file)"));
}

TEST_CASE("scan's manifest options are checked before anything is written") {
  Sample& s = sample();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases{
      {{"scan", s.drop("x64"), "--drop", "x64=" + s.drop("x64"), "--manifest-id", "KB1"},
       "give either a directory or --drop ARCH=DIR options, not both"},
      {{"scan", "--drop", "x64=" + s.drop("x64")}, "--drop requires --manifest-id"},
      {{"scan", "--drop", "x64=" + s.drop("x64"), "--drop", "x64=" + s.drop("x86"), "--manifest-id",
        "KB1"},
       "architecture x64 given twice"},
      {{"scan", "--drop", "x64=" + s.drop("x64"), "--manifest-id", "KB1", "--restart", "soon"},
       "--restart: \"soon\" is not a restart (none, services, reboot)"},
      {{"scan", "--drop", "sparc=" + s.drop("x64"), "--manifest-id", "KB1"},
       "'sparc' is not an architecture"},
      {{"scan", "--drop", "x64=/nonexistent", "--manifest-id", "KB1"}, "does not exist"},
      {{"scan"}, "give a directory to scan, or --drop ARCH=DIR with --manifest-id"},
  };
  for (const Case& c : cases) {
    RunResult r = packager(c.args);
    INFO(c.args.back() << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(contains(r.err, c.message));
  }
}

TEST_CASE("manifest refresh updates the files from new drops, in place, and says what changed") {
  Sample& s = sample();
  TempDir tmp;
  REQUIRE(run({"/bin/cp", "-a", s.drop("x64"), (tmp / "drop").string()}).exit_code == 0);
  const fs::path manifest = tmp / "hotfix.json";
  RunResult scanned =
      packager({"scan", "--drop", "x64=" + (tmp / "drop").string(), "--manifest-id", "KB9"});
  REQUIRE(scanned.exit_code == 0);
  write_file(manifest, scanned.out);
  REQUIRE(::chmod(manifest.c_str(), 0640) == 0);
  const std::vector<std::string> refresh{"manifest", "refresh", manifest.string(), "--drop",
                                         "x64=" + (tmp / "drop").string()};
  RunResult same = packager(refresh);
  CHECK(same.exit_code == 0);
  CHECK(contains(same.out, ": 0 changes; up to date"));

  // A new build: a data file rewritten, a binary re-dated, one file gone, one new, one
  // given the execute bit.
  const fs::path dir = tmp / "drop/Windows/System32/inetsrv";
  write_file(dir / "Appcmd.xml", "<appcmd version=\"2\"/>\n");
  set_mtime(dir / "Appcmd.xml", 1700000000);
  set_mtime(dir / "Admwprox.dll", 1700003600);
  fs::remove(dir / "Iisreset.exe");
  write_file(dir / "new.conf", "x=1\n");
  REQUIRE(::chmod((dir / "Appcmd.exe").c_str(), 0755) == 0);
  const std::string before = read_file(manifest);
  RunResult dry = packager({"manifest", "refresh", manifest.string(), "--drop",
                            "x64=" + (tmp / "drop").string(), "--dry-run"});
  INFO(dry.out << dry.err);
  CHECK(dry.exit_code == 0);
  CHECK(read_file(manifest) == before);
  CHECK(contains(dry.out, "5 changes (dry run: not written)"));

  // Build refuses the old manifest against the new drop; refresh, then it builds.
  std::vector<std::string> build{
      "build", manifest.string(), "--drop", "x64=" + (tmp / "drop").string(),
      "--key", s.key(),           "--out",  (tmp / "out").string()};
  CHECK(packager(build).exit_code == 4);
  RunResult r = packager(refresh);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "changed x64 Windows/System32/inetsrv/Admwprox.dll: timestamp "));
  CHECK(contains(r.out, "changed x64 Windows/System32/inetsrv/Appcmd.exe: mode 0644 -> 0755"));
  CHECK(contains(r.out, "changed x64 Windows/System32/inetsrv/Appcmd.xml: size "));
  CHECK(contains(r.out, "removed x64 Windows/System32/inetsrv/Iisreset.exe: not in the drop"));
  CHECK(contains(r.out, "added x64 Windows/System32/inetsrv/new.conf: "));
  CHECK(contains(r.out, "kind config"));
  CHECK(contains(r.out, ": 5 changes, written"));
  struct stat st {};
  REQUIRE(::stat(manifest.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(!fs::exists(manifest.string() + ".tmp"));
  json m = json::parse(read_file(manifest));
  CHECK(entry(m, "x64", "Windows/System32/inetsrv/Appcmd.xml")["timestamp"] ==
        "2023-11-14T22:13:20Z");
  RunResult b = packager(build);
  INFO(b.err);
  CHECK(b.exit_code == 0);
  RunResult again = packager(refresh);
  CHECK(contains(again.out, ": 0 changes; up to date"));

  RunResult j = packager({"manifest", "refresh", manifest.string(), "--drop",
                          "x64=" + (tmp / "drop").string(), "--json"});
  CHECK(json::parse(j.out)["data"]["written"] == false);
}

TEST_CASE("manifest refresh keeps what only a person decides, and the article's minutes") {
  Sample& s = sample();
  TempDir tmp;
  const fs::path manifest = tmp / "hotfix.json";
  write_file(manifest, read_file(hotfix::test::source_path("samples/KB967131/hotfix.json")));
  // The sample's drops are what its manifest says: nothing to change, seconds included
  // (the article's times are to the minute, as build checks them).
  RunResult r =
      packager({"manifest", "refresh", manifest.string(), "--drop", "x86=" + s.drop("x86"),
                "--drop", "x64=" + s.drop("x64"), "--drop", "ia64=" + s.drop("ia64")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, ": 0 changes; up to date"));
  CHECK(read_file(manifest) ==
        read_file(hotfix::test::source_path("samples/KB967131/hotfix.json")));

  // A drop with no files would leave the architecture empty: refused, nothing written.
  fs::create_directories(tmp / "empty");
  r = packager(
      {"manifest", "refresh", manifest.string(), "--drop", "x64=" + (tmp / "empty").string()});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "holds no files: the architecture would have none"));
  CHECK(read_file(manifest) ==
        read_file(hotfix::test::source_path("samples/KB967131/hotfix.json")));
}

TEST_CASE("scan --local-time shows each file's local date and time with the zone's offset") {
  TempDir tmp;
  write_file(tmp / "drop/a.txt", "a\n");
  set_mtime(tmp / "drop/a.txt", 1229142420);  // 2008-12-13T04:27:00Z
  RunResult r =
      run({hotfix::test::packager_path(), "scan", (tmp / "drop").string(), "--local-time"},
          {"TZ=CET-1CEST,M3.5.0,M10.5.0/3"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "Time zone"));
  CHECK(contains(r.out, "13-Dec-2008  05:27  CET (UTC+01:00)"));
  RunResult utc = run({hotfix::test::packager_path(), "scan", (tmp / "drop").string()},
                      {"TZ=CET-1CEST,M3.5.0,M10.5.0/3"});
  CHECK(contains(utc.out, "13-Dec-2008  04:27"));
  CHECK(!contains(utc.out, "Time zone"));
}
