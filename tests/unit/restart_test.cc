// Restart policies, next local occurrence of a time, scheduling and cancelling through each
// mechanism, and the reboot-required files.
#include <stdlib.h>
#include <time.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>

#include "installer/restart.h"
#include "manifests/errors.h"
#include "manifests/timestamp.h"
#include "tests/support/temp_dir.h"

using hotfix::Error;
using hotfix::ErrorKind;
using hotfix::RestartEnvironment;
using hotfix::RestartPolicy;
using hotfix::RestartRequirement;
using hotfix::RestartState;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Sets TZ for one test and puts the old value back.
class TimeZone {
 public:
  explicit TimeZone(const char* tz) {
    if (const char* old = getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~TimeZone() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::optional<std::string> old_;
};

std::int64_t utc(const char* iso) {
  auto t = hotfix::Timestamp::parse_iso8601(iso);
  REQUIRE(t);
  return t->unix_seconds();
}

std::string iso(std::int64_t t) { return hotfix::Timestamp(t).iso8601(); }

std::string next_at(int hour, int minute, const char* now) {
  return iso(hotfix::next_occurrence(hour, minute, utc(now)));
}

constexpr const char* kBerlin = "CET-1CEST,M3.5.0,M10.5.0/3";

// A policy parse that must fail, returning the error.
Error parse_error(const std::string& text) {
  try {
    hotfix::parse_restart_policy(text);
  } catch (const Error& e) {
    return e;
  }
  FAIL("accepted: \"" << text << "\"");
  throw;
}

}  // namespace

TEST_CASE("Restart policies parse and print back") {
  using K = RestartPolicy::Kind;
  CHECK(hotfix::parse_restart_policy("never").kind == K::kNever);
  CHECK(hotfix::parse_restart_policy("now").kind == K::kNow);
  auto at = hotfix::parse_restart_policy("at=02:30");
  CHECK(at.kind == K::kAt);
  CHECK(at.hour == 2);
  CHECK(at.minute == 30);
  CHECK(at.text() == "at=02:30");
  CHECK(hotfix::parse_restart_policy("at=2:05").text() == "at=02:05");
  CHECK(hotfix::parse_restart_policy("at=00:00").text() == "at=00:00");
  CHECK(hotfix::parse_restart_policy("at=23:59").text() == "at=23:59");
  auto delay = hotfix::parse_restart_policy("delay=30");
  CHECK(delay.kind == K::kDelay);
  CHECK(delay.delay_minutes == 30);
  CHECK(delay.text() == "delay=30");
  CHECK(hotfix::parse_restart_policy("delay=1").delay_minutes == 1);
  CHECK(hotfix::parse_restart_policy("delay=10080").delay_minutes == 10080);
  CHECK(hotfix::parse_restart_policy("delay=0045").text() == "delay=45");
  CHECK(RestartPolicy{}.text() == "never");
  for (const char* text : {"never", "now", "at=07:05", "delay=600"}) {
    CHECK(hotfix::parse_restart_policy(hotfix::parse_restart_policy(text).text()).text() == text);
  }
}

TEST_CASE("Malformed restart policies are refused with the reason") {
  for (const char* bad : {"",
                          "later",
                          "NOW",
                          "Never",
                          " now",
                          "now ",
                          "at=",
                          "at=24:00",
                          "at=12:60",
                          "at=1:5",
                          "at=123:00",
                          "at=12-30",
                          "at=12:30:00",
                          "at=:30",
                          "at =02:30",
                          "at=-1:30",
                          "delay=",
                          "delay=0",
                          "delay=10081",
                          "delay=-5",
                          "delay=1.5",
                          "delay=+5",
                          "delay=99999999999999999999",
                          "delay=30m"}) {
    INFO(bad);
    Error e = parse_error(bad);
    CHECK(e.kind() == ErrorKind::kBadInput);
    CHECK(e.where() == "--restart");
  }
  CHECK_THAT(parse_error("").message(), Catch::Contains("empty"));
  CHECK_THAT(parse_error("later").message(),
             Catch::Contains("unknown restart policy \"later\"") &&
                 Catch::Contains("never, now, at=HH:MM or delay=MINUTES"));
  CHECK_THAT(parse_error("at=24:00").message(), Catch::Contains("hour must be 0 to 23"));
  CHECK_THAT(parse_error("at=12:60").message(), Catch::Contains("minute must be 00 to 59"));
  CHECK_THAT(parse_error("at=1:5").message(), Catch::Contains("HH:MM"));
  CHECK_THAT(parse_error("delay=0").message(), Catch::Contains("from 1 to 10080"));
  CHECK_THAT(parse_error("delay=10081").message(), Catch::Contains("from 1 to 10080"));
  CHECK_THAT(parse_error("delay=abc").message(), Catch::Contains("\"delay=abc\""));
}

TEST_CASE("The next occurrence of a local time crosses midnight") {
  {
    TimeZone tz("UTC0");
    CHECK(next_at(0, 15, "2024-01-01T23:30:00Z") == "2024-01-02T00:15:00Z");
    CHECK(next_at(23, 45, "2024-01-01T23:30:00Z") == "2024-01-01T23:45:00Z");
    // Strictly after now: the same minute is tomorrow's.
    CHECK(next_at(23, 30, "2024-01-01T23:30:00Z") == "2024-01-02T23:30:00Z");
    CHECK(next_at(23, 30, "2024-01-01T23:29:59Z") == "2024-01-01T23:30:00Z");
    // Across the end of a month, a leap day and a year.
    CHECK(next_at(1, 0, "2024-02-28T22:00:00Z") == "2024-02-29T01:00:00Z");
    CHECK(next_at(1, 0, "2024-12-31T22:00:00Z") == "2025-01-01T01:00:00Z");
  }
  {
    TimeZone tz(kBerlin);
    // 23:30 local (CET, UTC+1): 00:10 is tomorrow's, 22:00 local is tomorrow too.
    CHECK(next_at(0, 10, "2024-01-15T22:30:00Z") == "2024-01-15T23:10:00Z");
    CHECK(next_at(23, 0, "2024-01-15T22:30:00Z") == "2024-01-16T22:00:00Z");
    CHECK(next_at(0, 0, "2024-12-31T22:59:00Z") == "2024-12-31T23:00:00Z");
  }
}

TEST_CASE("The next occurrence of a local time is right around the spring DST change") {
  TimeZone tz(kBerlin);
  // 2024-03-31 02:00 CET the clock jumps to 03:00 CEST (01:00 UTC). Now: 22:00 CET the day before.
  const char* now = "2024-03-30T21:00:00Z";
  CHECK(next_at(1, 30, now) == "2024-03-31T00:30:00Z");  // before the gap, CET
  CHECK(next_at(2, 0, now) == "2024-03-31T01:00:00Z");   // in the gap: when the gap ends
  CHECK(next_at(2, 30, now) == "2024-03-31T01:00:00Z");  // in the gap: when the gap ends
  CHECK(next_at(3, 0, now) == "2024-03-31T01:00:00Z");   // first minute after the gap
  CHECK(next_at(3, 30, now) == "2024-03-31T01:30:00Z");  // CEST
  CHECK(next_at(12, 0, now) == "2024-03-31T10:00:00Z");  // CEST
  // 22:00 is now: tomorrow's 22:00 is in summer time, 23 hours later.
  CHECK(next_at(22, 0, now) == "2024-03-31T20:00:00Z");
  // From inside the short day, the gap time is the next day's (which exists).
  CHECK(next_at(2, 30, "2024-03-31T01:00:00Z") == "2024-04-01T00:30:00Z");

  // The same rule in New York: 2024-03-10 02:00 EST becomes 03:00 EDT (07:00 UTC).
  TimeZone ny("EST5EDT,M3.2.0,M11.1.0");
  CHECK(next_at(2, 15, "2024-03-09T12:00:00Z") == "2024-03-10T07:00:00Z");
  CHECK(next_at(1, 59, "2024-03-09T12:00:00Z") == "2024-03-10T06:59:00Z");

  // Lord Howe Island moves its clock by half an hour: 02:00 becomes 02:30 (15:30 UTC).
  TimeZone howe("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
  CHECK(next_at(2, 10, "2024-10-05T00:00:00Z") == "2024-10-05T15:30:00Z");
  CHECK(next_at(2, 30, "2024-10-05T00:00:00Z") == "2024-10-05T15:30:00Z");
  CHECK(next_at(2, 31, "2024-10-05T00:00:00Z") == "2024-10-05T15:31:00Z");
}

TEST_CASE("The next occurrence of a local time is right around the autumn DST change") {
  TimeZone tz(kBerlin);
  // 2024-10-27 03:00 CEST the clock goes back to 02:00 CET (01:00 UTC): 02:30 happens twice.
  CHECK(next_at(2, 30, "2024-10-26T20:00:00Z") == "2024-10-27T00:30:00Z");  // the first, CEST
  CHECK(next_at(2, 30, "2024-10-27T00:45:00Z") == "2024-10-27T01:30:00Z");  // the second, CET
  CHECK(next_at(2, 30, "2024-10-27T01:45:00Z") == "2024-10-28T01:30:00Z");  // both are past
  CHECK(next_at(12, 0, "2024-10-26T20:00:00Z") == "2024-10-27T11:00:00Z");  // CET
  // 20:00 UTC is 22:00 CEST; tomorrow's 22:00 is CET, 25 hours later.
  CHECK(next_at(22, 0, "2024-10-26T20:00:00Z") == "2024-10-27T21:00:00Z");
}

TEST_CASE("The next occurrence follows the system's zone database") {
  if (!fs::exists("/usr/share/zoneinfo/Europe/Berlin")) {
    WARN("SKIPPED: no zoneinfo for Europe/Berlin; the POSIX rule tests cover the same dates");
    return;
  }
  TimeZone tz("Europe/Berlin");
  CHECK(next_at(2, 30, "2024-03-30T21:00:00Z") == "2024-03-31T01:00:00Z");
  CHECK(next_at(2, 30, "2024-10-27T00:45:00Z") == "2024-10-27T01:30:00Z");
  CHECK(next_at(0, 10, "2024-01-15T22:30:00Z") == "2024-01-15T23:10:00Z");
}

namespace {

constexpr std::int64_t kNow = 1717236000;  // 2024-06-01T10:00:00Z

// A RestartEnvironment whose programs are recorded instead of run.
struct FakeHost {
  std::vector<std::vector<std::string>> calls;
  int status = 0;
  RestartEnvironment env;

  FakeHost(bool live, bool systemd, std::optional<std::string> command = std::nullopt) {
    env.root = live ? "/" : "/srv/roots/x64";
    env.live_root = live;
    env.restart_command = std::move(command);
    env.run = [this](const std::vector<std::string>& argv) {
      calls.push_back(argv);
      return status;
    };
    env.now = [] { return kNow; };
    env.systemd_running = [systemd] { return systemd; };
  }

  RestartState schedule(const std::string& policy, const RestartState& current = {},
                        RestartRequirement kind = RestartRequirement::kReboot,
                        std::vector<std::string> ids = {"KB967131"}) {
    return hotfix::schedule_restart(current, hotfix::parse_restart_policy(policy), kind, ids, env);
  }
};

using Argv = std::vector<std::string>;
const std::string kMessage = "Restart required by hotfix KB967131";

}  // namespace

TEST_CASE("On a live systemd host the restart goes through systemd") {
  TimeZone tz("UTC0");
  SECTION("delay: a transient timer after N minutes") {
    FakeHost host(true, true);
    RestartState s = host.schedule("delay=30");
    const std::string unit = "hotfix-restart-" + std::to_string(kNow + 1800);
    REQUIRE(host.calls.size() == 1);
    CHECK(host.calls[0] == Argv{"systemd-run", "--unit=" + unit, "--description=" + kMessage,
                                "--timer-property=AccuracySec=1s", "--on-active=30min", "systemctl",
                                "reboot"});
    CHECK(s.required);
    CHECK(s.kind == RestartRequirement::kReboot);
    CHECK(s.hotfixes == Argv{"KB967131"});
    CHECK(s.policy == "delay=30");
    CHECK(s.scheduled_at == kNow + 1800);
    CHECK(s.mechanism == "systemd-run timer " + unit + ".timer");
  }
  SECTION("at: a transient timer on the calendar, in UTC") {
    FakeHost host(true, true);
    RestartState s = host.schedule("at=02:30");
    const std::int64_t at = utc("2024-06-02T02:30:00Z");
    REQUIRE(host.calls.size() == 1);
    CHECK(host.calls[0] == Argv{"systemd-run", "--unit=hotfix-restart-" + std::to_string(at),
                                "--description=" + kMessage, "--timer-property=AccuracySec=1s",
                                "--on-calendar=2024-06-02 02:30:00 UTC", "systemctl", "reboot"});
    CHECK(s.scheduled_at == at);
    CHECK(s.policy == "at=02:30");
  }
  SECTION("now: systemctl reboot") {
    FakeHost host(true, true);
    RestartState s = host.schedule("now");
    CHECK(host.calls == std::vector<Argv>{{"systemctl", "reboot"}});
    CHECK(s.scheduled_at == kNow);
    CHECK(s.mechanism == "systemctl reboot");
  }
  SECTION("a failing systemd-run is a system error with its exit status") {
    FakeHost host(true, true);
    host.status = 1;
    try {
      host.schedule("delay=30");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::kSystem);
      CHECK(e.where() == "systemd-run");
      CHECK_THAT(e.message(), Catch::Contains("exited with status 1"));
    }
  }
  SECTION("a program that cannot be started says so") {
    FakeHost host(true, true);
    host.status = 127;
    CHECK_THROWS_WITH(host.schedule("now"), Catch::Contains("could not be run"));
  }
}

TEST_CASE("On a live host without systemd the restart goes through shutdown") {
  TimeZone tz("UTC0");
  const std::string script = "shutdown -r \"$1\" \"$2\" </dev/null >/dev/null 2>&1 &";
  SECTION("delay: shutdown -r +N in the background") {
    FakeHost host(true, false);
    RestartState s = host.schedule("delay=15");
    CHECK(host.calls == std::vector<Argv>{{"/bin/sh", "-c", script, "shutdown", "+15", kMessage}});
    CHECK(s.scheduled_at == kNow + 900);
    CHECK(s.mechanism == "shutdown -r +15");
  }
  SECTION("at: shutdown -r HH:MM in the background") {
    FakeHost host(true, false);
    RestartState s = host.schedule("at=9:05");
    CHECK(host.calls ==
          std::vector<Argv>{{"/bin/sh", "-c", script, "shutdown", "09:05", kMessage}});
    CHECK(s.scheduled_at == utc("2024-06-02T09:05:00Z"));
    CHECK(s.mechanism == "shutdown -r 09:05");
  }
  SECTION("now: shutdown -r now") {
    FakeHost host(true, false);
    RestartState s = host.schedule("now");
    CHECK(host.calls == std::vector<Argv>{{"shutdown", "-r", "now", kMessage}});
    CHECK(s.mechanism == "shutdown -r now");
  }
  SECTION("a failing shutdown is a system error") {
    FakeHost host(true, false);
    host.status = 1;
    CHECK_THROWS_AS(host.schedule("now"), Error);
  }
}

TEST_CASE("A root that is not the running system never restarts this machine") {
  TimeZone tz("UTC0");
  for (bool systemd : {true, false}) {
    for (const char* policy : {"now", "at=23:00", "delay=5"}) {
      INFO(policy << (systemd ? " systemd" : " no systemd"));
      FakeHost host(false, systemd);
      RestartState s = host.schedule(policy);
      CHECK(host.calls.empty());
      CHECK(s.required);
      CHECK(s.policy == policy);
      CHECK(s.scheduled_at);
      CHECK_THAT(s.mechanism, Catch::StartsWith("recorded only"));
    }
  }
}

TEST_CASE("The restart command replaces every other mechanism") {
  TimeZone tz("UTC0");
  const Argv expected = {"env",
                         "HOTFIX_RESTART_ACTION=schedule",
                         "HOTFIX_RESTART_AT=2024-06-01T10:30:00Z",
                         "HOTFIX_RESTART_IN_MINUTES=30",
                         "HOTFIX_RESTART_POLICY=delay=30",
                         "HOTFIX_RESTART_HOTFIXES=KB967131",
                         "HOTFIX_ROOT=/srv/roots/x64",
                         "/bin/sh",
                         "-c",
                         "ssh mgmt schedule-reboot"};
  SECTION("on another root") {
    FakeHost host(false, false, "ssh mgmt schedule-reboot");
    RestartState s = host.schedule("delay=30");
    CHECK(host.calls == std::vector<Argv>{expected});
    CHECK(s.mechanism == "command: ssh mgmt schedule-reboot");
    CHECK(s.scheduled_at == kNow + 1800);
  }
  SECTION("on a live systemd host") {
    FakeHost host(true, true, "ssh mgmt schedule-reboot");
    host.schedule("delay=30");
    Argv live = expected;
    live[6] = "HOTFIX_ROOT=/";
    CHECK(host.calls == std::vector<Argv>{live});
  }
  SECTION("minutes round up to the next whole minute for at=") {
    FakeHost host(false, false, "true");
    host.env.now = [] { return kNow + 10; };  // 10:00:10; 10:05 is 4 min 50 s away
    host.schedule("at=10:05");
    REQUIRE(host.calls.size() == 1);
    CHECK(host.calls[0][2] == "HOTFIX_RESTART_AT=2024-06-01T10:05:00Z");
    CHECK(host.calls[0][3] == "HOTFIX_RESTART_IN_MINUTES=5");
  }
  SECTION("a failing command is a system error naming --restart-command") {
    FakeHost host(false, false, "false");
    host.status = 3;
    try {
      host.schedule("now");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::kSystem);
      CHECK(e.where() == "--restart-command");
      CHECK_THAT(e.message(), Catch::Contains("exited with status 3"));
    }
  }
}

