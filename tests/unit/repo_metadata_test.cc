// The repository's metadata (manifests/repo_metadata.h): each role written and read back, the
// strict reader's refusals, detached signature files, thresholds and expiry.
#include <catch2/catch.hpp>

#include "manifests/errors.h"
#include "manifests/repo_metadata.h"

using namespace hotfix;

namespace {

struct Keys {
  PrivateKey a = PrivateKey::generate(), b = PrivateKey::generate(), c = PrivateKey::generate();
};

RootMetadata root_of(const Keys& k, std::uint64_t threshold) {
  RootMetadata r;
  r.header = {Role::kRoot, 1, Timestamp(2'000'000'000)};
  for (const PrivateKey* key : {&k.a, &k.b, &k.c}) {
    PublicKey p = key->public_key();
    r.keys.emplace(p.fingerprint(), p);
  }
  std::vector<std::string> all;
  for (const auto& e : r.keys) all.push_back(e.first);
  for (Role role : kRoles) r.roles[role] = RoleKeys{all, threshold};
  return r;
}

TargetEntry entry(const std::string& name) {
  TargetEntry e;
  e.name = name;
  e.sha256 = std::string(64, 'a');
  e.path = target_path(e.sha256, name);
  e.length = 10;
  e.hotfix = TargetHotfix{"KB1",        1,
                          "t",          "x64",
                          std::nullopt, "none",
                          {},           std::string(64, 'b'),
                          "",           Prerequisite::always()};
  return e;
}

std::string metadata_error(const std::function<void()>& read) {
  try {
    read();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kMetadata);
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("every role reads back as written") {
  Keys k;
  RootMetadata root = root_of(k, 2);
  RootMetadata again = parse_root(serialize(root), "root");
  CHECK(serialize(again) == serialize(root));
  TimestampMetadata ts{{Role::kTimestamp, 7, Timestamp(2'000'000'000)},
                       {6, 298, std::string(64, 'c')}};
  CHECK(serialize(parse_timestamp(serialize(ts), "t")) == serialize(ts));
  CHECK(peek_version(serialize(ts), "t") == 7);
  SnapshotMetadata sn{{Role::kSnapshot, 6, Timestamp(2'000'000'000)},
                      {5, 100, std::string(64, 'd')}};
  CHECK(serialize(parse_snapshot(serialize(sn), "s")) == serialize(sn));
  TargetsMetadata t{{Role::kTargets, 5, Timestamp(2'000'000'000)},
                    {entry("A.hotfix"), entry("B.hotfix")}};
  TargetsMetadata t2 = parse_targets(serialize(t), "t");
  REQUIRE(t2.targets.size() == 2);
  CHECK(t2.targets[1] == t.targets[1]);
}

TEST_CASE("the reader refuses what is not exactly the format") {
  Keys k;
  TargetsMetadata t{{Role::kTargets, 5, Timestamp(2'000'000'000)},
                    {entry("B.hotfix"), entry("A.hotfix")}};
  CHECK_THAT(metadata_error([&] { parse_targets(serialize(t), "t"); }),
             Catch::Contains("is not after \"B.hotfix\": names are sorted and appear once"));
  t.targets = {entry("A.hotfix"), entry("A.hotfix")};
  CHECK_THAT(metadata_error([&] { parse_targets(serialize(t), "t"); }),
             Catch::Contains("appear once"));
  t.targets = {entry("../x.hotfix")};
  CHECK_THAT(metadata_error([&] { parse_targets(serialize(t), "t"); }),
             Catch::Contains("not a plain file name"));
  std::string root = serialize(root_of(k, 1));
  CHECK_THAT(metadata_error([&] { parse_timestamp(root, "t"); }),
             Catch::Contains("expected timestamp metadata, found \"root\" metadata"));
  CHECK_THAT(metadata_error([&] { parse_root(root.substr(0, root.size() / 2), "r"); }),
             Catch::Contains("r: "));
  std::string extra = root;
  extra.insert(1, "\"extra\": 1,");
  CHECK_THAT(metadata_error([&] { parse_root(extra, "r"); }), Catch::Contains("extra"));
  CHECK_THAT(metadata_error([&] { parse_root(serialize(root_of(k, 4)), "r"); }),
             Catch::Contains("the threshold 4 is more than the 3 keys listed"));
  CHECK_THAT(metadata_error([&] { parse_signatures("abc\n", "s"); }),
             Catch::Contains("expected \"<key id> <signature>\""));
  CHECK_THAT(metadata_error([&] { parse_signatures("", "s"); }), Catch::Contains("no signature"));
}

TEST_CASE("a role's threshold counts distinct valid signatures by its own keys") {
  Keys k;
  RootMetadata root = root_of(k, 2);
  std::string bytes = "signed bytes\n";
  auto sigs = [&](std::vector<const PrivateKey*> keys) {
    return parse_signatures(serialize_signatures(sign_with(bytes, keys)), "s");
  };
  CHECK_NOTHROW(verify_role(root, Role::kTargets, bytes, sigs({&k.a, &k.b}), "f"));
  CHECK_THAT(metadata_error([&] { verify_role(root, Role::kTargets, bytes, sigs({&k.a}), "f"); }),
             Catch::Contains("signed by 1 of the 2 targets key(s)"));
  // The same key twice is one signature.
  std::vector<DetachedSignature> twice = sigs({&k.a});
  twice.push_back(twice.front());
  CHECK_THAT(metadata_error([&] { verify_role(root, Role::kTargets, bytes, twice, "f"); }),
             Catch::Contains("signed by 1 of the 2"));
  // A signature of other bytes does not count; a stranger's is named.
  PrivateKey stranger = PrivateKey::generate();
  std::vector<DetachedSignature> mixed = sigs({&k.a, &stranger});
  CHECK_THAT(metadata_error([&] { verify_role(root, Role::kTargets, bytes, mixed, "f"); }),
             Catch::Contains("signed by unknown key"));
  CHECK_THAT(metadata_error([&] {
               verify_role(root, Role::kTargets, "other", sigs({&k.a, &k.b}), "f");
             }),
             Catch::Contains("invalid signature"));
}

TEST_CASE("metadata expires at its time, not after") {
  MetadataHeader h{Role::kSnapshot, 3, Timestamp(1000)};
  CHECK_NOTHROW(check_not_expired(h, Timestamp(999), "s"));
  CHECK_THAT(metadata_error([&] { check_not_expired(h, Timestamp(1000), "s"); }),
             Catch::Contains("snapshot metadata version 3 expired at"));
}
