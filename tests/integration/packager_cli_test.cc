// hotfix-packager end to end on the KB967131 sample: real stand-in drops, real bundles.
#include <sys/stat.h>
#include <sys/time.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/json_output.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

using hotfix::test::run;
using hotfix::test::RunResult;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

// One stand-in tree and key for the whole file: generating them is the slow part.
struct Sample {
  TempDir dir;
  std::string manifest = hotfix::test::source_path("samples/KB967131/hotfix.json");
  Sample() {
    RunResult r = run(
        {hotfix::test::make_standins_path(), "--manifest", manifest, "--out", dir.path().string()});
    if (r.exit_code != 0) throw std::runtime_error("make-standins failed: " + r.err);
    r = run({hotfix::test::packager_path(), "keygen", "--out", key_prefix()});
    if (r.exit_code != 0) throw std::runtime_error("keygen failed: " + r.err);
  }
  std::string key_prefix() const { return (dir / "keys-release").string(); }
  std::string drop(const std::string& arch) const { return (dir / ("drops/" + arch)).string(); }
  std::vector<std::string> build_args(const std::string& out) const {
    return {hotfix::test::packager_path(),
            "build",
            manifest,
            "--drop",
            "x86=" + drop("x86"),
            "--drop",
            "x64=" + drop("x64"),
            "--drop",
            "ia64=" + drop("ia64"),
            "--key",
            key_prefix() + ".key",
            "--out",
            out};
  }
};

Sample& sample() {
  static Sample s;
  return s;
}

std::vector<std::string> with(std::vector<std::string> args, std::vector<std::string> more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

bool empty_or_missing(const std::string& dir) { return !fs::exists(dir) || fs::is_empty(dir); }

}  // namespace

TEST_CASE("build writes the three bundles of the sample, and verify accepts each") {
  Sample& s = sample();
  TempDir out;
  RunResult r = run(s.build_args(out.path().string()));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (std::string arch : {"x86", "x64", "ia64"}) {
    std::string bundle = (out / ("KB967131-" + arch + ".hotfix")).string();
    REQUIRE(fs::exists(bundle));
    RunResult v = run({hotfix::test::packager_path(), "verify", bundle, "--trust",
                       s.key_prefix() + ".pub", "--json"});
    INFO(v.err);
    CHECK(v.exit_code == 0);
    auto doc = hotfix::test::json_data(v.out);
    CHECK(doc["intact"] == true);
    CHECK(doc["architecture"] == arch);
    CHECK(doc["problems"].empty());
  }
  // Two builds give byte-identical bundles.
  TempDir again;
  REQUIRE(run(s.build_args(again.path().string())).exit_code == 0);
  for (std::string arch : {"x86", "x64", "ia64"}) {
    std::string name = "KB967131-" + arch + ".hotfix";
    CHECK(hotfix::test::read_file(out / name) == hotfix::test::read_file(again / name));
  }
}

TEST_CASE("describe reproduces the article's tables from a bundle and from the manifest") {
  Sample& s = sample();
  TempDir out;
  REQUIRE(run(with(s.build_args(out.path().string()), {"--arch", "x64"})).exit_code == 0);
  CHECK_FALSE(fs::exists(out / "KB967131-x86.hotfix"));
  RunResult from_bundle =
      run({hotfix::test::packager_path(), "describe", (out / "KB967131-x64.hotfix").string(),
           "--trust", s.key_prefix() + ".pub"});
  REQUIRE(from_bundle.exit_code == 0);
  CHECK(from_bundle.out.find("### x64-based version") != std::string::npos);
  CHECK(from_bundle.out.find(
            "| Admwprox.dll | 7.0.6001.22329 | 54,784 | 13-Dec-2008 | 04:58 | x64 |") !=
        std::string::npos);
  CHECK(from_bundle.out.find("x86-based version") == std::string::npos);

  RunResult from_manifest = run({hotfix::test::packager_path(), "describe", s.manifest});
  REQUIRE(from_manifest.exit_code == 0);
  for (const char* heading :
       {"### x86-based version", "### x64-based version", "### IA-64 based version"}) {
    CHECK(from_manifest.out.find(heading) != std::string::npos);
  }
}