TEST_CASE("The restart command really runs with the schedule in its environment") {
  TempDir dir;
  const std::string out = (dir / "scheduled").string();
  hotfix::test::write_file(dir / "root/.keep", "");
  RestartEnvironment env = hotfix::make_restart_environment(
      (dir / "root").string(),
      "printf '%s|%s|%s|%s' \"$HOTFIX_RESTART_ACTION\" \"$HOTFIX_RESTART_AT\" "
      "\"$HOTFIX_RESTART_IN_MINUTES\" \"$HOTFIX_RESTART_HOTFIXES\" > '" +
          out + "'");
  CHECK_FALSE(env.live_root);
  RestartState s = hotfix::schedule_restart({}, hotfix::parse_restart_policy("delay=30"),
                                            RestartRequirement::kReboot, {"KB1", "KB2"}, env);
  REQUIRE(s.scheduled_at);
  CHECK(hotfix::test::read_file(out) == "schedule|" + iso(*s.scheduled_at) + "|30|KB1 KB2");

  env.restart_command = "exit 4";
  s = RestartState{};
  CHECK_THROWS_WITH(hotfix::schedule_restart({}, hotfix::parse_restart_policy("now"),
                                             RestartRequirement::kReboot, {"KB1"}, env),
                    Catch::Contains("exited with status 4"));
}

