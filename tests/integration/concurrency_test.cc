// Two installers on one root at once, while list, verify, history and status run in a loop:
// a second writer fails with "busy" under --no-wait and otherwise waits and then completes;
// readers never block and never see a half-committed state; nothing is corrupted at the end.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "installer/journal.h"
#include "tests/support/bundle_factory.h"
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
using Clock = std::chrono::steady_clock;

namespace {

const std::string kState = "var/lib/hotfix";
// Far longer than any reader takes: only a reader that blocks on a writer reaches it.
constexpr std::chrono::seconds kReaderTimeout{60};

std::vector<std::string> with_root(std::vector<std::string> args, const std::string& root) {
  args.insert(args.begin(), hotfix::test::installer_path());
  args.push_back("--root");
  args.push_back(root);
  return args;
}

// list, verify, history and status in a loop, each bounded by kReaderTimeout. Records what
// would show a reader blocking or seeing a half-committed state.
class Readers {
 public:
  explicit Readers(std::string root) : root_(std::move(root)), thread_([this] { loop(); }) {}
  ~Readers() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long rounds() const { return rounds_; }
  long stable_rounds() const { return stable_; }
  long verify_busy() const { return verify_busy_; }
  long saw_in_progress() const { return saw_in_progress_; }
  std::string problems() {
    std::lock_guard<std::mutex> g(mutex_);
    return problems_;
  }
  // Waits until `n` more rounds have completed (bounded).
  void wait_rounds(long n) {
    long target = rounds_ + n;
    auto deadline = Clock::now() + 2 * kReaderTimeout;
    while (rounds_ < target && Clock::now() < deadline && !stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

 private:
  void problem(const std::string& what) {
    std::lock_guard<std::mutex> g(mutex_);
    if (problems_.size() < 4000) problems_ += what + "\n";
  }
  std::optional<RunResult> read(const std::vector<std::string>& args) {
    Child c(with_root(args, root_));
    std::optional<RunResult> r = c.wait_for(kReaderTimeout);
    if (!r) problem(args[0] + " blocked for " + std::to_string(kReaderTimeout.count()) + " s");
    return r;
  }
  std::optional<std::int64_t> last_seq() {
    auto r = read({"history", "--json"});
    if (!r) return std::nullopt;
    if (r->exit_code != 0) {
      problem("history failed: " + r->err);
      return std::nullopt;
    }
    auto doc = hotfix::test::json_data(r->out)["entries"];
    return doc.empty() ? 0 : doc.back()["seq"].get<std::int64_t>();
  }
  void loop() {
    while (!stop_) {
      auto before = last_seq();
      auto list = read({"list", "--json"});
      auto verify = read({"verify", "--json"});
      auto status = read({"status", "--json"});
      auto after = last_seq();
      if (!before || !list || !verify || !status || !after) continue;
      if (list->exit_code != 0) problem("list failed: " + list->err);
      if (status->exit_code != 0) problem("status failed: " + status->err);
      if (list->exit_code != 0 || status->exit_code != 0) continue;
      {
        // Nothing here is ever interrupted: a journal is always a writer's at work.
        const auto status_doc = hotfix::test::json_data(status->out);
        if (status_doc["transaction_in_progress"].get<bool>()) ++saw_in_progress_;
        if (status_doc["interrupted_transaction"].get<bool>()) problem("status: " + status->out);
      }
      // verify: intact (0), or busy (6) while a transaction changes some of the files;
      // never a difference (4): nothing here is ever corrupted.
      if (verify->exit_code == 6) {
        ++verify_busy_;
      } else if (verify->exit_code != 0) {
        problem("verify exit " + std::to_string(verify->exit_code) + ": " + verify->out +
                verify->err);
      }
      if (*before == *after && verify->exit_code == 0) {
        // No commit during the round: list and verify saw the same installed state, and each
        // hotfix list shows is intact.
        ++stable_;
        std::set<std::string> listed, verified;
        const auto list_doc = hotfix::test::json_data(list->out);  // outlives the loop
        for (const auto& h : list_doc["hotfixes"]) listed.insert(h["id"].get<std::string>());
        const auto verify_doc = hotfix::test::json_data(verify->out);
        for (const auto& f : verify_doc["files"]) {
          verified.insert(f["hotfix"].get<std::string>());
        }
        if (listed != verified) problem("list and verify disagree: " + list->out + verify->out);
      }
      ++rounds_;
    }
  }

  std::string root_;
  std::atomic<bool> stop_{false};
  std::atomic<long> rounds_{0}, stable_{0}, verify_busy_{0}, saw_in_progress_{0};
  std::mutex mutex_;
  std::string problems_;
  std::thread thread_;
};

// The journal's state token, or "" when there is none.
std::string journal_state(const std::string& root) {
  std::error_code ec;
  std::string path = root + "/" + kState + "/journal.json";
  if (!fs::exists(path, ec)) return "";
  try {
    return nlohmann::json::parse(hotfix::test::read_file(path))["state"].get<std::string>();
  } catch (const std::exception&) {
    return "";  // replaced while being read
  }
}

// Waits until `pid` holds the root's lock (it writes its pid into the lock file).
bool holds_lock(const std::string& root, pid_t pid, Child& child) {
  std::string want = std::to_string(pid) + "\n";
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline && !child.exited()) {
    try {
      if (hotfix::test::read_file(root + "/" + kState + "/lock") == want) return true;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return false;
}

}  // namespace

TEST_CASE("two installers at once: busy or wait, and readers never block nor see half a change") {
  LayeredSample sample;
  TempDir tmp;
  const std::string root = (tmp / "root").string();
  sample.make_root(root);
  const auto pristine = hotfix::test::snapshot_tree(root, kState);
  const std::vector<Step> steps = layered_steps(sample);
  auto step = [&](const std::string& name) {
    for (const Step& s : steps) {
      if (s.name == name) return s;
    }
    throw std::runtime_error(name);
  };
  // The first writer, and what a second one does meanwhile (waiting), with its exit code.
  struct Pair {
    Step first;
    std::vector<std::string> second;
    int second_exit;
    std::string second_says;
    LayeredSample::State end;
  };
  const std::vector<Pair> pairs = {
      {step("apply first"), step("apply first").args, 0, "already installed",
       LayeredSample::kFirstOnly},
      {step("apply second over first"), step("uninstall first under second").args, 0, "uninstalled",
       LayeredSample::kSecondOnly},
      {step("uninstall second alone"), step("apply first").args, 0, "applied",
       LayeredSample::kFirstOnly},
      {step("uninstall first"), step("uninstall first").args, 5, "is not installed",
       LayeredSample::kOriginal},
  };

  Readers readers(root);
  int busy = 0, waited = 0, stops = 0, stopped_in_transaction = 0, verify_busy_while_stopped = 0;
  for (const Pair& p : pairs) {
    INFO("first writer: " << p.first.name);
    Child first(with_root(p.first.args, root));
    REQUIRE(holds_lock(root, first.pid(), first));
    // Stopped inside its transaction where it can be caught there (the files being swapped),
    // else wherever it is: either way it holds the lock.
    auto deadline = Clock::now() + std::chrono::seconds(30);
    std::string js;
    while (Clock::now() < deadline && !first.exited()) {
      js = journal_state(root);
      if (js == "prepared" || js == "swapped") break;
    }
    first.signal(SIGSTOP);
    ++stops;
    if (!first.exited()) {
      if (!journal_state(root).empty()) ++stopped_in_transaction;
      // While it holds the lock: --no-wait fails with busy, naming the holder.
      for (const std::vector<std::string>& args :
           {p.second, step("uninstall first").args, std::vector<std::string>{"recover"}}) {
        std::vector<std::string> nowait = args;
        nowait.push_back("--no-wait");
        RunResult r = hotfix::test::run(with_root(nowait, root));
        INFO(r.out << r.err);
        CHECK(r.exit_code == 6);
        CHECK(r.err.find("busy: another installer is changing this root (pid " +
                         std::to_string(first.pid()) + " since ") != std::string::npos);
        ++busy;
      }
      // --lock-timeout: waits, says for whom, then gives up busy.
      std::vector<std::string> timed = p.second;
      timed.insert(timed.end(), {"--lock-timeout", "0.2"});
      RunResult t = hotfix::test::run(with_root(timed, root));
      INFO(t.out << t.err);
      CHECK(t.exit_code == 6);
      CHECK(t.err.find("waiting for the lock held by pid " + std::to_string(first.pid()) +
                       " since ") != std::string::npos);
      CHECK(t.err.find("gave up after 0.2 s (--lock-timeout)") != std::string::npos);
      // Readers meanwhile: verify never reports a writer's half-done change as damage, and
      // status tells a transaction in progress from an interrupted one.
      RunResult v = hotfix::test::run(with_root({"verify"}, root));
      INFO(v.out << v.err);
      CHECK((v.exit_code == 0 || v.exit_code == 6));
      if (v.exit_code == 6) {
        ++verify_busy_while_stopped;
        CHECK(v.out.find("in progress (pid " + std::to_string(first.pid()) + ")") !=
              std::string::npos);
      }
      auto status =
          hotfix::test::json_data(hotfix::test::run(with_root({"status", "--json"}, root)).out);
      CHECK(status["transaction_in_progress"] == !journal_state(root).empty());
      CHECK(status["interrupted_transaction"] == false);
    }
    // Without --no-wait the second writer waits for the first.
    Child second(with_root(p.second, root));
    bool was_stopped = !first.exited();
    if (was_stopped) {
      readers.wait_rounds(2);  // readers work while the writer holds the lock mid-change
      CHECK_FALSE(second.exited());
    }
    first.signal(SIGCONT);
    std::optional<RunResult> r1 = first.wait_for(std::chrono::seconds(120));
    REQUIRE(r1);
    INFO(r1->out << r1->err);
    REQUIRE(r1->exit_code == 0);
    std::optional<RunResult> r2 = second.wait_for(std::chrono::seconds(120));
    REQUIRE(r2);
    INFO(r2->out << r2->err);
    CHECK(r2->exit_code == p.second_exit);
    CHECK((r2->out + r2->err).find(p.second_says) != std::string::npos);
    if (was_stopped) ++waited;
    std::set<std::string> in_db;
    std::string problems = hotfix::test::state_problems(root, &in_db);
    INFO(problems);
    CHECK(problems.empty());
    CHECK(in_db == LayeredSample::installed_in(p.end));
    CHECK(hotfix::test::run(with_root({"verify"}, root)).exit_code == 0);
  }
  readers.wait_rounds(1);
  readers.stop();
  std::printf(
      "concurrency test: %d writers stopped (%d inside their transaction), %d refused as busy, %d "
      "waited, verify busy %d times while one was stopped; readers: %ld rounds (%ld with no commit "
      "during them), verify busy %ld times, a "
      "transaction in progress seen by status %ld times\n",
      stops, stopped_in_transaction, busy, waited, verify_busy_while_stopped, readers.rounds(),
      readers.stable_rounds(), readers.verify_busy(), readers.saw_in_progress());
  std::fflush(stdout);
  std::string problems = readers.problems();
  INFO(problems);
  CHECK(problems.empty());
  CHECK(busy > 0);
  CHECK(waited > 0);
  CHECK(readers.rounds() > 0);

  // Nothing corrupted: the original tree (less the empty directories uninstall leaves).
  auto now = hotfix::test::snapshot_tree(root, kState);
  for (auto it = now.begin(); it != now.end();) {
    bool extra_dir = !pristine.count(it->first) && it->second.rfind("dir ", 0) == 0 &&
                     fs::is_empty(root + "/" + it->first);
    it = extra_dir ? now.erase(it) : std::next(it);
  }
  INFO(hotfix::test::describe_difference(pristine, now));
  CHECK(now == pristine);
}

TEST_CASE("verify reports files a pending transaction changes as changing (busy), not as damage") {
  hotfix::test::BundleFactory factory;
  TempDir tmp;
  const std::string root = (tmp / "root").string();
  hotfix::test::make_linux_root(root);
  hotfix::test::write_tree(
      root, {{"srv/a.conf", "old a\n", 1600000020, {}}, {"srv/b.conf", "old b\n", 1600000020, {}}});
  std::string bundle = factory.build("KB300002", {{"srv/a.conf", "new a\n", 1700000040, {}},
                                                  {"srv/b.conf", "new b\n", 1700000040, {}}});
  auto installer = [&](std::vector<std::string> args) {
    return hotfix::test::run(with_root(std::move(args), root));
  };
  REQUIRE(installer({"apply", bundle, "--trust", factory.pub()}).exit_code == 0);
  // As a transaction that is changing a.conf would leave it: a journal naming it, a.conf back
  // to its old content.
  hotfix::Journal journal;
  journal.txid = "20260101T000000Z-00000000";
  journal.action = "uninstall";
  journal.hotfix_id = "KB300002";
  journal.state = hotfix::Journal::State::kPrepared;
  journal.ops.push_back({hotfix::JournalOp::Kind::kPut,
                         "srv/a.conf",
                         hotfix::stage_name("srv/a.conf", journal.txid),
                         {},
                         false});
  hotfix::test::write_file(root + "/" + kState + "/journal.json", hotfix::journal_to_json(journal));
  hotfix::test::write_file(root + "/srv/a.conf", "old a\n");

  RunResult v = installer({"verify"});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 6);
  CHECK(v.out.find("changing  srv/a.conf  (KB300002: the uninstall of KB300002 is changing it)") !=
        std::string::npos);
  CHECK(v.out.find("2 files checked, 0 differ; 1 are being changed by the uninstall of KB300002, "
                   "interrupted: run `hotfix-installer recover`") != std::string::npos);
  auto status = hotfix::test::json_data(installer({"status", "--json"}).out);
  CHECK(status["interrupted_transaction"] == true);
  CHECK(status["transaction_in_progress"] == false);

  // A difference the transaction does not explain is still damage.
  hotfix::test::write_file(root + "/srv/b.conf", "edited\n");
  v = installer({"verify", "--json"});
  CHECK(v.exit_code == 4);
  auto doc = hotfix::test::json_data(v.out);
  CHECK(doc["failed"] == 1);
  CHECK(doc["changing"] == 1);

  // Without the journal, a.conf is a plain difference again.
  fs::remove(root + "/" + kState + "/journal.json");
  v = installer({"verify", "--json"});
  CHECK(v.exit_code == 4);
  CHECK(hotfix::test::json_data(v.out)["failed"] == 2);
}