TEST_CASE("inspect shows the hotfix's metadata, and whether the signature was checked") {
  Sample& s = sample();
  TempDir out;
  REQUIRE(run(with(s.build_args(out.path().string()), {"--arch", "ia64"})).exit_code == 0);
  std::string bundle = (out / "KB967131-ia64.hotfix").string();
  RunResult r = run({hotfix::test::packager_path(), "inspect", bundle});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("KB967131 (revision 1)") != std::string::npos);
  CHECK(r.out.find("Windows Vista SP1 or Windows Server 2008") != std::string::npos);
  CHECK(r.out.find("reboot") != std::string::npos);
  CHECK(r.out.find("not checked") != std::string::npos);
  r = run({hotfix::test::packager_path(), "inspect", bundle, "--json", "--trust",
           s.key_prefix() + ".pub"});
  REQUIRE(r.exit_code == 0);
  auto doc = hotfix::test::json_data(r.out);
  CHECK(doc["signature_verified"] == true);
  CHECK(doc["files"].size() == 47);
  CHECK(doc["architecture"] == "ia64");
}

TEST_CASE("a drop that differs from the manifest is refused with every mismatch, nothing written") {
  Sample& s = sample();
  TempDir copy;
  fs::copy(s.drop("x86"), copy / "x86", fs::copy_options::recursive);
  std::string inetsrv = (copy / "x86/Windows/System32/inetsrv").string();
  fs::remove(inetsrv + "/Iisres.dll");                           // missing
  fs::resize_file(inetsrv + "/Appobj.dll", 311808 - 512);        // wrong size
  struct timeval times[2] = {{1000000000, 0}, {1000000000, 0}};  // wrong timestamp
  ::utimes((inetsrv + "/Rsca.dll").c_str(), times);
  fs::copy_file(s.drop("x64") + "/Windows/System32/inetsrv/Iisrtl.dll", inetsrv + "/Iisrtl.dll",
                fs::copy_options::overwrite_existing);  // wrong machine, size
  hotfix::test::write_file(inetsrv + "/extra.dll", "not in the manifest");

  TempDir out;
  RunResult r = run({hotfix::test::packager_path(), "build", s.manifest, "--drop",
                     "x86=" + (copy / "x86").string(), "--key", s.key_prefix() + ".key", "--out",
                     (out / "bundles").string(), "--arch", "x86"});
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("x86: Windows/System32/inetsrv/Iisres.dll: missing from the drop") !=
        std::string::npos);
  CHECK(r.err.find("Appobj.dll: size is 311296 bytes, the manifest says 311808") !=
        std::string::npos);
  CHECK(r.err.find("Rsca.dll: timestamp is 2001-09-09T01:46:40Z") != std::string::npos);
  CHECK(r.err.find("Iisrtl.dll: platform is x64, the manifest says x86") != std::string::npos);
  CHECK(empty_or_missing((out / "bundles").string()));
}

