// The signed repository end to end: hotfix-packager publishes, a real nginx on 127.0.0.1
// serves, hotfix-installer syncs and applies by id. Every attack of TUF's threat model that
// the repository answers is played against it and must be refused with its own message and
// exit code, the root and the installer's state exactly as they were.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "manifests/repo_metadata.h"
#include "manifests/signature.h"
#include "tests/support/hotfix_kit.h"
#include "tests/support/nginx_server.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_snapshot.h"

using hotfix::test::HotfixKit;
using hotfix::test::KitFile;
using hotfix::test::KitHotfix;
using hotfix::test::NginxServer;
using hotfix::test::read_file;
using hotfix::test::run;
using hotfix::test::RunResult;
using hotfix::test::TempDir;
using hotfix::test::write_file;
namespace fs = std::filesystem;
using Snapshot = std::map<std::string, std::string>;

namespace {

#define REQUIRE_NGINX()                                           \
  do {                                                            \
    if (!hotfix::test::nginx_available()) {                       \
      WARN("SKIPPED: nginx is not installed (scripts/setup.sh)"); \
      return;                                                     \
    }                                                             \
  } while (0)

RunResult packager(std::vector<std::string> args) {
  args.insert(args.begin(), hotfix::test::packager_path());
  return run(args);
}

RunResult installer(const std::vector<std::string>& args) {
  return hotfix::test::run_installer(args);
}

std::string diagnose(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n" + r.out + r.err;
}

#define MUST(result)                                          \
  do {                                                        \
    RunResult must_ = (result);                               \
    INFO(diagnose(must_));                                    \
    REQUIRE((must_.exit_code == 0 || must_.exit_code == 10)); \
  } while (0)

KitHotfix hotfix_v(const std::string& id, std::uint64_t revision, const std::string& version) {
  KitHotfix h;
  h.id = id;
  h.revision = revision;
  h.files = {{"app/bin/" + id + ".dll", *hotfix::Version::parse(version), "",
              hotfix::FileKind::kBinary, false}};
  return h;
}

// A repository under a test directory: its keys (the kit's key is the targets key, which
// signs the bundles too), published by the real packager, served by a real nginx.
class Published {
 public:
  Published() {
    for (const char* k : {"root", "online"}) {
      MUST(packager({"keygen", "--out", (dir_ / k).string()}));
    }
    MUST(packager({"repo", "init", repo(), "--root-key", key("root"), "--targets-key",
                   targets_key(), "--online-key", key("online")}));
  }

  std::string repo() const { return (dir_ / "www" / "repo").string(); }
  std::string key(const std::string& name) const { return (dir_ / (name + ".key")).string(); }
  std::string targets_key() const { return (kit_.dir() / "key.key").string(); }
  std::string file(const std::string& name) const { return repo() + "/" + name; }
  HotfixKit& kit() { return kit_; }
  const TempDir& dir() const { return dir_; }

  void add(const std::vector<std::string>& bundles, std::vector<std::string> more = {}) {
    std::vector<std::string> args{"repo",        "add",          repo(),       "--targets-key",
                                  targets_key(), "--online-key", key("online")};
    args.insert(args.end(), bundles.begin(), bundles.end());
    args.insert(args.end(), more.begin(), more.end());
    MUST(packager(args));
  }

  NginxServer& serve() {
    if (!nginx_)
      nginx_ =
          std::make_unique<NginxServer>((dir_ / "nginx-work").string(), (dir_ / "www").string());
    return *nginx_;
  }
  std::string url() { return serve().url() + "/repo"; }
  std::string access_log() const { return read_file(dir_ / "nginx-work" / "nginx" / "access.log"); }

