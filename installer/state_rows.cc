#include "installer/state_rows.h"
#include "installer/boot_record.h"

#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>

#include "installer/state_checks.h"
#include "manifests/destination.h"
#include "manifests/errors.h"
#include "manifests/json_context.h"

namespace hotfix::state_rows {

namespace {

// Decoding what is stored: anything unexpected means the file was not written by this
// program (or was edited by hand).
class RowReader {
 public:
  // `row` names the row in errors; only called when there is one (a verify reads every file
  // row, and spelling each name out up front cost more than decoding the row).
  RowReader(const sqlite::Statement& statement, const std::string& path,
            std::function<std::string()> row)
      : statement_(statement), path_(path), row_(std::move(row)) {}

  [[noreturn]] void bad(std::string_view column, const std::string& why) const {
    throw Error(ErrorKind::kStateDamaged, path_,
                "state damaged: " + row_() + ": column " + std::string(column) + ": " + why +
                    " (the database was not written by this installer, or was edited)");
  }

  // Each column holds the type this installer writes there, or the row is not ours: SQLite
  // would otherwise read 'top' as the number 0 and 1.5 as 1.
  std::string text(int index, std::string_view column) const {
    expect(index, column, SQLITE_TEXT, "text");
    return statement_.text(index);
  }
  std::optional<std::string> optional_text(int index, std::string_view column) const {
    if (statement_.is_null(index)) return std::nullopt;
    return text(index, column);
  }
  std::int64_t integer(int index, std::string_view column) const {
    expect(index, column, SQLITE_INTEGER, "an integer");
    return statement_.integer(index);
  }
  std::optional<std::int64_t> optional_integer(int index, std::string_view column) const {
    if (statement_.is_null(index)) return std::nullopt;
    return integer(index, column);
  }
  // `shown` is what the column holds, when `id` is only part of it.
  void check_id(std::string_view column, std::string_view id, std::string_view shown = {}) const {
    if (!is_valid_id(id)) {
      bad(column, quote(std::string(shown.empty() ? id : shown)) + " is not a hotfix id");
    }
  }
  std::string id(int index, std::string_view column) const {
    std::string value = text(index, column);
    check_id(column, value);
    return value;
  }
  std::uint64_t unsigned_integer(int index, std::string_view column) const {
    std::int64_t value = integer(index, column);
    if (value < 0) bad(column, std::to_string(value) + " is negative");
    return static_cast<std::uint64_t>(value);
  }
  std::vector<std::string> string_array(int index, std::string_view column) const {
    std::string text = this->text(index, column);
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.is_array()) bad(column, quote(text) + " is not a JSON array");
    std::vector<std::string> items;
    for (const auto& item : json) {
      if (!item.is_string()) bad(column, quote(text) + " holds something other than strings");
      items.push_back(item.get<std::string>());
    }
    return items;
  }
  std::vector<std::string> id_array(int index, std::string_view column) const {
    std::vector<std::string> ids = string_array(index, column);
    for (const std::string& id : ids) check_id(column, id);
    return ids;
  }
  Arch arch(int index, std::string_view column) const {
    std::string token = text(index, column);
    auto arch = parse_arch(token);
    if (!arch) bad(column, quote(token) + " is not an architecture");
    return *arch;
  }
  RestartRequirement restart(int index, std::string_view column) const {
    std::string token = text(index, column);
    for (auto r :
         {RestartRequirement::kNone, RestartRequirement::kServices, RestartRequirement::kReboot}) {
      if (restart_token(r) == token) return r;
    }
    bad(column, quote(token) + " is not a restart requirement");
  }

 private:
  void expect(int index, std::string_view column, int type, std::string_view what) const {
    int found = statement_.type(index);
    if (found == type) return;
    static constexpr std::string_view kNames[] = {"",     "an integer", "a real number",
                                                  "text", "a blob",     "NULL"};
    std::string_view name = found >= 1 && found <= 5 ? kNames[found] : "a value";
    bad(column, std::string(name) + " where " + std::string(what) + " is expected");
  }

  const sqlite::Statement& statement_;
  const std::string& path_;
  std::function<std::string()> row_;
};

}  // namespace

std::int64_t to_db_integer(std::uint64_t value, const std::string& path, const std::string& what) {
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    throw Error(ErrorKind::kBadInput, path,
                what + " " + std::to_string(value) + " is too large to record");
  }
  return static_cast<std::int64_t>(value);
}

std::string to_json_array(const std::vector<std::string>& items, const std::string& path,
                          const std::string& what) {
  try {
    return nlohmann::json(items).dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorKind::kInternal, path, what + " cannot be recorded: " + e.what());
  }
}

