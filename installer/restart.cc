#include "installer/restart.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <tuple>

#include "installer/atomic_write.h"
#include "manifests/errors.h"
#include "manifests/timestamp.h"

extern char** environ;

namespace hotfix {

namespace {

constexpr const char* kExpected = "expected never, now, at=HH:MM or delay=MINUTES";
constexpr const char* kSystemdTimerPrefix = "systemd-run timer ";
constexpr const char* kCommandPrefix = "command: ";
constexpr const char* kShutdownPrefix = "shutdown -r ";
constexpr const char* kRecordedOnly = "recorded only (the root is not the running system)";
constexpr const char* kRebootRequiredText = "*** System restart required ***\n";

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string two_digits(int n) {
  std::string s = std::to_string(n);
  return s.size() < 2 ? "0" + s : s;
}

[[noreturn]] void bad_policy(const std::string& message) {
  throw Error(ErrorKind::kBadInput, "--restart", message);
}

// Local wall-clock reading of an instant, comparable as a tuple.
using Wall = std::tuple<int, int, int, int, int, int>;  // year, month, day, hour, minute, second

Wall wall_of(std::time_t t) {
  std::tm tm{};
  localtime_r(&t, &tm);
  return {tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
}

std::time_t make_local(const Wall& w, int isdst) {
  std::tm tm{};
  std::tie(tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) = w;
  tm.tm_isdst = isdst;
  return std::mktime(&tm);
}

int rank(RestartRequirement r) {
  switch (r) {
    case RestartRequirement::kNone:
      return 0;
    case RestartRequirement::kServices:
      return 1;
    case RestartRequirement::kReboot:
      return 2;
  }
  return 0;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

int spawn_and_wait(const std::vector<std::string>& argv) {
  if (argv.empty()) return 127;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // Whatever the program says goes to stderr: stdout may be carrying --json output.
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return 127;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 127;
}

int run_program(RestartEnvironment& env, const std::vector<std::string>& argv) {
  return env.run ? env.run(argv) : spawn_and_wait(argv);
}

// As sd_booted(): systemd creates this directory when it is the init system.
bool probe_systemd() {
  struct stat st {};
  return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

std::int64_t wall_clock_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::int64_t current_time(RestartEnvironment& env) {
  return env.now ? env.now() : wall_clock_now();
}

bool systemd_running(RestartEnvironment& env) {
  return env.systemd_running ? env.systemd_running() : probe_systemd();
}

void check_status(int status, const std::string& where, const std::vector<std::string>& argv,
                  const std::string& doing) {
  if (status == 0) return;
  std::string shown = join(argv, " ");
  std::string why = status == 127 ? " could not be run (exit status 127)"
                                  : " exited with status " + std::to_string(status);
  throw Error(ErrorKind::kSystem, where, doing + " failed: `" + shown + "`" + why);
}

std::vector<std::string> command_argv(const std::string& action, const std::string& command,
                                      std::int64_t at, std::int64_t minutes,
                                      const std::string& policy, const RestartState& state,
                                      const std::string& root) {
  return {"env",
          "HOTFIX_RESTART_ACTION=" + action,
          "HOTFIX_RESTART_AT=" + Timestamp(at).iso8601(),
          "HOTFIX_RESTART_IN_MINUTES=" + std::to_string(minutes),
          "HOTFIX_RESTART_POLICY=" + policy,
          "HOTFIX_RESTART_HOTFIXES=" + join(state.hotfixes, " "),
          "HOTFIX_ROOT=" + root,
          "/bin/sh",
          "-c",
          command};
}

// "hotfix-restart-<epoch seconds>.timer", as schedule_restart names its units.
bool is_restart_unit(const std::string& unit) {
  const std::string prefix = "hotfix-restart-", suffix = ".timer";
  if (unit.size() <= prefix.size() + suffix.size() || unit.size() > 64) return false;
  if (unit.compare(0, prefix.size(), prefix) != 0) return false;
  if (unit.compare(unit.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  std::string digits = unit.substr(prefix.size(), unit.size() - prefix.size() - suffix.size());
  return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string calendar_utc(std::int64_t at) {
  std::time_t t = static_cast<std::time_t>(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// A few hundred ids at most; anything larger was not written by update-notifier or by us.
constexpr std::uint64_t kMaxPkgsBytes = 1 << 20;

std::vector<std::string> read_pkgs(Disk& disk, const std::string& path) {
  std::optional<struct stat> st = disk.status(path);
  if (!st) return {};
  if (!S_ISREG(st->st_mode)) {
    throw Error(ErrorKind::kBadInput, disk.root().show(path), "is not a regular file");
  }
  if (static_cast<std::uint64_t>(st->st_size) > kMaxPkgsBytes) {
    throw Error(ErrorKind::kBadInput, disk.root().show(path),
                "is " + std::to_string(st->st_size) + " bytes, more than a list of packages");
  }
  std::vector<std::string> lines;
  std::string text = disk.read_file(path, kMaxPkgsBytes);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

}  // namespace

std::string RestartPolicy::text() const {
  switch (kind) {
    case Kind::kNever:
      return "never";
    case Kind::kNow:
      return "now";
    case Kind::kAt:
      return "at=" + two_digits(hour) + ":" + two_digits(minute);
    case Kind::kDelay:
      return "delay=" + std::to_string(delay_minutes);
  }
  return "never";
}

RestartPolicy parse_restart_policy(const std::string& text) {
  RestartPolicy p;
  if (text.empty()) bad_policy(std::string("empty restart policy; ") + kExpected);
  if (text == "never") return p;
  if (text == "now") {
    p.kind = RestartPolicy::Kind::kNow;
    return p;
  }
  if (starts_with(text, "at=")) {
    std::string value = text.substr(3);
    auto colon = value.find(':');
    std::string h = colon == std::string::npos ? value : value.substr(0, colon);
    std::string m = colon == std::string::npos ? "" : value.substr(colon + 1);
    if (colon == std::string::npos || !all_digits(h) || h.size() > 2 || !all_digits(m) ||
        m.size() != 2) {
      bad_policy("\"" + text + "\": at= needs a 24-hour local time HH:MM, such as at=02:30");
    }
    p.hour = std::stoi(h);
    p.minute = std::stoi(m);
    if (p.hour > 23) bad_policy("\"" + text + "\": the hour must be 0 to 23");
    if (p.minute > 59) bad_policy("\"" + text + "\": the minute must be 00 to 59");
    p.kind = RestartPolicy::Kind::kAt;
    return p;
  }
  if (starts_with(text, "delay=")) {
    std::string value = text.substr(6);
    std::string range = "a whole number of minutes from 1 to " +
                        std::to_string(kMaxRestartDelayMinutes) + " (one week)";
    if (!all_digits(value)) bad_policy("\"" + text + "\": delay= needs " + range);
    // Leading zeros are fine; many significant digits are out of range without overflowing.
    std::size_t first = value.find_first_not_of('0');
    std::string significant = first == std::string::npos ? "0" : value.substr(first);
    long minutes = significant.size() > 6 ? kMaxRestartDelayMinutes + 1L : std::stol(significant);
    if (minutes < 1 || minutes > kMaxRestartDelayMinutes) {
      bad_policy("\"" + text + "\": the delay must be " + range);
    }
    p.kind = RestartPolicy::Kind::kDelay;
    p.delay_minutes = static_cast<int>(minutes);
    return p;
  }
  bad_policy("unknown restart policy \"" + text + "\"; " + kExpected);
}

std::int64_t next_occurrence(int hour, int minute, std::int64_t now_utc) {
  tzset();  // localtime_r need not notice a changed TZ by itself
  const std::time_t now = static_cast<std::time_t>(now_utc);
  std::tm today{};
  localtime_r(&now, &today);
  // Walk forward a day at a time; a DST day has 23 or 25 hours, so a few days always suffice.
  for (int day = 0; day < 4; ++day) {
    // Noon is never inside a DST transition: it names the calendar date safely.
    std::tm noon{};
    noon.tm_year = today.tm_year;
    noon.tm_mon = today.tm_mon;
    noon.tm_mday = today.tm_mday + day;
    noon.tm_hour = 12;
    noon.tm_isdst = -1;
    std::mktime(&noon);
    const Wall target{noon.tm_year, noon.tm_mon, noon.tm_mday, hour, minute, 0};

    std::optional<std::time_t> best;
    std::time_t raw[2];
    bool exists = false;
    for (int isdst = 0; isdst < 2; ++isdst) {
      raw[isdst] = make_local(target, isdst);
      // Only an instant that reads back as the target is that wall-clock time.
      if (wall_of(raw[isdst]) != target) continue;
      exists = true;
      if (raw[isdst] > now && (!best || raw[isdst] < *best)) best = raw[isdst];
    }
    if (best) return static_cast<std::int64_t>(*best);
    if (exists) continue;  // it happened today already
    // The time falls in a gap: the two readings straddle the jump; find where it happens.
    std::time_t lo = std::min(raw[0], raw[1]), hi = std::max(raw[0], raw[1]);
    if (lo == hi || wall_of(hi) < target) continue;
    while (hi - lo > 1) {
      std::time_t mid = lo + (hi - lo) / 2;
      if (wall_of(mid) < target) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    if (hi > now) return static_cast<std::int64_t>(hi);
  }
  throw Error(ErrorKind::kInternal, "--restart",
              "no local time " + two_digits(hour) + ":" + two_digits(minute) +
                  " in the next days; is the time zone valid?");
}

bool is_live_root(const std::string& root) {
  struct stat a {
  }, b{};
  if (stat(root.c_str(), &a) != 0 || stat("/", &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

RestartEnvironment make_restart_environment(const std::string& root,
                                            std::optional<std::string> restart_command) {
  RestartEnvironment env;
  env.root = root;
  env.live_root = is_live_root(root);
  env.restart_command = std::move(restart_command);
  env.run = spawn_and_wait;
  env.now = wall_clock_now;
  env.systemd_running = probe_systemd;
  return env;
}

RestartState schedule_restart(const RestartState& current, const RestartPolicy& policy,
                              RestartRequirement kind, const std::vector<std::string>& hotfixes,
                              RestartEnvironment& env) {
  if (kind == RestartRequirement::kNone) return current;
  RestartState next = current;
  next.required = true;
  if (rank(kind) > rank(next.kind)) next.kind = kind;
  for (const auto& id : hotfixes) {
    if (std::find(next.hotfixes.begin(), next.hotfixes.end(), id) == next.hotfixes.end()) {
      next.hotfixes.push_back(id);
    }
  }
  if (policy.kind == RestartPolicy::Kind::kNever) {
    // The default policy must not undo a restart the administrator already scheduled.
    if (!next.scheduled_at) {
      next.policy = policy.text();
      next.mechanism.clear();
    }
    return next;
  }
  if (next.scheduled_at) next = cancel_restart(next, env);

  const std::int64_t now = current_time(env);
  std::int64_t at = now;
  if (policy.kind == RestartPolicy::Kind::kAt) {
    at = next_occurrence(policy.hour, policy.minute, now);
  } else if (policy.kind == RestartPolicy::Kind::kDelay) {
    at = now + std::int64_t{policy.delay_minutes} * 60;
  }
  const std::int64_t minutes = (at - now + 59) / 60;
  const std::string message = "Restart required by hotfix " + join(next.hotfixes, ", ");
  next.policy = policy.text();
  next.scheduled_at = at;

  if (env.restart_command) {
    auto argv =
        command_argv("schedule", *env.restart_command, at, minutes, next.policy, next, env.root);
    check_status(run_program(env, argv), "--restart-command", argv, "scheduling the restart");
    next.mechanism = kCommandPrefix + *env.restart_command;
    return next;
  }
  if (!env.live_root) {
    next.mechanism = kRecordedOnly;
    return next;
  }

  std::vector<std::string> argv;
  if (systemd_running(env)) {
    if (policy.kind == RestartPolicy::Kind::kNow) {
      argv = {"systemctl", "reboot"};
      next.mechanism = "systemctl reboot";
    } else {
      std::string unit = "hotfix-restart-" + std::to_string(at);
      std::string when = policy.kind == RestartPolicy::Kind::kDelay
                             ? "--on-active=" + std::to_string(policy.delay_minutes) + "min"
                             : "--on-calendar=" + calendar_utc(at);
      argv = {"systemd-run",
              "--unit=" + unit,
              "--description=" + message,
              "--timer-property=AccuracySec=1s",
              when,
              "systemctl",
              "reboot"};
      next.mechanism = kSystemdTimerPrefix + unit + ".timer";
    }
  } else if (policy.kind == RestartPolicy::Kind::kNow) {
    argv = {"shutdown", "-r", "now", message};
    next.mechanism = "shutdown -r now";
  } else {
    std::string when = policy.kind == RestartPolicy::Kind::kAt
                           ? two_digits(policy.hour) + ":" + two_digits(policy.minute)
                           : "+" + std::to_string(policy.delay_minutes);
    // A SysV shutdown waits in the foreground until the time comes: start it in the background.
    argv = {"/bin/sh",  "-c", "shutdown -r \"$1\" \"$2\" </dev/null >/dev/null 2>&1 &",
            "shutdown", when, message};
    next.mechanism = kShutdownPrefix + when;
  }
  check_status(run_program(env, argv), argv[0], argv, "scheduling the restart");
  return next;
}

RestartState cancel_restart(const RestartState& current, RestartEnvironment& env) {
  if (!current.scheduled_at) return current;
  RestartState next = current;
  const std::string& how = current.mechanism;

  if (starts_with(how, kCommandPrefix)) {
    // The database is input: a command recorded in it is never run. The administrator gives
    // the command again, and it is told what to cancel.
    if (!env.restart_command) {
      throw Error(ErrorKind::kBadInput, "--restart-command",
                  "the restart was scheduled by the command `" +
                      how.substr(std::string(kCommandPrefix).size()) +
                      "`; give it again with --restart-command to cancel it (a command recorded "
                      "under the root is never run)");
    }
    std::int64_t minutes =
        std::max<std::int64_t>(0, (*current.scheduled_at - current_time(env) + 59) / 60);
    auto argv = command_argv("cancel", *env.restart_command, *current.scheduled_at, minutes,
                             current.policy, current, env.root);
    check_status(run_program(env, argv), "--restart-command", argv, "cancelling the restart");
  } else if (env.live_root && starts_with(how, kSystemdTimerPrefix)) {
    // Only a unit name this installer makes is passed to systemctl.
    std::string unit = how.substr(std::string(kSystemdTimerPrefix).size());
    if (!is_restart_unit(unit)) {
      throw Error(ErrorKind::kStateDamaged, "restart",
                  "state damaged: the recorded timer \"" + unit +
                      "\" is not one this installer schedules (hotfix-restart-N.timer); it is "
                      "not stopped");
    }
    std::vector<std::string> argv = {"systemctl", "stop", unit};
    int status = run_program(env, argv);
    // 5: the unit is not loaded any more (it fired, or the machine restarted): nothing to stop.
    if (status != 5) check_status(status, "systemctl", argv, "cancelling the restart");
  } else if (env.live_root && starts_with(how, kShutdownPrefix) && how != "shutdown -r now") {
    std::vector<std::string> argv = {"shutdown", "-c"};
    check_status(run_program(env, argv), "shutdown", argv, "cancelling the restart");
  }
  // Anything else (recorded only, or a restart that was already under way) has nothing to stop.
  next.scheduled_at.reset();
  next.mechanism.clear();
  next.policy = RestartPolicy{}.text();
  return next;
}

void check_reboot_required_place(const Root& root) {
  std::optional<struct stat> st = root.status("run");
  if (st && !S_ISDIR(st->st_mode)) {
    throw UnsafePathError(root.show("run"),
                          S_ISLNK(st->st_mode)
                              ? "is a symbolic link; the restart flags are never written "
                                "through one, so the hotfix was not applied"
                              : "is not a directory, so the restart flags cannot be kept there");
  }
  // The flags themselves, read and rewritten after the commit: checked now, so that a FIFO
  // or a giant there stops the hotfix before it changes anything, not after.
  for (const char* flag : {"run/reboot-required", "run/reboot-required.pkgs"}) {
    std::optional<struct stat> f = st ? root.status(flag) : std::nullopt;
    if (f && !S_ISREG(f->st_mode)) {
      throw UnsafePathError(root.show(flag),
                            "is not a regular file, so the restart flags cannot be kept there; "
                            "the hotfix was not applied");
    }
    if (f && static_cast<std::uint64_t>(f->st_size) > kMaxPkgsBytes) {
      throw Error(ErrorKind::kBadInput, root.show(flag),
                  "is " + std::to_string(f->st_size) +
                      " bytes, more than a list of packages; the hotfix was not applied");
    }
  }
}

void write_reboot_required_files(Disk& disk, const RestartState& state,
                                 const std::vector<std::string>& withdrawn) {
  const std::string flag = "run/reboot-required";
  const std::string pkgs = "run/reboot-required.pkgs";
  const bool reboot = state.required && state.kind == RestartRequirement::kReboot;
  const std::vector<std::string> ours = reboot ? state.hotfixes : std::vector<std::string>{};
  auto contains = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };

  std::vector<std::string> lines;
  bool removed_any = false;
  for (const std::string& line : read_pkgs(disk, pkgs)) {
    if (line.empty() || contains(lines, line)) continue;
    if (contains(withdrawn, line) && !contains(ours, line)) {
      removed_any = true;
      continue;
    }
    lines.push_back(line);
  }
  for (const auto& id : ours) {
    if (!contains(lines, id)) lines.push_back(id);
  }

  if (!reboot && !removed_any) return;  // nothing of ours is there
  if (!reboot && lines.empty()) {
    disk.remove(pkgs);
    disk.remove(flag);
    return;
  }
  if (disk.make_dir("run")) disk.sync_dir("");
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  write_atomically(disk, pkgs, text, 0644);
  if (reboot) write_atomically(disk, flag, kRebootRequiredText, 0644);
}

void write_reboot_required_files(const std::string& root, const RestartState& state,
                                 const std::vector<std::string>& withdrawn) {
  std::unique_ptr<Disk> disk = make_root_disk(Root::open(root));
  write_reboot_required_files(*disk, state, withdrawn);
}

}  // namespace hotfix