TEST_CASE("The live root is recognised by identity, not by spelling") {
  CHECK(hotfix::is_live_root("/"));
  CHECK(hotfix::is_live_root("/."));
  CHECK(hotfix::is_live_root("//"));
  TempDir dir;
  CHECK_FALSE(hotfix::is_live_root(dir.path().string()));
  CHECK_FALSE(hotfix::is_live_root((dir / "missing").string()));
}

TEST_CASE("never records the restart without scheduling anything") {
  FakeHost host(true, true);
  RestartState s = host.schedule("never");
  CHECK(host.calls.empty());
  CHECK(s.required);
  CHECK(s.kind == RestartRequirement::kReboot);
  CHECK(s.policy == "never");
  CHECK_FALSE(s.scheduled_at);
  CHECK(s.mechanism.empty());
}

TEST_CASE("A hotfix that needs no restart leaves the state as it was") {
  FakeHost host(true, true);
  RestartState current;
  current.required = true;
  current.kind = RestartRequirement::kServices;
  current.hotfixes = {"KB1"};
  current.policy = "never";
  RestartState s = host.schedule("now", current, RestartRequirement::kNone, {"KB2"});
  CHECK(host.calls.empty());
  CHECK(s.hotfixes == Argv{"KB1"});
  CHECK(s.kind == RestartRequirement::kServices);
  CHECK_FALSE(s.scheduled_at);
}