  // A fresh server root with the source added (trusting root version 1).
  std::string client(const std::string& name, const std::string& source_url) {
    std::string root =
        kit_.make_root(name, {{"app/bin/KB100.dll", *hotfix::Version::parse("1.0.0.1"), "",
                               hotfix::FileKind::kBinary, false},
                              {"app/bin/KB200.dll", *hotfix::Version::parse("1.0.0.1"), "",
                               hotfix::FileKind::kBinary, false}});
    MUST(installer({"source", "add", "corp", source_url, "--root", root, "--root-metadata",
                    file("metadata/1.root.json")}));
    return root;
  }

 private:
  HotfixKit kit_;
  TempDir dir_;
  std::unique_ptr<NginxServer> nginx_;
};

RunResult sync(const std::string& root, std::vector<std::string> more = {}) {
  std::vector<std::string> args{"sync", "--root", root};
  args.insert(args.end(), more.begin(), more.end());
  return installer(args);
}

nlohmann::json json_of(const RunResult& r) { return nlohmann::json::parse(r.out); }

std::string offer_state(const std::string& root, const std::string& id) {
  RunResult r = sync(root, {"--json"});
  nlohmann::json doc = json_of(r);
  for (const auto& o : doc["data"]["sources"][0]["offers"]) {
    if (o["id"] == id && o["architecture"] == "x64") return o["state"];
  }
  return "none";
}

// Makes a file's modification time 10 seconds older.
void age(const std::string& path) {
  fs::last_write_time(path, fs::last_write_time(path) - std::chrono::seconds(10));
}

// Every file of a directory by name, with its bytes.
Snapshot contents(const fs::path& dir) {
  Snapshot out;
  for (const auto& e : fs::directory_iterator(dir))
    out[e.path().filename().string()] = read_file(e.path());
  return out;
}

// A refusal: the exit code, the message, and nothing changed under the root.
void refused(const std::string& root, const std::function<RunResult()>& attempt, int code,
             const std::string& message) {
  Snapshot before = hotfix::test::snapshot_with_state(root);
  RunResult r = attempt();
  INFO(diagnose(r));
  CHECK(r.exit_code == code);
  CHECK(r.err.find(message) != std::string::npos);
  Snapshot after = hotfix::test::snapshot_with_state(root);
  INFO(hotfix::test::describe_difference(before, after));
  CHECK(after == before);
}

// A refused download: the sync before it was legitimate (its history row and trusted
// metadata stay), but nothing was installed and nothing was left in the cache.
void refused_download(const std::string& root, const std::function<RunResult()>& attempt, int code,
                      const std::string& message) {
  Snapshot before = hotfix::test::snapshot_tree(root, "var");
  RunResult r = attempt();
  INFO(diagnose(r));
  CHECK(r.exit_code == code);
  CHECK(r.err.find(message) != std::string::npos);
  Snapshot after = hotfix::test::snapshot_tree(root, "var");
  INFO(hotfix::test::describe_difference(before, after));
  CHECK(after == before);
  fs::path cache = fs::path(root) / "var/cache/hotfix";
  CHECK((!fs::exists(cache) || fs::is_empty(cache)));
  CHECK(installer({"list", "--root", root}).out.find("KB100") == std::string::npos);
}

}  // namespace

