#include "manifests/repo_metadata.h"

#include <algorithm>
#include <array>
#include <set>

#include "manifests/destination.h"
#include "manifests/errors.h"
#include "manifests/json_context.h"
#include "manifests/json_prescan.h"
#include "manifests/manifest_json.h"
#include "manifests/sha256.h"

namespace hotfix {

namespace {

constexpr int kMaxDepth = 16;
constexpr std::uint64_t kMaxVersion = (std::uint64_t{1} << 53) - 1;  // exact in any JSON reader
constexpr std::uint64_t kMaxLength = std::uint64_t{1} << 42;         // 4 TiB
constexpr std::uint64_t kMaxMetadataSize = 256 * 1024 * 1024;

[[noreturn]] void fail(const std::string& shown, const std::string& message) {
  throw Error(ErrorKind::kMetadata, shown, message);
}

// Another role's file where this one's is expected: said first, as the one problem it is.
void check_type(const Json& doc, Role role, const std::string& shown) {
  if (!doc.is_object() || !doc.contains("type") || !doc["type"].is_string()) return;
  std::string type = doc["type"].get<std::string>();
  if (type != role_name(role)) {
    fail(shown, "expected " + std::string(role_name(role)) + " metadata, found " + quote(type) +
                    " metadata");
  }
}

// Parses `bytes` as one JSON document, refusing duplicate keys and oversized or deep input,
// and, given `role`, another role's file.
Json parse_document(std::string_view bytes, const std::string& shown,
                    std::optional<Role> role = std::nullopt) {
  JsonPrescan pre = prescan_json(bytes, kMaxMetadataSize, kMaxDepth);
  if (!pre.issues.empty()) {
    const ManifestIssue& first = pre.issues.front();
    fail(shown, (first.path.empty() ? "" : first.path + ": ") + first.message);
  }
  Json doc = Json::parse(bytes);
  if (role) check_type(doc, *role, shown);
  return doc;
}

// Throws the first issue a reading found.
void throw_issues(const std::vector<ManifestIssue>& issues, const std::string& shown) {
  if (issues.empty()) return;
  const ManifestIssue& first = issues.front();
  std::string more =
      issues.size() > 1 ? " (and " + std::to_string(issues.size() - 1) + " more problems)" : "";
  fail(shown, (first.path.empty() ? "" : first.path + ": ") + first.message + more);
}

std::optional<std::string> read_hex(JsonContext& c, const Json& v, std::size_t digits) {
  std::optional<std::string> s = read_string(c, v, std::to_string(digits) + " hex digits");
  if (!s) return s;
  bool hex = s->size() == digits && std::all_of(s->begin(), s->end(), [](char ch) {
               return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
             });
  if (!hex) {
    c.report("expected " + std::to_string(digits) + " lower-case hex digits, found " + quote(*s));
    return std::nullopt;
  }
  return s;
}

void read_header(JsonObject& o, JsonContext& c, Role role, MetadataHeader& h) {
  h.role = role;
  o.required("type", "the string \"" + std::string(role_name(role)) + "\"", [&](const Json& v) {
    std::optional<std::string> t = read_string(c, v, "a role name");
    if (t && *t != role_name(role)) {
      c.report("expected " + std::string(role_name(role)) + " metadata, found " + quote(*t));
    }
  });
  o.required("spec_version", "\"1\"", [&](const Json& v) {
    std::optional<std::string> t = read_string(c, v, "\"1\"");
    if (t && *t != "1") c.report("format version " + quote(*t) + " is not one this program reads");
  });
  o.required("version", "a positive integer", [&](const Json& v) {
    if (auto n = read_integer(c, v, 1, kMaxVersion, "a positive integer")) h.version = *n;
  });
  o.required("expires", "a UTC time like 2027-01-01T00:00:00Z", [&](const Json& v) {
    std::optional<std::string> t = read_string(c, v, "a UTC time");
    if (!t) return;
    if (auto when = Timestamp::parse_iso8601(*t)) {
      h.expires = *when;
    } else {
      c.report("expected a UTC time like 2027-01-01T00:00:00Z, found " + quote(*t));
    }
  });
}

Json header_json(const MetadataHeader& h) {
  return Json{{"type", role_name(h.role)},
              {"spec_version", "1"},
              {"version", h.version},
              {"expires", h.expires.iso8601()}};
}

std::string finish(const Json& j) { return j.dump(2) + "\n"; }

Json meta_file_json(const MetaFile& m) {
  return Json{{"version", m.version}, {"length", m.length}, {"hashes", {{"sha256", m.sha256}}}};
}

void read_hashes(JsonContext& c, const Json& v, std::string& sha256) {
  static constexpr std::array<std::string_view, 1> known = {"sha256"};
  JsonObject o(c, v, known, "an object of hashes");
  o.required("sha256", "64 hex digits", [&](const Json& x) {
    if (auto h = read_hex(c, x, 64)) sha256 = *h;
  });
}

void read_length(JsonObject& o, JsonContext& c, std::uint64_t& length) {
  o.required("length", "a size in bytes", [&](const Json& v) {
    if (auto n = read_integer(c, v, 0, kMaxLength, "a size in bytes")) length = *n;
  });
}

void read_meta_file(JsonContext& c, const Json& v, MetaFile& m) {
  static constexpr std::array<std::string_view, 3> known = {"version", "length", "hashes"};
  JsonObject o(c, v, known, "an object with version, length and hashes");
  o.required("version", "a positive integer", [&](const Json& x) {
    if (auto n = read_integer(c, x, 1, kMaxVersion, "a positive integer")) m.version = *n;
  });
  read_length(o, c, m.length);
  o.required("hashes", "an object of hashes", [&](const Json& x) { read_hashes(c, x, m.sha256); });
}

// Reads {"meta": {"<name>": MetaFile}} with exactly the one name expected.
template <class M>
M parse_pointer(std::string_view bytes, const std::string& shown, Role role,
                std::string_view pointee, MetaFile M::*field) {
  Json doc = parse_document(bytes, shown, role);
  std::vector<ManifestIssue> issues;
  JsonContext c(issues);
  static constexpr std::array<std::string_view, 5> known = {"type", "spec_version", "version",
                                                            "expires", "meta"};
  JsonObject o(c, doc, known, "an object");
  M m;
  read_header(o, c, role, m.header);
  o.required("meta", "an object", [&](const Json& v) {
    if (!v.is_object() || v.size() != 1 || !v.contains(std::string(pointee))) {
      c.report("expected an object naming " + std::string(pointee) + " alone");
      return;
    }
    auto scope = c.at(pointee);
    read_meta_file(c, v.at(std::string(pointee)), m.*field);
  });
  throw_issues(issues, shown);
  return m;
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kRoot:
      return "root";
    case Role::kTargets:
      return "targets";
    case Role::kSnapshot:
      return "snapshot";
    case Role::kTimestamp:
      return "timestamp";
  }
  return "root";
}

std::optional<Role> parse_role(std::string_view text) {
  for (Role r : kRoles) {
    if (role_name(r) == text) return r;
  }
  return std::nullopt;
}

std::string root_name(std::uint64_t v) { return "metadata/" + std::to_string(v) + ".root.json"; }
std::string snapshot_name(std::uint64_t v) {
  return "metadata/" + std::to_string(v) + ".snapshot.json";
}
std::string targets_name(std::uint64_t v) {
  return "metadata/" + std::to_string(v) + ".targets.json";
}
std::string timestamp_name() { return "metadata/timestamp.json"; }
std::string timestamp_signature_name(std::uint64_t v) {
  return "metadata/" + std::to_string(v) + ".timestamp.json.sig";
}
std::string signature_name(const std::string& metadata_name) { return metadata_name + ".sig"; }
std::string target_path(const std::string& sha256, const std::string& name) {
  return "targets/" + sha256 + "." + name;
}

std::string serialize(const RootMetadata& m) {
  Json j = header_json(m.header);
  Json keys = Json::object();
  for (const auto& entry : m.keys) {
    keys[entry.first] = Json{{"keytype", "ed25519"}, {"public", entry.second.pem()}};
  }
  j["keys"] = keys;
  Json roles = Json::object();
  for (Role r : kRoles) {
    const RoleKeys& rk = m.roles.at(r);
    roles[std::string(role_name(r))] = Json{{"keyids", rk.key_ids}, {"threshold", rk.threshold}};
  }
  j["roles"] = roles;
  return finish(j);
}

std::string serialize(const TimestampMetadata& m) {
  Json j = header_json(m.header);
  j["meta"] = Json{{"snapshot.json", meta_file_json(m.snapshot)}};
  return finish(j);
}

std::string serialize(const SnapshotMetadata& m) {
  Json j = header_json(m.header);
  j["meta"] = Json{{"targets.json", meta_file_json(m.targets)}};
  return finish(j);
}

namespace {

Json hotfix_json(const TargetHotfix& h) {
  Json j{{"id", h.id},
         {"revision", h.revision},
         {"title", h.title},
         {"arch", h.arch},
         {"language", nullptr},
         {"restart", h.restart},
         {"supersedes", h.supersedes},
         {"key_id", h.key_id}};
  if (h.language) j["language"] = *h.language;
  j["family"] = h.family;
  j["prerequisites"] = h.prerequisites == Prerequisite::always()
                           ? Json(nullptr)
                           : write_prerequisite(h.prerequisites);
  return j;
}

}  // namespace

std::string serialize(const TargetsMetadata& m) {
  Json j = header_json(m.header);
  Json targets = Json::array();
  for (const TargetEntry& t : m.targets) {
    targets.push_back(Json{{"name", t.name},
                           {"path", t.path},
                           {"length", t.length},
                           {"hashes", {{"sha256", t.sha256}}},
                           {"hotfix", hotfix_json(t.hotfix)}});
  }
  j["targets"] = targets;
  return finish(j);
}

namespace {

PublicKey read_key(JsonContext& c, const Json& v, const std::string& key_id, bool& ok) {
  static constexpr std::array<std::string_view, 2> known = {"keytype", "public"};
  JsonObject o(c, v, known, "an object with keytype and public");
  std::string pem;
  o.required("keytype", "\"ed25519\"", [&](const Json& x) {
    auto t = read_string(c, x, "\"ed25519\"");
    if (t && *t != "ed25519") c.report("key type " + quote(*t) + " is not ed25519");
  });
  o.required("public", "a PEM public key", [&](const Json& x) {
    if (auto p = read_string(c, x, "a PEM public key")) pem = *p;
  });
  ok = false;
  if (pem.empty()) return PublicKey{};
  try {
    PublicKey key = PublicKey::from_pem(pem, "key " + key_id);
    if (key.fingerprint() != key_id) {
      c.report("the key's fingerprint is " + key.fingerprint() + ", not its id");
      return key;
    }
    ok = true;
    return key;
  } catch (const Error& e) {
    auto scope = c.at("public");
    c.report(std::string("not an Ed25519 public key: ") + e.message());
  }
  return PublicKey{};
}

void read_keys(JsonContext& c, const Json& v, RootMetadata& m) {
  if (!v.is_object()) {
    c.report("expected an object of keys, found " + describe_json(v));
    return;
  }
  for (const auto& item : v.items()) {
    auto scope = c.at(item.key());
    bool ok = false;
    PublicKey key = read_key(c, item.value(), item.key(), ok);
    if (ok) m.keys.emplace(item.key(), key);
  }
}

void read_role_keys(JsonContext& c, const Json& v, const RootMetadata& m, RoleKeys& rk) {
  static constexpr std::array<std::string_view, 2> known = {"keyids", "threshold"};
  JsonObject o(c, v, known, "an object with keyids and threshold");
  o.required("keyids", "an array of key ids", [&](const Json& x) {
    const Json::array_t* ids = read_array(c, x, "an array of key ids");
    if (!ids) return;
    for (std::size_t i = 0; i < ids->size(); ++i) {
      auto scope = c.at(i);
      auto id = read_hex(c, (*ids)[i], 64);
      if (!id) continue;
      if (std::find(rk.key_ids.begin(), rk.key_ids.end(), *id) != rk.key_ids.end()) {
        c.report("key " + *id + " is listed twice");
      } else {
        rk.key_ids.push_back(*id);
      }
    }
  });
  o.required("threshold", "a positive integer", [&](const Json& x) {
    if (auto n = read_integer(c, x, 1, kMaxSignatures, "a threshold of 1 to 16")) rk.threshold = *n;
  });
  if (rk.threshold > rk.key_ids.size()) {
    c.report("the threshold " + std::to_string(rk.threshold) + " is more than the " +
             std::to_string(rk.key_ids.size()) + " keys listed");
  }
  for (const std::string& id : rk.key_ids) {
    if (!m.keys.count(id)) c.report("key " + id + " is not in keys");
  }
}

void read_roles(JsonContext& c, const Json& v, RootMetadata& m) {
  static constexpr std::array<std::string_view, 4> known = {"root", "targets", "snapshot",
                                                            "timestamp"};
  JsonObject o(c, v, known, "an object of the four roles");
  for (Role r : kRoles) {
    o.required(role_name(r), "the role's keyids and threshold",
               [&](const Json& x) { read_role_keys(c, x, m, m.roles[r]); });
  }
}

}  // namespace

RootMetadata parse_root(std::string_view bytes, const std::string& shown) {
  if (bytes.size() > kMaxRootSize)
    fail(shown, "larger than the " + std::to_string(kMaxRootSize) + " bytes a root may have");
  Json doc = parse_document(bytes, shown, Role::kRoot);
  std::vector<ManifestIssue> issues;
  JsonContext c(issues);
  static constexpr std::array<std::string_view, 6> known = {"type",    "spec_version", "version",
                                                            "expires", "keys",         "roles"};
  JsonObject o(c, doc, known, "an object");
  RootMetadata m;
  read_header(o, c, Role::kRoot, m.header);
  o.required("keys", "an object of keys", [&](const Json& v) { read_keys(c, v, m); });
  o.required("roles", "an object of the four roles", [&](const Json& v) { read_roles(c, v, m); });
  throw_issues(issues, shown);
  return m;
}

TimestampMetadata parse_timestamp(std::string_view bytes, const std::string& shown) {
  return parse_pointer(bytes, shown, Role::kTimestamp, "snapshot.json",
                       &TimestampMetadata::snapshot);
}

SnapshotMetadata parse_snapshot(std::string_view bytes, const std::string& shown) {
  return parse_pointer(bytes, shown, Role::kSnapshot, "targets.json", &SnapshotMetadata::targets);
}

namespace {

std::optional<std::string> read_word(JsonContext& c, const Json& v, std::string_view what) {
  auto s = read_string(c, v, what);
  if (s && (s->empty() || s->size() > 128)) {
    c.report("expected " + std::string(what) + " of 1 to 128 characters");
    return std::nullopt;
  }
  return s;
}

void read_target_hotfix(JsonContext& c, const Json& v, TargetHotfix& h) {
  static constexpr std::array<std::string_view, 10> known = {
      "id",      "revision",   "title",  "arch",   "language",
      "restart", "supersedes", "key_id", "family", "prerequisites"};
  JsonObject o(c, v, known, "an object describing the hotfix");
  o.required("id", "a hotfix id", [&](const Json& x) {
    auto s = read_word(c, x, "a hotfix id");
    if (s && !is_valid_id(*s)) c.report("not a hotfix id: " + quote(*s));
    if (s) h.id = *s;
  });
  o.required("revision", "a positive integer", [&](const Json& x) {
    if (auto n = read_integer(c, x, 1, kMaxVersion, "a positive integer")) h.revision = *n;
  });
  o.required("title", "a string", [&](const Json& x) {
    if (auto s = read_string(c, x, "a string")) h.title = *s;
  });
  o.required("arch", "an architecture", [&](const Json& x) {
    if (auto s = read_word(c, x, "an architecture")) h.arch = *s;
  });
  o.required("language", "a language or null", [&](const Json& x) {
    if (!x.is_null()) h.language = read_word(c, x, "a language or null");
  });
  o.required("restart", "none, services or reboot", [&](const Json& x) {
    auto s = read_word(c, x, "none, services or reboot");
    if (s && *s != "none" && *s != "services" && *s != "reboot") {
      c.report("expected none, services or reboot, found " + quote(*s));
    }
    if (s) h.restart = *s;
  });
  o.required("supersedes", "an array of ids", [&](const Json& x) {
    const Json::array_t* ids = read_array(c, x, "an array of ids");
    for (std::size_t i = 0; ids && i < ids->size(); ++i) {
      auto scope = c.at(i);
      if (auto s = read_word(c, (*ids)[i], "a hotfix id")) h.supersedes.push_back(*s);
    }
  });
  o.required("key_id", "64 hex digits", [&](const Json& x) {
    if (auto s = read_hex(c, x, 64)) h.key_id = *s;
  });
  o.required("family", "windows, linux or \"\"", [&](const Json& x) {
    auto s = read_string(c, x, "windows, linux or \"\"");
    if (s && !s->empty() && *s != "windows" && *s != "linux") {
      c.report("expected windows, linux or \"\", found " + quote(*s));
    }
    if (s) h.family = *s;
  });
  o.required("prerequisites", "a prerequisite expression or null", [&](const Json& x) {
    if (x.is_null()) return;
    try {
      h.prerequisites = parse_prerequisite(x, "targets", c.path());
    } catch (const ManifestError& e) {
      c.report(e.lines().empty() ? "not a prerequisite expression" : e.lines().front());
    }
  });
}

// A published name is one plain file name: nothing a client could turn into a path.
bool plain_name(const std::string& name) {
  if (name.empty() || name.size() > 200 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '-' || ch == '_';
  });
}

void read_target(JsonContext& c, const Json& v, TargetEntry& t) {
  static constexpr std::array<std::string_view, 5> known = {"name", "path", "length", "hashes",
                                                            "hotfix"};
  JsonObject o(c, v, known, "an object describing the bundle");
  o.required("name", "the bundle's file name", [&](const Json& x) {
    auto s = read_string(c, x, "a file name");
    if (s && !plain_name(*s)) c.report("not a plain file name (letters, digits, . - _)");
    if (s) t.name = *s;
  });
  read_length(o, c, t.length);
  o.required("hashes", "an object of hashes", [&](const Json& x) { read_hashes(c, x, t.sha256); });
  o.required("path", "targets/<sha256>.<name>", [&](const Json& x) {
    if (auto s = read_string(c, x, "a path")) t.path = *s;
  });
  o.required("hotfix", "an object describing the hotfix",
             [&](const Json& x) { read_target_hotfix(c, x, t.hotfix); });
  if (!t.sha256.empty() && !t.path.empty() && t.path != target_path(t.sha256, t.name)) {
    auto scope = c.at("path");
    c.report("expected " + quote(target_path(t.sha256, t.name)) + ", found " + quote(t.path));
  }
}

}  // namespace