TEST_CASE("Restart needs accumulate: the stronger kind, every hotfix once") {
  FakeHost host(false, false);
  RestartState s = host.schedule("never", {}, RestartRequirement::kServices, {"KB1"});
  CHECK(s.kind == RestartRequirement::kServices);
  s = host.schedule("never", s, RestartRequirement::kReboot, {"KB2", "KB1"});
  CHECK(s.kind == RestartRequirement::kReboot);
  CHECK(s.hotfixes == Argv{"KB1", "KB2"});
  s = host.schedule("never", s, RestartRequirement::kServices, {"KB3"});
  CHECK(s.kind == RestartRequirement::kReboot);  // never weakened
  CHECK(s.hotfixes == Argv{"KB1", "KB2", "KB3"});
}

TEST_CASE("never keeps a restart that is already scheduled, a new policy replaces it") {
  TimeZone tz("UTC0");
  FakeHost host(true, true);
  RestartState first = host.schedule("delay=60", {}, RestartRequirement::kReboot, {"KB1"});
  const std::string first_unit = "hotfix-restart-" + std::to_string(kNow + 3600) + ".timer";
  host.calls.clear();

  RestartState kept = host.schedule("never", first, RestartRequirement::kReboot, {"KB2"});
  CHECK(host.calls.empty());
  CHECK(kept.scheduled_at == first.scheduled_at);
  CHECK(kept.policy == "delay=60");
  CHECK(kept.mechanism == first.mechanism);
  CHECK(kept.hotfixes == Argv{"KB1", "KB2"});

  RestartState moved = host.schedule("delay=5", kept, RestartRequirement::kReboot, {"KB3"});
  REQUIRE(host.calls.size() == 2);
  CHECK(host.calls[0] == Argv{"systemctl", "stop", first_unit});
  CHECK(host.calls[1][0] == "systemd-run");
  CHECK(host.calls[1][2] == "--description=Restart required by hotfix KB1, KB2, KB3");
  CHECK(moved.scheduled_at == kNow + 300);
  CHECK(moved.policy == "delay=5");
}

