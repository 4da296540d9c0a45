// Every bundle of the hostile corpus (tests/support/hostile_bundles.h, docs/hostile-input.md)
// against the real hotfix-installer on a root with a hotfix installed: the documented exit
// code, one line on standard error saying what, where and why, and the root, the state
// directory and the directory beside the root exactly as they were, with nothing staged left.
// hotfix-packager verify refuses each bundle the same way where the bundle itself is at fault.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "tests/support/hostile_bundles.h"
#include "tests/support/root_state.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_snapshot.h"

using hotfix::test::HostileCase;
using hotfix::test::HostileCorpus;
using hotfix::test::run;
using hotfix::test::RunResult;
using hotfix::test::TempDir;
namespace fs = std::filesystem;
using Snapshot = std::map<std::string, std::string>;

namespace {

constexpr std::size_t kMinimumCorpus = 30;
// Far below what any bomb in the corpus decompresses to (4 GiB); far above what reading a
// bundle needs, even under AddressSanitizer.
constexpr long kMaxChildMemoryKiB = 1024 * 1024;

struct Fixture {
  TempDir dir;
  HostileCorpus corpus;
  std::string root_template = (dir / "template/root").string();
  Fixture() {
    corpus = hotfix::test::build_hostile_corpus((dir / "corpus").string());
    hotfix::test::write_hostile_root(root_template);
    RunResult r = apply(root_template, corpus.installed_bundle);
    if (r.exit_code != 0) throw std::runtime_error("cannot install KB200000: " + r.err);
  }
  RunResult apply(const std::string& root, const std::string& bundle) const {
    return run({hotfix::test::installer_path(), "apply", bundle, "--root", root, "--trust",
                corpus.trusted_key, "--no-wait"});
  }
  // A fresh copy of the root, and a directory "outside" beside it that no bundle may touch.
  std::string fresh_root(const TempDir& into) const {
    fs::copy(root_template, into / "root",
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    hotfix::test::write_file(into / "outside/victim.txt", "must stay as it is\n");
    return (into / "root").string();
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// True when every check passed.
bool check_case(const HostileCase& c) {
  const Fixture& f = fixture();
  TempDir tmp;
  std::string root = f.fresh_root(tmp);
  if (c.prepare_root) c.prepare_root(root);
  std::string outside = (tmp / "outside").string();
  hotfix::test::RootState before = hotfix::test::capture_root_state(root);
  Snapshot outside_before = hotfix::test::snapshot_tree(outside);

  RunResult r = f.apply(root, c.bundle);
  INFO("case " << c.name << " (" << c.what << ")\nstdout: " << r.out << "\nstderr: " << r.err);
  bool ok = true;
  auto check = [&](bool condition) {
    ok = ok && condition;
    return condition;
  };
  CHECK(check(r.exit_code == c.exit_code));
  CHECK(check(count_lines(r.err) == 1));
  CHECK(check(r.err.rfind("hotfix-installer: error: ", 0) == 0));
  CHECK(check(r.err.find(c.message) != std::string::npos));
  // Where: the bundle; for a property of the root, the destination it concerns; for free
  // space, the root.
  std::string where = c.prepare_root ? "app/" : c.exit_code == 7 ? root : c.bundle;
  CHECK(check(r.err.find(where) != std::string::npos));
  if (std::getenv("HOTFIX_PRINT_CORPUS")) {
    std::cout << c.name << " (" << r.max_rss_kib << " KiB, " << r.cpu_seconds << " s): " << r.err;
  }
  CHECK(check(r.max_rss_kib < kMaxChildMemoryKiB));

  // Refusals (exit 5, and the free-space check's exit 7) are recorded in the history; other
  // failures leave no trace.
  bool refused = c.exit_code == 5 || r.err.find("not enough free space") != std::string::npos;
  std::string difference = hotfix::test::compare_root_states(
      before, hotfix::test::capture_root_state(root), refused ? 1 : 0);
  INFO(difference);
  CHECK(check(difference.empty()));
  CHECK(check(hotfix::test::snapshot_tree(outside) == outside_before));
  std::vector<std::string> left = hotfix::test::transaction_leftovers(root);
  INFO("left behind: " << (left.empty() ? "nothing" : left.front()));
  CHECK(check(left.empty()));

  if (c.verify_exit_code >= 0) {
    RunResult v =
        run({hotfix::test::packager_path(), "verify", c.bundle, "--trust", f.corpus.trusted_key});
    INFO("hotfix-packager verify: stdout: " << v.out << "\nstderr: " << v.err);
    CHECK(check(v.exit_code == c.verify_exit_code));
    if (c.verify_exit_code != 0) {
      // A report: one line per problem found (two missing payloads are two lines).
      CHECK(check(count_lines(v.err) >= 1));
      CHECK(check(v.err.find(c.verify_message) != std::string::npos));
    }
    CHECK(check(v.max_rss_kib < kMaxChildMemoryKiB));
  }
  return ok;
}

}  // namespace

TEST_CASE("the good bundle the corpus derives from applies cleanly") {
  const Fixture& f = fixture();
  TempDir tmp;
  std::string root = f.fresh_root(tmp);
  RunResult r = f.apply(root, f.corpus.good_bundle);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(hotfix::test::read_file(root + "/app/x.txt") == "new content\n");
  CHECK(fs::file_size(root + "/app/data/new.bin") == 300 << 10);
  CHECK(run({hotfix::test::packager_path(), "verify", f.corpus.good_bundle, "--trust",
             f.corpus.trusted_key})
            .exit_code == 0);
}

TEST_CASE("every hostile bundle is refused with its documented exit code and the root untouched") {
  const Fixture& f = fixture();
  REQUIRE(f.corpus.cases.size() >= kMinimumCorpus);
  std::set<std::string> names;
  std::size_t rejected = 0;
  for (const HostileCase& c : f.corpus.cases) {
    CHECK(names.insert(c.name).second);
    CHECK(c.exit_code != 0);
    if (check_case(c)) ++rejected;
  }
  // HOTFIX_PRINT_CORPUS=1 prints the corpus as the table in docs/hostile-input.md.
  if (std::getenv("HOTFIX_PRINT_CORPUS")) {
    for (const HostileCase& c : f.corpus.cases) {
      std::cout << "| `" << c.name << "` | " << c.what << " | " << c.exit_code << " | `"
                << c.message << "` | "
                << (c.verify_exit_code < 0 ? std::string("-") : std::to_string(c.verify_exit_code))
                << " |\n";
    }
  }
  std::cout << "hostile bundles rejected: " << rejected << " of " << f.corpus.cases.size()
            << std::endl;
}

TEST_CASE("an absolute symbolic link in the root is never followed out of it") {
  const Fixture& f = fixture();
  TempDir tmp;
  std::string root = f.fresh_root(tmp);
  std::string outside = fs::absolute(tmp / "outside").string();
  SECTION("to a directory of the root: written there") {
    fs::create_directories(root + "/srv/data");
    fs::create_symlink("/srv/data", root + "/app/data");
    RunResult r = f.apply(root, f.corpus.good_bundle);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // The link's target is taken relative to the root, as for an offline image mounted there.
    CHECK(fs::file_size(root + "/srv/data/new.bin") == 300 << 10);
  }
  SECTION("to the machine's own directory, which the root does not have: refused") {
    fs::create_symlink(outside, root + "/app/data");
    Snapshot outside_before = hotfix::test::snapshot_tree(outside);
    hotfix::test::RootState before = hotfix::test::capture_root_state(root);
    RunResult r = f.apply(root, f.corpus.good_bundle);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("app/data/new.bin: a symbolic link on the way leads to") != std::string::npos);
    CHECK(r.err.find("no directory is made through a link") != std::string::npos);
    CHECK(hotfix::test::compare_root_states(before, hotfix::test::capture_root_state(root), 0)
              .empty());
    CHECK(hotfix::test::snapshot_tree(outside) == outside_before);
  }
}