TEST_CASE("bad input gets one precise message and a documented exit code") {
  Sample& s = sample();
  TempDir tmp;
  std::string out = (tmp / "bundles").string();

  SECTION("malformed manifest: every problem, exit 2") {
    std::string text = hotfix::test::read_file(s.manifest);
    text.replace(text.find("\"7.0.6001.22329\""), 16, "\"7.0.6001\"");
    text.replace(text.find("\"size\": 27136"), 13, "\"size\": -1");
    hotfix::test::write_file(tmp / "bad.json", text);
    RunResult r =
        run({hotfix::test::packager_path(), "build", (tmp / "bad.json").string(), "--drop",
             "x86=" + s.drop("x86"), "--key", s.key_prefix() + ".key", "--out", out});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("architectures.x86.files[0].version") != std::string::npos);
    CHECK(r.err.find("architectures.x86.files[1].size") != std::string::npos);
    CHECK(empty_or_missing(out));
  }
  SECTION("missing drop for an architecture, exit 2") {
    RunResult r = run({hotfix::test::packager_path(), "build", s.manifest, "--drop",
                       "x86=" + s.drop("x86"), "--key", s.key_prefix() + ".key", "--out", out});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("no drop given for architecture x64") != std::string::npos);
  }
  SECTION("bad --drop syntax and unknown architecture, exit 2") {
    CHECK(run(with(s.build_args(out), {"--drop", "x64"})).exit_code == 2);
    CHECK(run(with(s.build_args(out), {"--arch", "sparc"})).exit_code == 2);
  }
  SECTION("a key that is not a key, exit 2") {
    hotfix::test::write_file(tmp / "junk.key", "junk");
    auto args = s.build_args(out);
    args[args.size() - 3] = (tmp / "junk.key").string();
    RunResult r = run(args);
    CHECK(r.exit_code == 2);
    CHECK(empty_or_missing(out));
  }
  SECTION("verify with the wrong key: exit 3; tampered payload: exit 4") {
    REQUIRE(run(with(s.build_args(out), {"--arch", "x86"})).exit_code == 0);
    std::string bundle = out + "/KB967131-x86.hotfix";
    REQUIRE(run({hotfix::test::packager_path(), "keygen", "--out", (tmp / "other").string()})
                .exit_code == 0);
    RunResult r = run(
        {hotfix::test::packager_path(), "verify", bundle, "--trust", (tmp / "other.pub").string()});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("unknown key") != std::string::npos);

    std::string bytes = hotfix::test::read_file(bundle);
    bytes[bytes.size() - 4000] ^= 0x20;
    hotfix::test::write_file(tmp / "tampered.hotfix", bytes);
    r = run({hotfix::test::packager_path(), "verify", (tmp / "tampered.hotfix").string(), "--trust",
             s.key_prefix() + ".pub"});
    CHECK(r.exit_code == 4);
    CHECK(r.err.find("damaged (it differs from what was signed)") != std::string::npos);
  }
  SECTION("usage errors exit 2, --help exits 0") {
    CHECK(run({hotfix::test::packager_path()}).exit_code == 2);
    CHECK(run({hotfix::test::packager_path(), "frobnicate"}).exit_code == 2);
    RunResult help = run({hotfix::test::packager_path(), "--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("build") != std::string::npos);
  }
}

TEST_CASE("keygen writes an openssl-compatible pair and refuses to overwrite it") {
  TempDir tmp;
  std::string prefix = (tmp / "k").string();
  REQUIRE(run({hotfix::test::packager_path(), "keygen", "--out", prefix}).exit_code == 0);
  struct stat st {};
  REQUIRE(::stat((prefix + ".key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(run({"/usr/bin/openssl", "pkey", "-in", prefix + ".key", "-noout"}).exit_code == 0);
  RunResult again = run({hotfix::test::packager_path(), "keygen", "--out", prefix});
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("already exists") != std::string::npos);
}

TEST_CASE("scan reports what the files themselves say") {
  Sample& s = sample();
  RunResult r = run({hotfix::test::packager_path(), "scan", s.drop("x86")});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Admwprox.dll") != std::string::npos);
  CHECK(r.out.find("7.0.6001.22329") != std::string::npos);
  CHECK(r.out.find("51,712") != std::string::npos);
  CHECK(r.out.find("13-Dec-2008") != std::string::npos);
  CHECK(r.out.find("27 files") != std::string::npos);

  // A manifest made by scan passes build's checks against the same drop.
  r = run({hotfix::test::packager_path(), "scan", s.drop("x86"), "--manifest-id", "KB000001",
           "--arch", "x86"});
  REQUIRE(r.exit_code == 0);
  TempDir tmp;
  hotfix::test::write_file(tmp / "m.json", r.out);
  RunResult b = run({hotfix::test::packager_path(), "build", (tmp / "m.json").string(), "--drop",
                     "x86=" + s.drop("x86"), "--key", s.key_prefix() + ".key", "--out",
                     (tmp / "out").string()});
  INFO(b.err);
  CHECK(b.exit_code == 0);
}

TEST_CASE("a file named on the command line that does not exist is bad input, exit 2") {
  Sample& s = sample();
  TempDir tmp;
  std::string out = (tmp / "bundles").string();
  std::string nothere = (tmp / "nothere").string();
  std::string pub = s.key_prefix() + ".pub";
  const std::string p = hotfix::test::packager_path();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {p, "inspect", nothere},
           {p, "verify", nothere, "--trust", pub},
           {p, "describe", nothere},
           {p, "describe", nothere + ".hotfix"},
           {p, "build", nothere, "--drop", "x86=" + s.drop("x86"), "--key", s.key_prefix() + ".key",
            "--out", out},
       }) {
    RunResult r = run(args);
    INFO(args[1] << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(nothere) != std::string::npos);
    CHECK(r.err.find("does not exist") != std::string::npos);
  }
  auto build = s.build_args(out);
  build[build.size() - 3] = nothere;  // --key
  RunResult r = run(build);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(nothere + ": does not exist (a key file)") != std::string::npos);
  build = s.build_args(out);
  build[6] = "x64=" + nothere;  // --drop x64=
  r = run(build);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(nothere) != std::string::npos);
  CHECK(empty_or_missing(out));
}

