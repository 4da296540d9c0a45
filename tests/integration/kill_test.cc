// The real hotfix-installer killed with SIGKILL at random moments while it applies and
// uninstalls two layered hotfixes over a large tree, then recovered: the tree must always be
// wholly the old set or wholly the new set, byte for byte, with the database agreeing and
// nothing left behind. Seeded and reproducible: HOTFIX_KILL_SEED, HOTFIX_KILL_ITERATIONS
// (docs/testing.md).
#include <signal.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "installer/state_db.h"
#include "tests/support/child_process.h"
#include "tests/support/json_output.h"
#include "tests/support/layered_sample.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_snapshot.h"

using hotfix::test::Child;
using hotfix::test::LayeredSample;
using hotfix::test::RunResult;
using hotfix::test::Step;
using hotfix::test::TempDir;
namespace fs = std::filesystem;
using Snapshot = std::map<std::string, std::string>;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kState = "var/lib/hotfix";

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 0);
}

std::vector<std::string> with_root(const std::vector<std::string>& args, const std::string& root) {
  std::vector<std::string> out{hotfix::test::installer_path()};
  out.insert(out.end(), args.begin(), args.end());
  out.push_back("--root");
  out.push_back(root);
  return out;
}

RunResult installer(const std::vector<std::string>& args, const std::string& root) {
  return hotfix::test::run(with_root(args, root));
}

std::int64_t last_history_seq(const std::string& root) {
  auto db =
      hotfix::StateDb::open(root + "/" + kState + "/state.db", hotfix::StateDb::Mode::kReadOnly);
  auto h = db.history();
  return h.empty() ? 0 : h.back().seq;
}

// Outcomes of the recoveries recorded after `seq`.
std::vector<std::string> recoveries_since(const std::string& root, std::int64_t seq) {
  auto db =
      hotfix::StateDb::open(root + "/" + kState + "/state.db", hotfix::StateDb::Mode::kReadOnly);
  std::vector<std::string> out;
  for (const hotfix::HistoryEntry& e : db.history()) {
    if (e.seq > seq && e.action == "recover") out.push_back(e.outcome);
  }
  return out;
}

// The root as the invariant sees it: the tree without the state directory.
Snapshot tree(const std::string& root) { return hotfix::test::snapshot_tree(root, kState); }

struct Checker {
  const std::string& root;
  std::map<int, Snapshot> expected;  // per state, as a clean run left it
  Snapshot pristine;                 // the original tree, before any directory was created

  // Everything about `state` that must hold once no installer runs.
  void require_state(LayeredSample::State state, const std::string& context) {
    INFO(context);
    Snapshot now = tree(root);
    bool match =
        now == expected.at(state) || (state == LayeredSample::kOriginal && now == pristine);
    INFO("tree differs from state " << state << ":\n"
                                    << hotfix::test::describe_difference(expected.at(state), now));
    REQUIRE(match);
    std::set<std::string> in_db;
    std::string problems = hotfix::test::state_problems(root, &in_db);
    INFO(problems);
    REQUIRE(problems.empty());
    REQUIRE(in_db == LayeredSample::installed_in(state));
    std::set<std::string> listed;
    RunResult list = installer({"list", "--json"}, root);
    REQUIRE(list.exit_code == 0);
    const auto list_doc = hotfix::test::json_data(list.out);  // outlives the loop
    for (const auto& h : list_doc["hotfixes"]) listed.insert(h["id"].get<std::string>());
    REQUIRE(listed == in_db);
    RunResult verify = installer({"verify"}, root);
    INFO(verify.out << verify.err);
    REQUIRE(verify.exit_code == 0);
  }
  // Which of the two states the tree is wholly in; fails when neither.
  LayeredSample::State which(const Step& step, const std::string& context) {
    Snapshot now = tree(root);
    for (LayeredSample::State s : {step.from, step.to}) {
      if (now == expected.at(s) || (s == LayeredSample::kOriginal && now == pristine)) return s;
    }
    INFO(context);
    INFO("neither the old nor the new set; against the old:\n"
         << hotfix::test::describe_difference(expected.at(step.from), now) << "against the new:\n"
         << hotfix::test::describe_difference(expected.at(step.to), now));
    FAIL("a mixed tree");
    return step.from;
  }
  // Back to the tree before any hotfix: uninstall leaves the directories the hotfix created.
  void to_pristine() {
    std::vector<fs::path> extra;
    for (auto& e : fs::recursive_directory_iterator(root)) {
      std::string rel = fs::relative(e.path(), root).generic_string();
      if (e.is_directory() && rel.rfind(kState, 0) != 0 && !pristine.count(rel) && rel != "var" &&
          rel != "var/lib") {
        extra.push_back(e.path());
      }
    }
    for (auto it = extra.rbegin(); it != extra.rend(); ++it) fs::remove(*it);  // deepest first
    REQUIRE(tree(root) == pristine);
  }
};

}  // namespace

