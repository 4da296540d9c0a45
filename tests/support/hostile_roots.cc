#include "tests/support/hostile_roots.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "installer/journal.h"
#include "tests/support/bundle_factory.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace hotfix::test {

namespace fs = std::filesystem;

namespace {

constexpr int kBadInput = 2, kNotApplicable = 5, kStateDamaged = 8;

BundleFactory& factory() {
  static BundleFactory f;
  return f;
}

// A journal as an interrupted apply of KB500002 would leave it, changed by `edit`.
std::string planted_journal(const std::function<void(Journal&)>& edit) {
  Journal j;
  j.txid = "20260101T000000Z-0badf00d";
  j.action = "apply";
  j.hotfix_id = "KB500002";
  j.state = Journal::State::kSwapped;
  j.ops.push_back(
      {JournalOp::Kind::kPut, "app/c.conf", stage_name("app/c.conf", j.txid), std::nullopt, false});
  edit(j);
  return journal_to_json(j);
}

void remove_any(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

struct Bundles {
  std::string pub, installed, second, reboot;
  std::function<std::string(const std::string& name)> windows;  // a bundle naming app/<name>
};

using Commands = std::vector<std::vector<std::string>>;

// The journal: planted field by field, and as something other than a file.
void journal_cases(const Bundles& b, std::vector<HostileRoot>& out) {
  const Commands every = {
      {"apply", b.second, "--trust", b.pub}, {"uninstall", "KB500001"}, {"recover"}};
  struct Field {
    const char* name;
    const char* what;
    std::function<void(Journal&)> edit;
    const char* says;
  };
  const std::vector<Field> fields = {
      {"journal-path-dotdot", "a journal whose path leads out of the root",
       [](Journal& j) { j.ops[0].path = "../outside/victim.txt"; }, "has a \"..\" component"},
      {"journal-path-absolute", "a journal with an absolute path",
       [](Journal& j) { j.ops[0].path = "/etc/passwd"; }, "is absolute"},
      {"journal-stage-outside", "a journal whose staged file is out of the root",
       [](Journal& j) { j.ops[0].stage = "../outside/victim.txt"; },
       "is not the name this transaction stages it under"},
      {"journal-backup-outside", "a journal whose backup is out of the state directory",
       [](Journal& j) { j.ops[0].backup = "../../../../outside/victim.txt"; },
       "is not a backup name of this transaction"},
      {"journal-backup-other", "a journal naming another transaction's backup",
       [](Journal& j) { j.ops[0].backup = "backups/20250101T000000Z-00000001/0"; },
       "is not a backup name of this transaction"},
      {"journal-created-dir-outside", "a journal that created a directory out of the root",
       [](Journal& j) { j.created_dirs = {"../outside/state"}; }, "created directory"},
      {"journal-remove-dir-outside", "a journal that would remove a directory out of the root",
       [](Journal& j) { j.remove_dirs_after_commit = {"../outside/state"}; },
       "directory to remove"},
      {"journal-discard-outside", "a journal that would discard a file out of the state directory",
       [](Journal& j) { j.discard_after_commit = {"../../../../outside/victim.txt"}; },
       "backup to discard"},
      {"journal-path-state-db", "a journal that would replace the installer's database",
       [](Journal& j) { j.ops[0].path = "var/lib/hotfix/state.db"; }, "the installer's own"},
      {"journal-txid-malformed", "a journal with a transaction id that is a path",
       [](Journal& j) { j.txid = "../x"; }, "is malformed"},
  };
  for (const Field& f : fields) {
    std::string text = planted_journal(f.edit);
    out.push_back({f.name, f.what,
                   [text](const RootSite& s) { s.write("var/lib/hotfix/journal.json", text); },
                   every, kStateDamaged, f.says});
  }
  out.push_back({"journal-not-json", "a journal that is not JSON",
                 [](const RootSite& s) { s.write("var/lib/hotfix/journal.json", "{\"txid\": "); },
                 every, kStateDamaged, "journal.json"});
  out.push_back({"journal-fifo",
                 "a FIFO where the journal goes, with no writer",
                 [](const RootSite& s) { s.fifo("var/lib/hotfix/journal.json"); },
                 {{"apply", b.second, "--trust", b.pub}, {"recover"}, {"status"}},
                 kStateDamaged,
                 "journal.json: state damaged: is not a regular file"});
  out.push_back(
      {"journal-link",
       "the journal a link to a file outside the root",
       [](const RootSite& s) { s.link("var/lib/hotfix/journal.json", s.outside + "/victim.txt"); },
       {{"recover"}, {"uninstall", "KB500001"}},
       kStateDamaged,
       "is not a regular file"});
  out.push_back({"journal-huge",
                 "a journal of 2 GiB (sparse)",
                 [](const RootSite& s) {
                   s.write("var/lib/hotfix/journal.json", "");
                   fs::resize_file(s.state + "/journal.json", std::uintmax_t{2} << 30);
                 },
                 {{"recover"}},
                 kStateDamaged,
                 "journal.json"});
}

// The database: rows edited, code planted, the file emptied, removed or replaced.
void database_cases(const Bundles& b, std::vector<HostileRoot>& out) {
  const Commands uninstall = {{"uninstall", "KB500001"}};
  const Commands readers = {{"list"},
                            {"verify"},
                            {"history"},
                            {"uninstall", "KB500001"},
                            {"apply", b.second, "--trust", b.pub}};
  struct Row {
    const char* name;
    const char* what;
    const char* sql;
    Commands commands;
    const char* says;
  };
  const std::vector<Row> rows = {
      {"db-path-dotdot", "a file row whose path leads out of the root",
       "UPDATE files SET path = '../outside/victim.txt' WHERE path = 'app/a.conf'", uninstall,
       "has a \"..\" component"},
      {"db-path-absolute", "a file row with an absolute path",
       "UPDATE files SET path = '/etc/passwd' WHERE path = 'app/a.conf'", uninstall, "is absolute"},
      {"db-backup-outside", "a backup out of the state directory",
       "UPDATE files SET backup = '../../../../outside/victim.txt'", uninstall,
       "not a backup's name"},
      {"db-dir-outside", "a created directory out of the root",
       "INSERT INTO dirs(hotfix_id, path) VALUES ('KB500001', '../outside/state')", uninstall,
       "dirs row"},
      {"db-trigger", "a trigger that would rewrite rows on the installer's next write",
       "CREATE TRIGGER t AFTER INSERT ON history BEGIN UPDATE files SET backup = "
       "'../../x'; END",
       readers, "it holds the trigger \"t\""},
      {"db-view", "a view in the place of a table",
       "DROP TABLE dirs; CREATE VIEW dirs AS SELECT hotfix_id, path FROM files", readers,
       "it holds the view \"dirs\""},
      {"db-type",
       "a layer stored as text, which SQLite would read as 0",
       "UPDATE files SET layer = 'top'",
       {{"verify"}, {"uninstall", "KB500001"}},
       "column layer: text where an integer"},
      {"db-hotfix-id",
       "a hotfix id that is a command line",
       "PRAGMA foreign_keys = OFF; UPDATE hotfixes SET id = 'KB1; reboot'; UPDATE files SET "
       "hotfix_id = 'KB1; reboot'",
       {{"list"}, {"verify"}},
       "is not a hotfix id"},
      {"db-newer-schema", "a database of a schema version this installer does not know",
       "UPDATE meta SET value = '99' WHERE key = 'schema_version'", readers,
       "schema version \"99\""},
  };
  for (const Row& r : rows) {
    std::string statement = r.sql;
    out.push_back({r.name, r.what, [statement](const RootSite& s) { s.sql(statement); }, r.commands,
                   kStateDamaged, r.says});
  }
  const Commands all = {{"list"},
                        {"verify"},
                        {"history"},
                        {"status"},
                        {"recover"},
                        {"uninstall", "KB500001"},
                        {"apply", b.second, "--trust", b.pub},
                        {"apply", b.second, "--trust", b.pub, "--dry-run"}};
  out.push_back({"db-emptied", "the database truncated to nothing while backups are kept",
                 [](const RootSite& s) { fs::resize_file(s.state + "/state.db", 0); }, all,
                 kStateDamaged, "the database is missing or empty, but backups/ holds"});
  out.push_back({"db-removed", "the database removed while backups are kept",
                 [](const RootSite& s) { fs::remove(s.state + "/state.db"); }, all, kStateDamaged,
                 "the database is missing or empty, but backups/ holds"});
  out.push_back({"db-fifo",
                 "a FIFO in the place of the database",
                 [](const RootSite& s) { s.fifo("var/lib/hotfix/state.db"); },
                 {{"list"}, {"status"}, {"apply", b.second, "--trust", b.pub}},
                 kStateDamaged,
                 "state.db"});
  out.push_back({"db-wal-fifo",
                 "a FIFO in the place of the database's write-ahead log",
                 [](const RootSite& s) { s.fifo("var/lib/hotfix/state.db-wal"); },
                 {{"list"}, {"apply", b.second, "--trust", b.pub}},
                 kStateDamaged,
                 "state.db"});
  out.push_back({"db-link",
                 "the database a link to a copy outside the root",
                 [](const RootSite& s) {
                   fs::copy_file(s.state + "/state.db", s.outside + "/state/copy.db");
                   s.link("var/lib/hotfix/state.db", s.outside + "/state/copy.db");
                 },
                 {{"list"}, {"uninstall", "KB500001"}},
                 kStateDamaged,
                 "state.db"});
}

// The installer's own places and the target's facts, swapped for links, FIFOs, or too much.
void own_place_cases(const Bundles& b, std::vector<HostileRoot>& out) {
  const std::vector<std::string> apply2 = {"apply", b.second, "--trust", b.pub};
  out.push_back({"state-dir-link",
                 "the state directory a link out of the root",
                 [](const RootSite& s) {
                   s.move_aside("var/lib/hotfix");
                   s.link("var/lib/hotfix", s.outside + "/state");
                 },
                 {apply2},
                 kBadInput,
                 "is a symbolic link where a directory is needed"});
  out.push_back({"var-link",
                 "var a link out of the root",
                 [](const RootSite& s) {
                   s.move_aside("var");
                   s.link("var", s.outside + "/state");
                 },
                 {apply2},
                 kBadInput,
                 "/var: is a symbolic link where a directory is needed"});
  out.push_back(
      {"lock-link",
       "the lock a link to a file outside, which must not be truncated",
       [](const RootSite& s) { s.link("var/lib/hotfix/lock", s.outside + "/victim.txt"); },
       {apply2, {"uninstall", "KB500001"}},
       kStateDamaged,
       "lock: state damaged: is not a regular file"});
  out.push_back({"lock-fifo",
                 "a FIFO in the place of the lock",
                 [](const RootSite& s) { s.fifo("var/lib/hotfix/lock"); },
                 {apply2, {"recover"}},
                 kStateDamaged,
                 "lock: state damaged: is not a regular file"});
  out.push_back({"run-link",
                 "run a link out of the root, before a hotfix that needs a reboot",
                 [](const RootSite& s) { s.link("run", s.outside + "/state"); },
                 {{"apply", b.reboot, "--trust", b.pub}},
                 kBadInput,
                 "/run: is a symbolic link"});
  out.push_back({"pkgs-fifo",
                 "a FIFO at run/reboot-required.pkgs",
                 [](const RootSite& s) { s.fifo("run/reboot-required.pkgs"); },
                 {{"apply", b.reboot, "--trust", b.pub}},
                 kBadInput,
                 "reboot-required.pkgs"});
  out.push_back({"facts-fifo",
                 "a FIFO at etc/hotfix/system.json",
                 [](const RootSite& s) { s.fifo("etc/hotfix/system.json"); },
                 {apply2, {"apply", b.second, "--trust", b.pub, "--dry-run"}},
                 kBadInput,
                 "system.json"});
  out.push_back({"facts-huge",
                 "a system.json of 2 GiB (sparse)",
                 [](const RootSite& s) {
                   fs::resize_file(s.root + "/etc/hotfix/system.json", std::uintmax_t{2} << 30);
                 },
                 {apply2},
                 kBadInput,
                 "system.json"});
  out.push_back({"facts-link-outside",
                 "system.json a link to a file outside the root",
                 [](const RootSite& s) {
                   s.write("../outside/state/system.json",
                           R"({"family": "linux", "product": "Other", "version": "1.0",
                               "architecture": "x86"})");
                   s.link("etc/hotfix/system.json", "../../../outside/state/system.json");
                 },
                 {apply2},
                 kBadInput,
                 "is a symbolic link that leads to nothing inside the root"});
  out.push_back({"facts-malformed",
                 "a system.json that is not an object",
                 [](const RootSite& s) { s.write("etc/hotfix/system.json", "[1, 2"); },
                 {apply2},
                 kBadInput,
                 "system.json"});
}

// Files and directories on the way to a destination.
void destination_cases(const Bundles& b, std::vector<HostileRoot>& out) {
  const std::vector<std::string> apply2 = {"apply", b.second, "--trust", b.pub};
  out.push_back({"destination-dir-link",
                 "app a link to a directory outside the root",
                 [](const RootSite& s) {
                   s.move_aside("app");
                   s.link("app", s.outside + "/app");
                 },
                 {apply2},
                 kBadInput,
                 "which does not exist in the root; no directory is made"});
  out.push_back({"destination-fifo",
                 "a FIFO where the hotfix installs app/c.conf",
                 [](const RootSite& s) { s.fifo("app/c.conf"); },
                 {apply2},
                 kBadInput,
                 "exists on the target but is not a regular file"});
  out.push_back({"destination-file-link",
                 "app/c.conf a link to a file outside the root",
                 [](const RootSite& s) { s.link("app/c.conf", s.outside + "/victim.txt"); },
                 {apply2},
                 kBadInput,
                 "is a symbolic link on the target"});
  out.push_back({"destination-into-state",
                 "app a link into the installer's state directory",
                 [](const RootSite& s) {
                   s.move_aside("app");
                   s.link("app", "/var/lib/hotfix");
                 },
                 {apply2},
                 kBadInput,
                 "the installer's own var/lib/hotfix"});
  out.push_back({"destination-foreign-link",
                 "app a link owned by another user",
                 [](const RootSite& s) {
                   s.move_aside("app");
                   fs::create_directories(s.root + "/srv/app");
                   s.link("app", "srv/app");
                   s.chown("app", 1234);
                 },
                 {apply2},
                 kBadInput,
                 "belongs to uid 1234"});
  out.push_back({"installed-dir-swapped",
                 "an installed directory swapped for a link out",
                 [](const RootSite& s) {
                   s.move_aside("app/lib");
                   s.link("app/lib", s.outside + "/state");
                 },
                 {{"uninstall", "KB500001"}},
                 kBadInput,
                 "is a symbolic link, and none is followed here"});
}

// The trust store held to sshd's StrictModes, and keys given on the command line.
void trust_cases(const Bundles& b, std::vector<HostileRoot>& out) {
  const std::vector<std::string> apply2 = {"apply", b.second, "--trust", b.pub};
  const std::vector<std::string> apply_store = {"apply", b.second};
  auto store = [pub = b.pub](const RootSite& s) {
    fs::create_directories(s.root + "/etc/hotfix/trusted.d");
    s.chmod("etc/hotfix", 0755);
    s.chmod("etc/hotfix/trusted.d", 0755);
    fs::copy_file(pub, s.root + "/etc/hotfix/trusted.d/release.pub");
    s.chmod("etc/hotfix/trusted.d/release.pub", 0644);
  };
  out.push_back({"trust-dir-writable",
                 "trusted.d writable by everyone",
                 [store](const RootSite& s) {
                   store(s);
                   s.chmod("etc/hotfix/trusted.d", 0777);
                 },
                 {apply2},
                 kBadInput,
                 "trusted.d: is writable by everyone (mode 0777)"});
  out.push_back({"trust-parent-writable",
                 "etc/hotfix writable by its group",
                 [store](const RootSite& s) {
                   store(s);
                   s.chmod("etc/hotfix", 0775);
                 },
                 {apply2},
                 kBadInput,
                 "etc/hotfix: is writable by its group (mode 0775)"});
  out.push_back({"trust-key-foreign",
                 "a trusted key owned by another user",
                 [store](const RootSite& s) {
                   store(s);
                   s.chown("etc/hotfix/trusted.d/release.pub", 1234);
                 },
                 {apply_store},
                 kBadInput,
                 "release.pub: is owned by uid 1234, not by root"});
  out.push_back({"trust-key-writable",
                 "a trusted key writable by its group",
                 [store](const RootSite& s) {
                   store(s);
                   s.chmod("etc/hotfix/trusted.d/release.pub", 0664);
                 },
                 {apply_store},
                 kBadInput,
                 "release.pub: is writable by its group (mode 0664)"});
  out.push_back({"trust-private-key",
                 "--trust given a file that holds the private key too",
                 [pub = b.pub](const RootSite& s) {
                   std::string key_dir = fs::path(pub).parent_path().string();
                   s.write("../outside/state/both.pem",
                           read_file(key_dir + "/k.key") + read_file(pub));
                 },
                 {{"apply", b.second, "--trust", "OUTSIDE/state/both.pem"}},
                 kBadInput,
                 "both.pem: holds a private key"});
  out.push_back({"trust-fifo",
                 "--trust given a FIFO",
                 [](const RootSite& s) { ::mkfifo((s.outside + "/state/key.fifo").c_str(), 0600); },
                 {{"apply", b.second, "--trust", "OUTSIDE/state/key.fifo"}},
                 kBadInput,
                 "key.fifo"});
}

// Names a Windows file system cannot hold, planned on a Windows-family root.
void windows_cases(const Bundles& b, std::vector<HostileRoot>& out) {
  struct Name {
    const char* case_name;
    const char* what;
    std::string name;
    const char* says;
  };
  const std::vector<Name> names = {
      {"win-device", "a file named CON", "CON", "is the reserved device name con"},
      {"win-device-extension", "a file named nul.dll", "nul.dll",
       "is the reserved device name nul"},
      {"win-device-directory", "a directory named COM1", "COM1/x.dll",
       "is the reserved device name com1"},
      {"win-trailing-dot", "a name ending with a dot", "x.dll.", "ends with a dot"},
      {"win-trailing-space", "a name ending with a space", "x.dll ", "ends with a space"},
      {"win-colon", "a name with a colon (an NTFS stream)", "x.dll:evil", "contains ':'"},
      {"win-reserved-character", "a name with a character Windows refuses", "x?.dll",
       "contains '?'"},
      {"win-control-character", "a name with a control character", "x\x1b.dll",
       "contains the control character 0x1b"},
  };
  for (const Name& n : names) {
    out.push_back({n.case_name,
                   std::string(n.what) + ", on a Windows-family root",
                   [](const RootSite& s) { s.windows(); },
                   {{"apply", b.windows(n.name), "--trust", b.pub}},
                   kBadInput,
                   std::string("cannot be written on a Windows-family target: it has the "
                               "component \"") +
                       (n.name[1] == '\x1b' ? "x\\x1b.dll" : n.name.substr(0, n.name.find('/'))) +
                       "\", which " + n.says});
  }
  out.push_back({"win-ambiguous",
                 "two names on disk that match one name ignoring case",
                 [](const RootSite& s) {
                   s.windows();
                   s.write("app/Twin.dll", "one");
                   s.write("app/TWIN.dll", "two");
                 },
                 {{"apply", b.windows("twin.dll"), "--trust", b.pub}},
                 kBadInput,
                 "match 'twin.dll' ignoring case"});
  out.push_back({"win-family-mismatch",
                 "a hotfix for the Windows family on a Linux root",
                 [](const RootSite&) {},
                 {{"apply", b.windows("family"), "--trust", b.pub}},
                 kNotApplicable,
                 "the hotfix is for windows-family targets; the target is linux-family",
                 true});
}

}  // namespace