TEST_CASE("describe tells a bundle from a manifest by its content, not its name") {
  Sample& s = sample();
  TempDir tmp;
  std::string out = (tmp / "bundles").string();
  REQUIRE(run(with(s.build_args(out), {"--arch", "x64"})).exit_code == 0);
  fs::copy_file(out + "/KB967131-x64.hotfix", tmp / "renamed.bin");
  fs::copy_file(s.manifest, tmp / "manifest.hotfix");
  RunResult bundle =
      run({hotfix::test::packager_path(), "describe", (tmp / "renamed.bin").string()});
  INFO(bundle.err);
  CHECK(bundle.exit_code == 0);
  CHECK(bundle.out.find("Admwprox.dll") != std::string::npos);
  RunResult manifest =
      run({hotfix::test::packager_path(), "describe", (tmp / "manifest.hotfix").string()});
  INFO(manifest.err);
  CHECK(manifest.exit_code == 0);
  CHECK(manifest.out.find("x86-based version") != std::string::npos);
}

TEST_CASE("scan --manifest-id: the id is checked, the manifest valid, the modes recorded") {
  Sample& s = sample();
  TempDir tmp;
  RunResult bad = run({hotfix::test::packager_path(), "scan", s.drop("x86"), "--manifest-id",
                       "bad id", "--arch", "x86"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.empty());
  CHECK(bad.err.find("--manifest-id: \"bad id\" is not a hotfix id") != std::string::npos);

  fs::create_directories(tmp / "drop/bin");
  hotfix::test::write_file(tmp / "drop/bin/tool", "#!/bin/sh\necho tool\n");
  hotfix::test::write_file(tmp / "drop/bin/tool.conf", "x=1\n");
  ::chmod((tmp / "drop/bin/tool").c_str(), 0755);
  ::chmod((tmp / "drop/bin/tool.conf").c_str(), 0640);
  RunResult r = run({hotfix::test::packager_path(), "scan", (tmp / "drop").string(),
                     "--manifest-id", "LX-1", "--arch", "x64"});
  REQUIRE(r.exit_code == 0);
  auto doc = nlohmann::json::parse(r.out);
  auto files = doc["architectures"]["x64"]["files"];
  REQUIRE(files.size() == 2);
  CHECK(files[0]["name"] == "tool");
  CHECK(files[0]["mode"] == "0755");
  CHECK(files[1]["mode"] == "0640");
}

TEST_CASE("build names what a drop holds besides regular files, links included") {
  Sample& s = sample();
  TempDir tmp;
  // A copy of the x86 drop with a link beside the files and one on the way to an entry.
  REQUIRE(run({"/bin/cp", "-a", s.drop("x86"), (tmp / "drop").string()}).exit_code == 0);
  fs::create_symlink("Appobj.dll", tmp / "drop/Windows/System32/inetsrv/extra-link.dll");
  REQUIRE(::mkfifo((tmp / "drop/fifo").c_str(), 0644) == 0);
  std::string out = (tmp / "out").string();
  auto args = std::vector<std::string>{hotfix::test::packager_path(),
                                       "build",
                                       s.manifest,
                                       "--drop",
                                       "x86=" + (tmp / "drop").string(),
                                       "--key",
                                       s.key_prefix() + ".key",
                                       "--out",
                                       out,
                                       "--arch",
                                       "x86",
                                       "--drop",
                                       "x64=" + s.drop("x64"),
                                       "--drop",
                                       "ia64=" + s.drop("ia64")};
  RunResult r = run(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("x86: Windows/System32/inetsrv/extra-link.dll: a symbolic link in the drop "
                   "but not in the manifest: not bundled") != std::string::npos);
  CHECK(r.err.find("x86: fifo: a FIFO in the drop but not in the manifest") != std::string::npos);

  // A directory on the way to an entry that is a link: refused, nothing written.
  fs::rename(tmp / "drop/Windows/System32/inetsrv", tmp / "elsewhere");
  fs::create_directory_symlink(tmp / "elsewhere", tmp / "drop/Windows/System32/inetsrv");
  fs::remove_all(out);
  r = run(args);
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("is reached through the symbolic link") != std::string::npos);
  CHECK(empty_or_missing(out));
}