namespace {

RestartState scheduled(const std::string& mechanism, const std::string& policy = "delay=30") {
  RestartState s;
  s.required = true;
  s.kind = RestartRequirement::kReboot;
  s.hotfixes = {"KB967131"};
  s.policy = policy;
  s.scheduled_at = kNow + 1800;
  s.mechanism = mechanism;
  return s;
}

void check_cancelled(const RestartState& s) {
  CHECK(s.required);
  CHECK(s.kind == RestartRequirement::kReboot);
  CHECK(s.hotfixes == Argv{"KB967131"});
  CHECK_FALSE(s.scheduled_at);
  CHECK(s.mechanism.empty());
  CHECK(s.policy == "never");
}

}  // namespace

TEST_CASE("Cancelling stops whatever scheduled the restart") {
  SECTION("a systemd timer is stopped") {
    FakeHost host(true, true);
    RestartState s = hotfix::cancel_restart(
        scheduled("systemd-run timer hotfix-restart-1717237800.timer"), host.env);
    CHECK(host.calls ==
          std::vector<Argv>{{"systemctl", "stop", "hotfix-restart-1717237800.timer"}});
    check_cancelled(s);
  }
  SECTION("a timer that is gone already counts as cancelled") {
    FakeHost host(true, true);
    host.status = 5;
    check_cancelled(hotfix::cancel_restart(
        scheduled("systemd-run timer hotfix-restart-1717237800.timer"), host.env));
  }
  SECTION("a timer that cannot be stopped is an error, and nothing is cleared") {
    FakeHost host(true, true);
    host.status = 1;
    CHECK_THROWS_AS(hotfix::cancel_restart(
                        scheduled("systemd-run timer hotfix-restart-1717237800.timer"), host.env),
                    Error);
  }
  SECTION("a pending shutdown is cancelled with shutdown -c") {
    FakeHost host(true, false);
    check_cancelled(hotfix::cancel_restart(scheduled("shutdown -r +30"), host.env));
    CHECK(host.calls == std::vector<Argv>{{"shutdown", "-c"}});
  }
  SECTION("the restart command given again cancels it") {
    FakeHost host(false, false, "ssh mgmt reboot-at");
    check_cancelled(hotfix::cancel_restart(scheduled("command: ssh mgmt reboot-at"), host.env));
    REQUIRE(host.calls.size() == 1);
    CHECK(host.calls[0][1] == "HOTFIX_RESTART_ACTION=cancel");
    CHECK(host.calls[0][2] == "HOTFIX_RESTART_AT=2024-06-01T10:30:00Z");
    CHECK(host.calls[0].back() == "ssh mgmt reboot-at");
  }
  SECTION("a command recorded in the database is never run") {
    FakeHost host(false, false);
    CHECK_THROWS_WITH(hotfix::cancel_restart(scheduled("command: touch /tmp/owned"), host.env),
                      Catch::Contains("give it again with --restart-command"));
    CHECK(host.calls.empty());
    FakeHost given(false, false, "new-command");
    hotfix::cancel_restart(scheduled("command: touch /tmp/owned"), given.env);
    REQUIRE(given.calls.size() == 1);
    CHECK(given.calls[0].back() == "new-command");
  }
  SECTION("a recorded timer name this installer does not make is not stopped") {
    FakeHost host(true, true);
    CHECK_THROWS_WITH(hotfix::cancel_restart(scheduled("systemd-run timer sshd.service"), host.env),
                      Catch::Contains("state damaged"));
    CHECK(host.calls.empty());
  }
  SECTION("a recorded-only schedule has nothing to stop") {
    FakeHost host(false, false);
    check_cancelled(hotfix::cancel_restart(
        scheduled("recorded only (the root is not the running system)"), host.env));
    CHECK(host.calls.empty());
  }
  SECTION("another root never stops this machine's timers") {
    FakeHost host(false, true);
    check_cancelled(hotfix::cancel_restart(
        scheduled("systemd-run timer hotfix-restart-1717237800.timer"), host.env));
    CHECK(host.calls.empty());
  }
  SECTION("a restart already under way cannot be stopped: the record is cleared") {
    FakeHost host(true, true);
    check_cancelled(hotfix::cancel_restart(scheduled("systemctl reboot", "now"), host.env));
    check_cancelled(hotfix::cancel_restart(scheduled("shutdown -r now", "now"), host.env));
    CHECK(host.calls.empty());
  }
  SECTION("nothing scheduled: nothing to do") {
    FakeHost host(true, true);
    RestartState current = scheduled("");
    current.scheduled_at.reset();
    current.policy = "never";
    RestartState s = hotfix::cancel_restart(current, host.env);
    CHECK(host.calls.empty());
    CHECK(s.required);
    CHECK(s.hotfixes == current.hotfixes);
  }
}