TargetsMetadata parse_targets(std::string_view bytes, const std::string& shown) {
  Json doc = parse_document(bytes, shown, Role::kTargets);
  std::vector<ManifestIssue> issues;
  JsonContext c(issues);
  static constexpr std::array<std::string_view, 5> known = {"type", "spec_version", "version",
                                                            "expires", "targets"};
  JsonObject o(c, doc, known, "an object");
  TargetsMetadata m;
  read_header(o, c, Role::kTargets, m.header);
  // An array sorted by name, not an object keyed by it: a reader's object of 10,000 keys
  // costs a search per key, and the order is the publisher's to fix.
  o.required("targets", "an array of bundles sorted by name", [&](const Json& v) {
    const Json::array_t* list = read_array(c, v, "an array of bundles");
    for (std::size_t i = 0; list && i < list->size(); ++i) {
      auto scope = c.at(i);
      TargetEntry t;
      read_target(c, (*list)[i], t);
      if (!m.targets.empty() && !t.name.empty() && !(m.targets.back().name < t.name)) {
        c.report("bundle " + quote(t.name) + " is not after " + quote(m.targets.back().name) +
                 ": names are sorted and appear once");
      }
      m.targets.push_back(std::move(t));
    }
  });
  throw_issues(issues, shown);
  return m;
}