// Reads the kFileColumns starting at column `first`.
InstalledFile read_file(const sqlite::Statement& s, int first, const std::string& path,
                        const std::string& hotfix_id) {
  InstalledFile f;
  RowReader row(s, path, [&] {
    return "files row (hotfix " + quote(hotfix_id) + ", path " + quote(f.path) + ")";
  });
  row.check_id("hotfix_id", hotfix_id);
  f.path = row.text(first, "path");
  // The database is input: a path it names is held to the manifest's rules before use.
  if (auto problem = file_path_problem(f.path)) row.bad("path", quote(f.path) + " " + *problem);
  f.manifest_path = row.text(first + 1, "manifest_path");
  std::string action = row.text(first + 2, "action");
  auto parsed_action = parse_file_action(action);
  if (!parsed_action) row.bad("action", quote(action) + " is not a file action");
  f.action = *parsed_action;
  if (auto version = row.optional_text(first + 3, "version")) {
    f.version = Version::parse(*version);
    if (!f.version) row.bad("version", quote(*version) + " is not a four-part file version");
  }
  f.size = row.unsigned_integer(first + 4, "size");
  std::string hex = row.text(first + 5, "sha256");
  auto digest = parse_sha256_hex(hex);
  if (!digest) row.bad("sha256", quote(hex) + " is not a SHA-256 in hex");
  f.sha256 = *digest;
  f.mtime = row.integer(first + 6, "mtime");
  std::uint64_t mode = row.unsigned_integer(first + 7, "mode");
  if (mode > 07777) row.bad("mode", std::to_string(mode) + " is not a file mode");
  f.mode = static_cast<std::uint32_t>(mode);
  f.backup = row.optional_text(first + 8, "backup");
  if (f.backup && !is_backup_name(*f.backup)) {
    row.bad("backup", quote(*f.backup) + " is not a backup's name in the state directory");
  }
  f.layer = row.integer(first + 9, "layer");
  std::string kind = row.text(first + 10, "kind");
  if (kind == file_kind_token(FileKind::kConfig)) {
    f.kind = FileKind::kConfig;
  } else if (kind != file_kind_token(FileKind::kBinary)) {
    row.bad("kind", quote(kind) + " is not a file kind (binary or config)");
  }
  return f;
}

// Binds an InstalledFile to parameters first..first+10 in kFileColumns order.
void bind_file(sqlite::Statement& s, int first, const InstalledFile& f, const std::string& path) {
  s.bind(first, f.path)
      .bind(first + 1, f.manifest_path)
      .bind(first + 2, file_action_token(f.action))
      .bind(first + 3, f.version ? std::optional<std::string>(f.version->to_string())
                                 : std::optional<std::string>())
      .bind(first + 4, to_db_integer(f.size, path, "size of " + quote(f.path)))
      .bind(first + 5, to_hex(f.sha256))
      .bind(first + 6, f.mtime)
      .bind(first + 7, std::int64_t{f.mode})
      .bind(first + 8, f.backup)
      .bind(first + 9, f.layer)
      .bind(first + 10, file_kind_token(f.kind));
}

InstalledHotfix read_hotfix(const sqlite::Statement& s, const std::string& path) {
  InstalledHotfix h;
  RowReader row(s, path, [&] { return "hotfixes row " + quote(h.id); });
  h.id = row.text(0, "id");  // named in the row's errors, the id's own included
  row.check_id("id", h.id);
  h.revision = row.unsigned_integer(1, "revision");
  if (h.revision == 0) row.bad("revision", "0 is not a revision (they count from 1)");
  h.title = row.text(2, "title");
  h.arch = row.arch(3, "architecture");
  h.language = row.text(4, "language");
  h.restart = row.restart(5, "restart");
  h.installed_at = row.integer(6, "installed_at");
  h.key_id = row.text(7, "key_id");
  h.manifest_json = row.text(8, "manifest_json");
  h.supersedes = row.id_array(9, "supersedes_json");
  h.requires_hotfixes = row.id_array(10, "requires_json");
  return h;
}

HistoryEntry read_history(const sqlite::Statement& s, const std::string& path) {
  HistoryEntry e;
  e.seq = s.integer(0);  // the rowid: always an integer
  RowReader row(s, path, [&] { return "history row " + std::to_string(e.seq); });
  e.at = row.integer(1, "at");
  e.action = row.text(2, "action");
  // A repository's rows (sync, source add, source remove) are about no one hotfix.
  bool repository = e.action == "sync" || e.action == "source add" || e.action == "source remove";
  e.hotfix_id = repository && row.text(3, "hotfix_id").empty() ? "" : row.id(3, "hotfix_id");
  e.revision = row.unsigned_integer(4, "revision");
  e.outcome = row.text(5, "outcome");
  e.detail = row.text(6, "detail");
  e.txid = row.optional_text(7, "txid").value_or("");
  return e;
}

RestartState read_restart(const sqlite::Statement& s, const std::string& path) {
  RestartState r;
  RowReader row(s, path, [] { return std::string("restart row"); });
  std::int64_t required = row.integer(0, "required");
  if (required != 0 && required != 1)
    row.bad("required", std::to_string(required) + " is not 0 or 1");
  r.required = required == 1;
  r.kind = row.restart(1, "kind");
  r.hotfixes = row.string_array(2, "hotfixes_json");
  for (const std::string& entry : r.hotfixes) {  // an id, or "ID (uninstalled)"
    constexpr std::string_view kUninstalled = " (uninstalled)";
    std::string_view id = entry;
    if (id.ends_with(kUninstalled)) id.remove_suffix(kUninstalled.size());
    row.check_id("hotfixes_json", id, entry);
  }
  r.policy = row.text(3, "policy");
  r.scheduled_at = row.optional_integer(4, "scheduled_at");
  r.mechanism = row.text(5, "mechanism");
  r.since = row.optional_integer(6, "since");
  r.boot = row.text(7, "boot");
  if (!r.boot.empty() && !is_boot_record(r.boot)) {
    row.bad("boot", quote(r.boot) + " is not a boot this installer records");
  }
  return r;
}

void check_dir(const std::string& dir, const std::string& path, const std::string& hotfix_id) {
  if (auto problem = file_path_problem(dir)) {
    throw Error(ErrorKind::kStateDamaged, path,
                "state damaged: dirs row (hotfix " + quote(hotfix_id) + "): " + quote(dir) + " " +
                    *problem + " (the database was not written by this installer, or was edited)");
  }
}

}  // namespace hotfix::state_rows
