// Restart policies through hotfix-installer: never, now, at=HH:MM and delay=MINUTES with a
// --restart-command that only records how it was called (nothing is restarted), cancelling,
// and the reboot-required files under the root, for apply and for uninstall.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "manifests/timestamp.h"
#include "tests/support/hotfix_kit.h"
#include "tests/support/json_output.h"
#include "tests/support/tree_snapshot.h"

using hotfix::test::HotfixKit;
using hotfix::test::KitFile;
using hotfix::test::run_installer;
using hotfix::test::RunResult;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

KitFile pe(const std::string& path, const std::string& version) {
  return {path, *hotfix::Version::parse(version), ""};
}

// A root, two hotfixes that need a reboot and one that needs services restarted, and a
// restart command that appends what it was given to a log.
struct RestartFixture {
  HotfixKit kit;
  std::string root = kit.make_root(
      "root",
      {pe("app/core.dll", "1.0.0.0"), pe("app/util.dll", "1.0.0.0"), pe("app/svc.dll", "1.0.0.0")});
  std::string reboot = kit.build({"KB800",
                                  1,
                                  hotfix::RestartRequirement::kReboot,
                                  {},
                                  {},
                                  hotfix::Arch::kX64,
                                  {pe("app/core.dll", "1.1.0.0")}});
  std::string reboot2 = kit.build({"KB801",
                                   1,
                                   hotfix::RestartRequirement::kReboot,
                                   {},
                                   {},
                                   hotfix::Arch::kX64,
                                   {pe("app/util.dll", "1.1.0.0")}});
  std::string services = kit.build({"KB802",
                                    1,
                                    hotfix::RestartRequirement::kServices,
                                    {},
                                    {},
                                    hotfix::Arch::kX64,
                                    {pe("app/svc.dll", "1.1.0.0")}});
  std::string log = (kit.dir() / "restart.log").string();
  std::string script = (kit.dir() / "record-restart.sh").string();

  RestartFixture() {
    hotfix::test::write_file(
        script,
        "#!/bin/sh\n"
        "{ echo \"action=$HOTFIX_RESTART_ACTION\"; echo \"at=$HOTFIX_RESTART_AT\";\n"
        "  echo \"in=$HOTFIX_RESTART_IN_MINUTES\"; echo \"policy=$HOTFIX_RESTART_POLICY\";\n"
        "  echo \"hotfixes=$HOTFIX_RESTART_HOTFIXES\"; echo \"root=$HOTFIX_ROOT\";\n"
        "  echo \"args=$*\"; echo; } >> \"" +
            log + "\"\n");
    fs::permissions(script, fs::perms::owner_all);
  }
  std::string command(const std::string& tag) const { return script + " " + tag; }

  RunResult apply(const std::string& bundle, std::vector<std::string> more = {},
                  std::vector<std::string> env = {}) const {
    std::vector<std::string> args{"apply", bundle, "--root", root, "--trust", kit.pub()};
    args.insert(args.end(), more.begin(), more.end());
    return run_installer(args, env);
  }
  json status() const {
    return hotfix::test::json_data(
        run_installer({"status", "--root", root, "--json"}).out)["restart"];
  }

  // Each call of the restart command: its variables and arguments.
  std::vector<std::map<std::string, std::string>> calls() const {
    std::vector<std::map<std::string, std::string>> out;
    if (!fs::exists(log)) return out;
    std::istringstream in(hotfix::test::read_file(log));
    std::map<std::string, std::string> call;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) {
        out.push_back(call);
        call.clear();
      } else {
        auto eq = line.find('=');
        call[line.substr(0, eq)] = line.substr(eq + 1);
      }
    }
    return out;
  }
  std::string flag() const { return root + "/run/reboot-required"; }
  std::string pkgs() const { return root + "/run/reboot-required.pkgs"; }
};

std::int64_t parse_utc(const std::string& iso) {
  return hotfix::Timestamp::parse_iso8601(iso).value().unix_seconds();
}

