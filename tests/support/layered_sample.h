// Two hotfixes layered over a large tree (a few hundred files, several MB), and the four
// states a root goes through with them: the kill and concurrency tests drive a root between
// these states and check it is always wholly in one of them.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/bundle_factory.h"

namespace hotfix::test {

struct LayeredSample {
  // KB200001 replaces most files of the tree and installs others in new directories;
  // KB200002 replaces some of those again and installs a few more.
  static constexpr const char* kFirst = "KB200001";
  static constexpr const char* kSecond = "KB200002";
  enum State { kOriginal, kFirstOnly, kBoth, kSecondOnly };

  LayeredSample();
  void make_root(const std::string& root) const;  // the original tree
  static std::set<std::string> installed_in(State state);

  BundleFactory factory;
  std::vector<TreeFile> original;
  std::uint64_t first_bytes = 0;  // payload bytes of the first hotfix
  std::size_t first_files = 0;
  std::string first, second;  // the bundles
};

// One command that takes a root from one state to another.
struct Step {
  std::string name;
  LayeredSample::State from, to;
  std::vector<std::string> args;  // without --root
};
std::vector<Step> layered_steps(const LayeredSample& sample);

// Problems with the installer's own files under `root` (one line each, empty when none): a
// staged or temporary file anywhere, a journal, anything unexpected in the state directory,
// a backup the database does not name or one it names that is missing, an empty backup
// directory. `installed` receives the ids the database holds.
std::string state_problems(const std::string& root, std::set<std::string>* installed = nullptr);

}  // namespace hotfix::test