TEST_CASE("CLI habits: unknown commands named with the nearest, help COMMAND, --version") {
  const std::string p = hotfix::test::packager_path();
  RunResult r = run({p, "biuld", "x.json"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "hotfix-packager: error: unknown command 'biuld': did you mean 'build'?\n");
  r = run({p, "frobnicate", "--json"});
  CHECK(r.exit_code == 2);
  auto doc = hotfix::test::json_envelope(r.out);
  CHECK(doc["command"].is_null());
  CHECK(doc["errors"][0]["kind"] == "bad_input");
  CHECK(doc["errors"][0]["message"].get<std::string>().find("the commands are keygen, scan") !=
        std::string::npos);
  // A group's unknown command is named the same way, and the envelope names no command.
  r = run({p, "repo", "stauts", "DIR"});
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "hotfix-packager: error: repo: unknown command 'stauts': did you mean 'status'?\n");
  r = run({p, "repo", "frobnicate", "--json"});
  CHECK(r.exit_code == 2);
  doc = hotfix::test::json_envelope(r.out);
  CHECK(doc["command"].is_null());
  CHECK(doc["errors"][0]["message"].get<std::string>().find("the commands are init, add, remove") !=
        std::string::npos);
  r = run({p, "help", "build"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--level INT:INT in [1 - 19]=3") != std::string::npos);  // defaults shown
  r = run({p, "--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("hotfix-packager 0.1.0 (source ", 0) == 0);
  // A usage error inside a command, with --json: the envelope names the command.
  r = run({p, "verify", "--json"});
  CHECK(r.exit_code == 2);
  doc = hotfix::test::json_envelope(r.out);
  CHECK(doc["command"] == "verify");
  CHECK(doc["schema"] == "hotfix-packager.verify.v1");
  CHECK(doc["data"].is_null());
}