void RootSite::write(const std::string& rel, const std::string& content) const {
  const fs::path p = fs::path(root) / rel;
  fs::create_directories(p.parent_path());
  write_file(p, content);
}

void RootSite::fifo(const std::string& rel) const {
  const fs::path p = fs::path(root) / rel;
  remove_any(p.string());
  fs::create_directories(p.parent_path());
  if (::mkfifo(p.c_str(), 0600) != 0) throw std::runtime_error("mkfifo " + p.string());
}

void RootSite::link(const std::string& rel, const std::string& target) const {
  const fs::path p = fs::path(root) / rel;
  remove_any(p.string());
  fs::create_symlink(target, p);
}

void RootSite::move_aside(const std::string& rel) const {
  fs::rename(fs::path(root) / rel, fs::path(root) / (rel + ".moved"));
}

void RootSite::chmod(const std::string& rel, unsigned mode) const {
  fs::permissions(fs::path(root) / rel, static_cast<fs::perms>(mode));
}

void RootSite::chown(const std::string& rel, unsigned uid) const {
  const std::string p = (fs::path(root) / rel).string();
  if (::lchown(p.c_str(), uid, uid) != 0) throw std::runtime_error("lchown " + p);
}

void RootSite::sql(const std::string& statement) const {
  RunResult r = run({"/usr/bin/sqlite3", state + "/state.db", statement});
  if (r.exit_code != 0) throw std::runtime_error("sqlite3 " + statement + ": " + r.err);
}