// The restart's hotfixes as "ID", or "ID (uninstalled)" for a need an uninstall left.
std::vector<std::string> restart_ids(const json& restart) {
  std::vector<std::string> ids;
  for (const json& h : restart["hotfixes"]) {
    ids.push_back(h["id"].get<std::string>() +
                  (h["uninstalled"].get<bool>() ? " (uninstalled)" : ""));
  }
  return ids;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("restart never: recorded, shown by status, exit 10, reboot-required written") {
  RestartFixture f;
  hotfix::test::write_file(f.pkgs(), "linux-image-6.1.0-18-amd64\n");
  RunResult r = f.apply(f.reboot, {"--restart-command", f.command("never")});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 10);
  CHECK(contains(r.out, "Restart: a reboot is required by KB800; not scheduled; pending since "));
  CHECK(f.calls().empty());  // never schedules nothing, even with a command
  CHECK(hotfix::test::read_file(f.flag()) == "*** System restart required ***\n");
  CHECK(hotfix::test::read_file(f.pkgs()) == "linux-image-6.1.0-18-amd64\nKB800\n");

  RunResult s = run_installer({"status", "--root", f.root});
  CHECK(s.exit_code == 10);
  CHECK(s.out.rfind("Restart: a reboot is required by KB800; not scheduled; pending since ", 0) ==
        0);
  json st = f.status();
  CHECK(st["required"] == true);
  CHECK(st["kind"] == "reboot");
  CHECK(restart_ids(st) == std::vector<std::string>{"KB800"});
  CHECK(st["policy"] == "never");
  CHECK(st["scheduled_at"].is_null());

  // A hotfix that needs only services restarted does not ask for a reboot.
  r = f.apply(f.services);
  CHECK(r.exit_code == 10);
  CHECK(hotfix::test::read_file(f.pkgs()) == "linux-image-6.1.0-18-amd64\nKB800\nKB802\n");
  CHECK(f.status()["kind"] == "reboot");
}

TEST_CASE("restart delay=MINUTES through the restart command, then cancelled") {
  RestartFixture f;
  std::int64_t before = std::time(nullptr);
  RunResult r = f.apply(f.reboot, {"--restart", "delay=30", "--restart-command", f.command("d")});
  std::int64_t after = std::time(nullptr);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 10);
  auto calls = f.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["action"] == "schedule");
  CHECK(calls[0]["policy"] == "delay=30");
  CHECK(calls[0]["in"] == "30");
  CHECK(calls[0]["hotfixes"] == "KB800");
  CHECK(calls[0]["root"] == f.root);
  CHECK(calls[0]["args"] == "d");
  std::int64_t at = parse_utc(calls[0]["at"]);
  CHECK(at >= before + 1800);
  CHECK(at <= after + 1800);
  json st = f.status();
  CHECK(st["policy"] == "delay=30");
  CHECK(st["scheduled_at"] == calls[0]["at"]);
  CHECK(st["mechanism"] == "command: " + f.command("d"));
  CHECK(contains(run_installer({"status", "--root", f.root}).out, "; scheduled for "));

  // The command recorded in the database is never run: the administrator gives it again.
  RunResult refused = run_installer({"status", "--root", f.root, "--cancel-restart"});
  CHECK(refused.exit_code == 2);
  CHECK(contains(refused.err, "give it again with --restart-command"));
  CHECK(f.calls().size() == 1);

  RunResult c = run_installer(
      {"status", "--root", f.root, "--cancel-restart", "--restart-command", f.command("d")});
  INFO(c.out << c.err);
  CHECK(c.exit_code == 10);  // still required, no longer scheduled
  calls = f.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[1]["action"] == "cancel");
  CHECK(calls[1]["at"] == calls[0]["at"]);
  CHECK(calls[1]["args"] == "d");
  st = f.status();
  CHECK(st["required"] == true);
  CHECK(st["scheduled_at"].is_null());
  CHECK(st["policy"] == "never");
  CHECK(st["mechanism"].is_null());
  CHECK(fs::exists(f.flag()));
}