namespace {

RestartState reboot_needed(std::vector<std::string> ids) {
  RestartState s;
  s.required = true;
  s.kind = RestartRequirement::kReboot;
  s.hotfixes = std::move(ids);
  s.policy = "never";
  return s;
}

std::vector<std::string> run_dir_entries(const TempDir& root) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root / "run")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("reboot-required files are written under the root") {
  TempDir root;
  hotfix::write_reboot_required_files(root.path().string(), reboot_needed({"KB967131"}));
  CHECK(hotfix::test::read_file(root / "run/reboot-required") ==
        "*** System restart required ***\n");
  CHECK(hotfix::test::read_file(root / "run/reboot-required.pkgs") == "KB967131\n");
  CHECK((fs::status(root / "run/reboot-required").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
         fs::perms::others_read));
  // No temporary file is left behind.
  CHECK(run_dir_entries(root) == Argv{"reboot-required", "reboot-required.pkgs"});
}

TEST_CASE("reboot-required.pkgs is appended to, each id once, keeping other entries") {
  TempDir root;
  hotfix::test::write_file(root / "run/reboot-required", "*** System restart required ***\n");
  hotfix::test::write_file(root / "run/reboot-required.pkgs",
                           "linux-image-6.1.0-18-amd64\nlibc6\nlinux-image-6.1.0-18-amd64\n");
  hotfix::write_reboot_required_files(root.path().string() + "/", reboot_needed({"KB1"}));
  CHECK(hotfix::test::read_file(root / "run/reboot-required.pkgs") ==
        "linux-image-6.1.0-18-amd64\nlibc6\nKB1\n");
  hotfix::write_reboot_required_files(root.path().string(), reboot_needed({"KB1", "KB2"}));
  hotfix::write_reboot_required_files(root.path().string(), reboot_needed({"KB1", "KB2"}));
  CHECK(hotfix::test::read_file(root / "run/reboot-required.pkgs") ==
        "linux-image-6.1.0-18-amd64\nlibc6\nKB1\nKB2\n");
  CHECK(run_dir_entries(root) == Argv{"reboot-required", "reboot-required.pkgs"});
}