TEST_CASE("publish, sync over nginx and apply by id: a sync with nothing new transfers nothing") {
  REQUIRE_NGINX();
  Published p;
  std::string b1 = p.kit().build(hotfix_v("KB100", 1, "1.0.0.2"));
  p.add({b1});
  std::string root = p.client("server", p.url());
  RunResult first = sync(root, {"--json"});
  INFO(diagnose(first));
  REQUIRE(first.exit_code == 0);
  nlohmann::json s = json_of(first)["data"]["sources"][0];
  CHECK(s["changed"] == true);
  CHECK(s["offers"].size() == 1);
  CHECK(s["offers"][0]["state"] == "applicable");

  RunResult applied = installer({"apply", "KB100", "--root", root});
  INFO(diagnose(applied));
  REQUIRE(applied.exit_code == 0);
  CHECK(hotfix::test::read_file(fs::path(root) / "app/bin/KB100.dll") ==
        hotfix::test::pe_image("app/bin/KB100.dll", *hotfix::Version::parse("1.0.0.2")));
  CHECK(offer_state(root, "KB100") == "installed");

  // Nothing new: the timestamp comes back 304, nothing else is asked for. (Validators of a
  // file changed in the second of the answer are not used: the file is made older first.)
  age(p.file("metadata/timestamp.json"));
  MUST(sync(root));
  std::size_t log_before = p.access_log().size();
  RunResult again = sync(root, {"--json"});
  REQUIRE(again.exit_code == 0);
  CHECK(json_of(again)["data"]["sources"][0]["changed"] == false);
  std::string requests = p.access_log().substr(log_before);
  CHECK(requests.find("GET /repo/metadata/timestamp.json HTTP/1.1\" 304") != std::string::npos);
  CHECK(requests.find("snapshot") == std::string::npos);
  CHECK(requests.find("targets") == std::string::npos);

  // A new hotfix is found by the next sync, and history has a row for every sync.
  p.add({p.kit().build(hotfix_v("KB200", 1, "1.0.0.2"))});
  CHECK(offer_state(root, "KB200") == "applicable");
  RunResult history = installer({"history", "--root", root, "--json"});
  int syncs = 0;
  nlohmann::json entries = json_of(history)["data"]["entries"];
  for (const auto& e : entries) syncs += e["action"] == "sync";
  CHECK(syncs >= 4);
}

TEST_CASE("a repository read from file:// gives the same trusted metadata as over http") {
  REQUIRE_NGINX();
  Published p;
  p.add({p.kit().build(hotfix_v("KB100", 1, "1.0.0.2"))});
  std::string over_http = p.client("http", p.url());
  std::string over_file = p.client("file", "file://" + p.repo());
  MUST(sync(over_http));
  MUST(sync(over_file));
  Snapshot a = contents(fs::path(over_http) / "var/lib/hotfix/sources/corp");
  Snapshot b = contents(fs::path(over_file) / "var/lib/hotfix/sources/corp");
  a.erase("timestamp.2.http");  // the HTTP validators: only http has them
  CHECK(a == b);
  CHECK(read_file(fs::path(over_file) / "var/lib/hotfix/sources/corp/targets.2.json") ==
        read_file(p.file("metadata/2.targets.json")));
  MUST(installer({"apply", "KB100", "--root", over_file}));
}

namespace {

// A published repository with KB100 and a server that synced it, both ready for an attack.
struct Synced {
  Published p;
  std::string root;
  Synced() {
    p.add({p.kit().build(hotfix_v("KB100", 1, "1.0.0.2"))});
    root = p.client("server", p.url());
    MUST(sync(root));
  }
};

// The repository's files as they are now, to serve again later.
Snapshot save(const Published& p) { return contents(fs::path(p.repo()) / "metadata"); }

void restore(const Published& p, const Snapshot& files, const std::vector<std::string>& names) {
  for (const std::string& n : names) write_file(fs::path(p.repo()) / "metadata" / n, files.at(n));
}

// Signs `bytes` as the repository's `key` would, into a detached signature file.
std::string sign(const std::string& key_file, const std::string& bytes) {
  hotfix::PrivateKey key = hotfix::PrivateKey::load_pem_file(key_file);
  return hotfix::serialize_signatures(hotfix::sign_with(bytes, {&key}));
}

}  // namespace

TEST_CASE("an old timestamp served again is refused as a rollback (exit 8)") {
  REQUIRE_NGINX();
  Synced s;
  Snapshot old = save(s.p);
  s.p.add({s.p.kit().build(hotfix_v("KB200", 1, "1.0.0.2"))});
  MUST(sync(s.root));
  restore(s.p, old, {"timestamp.json"});  // 2.timestamp.json.sig is still published
  refused(
      s.root, [&] { return sync(s.root); }, 8,
      "rollback: timestamp version 2 is older than version 3");
}