TEST_CASE("restart at=HH:MM is the next local HH:MM: now is immediate") {
  RestartFixture f;
  std::int64_t start = std::time(nullptr);
  std::time_t later = static_cast<std::time_t>(start + 2 * 3600);
  std::tm tm{};
  gmtime_r(&later, &tm);
  char hhmm[8];
  std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", tm.tm_hour, tm.tm_min);
  RunResult r = f.apply(
      f.reboot, {"--restart", std::string("at=") + hhmm, "--restart-command", f.command("at")},
      {"TZ=UTC"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 10);
  auto calls = f.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["policy"] == std::string("at=") + hhmm);
  CHECK(calls[0]["at"].substr(11) == std::string(hhmm) + ":00Z");
  std::int64_t at = parse_utc(calls[0]["at"]);
  CHECK(at > start);
  CHECK(at <= std::time(nullptr) + 24 * 3600);

  // A later hotfix with `now` cancels the earlier schedule and schedules anew for both.
  r = f.apply(f.reboot2, {"--restart", "now", "--restart-command", f.command("now")});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 10);
  calls = f.calls();
  REQUIRE(calls.size() == 3);
  CHECK(calls[1]["action"] == "cancel");
  // The command given now cancels it: a command recorded under the root is never run.
  CHECK(calls[1]["args"] == "now");
  CHECK(calls[2]["action"] == "schedule");
  CHECK(calls[2]["policy"] == "now");
  CHECK(calls[2]["in"] == "0");
  CHECK(calls[2]["hotfixes"] == "KB800 KB801");
  CHECK(f.status()["policy"] == "now");
  CHECK(hotfix::test::read_file(f.pkgs()) == "KB800\nKB801\n");
}

TEST_CASE("a restart command that fails: exit 7, the need still recorded and flagged") {
  RestartFixture f;
  RunResult r = f.apply(f.reboot, {"--restart", "delay=5", "--restart-command", "exit 3"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 7);
  CHECK(contains(r.err, "--restart-command: scheduling the restart failed: "));
  CHECK(contains(r.err, "exited with status 3"));
  json st = f.status();
  CHECK(st["required"] == true);
  CHECK(st["scheduled_at"].is_null());
  CHECK(hotfix::test::json_data(run_installer({"list", "--root", f.root, "--json"}).out)["hotfixes"]
            .size() == 1);
  CHECK(hotfix::test::read_file(f.pkgs()) == "KB800\n");
  CHECK(fs::exists(f.flag()));
}

TEST_CASE("uninstall of a hotfix that needs a restart schedules it and updates the .pkgs file") {
  RestartFixture f;
  REQUIRE(f.apply(f.reboot).exit_code == 10);
  REQUIRE(f.apply(f.reboot2).exit_code == 10);
  CHECK(hotfix::test::read_file(f.pkgs()) == "KB800\nKB801\n");

  RunResult u = run_installer({"uninstall", "KB800", "--root", f.root, "--restart", "delay=10",
                               "--restart-command", f.command("u")});
  INFO(u.out << u.err);
  REQUIRE(u.exit_code == 10);
  CHECK(contains(u.out,
                 "Restart: a reboot is required by KB801, KB800 (uninstalled); scheduled for "));
  auto calls = f.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["action"] == "schedule");
  CHECK(calls[0]["policy"] == "delay=10");
  CHECK(calls[0]["hotfixes"] == "KB801 KB800 (uninstalled)");
  json st = f.status();
  CHECK(restart_ids(st) == std::vector<std::string>{"KB801", "KB800 (uninstalled)"});
  CHECK(st["policy"] == "delay=10");
  // The uninstalled id gives way to its withdrawal, which still needs the reboot.
  CHECK(hotfix::test::read_file(f.pkgs()) == "KB801\nKB800 (uninstalled)\n");
  CHECK(fs::exists(f.flag()));

  // With the default policy: recorded only, exit 10, and the schedule made before stays.
  u = run_installer({"uninstall", "KB801", "--root", f.root});
  INFO(u.out << u.err);
  REQUIRE(u.exit_code == 10);
  CHECK(f.calls().size() == 1);
  CHECK(f.status()["policy"] == "delay=10");
  CHECK(hotfix::test::read_file(f.pkgs()) == "KB800 (uninstalled)\nKB801 (uninstalled)\n");
}