TEST_CASE("reboot-required files go when no restart is required any more") {
  TempDir root;
  const std::string r = root.path().string();
  hotfix::write_reboot_required_files(r, reboot_needed({"KB1", "KB2"}));

  SECTION("one hotfix withdrawn, another still needs it") {
    hotfix::write_reboot_required_files(r, reboot_needed({"KB2"}), {"KB1"});
    CHECK(hotfix::test::read_file(root / "run/reboot-required.pkgs") == "KB2\n");
    CHECK(fs::exists(root / "run/reboot-required"));
  }
  SECTION("all withdrawn: both files removed") {
    hotfix::write_reboot_required_files(r, RestartState{}, {"KB1", "KB2"});
    CHECK_FALSE(fs::exists(root / "run/reboot-required"));
    CHECK_FALSE(fs::exists(root / "run/reboot-required.pkgs"));
    // Removing again is harmless.
    hotfix::write_reboot_required_files(r, RestartState{}, {"KB1", "KB2"});
  }
  SECTION("entries other software wrote keep the files") {
    hotfix::test::write_file(root / "run/reboot-required.pkgs", "KB1\nlibc6\nKB2\n");
    hotfix::write_reboot_required_files(r, RestartState{}, {"KB1", "KB2"});
    CHECK(hotfix::test::read_file(root / "run/reboot-required.pkgs") == "libc6\n");
    CHECK(fs::exists(root / "run/reboot-required"));
  }
  SECTION("without a withdrawn id of ours nothing is touched") {
    hotfix::write_reboot_required_files(r, RestartState{}, {"KB9"});
    hotfix::write_reboot_required_files(r, RestartState{});
    CHECK(hotfix::test::read_file(root / "run/reboot-required.pkgs") == "KB1\nKB2\n");
    CHECK(fs::exists(root / "run/reboot-required"));
  }
}

TEST_CASE("A services restart does not claim a reboot is required") {
  TempDir root;
  RestartState s = reboot_needed({"KB1"});
  s.kind = RestartRequirement::kServices;
  hotfix::write_reboot_required_files(root.path().string(), s);
  CHECK_FALSE(fs::exists(root / "run/reboot-required"));
  CHECK_FALSE(fs::exists(root / "run/reboot-required.pkgs"));
}
