// What a fault-injection test compares after recovery: a root's tree, byte for byte with mode
// and mtime, including the backups under the state directory, and what the state database
// says is installed, with the transaction ids a step makes renamed NEW so that runs compare.
// Also: cheap fresh copies of a root, and the names only an unfinished transaction leaves.
#pragma once

#include <map>
#include <set>
#include <string>

namespace hotfix::test {

inline const std::string kStateDirectory = "var/lib/hotfix";

// Made durable by SQLite (or locked) and never read back for content: outside a FaultDisk's
// model, and copied rather than linked by copy_root_linked.
const std::set<std::string>& untracked_state_files();

// The transaction ids ("20240101T000000Z-0123abcd") that occur in `text`.
std::set<std::string> txids_in(const std::string& text);

// The hotfixes (by id), their files, backups, layers and created directories, and the
// restart, one line each.
std::string database_summary(const std::string& root);

struct RootImage {
  std::map<std::string, std::string> tree;  // without the database files and the skeleton
  std::string database;
  bool operator==(const RootImage& o) const { return tree == o.tree && database == o.database; }
};

// Transaction ids not in `known` are written NEW.
RootImage root_image(const std::string& root, const std::set<std::string>& known);
// The ids `root`'s tree and database hold: those earlier steps made.
std::set<std::string> known_txids(const std::string& root);
std::string describe_difference(const RootImage& expected, const RootImage& actual);

// Journals, staged files and restore copies anywhere under `root`, one a line.
std::string transaction_leftovers_under(const std::string& root);

// A fresh copy of `from` at `to` (which must not exist), cheaply: directories made with their
// modes, files hard-linked, the database and the lock copied. Safe because the installer never
// writes into a file that exists (it writes new files and renames them).
void copy_root_linked(const std::string& from, const std::string& to);

}  // namespace hotfix::test