TEST_CASE("a dry run with a restart policy schedules nothing and changes nothing") {
  RestartFixture f;
  REQUIRE(f.apply(f.reboot).exit_code == 10);
  auto before = hotfix::test::snapshot_with_state(f.root);
  RunResult r =
      f.apply(f.reboot2, {"--dry-run", "--restart", "now", "--restart-command", f.command("dry")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "(dry run: nothing was changed)"));
  CHECK(f.calls().empty());
  auto after = hotfix::test::snapshot_with_state(f.root);
  INFO(hotfix::test::describe_difference(before, after));
  CHECK(after == before);
}

TEST_CASE("a later bundle that fails does not cost the earlier ones their restart") {
  RestartFixture f;
  // Its file would go below app/core.dll, which is a file: the plan refuses it (bad input).
  std::string broken = f.kit.build({"KB803",
                                    1,
                                    hotfix::RestartRequirement::kReboot,
                                    {},
                                    {},
                                    hotfix::Arch::kX64,
                                    {pe("app/core.dll/inner.dll", "1.0.0.1")}});
  RunResult r = run_installer({"apply", f.reboot, broken, "--root", f.root, "--trust", f.kit.pub(),
                               "--restart", "delay=30", "--restart-command", f.command("partial")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "app/core.dll/inner.dll"));
  // KB800 was applied: its reboot is flagged and scheduled all the same.
  CHECK(hotfix::test::read_file(f.pkgs()) == "KB800\n");
  auto calls = f.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["action"] == "schedule");
  CHECK(calls[0]["hotfixes"] == "KB800");
  json st = f.status();
  CHECK(restart_ids(st) == std::vector<std::string>{"KB800"});
  CHECK(st["policy"] == "delay=30");
}

TEST_CASE("a restart is done once the image has started since: /run emptied") {
  RestartFixture f;
  const std::string marker = f.root + "/run/reboot-required.hotfix-boot";
  // "Restarting" an image: its run/ is emptied, as a reboot empties a tmpfs /run.
  auto reboot_image = [&] {
    for (const auto& e : fs::directory_iterator(f.root + "/run")) fs::remove_all(e.path());
  };
  REQUIRE(f.apply(f.reboot).exit_code == 10);
  REQUIRE(fs::is_regular_file(marker));
  json st = f.status();
  CHECK(st["state"] == "pending");
  CHECK(st["required"] == true);
  CHECK(st["since"].is_string());

  reboot_image();
  RunResult s = run_installer({"status", "--root", f.root});
  INFO(s.out << s.err);
  CHECK(s.exit_code == 0);
  CHECK(contains(s.out, "Restart: the reboot that KB800 needed (recorded "));
  CHECK(contains(s.out, "is done: the machine has started since"));
  st = f.status();
  CHECK(st["state"] == "done");
  CHECK(st["required"] == false);

  SECTION("an uninstall that needs a restart starts a new need, without the old one") {
    RunResult u = run_installer({"uninstall", "KB800", "--root", f.root});
    INFO(u.out << u.err);
    CHECK(u.exit_code == 10);
    st = f.status();
    CHECK(st["state"] == "pending");
    CHECK(restart_ids(st) == std::vector<std::string>{"KB800 (uninstalled)"});
    reboot_image();
    CHECK(run_installer({"status", "--root", f.root}).exit_code == 0);
  }
  SECTION("the next apply starts from no need at all") {
    REQUIRE(f.apply(f.reboot2).exit_code == 10);
    st = f.status();
    CHECK(restart_ids(st) == std::vector<std::string>{"KB801"});  // KB800's restart happened
    CHECK(st["state"] == "pending");
    CHECK(hotfix::test::read_file(f.pkgs()) == "KB801\n");
  }
  SECTION("a marker that is not the installer's is refused, not taken for a boot") {
    REQUIRE(f.apply(f.reboot2).exit_code == 10);
    fs::remove(marker);
    REQUIRE(::mkfifo(marker.c_str(), 0644) == 0);
    RunResult bad = run_installer({"status", "--root", f.root});
    CHECK(bad.exit_code == 2);
    CHECK(contains(bad.err, "reboot-required.hotfix-boot"));
  }
}
