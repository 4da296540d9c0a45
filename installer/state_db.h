// The installed-state database: an SQLite file (<root>/var/lib/hotfix/state.db) holding the
// installed hotfixes, the files each put in place and the layering over shared paths, the
// history, and the pending restart. Schema: docs/state-database.md.
//
// Readers never block writers and writers never block readers (write-ahead log); each read
// call sees one consistent snapshot, each write call is one all-or-nothing transaction made
// durable before it returns. Failures throw hotfix::Error naming the database file:
// kSystem (I/O error, disk full, permission denied), kBusy (another writer held the database
// longer than the busy timeout), kBadInput (not a hotfix state database, a damaged one, or
// one with a schema version this program does not know), kInternal (misuse).
//
// One StateDb is used by one thread at a time; open one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "installer/installed_state.h"
#include "installer/state_schema.h"
#include "manifests/file_descriptor.h"

namespace hotfix {

inline constexpr std::chrono::milliseconds kStateDbBusyTimeout{10'000};

// A record of one hotfix's file over a path: which hotfix, and what it did there.
using FileLayer = std::pair<std::string /*hotfix id*/, InstalledFile>;
// A directory a hotfix is answerable for: which hotfix, and the directory (relative to the root).
using DirOwner = std::pair<std::string /*hotfix id*/, std::string /*directory*/>;

// One role's metadata of a repository source as the installer last trusted it.
struct RepositoryVersion {
  std::string role;  // root, timestamp, snapshot, targets
  std::uint64_t version = 0;
  std::int64_t expires = 0;  // UTC seconds
  std::string sha256;        // of the trusted file
  std::int64_t updated_at = 0;
  friend bool operator==(const RepositoryVersion&, const RepositoryVersion&) = default;
};

class StateDb {
 public:
  enum class Mode { kReadOnly, kReadWrite };

  // kReadWrite creates the file and its schema when missing (the directory must exist), and
  // migrates a database of an older schema version in place.
  // kReadOnly never creates the database: a missing file is an empty view, so that `list`
  // works on a fresh root. It also reads where it may not write the database's directory
  // (an unprivileged user, a read-only mount).
  //
  // The file `name` in the directory `dir` (opened from the root and checked by the caller:
  // installer/state_store.h), named `shown` in messages.
  // `on_empty` runs when the file has no schema yet (new, or created by a writer that stopped
  // before giving it one), before a writer creates it or a reader takes it for "nothing
  // installed": the caller may know that it cannot be empty, and throw.
  static StateDb open(FileDescriptor dir, std::string_view name, std::string shown, Mode mode,
                      std::chrono::milliseconds busy_timeout = kStateDbBusyTimeout,
                      const std::function<void()>& on_empty = {});
  // The same by path, for tools and tests: the directory is opened by its name.
  static StateDb open(const std::string& path, Mode mode,
                      std::chrono::milliseconds busy_timeout = kStateDbBusyTimeout);
  // A read-only view of a database that does not exist (its directory does not either).
  static StateDb none(std::string shown);

  StateDb(StateDb&&) noexcept;
  StateDb& operator=(StateDb&&) noexcept;
  ~StateDb();

  const std::string& path() const;
  Mode mode() const;
  bool exists() const;  // false for a read-only view of a missing file

  // Ordered by installed_at, then id. Files ordered by path. Without `with_manifest`,
  // manifest_json is left empty: it can be megabytes, and only few callers need it.
  std::vector<InstalledHotfix> hotfixes(bool with_files, bool with_manifest = true) const;
  // Ids compare ignoring ASCII case: the record keeps the spelling it was installed under.
  std::optional<InstalledHotfix> hotfix(const std::string& id) const;  // with its files
  bool has_hotfix(const std::string& id) const;
  // Every file record of every hotfix, from one snapshot, in the order of hotfixes(true):
  // `each` is called once per record, with its hotfix's id, while the database is read, so
  // that a caller can start on the first records before the last are read.
  void each_file(
      const std::function<void(const std::string& hotfix_id, InstalledFile&& file)>& each) const;
  // Every record over one path (compared ASCII-case-insensitively when `fold_case`, as on
  // Windows-family targets), ordered by layer ascending.
  std::vector<FileLayer> layers(const std::string& path, bool fold_case) const;
  std::int64_t next_layer() const;  // max(layer) + 1; 1 when no file is recorded
  // How many file records there are (of `hotfix_id` only, when given), for progress.
  std::uint64_t file_count(const std::optional<std::string>& hotfix_id = std::nullopt) const;
  bool transaction_committed(const std::string& txid) const;  // a history row has this txid
  std::vector<HistoryEntry> history() const;                  // ascending seq
  RestartState restart() const;  // a default RestartState when none was ever recorded

  // Writes, each one transaction. The history entry's seq is ignored; the assigned one is
  // returned.
  //
  // Records an applied hotfix with its files and the directories it created. An existing
  // hotfix of the same id (an upgrade to a higher revision) is replaced with all its file and
  // directory records. `updated_layers` rewrites file records of other hotfixes (an upgrade
  // that left its place under them handed them its backup); each must exist.
  std::int64_t record_apply(const InstalledHotfix& hotfix, const HistoryEntry& entry,
                            const RestartState& restart,
                            const std::vector<FileLayer>& updated_layers = {});
  // Removes a hotfix with its file and directory records, rewrites the given file records of
  // other hotfixes (their backup or layer changed because a layer below them went away; each
  // must exist, matched by hotfix id and path), and makes other hotfixes answerable for the
  // directories in `handed_on_dirs` (ones this hotfix created that still hold their files).
  std::int64_t record_uninstall(const std::string& id, const std::vector<FileLayer>& updated_layers,
                                const HistoryEntry& entry, const RestartState& restart,
                                const std::vector<DirOwner>& handed_on_dirs = {});
  std::int64_t add_history(const HistoryEntry& entry);  // refusals, recoveries
  // The versions trusted for `source`, ordered by role; empty for a source never synced (or
  // a read-only view of a database older than schema version 4).
  std::vector<RepositoryVersion> repository_versions(const std::string& source) const;
  // Records what a sync trusted, with its history row, in one transaction. A version below
  // the one recorded throws Error(kMetadata) and changes nothing: versions never go down.
  // The roles in `reset_roles` are forgotten first (their keys changed: no floor any more).
  std::int64_t record_sync(const std::string& source,
                           const std::vector<RepositoryVersion>& versions,
                           const HistoryEntry& entry,
                           const std::vector<std::string>& reset_roles = {});
  // Forgets a removed source's versions, with its history row.
  std::int64_t forget_source(const std::string& source, const HistoryEntry& entry);
  void set_restart(const RestartState& restart);

  struct Impl;

 private:
  explicit StateDb(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hotfix
