// A corpus of hostile roots (docs/hostile-input.md, "Hostile roots"): what someone who may
// write the target root, but holds no key, can plant there against the installer: its journal
// and database edited, its own places swapped for links or FIFOs, the target's facts and the
// trust store tampered with, names that Windows cannot hold. Each case is planted on its own
// root, on which KB500001 is installed, with a sentinel tree beside it; each command of the
// case must end, within a time bound, with one line naming what, where and why, and its
// documented exit code, leaving the root and the sentinel exactly as they were.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace hotfix::test {

// Where a case plants its attack, and the means to plant it.
struct RootSite {
  std::string root;     // the target root, absolute
  std::string outside;  // the sentinel tree beside it, absolute
  std::string state;    // root + "/var/lib/hotfix"

  void write(const std::string& rel, const std::string& content) const;  // relative to root
  void fifo(const std::string& rel) const;  // replaces whatever is there with a FIFO
  void link(const std::string& rel, const std::string& target) const;  // likewise, a link
  void move_aside(const std::string& rel) const;                       // rel -> rel.moved
  void chmod(const std::string& rel, unsigned mode) const;
  void chown(const std::string& rel, unsigned uid) const;
  void sql(const std::string& statement) const;  // on the state database, with sqlite3
  void windows() const;  // makes the root a Windows-family one (etc/hotfix/system.json)
};

struct HostileRoot {
  std::string name;  // short and unique: "journal-path-dotdot"
  std::string what;  // one line for people: what is planted
  std::function<void(const RootSite&)> plant;
  // Each run with "--root ROOT" appended; each must give exit_code and message.
  std::vector<std::vector<std::string>> commands;
  int exit_code = 0;
  std::string message;  // a substring of the one line on standard error
  // A refusal (exit 5) is recorded in the history: the database changes by that row only.
  bool records_refusal = false;
};

struct HostileRootCorpus {
  std::string trusted_key;  // the public key of every bundle below
  std::string installed;    // KB500001: app/a.conf, app/lib/b.dll; applied to every root
  std::vector<HostileRoot> cases;
};

// The root every case starts from, before KB500001 is applied: Linux x64, with app/a.conf and
// app/lib/b.dll.
void write_attack_root(const std::string& root);
// The tree beside it that no command may touch.
void write_sentinel(const std::string& outside);

// Builds the bundles the cases use (under a directory of its own) and the cases.
HostileRootCorpus build_hostile_root_corpus();

}  // namespace hotfix::test