std::uint64_t peek_version(std::string_view bytes, const std::string& shown) {
  Json doc = parse_document(bytes, shown);
  std::vector<ManifestIssue> issues;
  JsonContext c(issues);
  std::uint64_t version = 0;
  if (!doc.is_object() || !doc.contains("version")) fail(shown, "version: missing");
  {
    auto scope = c.at("version");
    if (auto n = read_integer(c, doc["version"], 1, kMaxVersion, "a positive integer"))
      version = *n;
  }
  throw_issues(issues, shown);
  return version;
}

namespace {

std::string hex_of(std::string_view raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : raw) {
    out += digits[ch >> 4];
    out += digits[ch & 15];
  }
  return out;
}

std::optional<std::string> raw_of(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (char ch : hex.substr(i, 2)) {
      int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out += static_cast<char>(v);
  }
  return out;
}

}  // namespace

std::string serialize_signatures(const std::vector<DetachedSignature>& signatures) {
  std::string out;
  for (const DetachedSignature& s : signatures) out += s.key_id + " " + hex_of(s.signature) + "\n";
  return out;
}

std::vector<DetachedSignature> parse_signatures(std::string_view text, const std::string& shown) {
  if (text.size() > kMaxSignatureFileSize) fail(shown, "larger than a signature file may be");
  std::vector<DetachedSignature> out;
  std::size_t line = 0;
  while (!text.empty()) {
    ++line;
    std::size_t end = text.find('\n');
    if (end == std::string_view::npos)
      fail(shown, "line " + std::to_string(line) + ": no newline at its end");
    std::string_view l = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::optional<std::string> sig;
    if (l.size() == 64 + 1 + 128 && l[64] == ' ' && raw_of(l.substr(0, 64)))
      sig = raw_of(l.substr(65));
    if (!sig)
      fail(shown, "line " + std::to_string(line) +
                      ": expected \"<key id> <signature>\" in lower-case hex");
    out.push_back({std::string(l.substr(0, 64)), *sig});
    if (out.size() > kMaxSignatures)
      fail(shown, "more than " + std::to_string(kMaxSignatures) + " signatures");
  }
  if (out.empty()) fail(shown, "no signature");
  return out;
}