TEST_CASE(
    "SIGKILL at random moments of apply and uninstall, then recovery gives the old or the new "
    "set") {
  const std::uint64_t seed = env_number("HOTFIX_KILL_SEED", std::random_device{}());
  const std::uint64_t iterations = env_number("HOTFIX_KILL_ITERATIONS", 20);
  std::printf("kill test: HOTFIX_KILL_SEED=%llu HOTFIX_KILL_ITERATIONS=%llu\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(iterations));
  std::fflush(stdout);
  INFO("HOTFIX_KILL_SEED=" << seed);
  std::mt19937_64 rng(seed);

  LayeredSample sample;
  std::printf("kill test: the first hotfix has %zu files, %llu bytes\n", sample.first_files,
              static_cast<unsigned long long>(sample.first_bytes));
  TempDir tmp;
  const std::string root = (tmp / "root").string();
  sample.make_root(root);
  Checker check{root, {}, tree(root)};
  const std::vector<Step> steps = layered_steps(sample);

  // One clean run of every step: the expected trees, and how long each step takes.
  std::vector<Clock::duration> took(steps.size());
  LayeredSample::State state = LayeredSample::kOriginal;
  for (std::size_t i : {0, 1, 4, 5, 0, 1, 3, 2}) {
    REQUIRE(steps[i].from == state);
    Child c(with_root(steps[i].args, root));
    RunResult r = c.wait();
    INFO(steps[i].name << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    took[i] = std::max(took[i], c.elapsed());
    state = steps[i].to;
    Snapshot now = tree(root);
    if (check.expected.count(state)) {
      INFO(hotfix::test::describe_difference(check.expected.at(state), now));
      REQUIRE(now == check.expected.at(state));  // the same state whatever the way there
    }
    check.expected[state] = now;
    check.require_state(state, "after a clean " + steps[i].name);
    if (state == LayeredSample::kOriginal) check.to_pristine();
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    std::printf("kill test: a clean '%s' takes %lld ms\n", steps[i].name.c_str(),
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(took[i]).count()));
  }

  std::map<std::string, int> phases;
  int kills = 0, recoveries_killed = 0, next_command_recoveries = 0, verify_busy = 0;
  Clock::duration recover_took = std::chrono::milliseconds(20);
  for (std::uint64_t it = 0; it < iterations; ++it) {
    std::vector<std::size_t> choices;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].from == state) choices.push_back(i);
    }
    const Step& step = steps[choices[rng() % choices.size()]];
    const std::size_t index = static_cast<std::size_t>(&step - steps.data());
    auto limit = std::chrono::duration_cast<std::chrono::microseconds>(took[index] * 6 / 5);
    auto delay = std::chrono::microseconds(rng() % (limit.count() + 1));
    const bool by_next_command = rng() % 4 == 0;
    const bool kill_recovery = !by_next_command && rng() % 4 == 0;
    std::string context = "iteration " + std::to_string(it) + ": '" + step.name +
                          "' killed after " + std::to_string(delay.count()) + " us (seed " +
                          std::to_string(seed) + ")";
    INFO(context);
    std::int64_t seq = last_history_seq(root);

    Child c(with_root(step.args, root));
    std::this_thread::sleep_until(Clock::now() + delay);
    bool killed = !c.exited();
    c.signal(SIGKILL);
    RunResult r = c.wait();
    killed = killed && r.exit_code == 128 + SIGKILL;
    if (!killed) {
      INFO(r.out << r.err);
      REQUIRE(r.exit_code == 0);
    }
    kills += killed ? 1 : 0;

    LayeredSample::State after;
    std::string phase;
    if (by_next_command) {
      // No `recover`: the same command again recovers first, then does its work (or finds
      // it done).
      RunResult again = installer(step.args, root);
      INFO(again.out << again.err);
      bool done_already =
          again.exit_code == 5 && again.err.find("is not installed") != std::string::npos;
      REQUIRE((again.exit_code == 0 || done_already));
      after = step.to;
      check.require_state(after, context + ", then the command again");
      std::vector<std::string> recovered = recoveries_since(root, seq);
      REQUIRE(recovered.size() <= 1);
      ++next_command_recoveries;
      phase = recovered.empty() ? "nothing to recover" : recovered[0];
    } else {
      // Before recovery: a crash is never reported as damage, and status calls it interrupted.
      RunResult verify = installer({"verify"}, root);
      INFO(verify.out << verify.err);
      REQUIRE((verify.exit_code == 0 || verify.exit_code == 6));
      if (verify.exit_code == 6) ++verify_busy;
      auto status = hotfix::test::json_data(installer({"status", "--json"}, root).out);
      REQUIRE(status["interrupted_transaction"] ==
              fs::exists(root + "/" + kState + "/journal.json"));
      REQUIRE(status["transaction_in_progress"] == false);
      if (kill_recovery) {
        // A crash during recovery is recovered by recovering again.
        Child rc(with_root({"recover"}, root));
        auto rlimit = std::chrono::duration_cast<std::chrono::microseconds>(recover_took * 6 / 5);
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % (rlimit.count() + 1)));
        rc.signal(SIGKILL);
        RunResult rr = rc.wait();
        if (rr.exit_code == 128 + SIGKILL) ++recoveries_killed;
      }
      Child rc(with_root({"recover"}, root));
      RunResult rec = rc.wait();
      INFO(rec.out << rec.err);
      REQUIRE(rec.exit_code == 0);
      recover_took = std::max(recover_took, rc.elapsed());
      after = check.which(step, context);
      std::vector<std::string> recovered = recoveries_since(root, seq);
      REQUIRE(recovered.size() <= 1);
      phase = recovered.empty() ? "nothing to recover" : recovered[0];
      if (phase == "rolled back") REQUIRE(after == step.from);
      if (phase == "rolled forward") REQUIRE(after == step.to);
      check.require_state(after, context + ", then recover");
      REQUIRE(installer({"recover"}, root).out.find("nothing to recover") != std::string::npos);
    }
    std::string label =
        !killed ? "finished before the kill"
        : phase == "nothing to recover"
            ? (after == step.from && !by_next_command ? "killed before the transaction began"
                                                      : "killed before or after the transaction")
            : "killed in the transaction, " + phase;
    if (killed && phase == "nothing to recover" && !by_next_command && after == step.to) {
      label = "killed after the transaction ended";
    }
    ++phases[label];
    state = after;
    if (state == LayeredSample::kOriginal) check.to_pristine();
  }
  std::printf(
      "kill test: %llu iterations, %d killed (%d recovered by the next command), %d recoveries "
      "killed\n",
      static_cast<unsigned long long>(iterations), kills, next_command_recoveries,
      recoveries_killed);
  std::printf(
      "kill test: before recovery, verify said busy (files in an interrupted change) %d times\n",
      verify_busy);
  for (const auto& [label, count] : phases)
    std::printf("kill test:   %3d  %s\n", count, label.c_str());
  std::fflush(stdout);
}