void RootSite::windows() const {
  write("etc/hotfix/system.json",
        R"({"family": "windows", "product": "Windows Server 2008", "version": "6.0.6001",)"
        R"( "service_pack": 1, "architecture": "x64"})");
}

void write_attack_root(const std::string& root) {
  make_linux_root(root);
  write_tree(root, {{"app/a.conf", "old a\n", 1600000020, {}},
                    {"app/lib/b.dll", "old b\n", 1600000020, {}}});
}

void write_sentinel(const std::string& outside) {
  write_tree(outside, {{"victim.txt", "precious\n", 1600000020, {}},
                       {"app/a.conf", "outside a\n", 1600000020, {}},
                       {"state/keep", "outside state\n", 1600000020, {}}});
}

HostileRootCorpus build_hostile_root_corpus() {
  BundleFactory& f = factory();
  Bundles b;
  b.pub = f.pub();
  b.installed = f.build("KB500001", {{"app/a.conf", "new a\n", 1700000040, {}},
                                     {"app/lib/b.dll", "new b\n", 1700000040, {}}});
  b.second = f.build("KB500002", {{"app/c.conf", "new c\n", 1700000040, {}}});
  b.reboot = f.build("KB500003", {{"app/d.conf", "new d\n", 1700000040, {}}}, {true, ""});
  auto built = std::make_shared<int>(0);
  b.windows = [built](const std::string& name) {
    const std::string id = "KB5001" + std::to_string(10 + (*built)++);
    BundleOptions options;
    if (name == "family") {
      options.family = "windows";
      return factory().build(id, {{"app/w.dll", "w\n", 1700000040, {}}}, options);
    }
    return factory().build(id, {{"app/" + name, "w\n", 1700000040, {}}}, options);
  };
  HostileRootCorpus corpus;
  corpus.trusted_key = b.pub;
  corpus.installed = b.installed;
  journal_cases(b, corpus.cases);
  database_cases(b, corpus.cases);
  own_place_cases(b, corpus.cases);
  destination_cases(b, corpus.cases);
  trust_cases(b, corpus.cases);
  windows_cases(b, corpus.cases);
  return corpus;
}

}  // namespace hotfix::test