std::vector<DetachedSignature> sign_with(std::string_view bytes,
                                         const std::vector<const PrivateKey*>& keys) {
  std::vector<DetachedSignature> out;
  std::set<std::string> seen;
  for (const PrivateKey* key : keys) {
    std::string id = key->public_key().fingerprint();
    if (seen.insert(id).second) out.push_back({id, key->sign(bytes)});
  }
  return out;
}

void verify_role(const RootMetadata& root, Role role, std::string_view bytes,
                 const std::vector<DetachedSignature>& signatures, const std::string& shown) {
  const RoleKeys& rk = root.role(role);
  std::set<std::string> valid;
  std::vector<std::string> unknown, bad;
  for (const DetachedSignature& s : signatures) {
    bool listed = std::find(rk.key_ids.begin(), rk.key_ids.end(), s.key_id) != rk.key_ids.end();
    auto key = root.keys.find(s.key_id);
    if (!listed || key == root.keys.end()) {
      unknown.push_back(short_fingerprint(s.key_id));
    } else if (key->second.verify(bytes, s.signature)) {
      valid.insert(s.key_id);
    } else {
      bad.push_back(short_fingerprint(s.key_id));
    }
  }
  if (valid.size() >= rk.threshold) return;
  std::string why = "signed by " + std::to_string(valid.size()) + " of the " +
                    std::to_string(rk.threshold) + " " + std::string(role_name(role)) +
                    " key(s) the root version " + std::to_string(root.header.version) + " requires";
  if (!bad.empty()) why += "; invalid signature by " + bad.front();
  if (!unknown.empty()) why += "; signed by unknown key " + unknown.front();
  fail(shown, why);
}

void check_not_expired(const MetadataHeader& header, Timestamp now, const std::string& shown) {
  if (header.expires > now) return;
  fail(shown, std::string(role_name(header.role)) + " metadata version " +
                  std::to_string(header.version) + " expired at " + header.expires.iso8601() +
                  " (now " + now.iso8601() + ")");
}

}  // namespace hotfix
