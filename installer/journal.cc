#include "installer/journal.h"

#include <nlohmann/json.hpp>

#include "installer/atomic_write.h"
#include "installer/state_checks.h"
#include "manifests/errors.h"

namespace hotfix {

namespace {
using json = nlohmann::ordered_json;
constexpr const char* kFile = "/journal.json";
}  // namespace

std::string stage_name(const std::string& rel, const std::string& txid) {
  auto slash = rel.find_last_of('/');
  std::string dir = slash == std::string::npos ? "" : rel.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  return dir + "." + name + ".hotfix-" + txid;
}

std::string_view journal_state_token(Journal::State state) {
  switch (state) {
    case Journal::State::kPreparing:
      return "preparing";
    case Journal::State::kPrepared:
      return "prepared";
    case Journal::State::kSwapped:
      return "swapped";
  }
  return "preparing";
}

std::string journal_to_json(const Journal& j) {
  json ops = json::array();
  for (const JournalOp& op : j.ops) {
    json o;
    o["kind"] = op.kind == JournalOp::Kind::kPut ? "put" : "remove";
    o["path"] = op.path;
    if (!op.stage.empty()) o["stage"] = op.stage;
    if (op.backup) o["backup"] = *op.backup;
    o["keep_backup"] = op.keep_backup;
    ops.push_back(o);
  }
  json doc;
  doc["txid"] = j.txid;
  doc["action"] = j.action;
  doc["hotfix"] = j.hotfix_id;
  doc["state"] = std::string(journal_state_token(j.state));
  doc["ops"] = ops;
  doc["created_dirs"] = j.created_dirs;
  doc["discard_after_commit"] = j.discard_after_commit;
  doc["remove_dirs_after_commit"] = j.remove_dirs_after_commit;
  return doc.dump(1) + "\n";
}

Journal journal_from_json(const std::string& text, const std::string& source) {
  try {
    json doc = json::parse(text);
    Journal j;
    j.txid = doc.at("txid").get<std::string>();
    j.action = doc.at("action").get<std::string>();
    j.hotfix_id = doc.at("hotfix").get<std::string>();
    std::string state = doc.at("state").get<std::string>();
    if (state == "preparing") {
      j.state = Journal::State::kPreparing;
    } else if (state == "prepared") {
      j.state = Journal::State::kPrepared;
    } else if (state == "swapped") {
      j.state = Journal::State::kSwapped;
    } else {
      state_damaged(source, "unknown journal state '" + state + "'");
    }
    for (const json& o : doc.at("ops")) {
      JournalOp op;
      std::string kind = o.at("kind").get<std::string>();
      if (kind != "put" && kind != "remove")
        state_damaged(source, "unknown operation '" + kind + "'");
      op.kind = kind == "remove" ? JournalOp::Kind::kRemove : JournalOp::Kind::kPut;
      op.path = o.at("path").get<std::string>();
      if (o.contains("stage")) op.stage = o.at("stage").get<std::string>();
      if (o.contains("backup")) op.backup = o.at("backup").get<std::string>();
      op.keep_backup = o.at("keep_backup").get<bool>();
      j.ops.push_back(op);
    }
    j.created_dirs = doc.at("created_dirs").get<std::vector<std::string>>();
    j.discard_after_commit = doc.at("discard_after_commit").get<std::vector<std::string>>();
    // Absent in journals written before directories were removed on uninstall.
    if (doc.contains("remove_dirs_after_commit")) {
      j.remove_dirs_after_commit =
          doc.at("remove_dirs_after_commit").get<std::vector<std::string>>();
    }
    return j;
  } catch (const json::exception& e) {
    state_damaged(source, std::string("the journal is unreadable (") + e.what() + ")");
  }
}

void write_journal(Disk& disk, const std::string& state_dir, const Journal& journal) {
  write_atomically(disk, state_dir + kFile, journal_to_json(journal), 0600);
}

std::optional<Journal> read_journal(Disk& disk, const std::string& state_dir) {
  std::string path = state_dir + kFile;
  const std::string shown = disk.root().show(path);
  // A journal never made durable: nothing was done under it.
  if (std::optional<struct stat> tmp = disk.status(path + ".tmp")) {
    if (!S_ISREG(tmp->st_mode)) state_damaged(shown + ".tmp", "is not a regular file");
    disk.remove(path + ".tmp");
  }
  std::optional<struct stat> st = disk.status(path);
  if (!st) return std::nullopt;
  if (!S_ISREG(st->st_mode)) state_damaged(shown, "the journal is not a regular file");
  if (static_cast<std::uint64_t>(st->st_size) > kMaxJournalBytes) {
    state_damaged(shown, "the journal is " + std::to_string(st->st_size) +
                             " bytes, more than any this installer writes");
  }
  Journal journal = journal_from_json(disk.read_file(path, kMaxJournalBytes), shown);
  check_journal(journal, state_dir, shown);
  return journal;
}

void remove_journal(Disk& disk, const std::string& state_dir) {
  disk.remove(state_dir + kFile);
  disk.sync_dir(state_dir);
}

}  // namespace hotfix