TEST_CASE("a validly signed timestamp naming an older snapshot is refused as a rollback") {
  REQUIRE_NGINX();
  Synced s;
  s.p.add({s.p.kit().build(hotfix_v("KB200", 1, "1.0.0.2"))});
  MUST(sync(s.root));
  // The online key signs a newer timestamp that points back at snapshot 2.
  hotfix::TimestampMetadata ts =
      hotfix::parse_timestamp(read_file(s.p.file("metadata/timestamp.json")), "t");
  std::string snap2 = read_file(s.p.file("metadata/2.snapshot.json"));
  ts.header.version = 9;
  ts.snapshot = {2, snap2.size(), hotfix::to_hex(hotfix::Sha256::of(snap2))};
  std::string bytes = hotfix::serialize(ts);
  write_file(s.p.file(hotfix::timestamp_signature_name(9)), sign(s.p.key("online"), bytes));
  write_file(s.p.file("metadata/timestamp.json"), bytes);
  refused(
      s.root, [&] { return sync(s.root); }, 8, "rollback: it names snapshot version 2");
}

TEST_CASE("expired metadata is refused, or accepted loudly and recorded with the flag") {
  REQUIRE_NGINX();
  Published p;
  p.add({p.kit().build(hotfix_v("KB100", 1, "1.0.0.2"))});
  std::string root = p.client("server", p.url());
  MUST(packager(
      {"repo", "refresh", p.repo(), "--online-key", p.key("online"), "--timestamp-expiry", "1s"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  refused(
      root, [&] { return sync(root); }, 8, "expired at");
  RunResult accepted = sync(root, {"--accept-expired-metadata"});
  INFO(diagnose(accepted));
  CHECK(accepted.exit_code == 0);
  CHECK(accepted.err.find("warning: EXPIRED METADATA") != std::string::npos);
  CHECK(installer({"history", "--root", root}).out.find("EXPIRED METADATA ACCEPTED") !=
        std::string::npos);
  // Refreshed by the publisher's daily job, it is trusted again without the flag.
  MUST(packager({"repo", "refresh", p.repo(), "--online-key", p.key("online")}));
  MUST(sync(root));
}

TEST_CASE("targets that are not the ones the snapshot signed are refused: mix-and-match") {
  REQUIRE_NGINX();
  Synced s;
  Snapshot old = save(s.p);
  s.p.add({s.p.kit().build(hotfix_v("KB200", 1, "1.0.0.2"))});
  // The new snapshot names targets 3; the mirror serves targets 2's bytes under that name.
  write_file(s.p.file("metadata/3.targets.json"), old.at("2.targets.json"));
  write_file(s.p.file("metadata/3.targets.json.sig"), old.at("2.targets.json.sig"));
  refused(
      s.root, [&] { return sync(s.root); }, 8, "mix-and-match");
}

TEST_CASE("a bundle swapped for another validly signed one is refused before it is opened") {
  REQUIRE_NGINX();
  Synced s;
  std::string other = read_file(s.p.kit().build(hotfix_v("KB100", 2, "1.0.0.3")));  // same key
  hotfix::TargetsMetadata t =
      hotfix::parse_targets(read_file(s.p.file("metadata/2.targets.json")), "t");
  SECTION("of the signed length") {
    other.resize(t.targets.at(0).length, '\0');
    write_file(s.p.file(t.targets.at(0).path), other);
    refused_download(
        s.root,
        [&] {
          return installer({"apply", "KB100", "--root", s.root});
        },
        4, "is not the bundle targets signed, a different bundle");
  }
  SECTION("as it is") {
    write_file(s.p.file(t.targets.at(0).path), other);
    refused_download(
        s.root,
        [&] {
          return installer({"fetch", "KB100", "--root", s.root});
        },
        4, "a different bundle");
  }
}

TEST_CASE("a bundle with bytes appended is refused, reading stopped at the signed length") {
  REQUIRE_NGINX();
  Synced s;
  hotfix::TargetsMetadata t =
      hotfix::parse_targets(read_file(s.p.file("metadata/2.targets.json")), "t");
  std::string served = s.p.file(t.targets.at(0).path);
  write_file(served, read_file(served) + std::string(1 << 20, 'x'));
  refused_download(
      s.root,
      [&] {
        return installer({"apply", "KB100", "--root", s.root});
      },
      4, "longer than the " + std::to_string(t.targets.at(0).length) + " bytes targets signed");
}

TEST_CASE("a download cut short resumes from its partial file with a range request") {
  REQUIRE_NGINX();
  Synced s;
  hotfix::TargetsMetadata t =
      hotfix::parse_targets(read_file(s.p.file("metadata/2.targets.json")), "t");
  const hotfix::TargetEntry& e = t.targets.at(0);
  std::string bytes = read_file(s.p.file(e.path));
  fs::path cache = fs::path(s.root) / "var/cache/hotfix";
  fs::create_directories(cache);
  write_file(cache / (e.sha256 + "." + e.name + ".partial"), bytes.substr(0, bytes.size() / 2));
  std::size_t log_before = s.p.access_log().size();
  RunResult fetched = installer({"fetch", "KB100", "--root", s.root, "--json"});
  INFO(diagnose(fetched));
  REQUIRE(fetched.exit_code == 0);
  CHECK(read_file(cache / (e.sha256 + "." + e.name)) == bytes);
  CHECK_FALSE(fs::exists(cache / (e.sha256 + "." + e.name + ".partial")));
  CHECK(s.p.access_log().substr(log_before).find("\" 206 ") != std::string::npos);
  // Fetched once, applied later from the cache without downloading again.
  log_before = s.p.access_log().size();
  MUST(installer({"apply", "KB100", "--root", s.root}));
  CHECK(s.p.access_log().substr(log_before).find("/repo/targets/") == std::string::npos);
}

TEST_CASE("a server that is down is exit 9 and changes nothing: the next mirror is tried") {
  REQUIRE_NGINX();
  Synced s;
  s.p.serve().stop();
  refused(
      s.root, [&] { return sync(s.root); }, 9, "after");
  // A second mirror that answers: the sync goes on there.
  std::string two = s.p.kit().make_root("two", {});
  MUST(installer({"source", "add", "corp", "http://127.0.0.1:9/repo", "file://" + s.p.repo(),
                  "--root", two, "--root-metadata", s.p.file("metadata/1.root.json")}));
  RunResult r = sync(two, {"--json"});
  INFO(diagnose(r));
  CHECK(r.exit_code == 0);
  CHECK(json_of(r)["data"]["sources"][0]["mirror"] == "file://" + s.p.repo());
  // Of two sources, the one down does not keep the other from being synced.
  MUST(installer({"source", "add", "usb", "file://" + s.p.repo(), "--root", s.root,
                  "--root-metadata", s.p.file("metadata/1.root.json")}));
  RunResult both = sync(s.root, {"--json"});
  INFO(diagnose(both));
  CHECK(both.exit_code == 9);
  nlohmann::json doc = json_of(both);
  REQUIRE(doc["data"]["sources"].size() == 1);
  CHECK(doc["data"]["sources"][0]["source"] == "usb");
  CHECK(doc["errors"][0]["kind"] == "unreachable");
}

TEST_CASE("a key rotation is followed: a new root signed by the new key alone is refused") {
  REQUIRE_NGINX();
  Synced s;
  MUST(packager({"keygen", "--out", (s.p.dir() / "online2").string()}));
  MUST(packager({"repo", "rotate", s.p.repo(), "--role", "timestamp", "--new-key",
                 s.p.key("online2"), "--root-key", s.p.key("root"), "--online-key",
                 s.p.key("online")}));
  RunResult followed = sync(s.root, {"--json"});
  INFO(diagnose(followed));
  REQUIRE(followed.exit_code == 0);
  CHECK(json_of(followed)["data"]["sources"][0]["updated"][0] == "root 2");

  // Root 3 from someone holding only a new key: the chain from root 2 is broken.
  MUST(packager({"keygen", "--out", (s.p.dir() / "thief").string()}));
  hotfix::RootMetadata r = hotfix::parse_root(read_file(s.p.file("metadata/2.root.json")), "r");
  hotfix::PublicKey thief = hotfix::PrivateKey::load_pem_file(s.p.key("thief")).public_key();
  r.header.version = 3;
  r.keys.emplace(thief.fingerprint(), thief);
  r.roles[hotfix::Role::kRoot] = {{thief.fingerprint()}, 1};
  std::string bytes = hotfix::serialize(r);
  write_file(s.p.file("metadata/3.root.json.sig"), sign(s.p.key("thief"), bytes));
  write_file(s.p.file("metadata/3.root.json"), bytes);
  refused(
      s.root, [&] { return sync(s.root); }, 8, "broken root chain");
}

TEST_CASE("a bundle signed by a key neither the targets role nor the server trusts is refused") {
  REQUIRE_NGINX();
  Published p;
  HotfixKit stranger;
  std::string bundle = stranger.build(hotfix_v("KB100", 1, "1.0.0.2"));
  p.add({bundle}, {"--trust", stranger.pub()});
  std::string root = p.client("server", p.url());
  MUST(sync(root));
  refused_download(
      root,
      [&] {
        return installer({"apply", "KB100", "--root", root});
      },
      3, "an unknown key");
  // Once the administrator trusts that key, the same bundle applies.
  fs::create_directories(fs::path(root) / "etc/hotfix/trusted.d");
  fs::copy_file(stranger.pub(), fs::path(root) / "etc/hotfix/trusted.d/stranger.pub");
  MUST(installer({"apply", "KB100", "--root", root}));
}

TEST_CASE("an id no source offers for this architecture is not applicable (exit 5)") {
  REQUIRE_NGINX();
  Synced s;
  RunResult r = installer({"apply", "KB999", "--root", s.root});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("KB999: no source offers it for x64") != std::string::npos);
}

TEST_CASE("after a fast-forward with a stolen timestamp key, rotating the key recovers") {
  REQUIRE_NGINX();
  Synced s;
  // The thief signs timestamp version 1000 with the online key; the server trusts it.
  hotfix::TimestampMetadata ts =
      hotfix::parse_timestamp(read_file(s.p.file("metadata/timestamp.json")), "t");
  ts.header.version = 1000;
  std::string bytes = hotfix::serialize(ts);
  std::string honest = read_file(s.p.file("metadata/timestamp.json"));
  write_file(s.p.file(hotfix::timestamp_signature_name(1000)), sign(s.p.key("online"), bytes));
  write_file(s.p.file("metadata/timestamp.json"), bytes);
  MUST(sync(s.root));
  // The publisher rotates the timestamp key: its next timestamp (version 3) is trusted again,
  // although 3 < 1000, because the key that signed 1000 is no longer the timestamp key.
  write_file(s.p.file("metadata/timestamp.json"), honest);
  MUST(packager({"keygen", "--out", (s.p.dir() / "online2").string()}));
  MUST(packager({"repo", "rotate", s.p.repo(), "--role", "timestamp", "--new-key",
                 s.p.key("online2"), "--root-key", s.p.key("root"), "--online-key",
                 s.p.key("online")}));
  RunResult r = sync(s.root, {"--json"});
  INFO(diagnose(r));
  REQUIRE(r.exit_code == 0);
  CHECK(json_of(r)["data"]["sources"][0]["updated"][1] == "timestamp 3");
}

TEST_CASE("source add refuses what it could not use later, changing nothing") {
  Published p;
  std::string root = p.kit().make_root("server", {});
  std::vector<std::string> args{"source", "add", "corp"};
  for (int i = 0; i < 17; ++i) args.push_back("file:///srv/mirror" + std::to_string(i));
  args.insert(args.end(), {"--root", root, "--root-metadata", p.file("metadata/1.root.json")});
  refused(
      root, [&] { return installer(args); }, 2, "needs 1 to 16 URLs, not 17");
  refused(
      root,
      [&] {
        return installer({"source", "add", "corp", "file://" + p.repo(), "--root", root,
                          "--root-metadata", p.file("metadata/1.root.json"), "--ca-file",
                          "/nonexistent/ca.pem"});
      },
      2, "/nonexistent/ca.pem");
  refused(
      root,
      [&] {
        return installer({"source", "add", "corp", "ftp://example/repo", "--root", root,
                          "--root-metadata", p.file("metadata/1.root.json")});
      },
      2, "a source URL is http://, https:// or file:///");
  refused(
      root,
      [&] {
        return installer({"source", "add", "corp", "file://" + p.repo(), "--root", root,
                          "--root-metadata", p.file("metadata/1.targets.json")});
      },
      8, "expected root metadata");
}

TEST_CASE("sync --dry-run and apply --dry-run ID check everything and store nothing") {
  REQUIRE_NGINX();
  Published p;
  p.add({p.kit().build(hotfix_v("KB100", 1, "1.0.0.2"))});
  std::string root = p.client("server", p.url());
  Snapshot before = hotfix::test::snapshot_with_state(root);

  RunResult synced = sync(root, {"--dry-run", "--json"});
  INFO(diagnose(synced));
  REQUIRE(synced.exit_code == 0);
  nlohmann::json data = json_of(synced)["data"];
  CHECK(data["dry_run"] == true);
  CHECK(data["sources"][0]["changed"] == true);  // what a sync would trust anew
  CHECK(data["sources"][0]["offers"][0]["state"] == "applicable");

  RunResult planned = installer({"apply", "--dry-run", "KB100", "--root", root, "--json"});
  INFO(diagnose(planned));
  REQUIRE(planned.exit_code == 0);
  nlohmann::json result = json_of(planned)["data"]["results"][0];
  CHECK(result["outcome"] == "dry_run");
  CHECK(result["counts"]["replace"].get<int>() + result["counts"]["install"].get<int>() == 1);
  // The download went to a scratch directory outside the root, removed when the run ended.
  std::string bundle = result["bundle"];
  CHECK(bundle.rfind(root, 0) != 0);
  CHECK(!fs::exists(bundle));
  Snapshot after = hotfix::test::snapshot_with_state(root);
  INFO(hotfix::test::describe_difference(before, after));
  CHECK(after == before);

  // A bad repository is refused by the dry run as by the real one, with the same code.
  MUST(packager(
      {"repo", "refresh", p.repo(), "--online-key", p.key("online"), "--timestamp-expiry", "1s"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  refused(
      root,
      [&] {
        return installer({"apply", "--dry-run", "KB100", "--root", root});
      },
      8, "expired at");

  // Once the bundle is in the cache, a dry run plans from it and downloads nothing.
  MUST(packager({"repo", "refresh", p.repo(), "--online-key", p.key("online")}));
  MUST(installer({"fetch", "KB100", "--root", root}));
  std::size_t log_before = p.access_log().size();
  RunResult cached = installer({"apply", "--dry-run", "KB100", "--root", root, "--json"});
  REQUIRE(cached.exit_code == 0);
  std::string from = json_of(cached)["data"]["results"][0]["bundle"];
  CHECK(from.rfind(root, 0) == 0);
  CHECK(p.access_log().substr(log_before).find("/repo/targets/") == std::string::npos);
}
