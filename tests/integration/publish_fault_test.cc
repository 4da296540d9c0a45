// A publish stopped at every step (each file about to be renamed into place, and the pruning)
// leaves a repository that clients read whole: the old version or the new one, never a mix,
// and that the next publish carries on from. Clients are the real TUF workflow reading the
// repository over file://.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "installer/repo_client.h"
#include "manifests/repo_metadata.h"
#include "packager/repo_publish.h"
#include "tests/support/hotfix_kit.h"
#include "tests/support/temp_dir.h"

using hotfix::test::HotfixKit;
using hotfix::test::KitHotfix;
using hotfix::test::TempDir;
namespace fs = std::filesystem;

namespace {

struct StopHere {
  std::string step;
};

KitHotfix kit_hotfix(const std::string& id) {
  KitHotfix h;
  h.id = id;
  h.files = {{"app/bin/" + id + ".dll", *hotfix::Version::parse("1.0.0.2"), "",
              hotfix::FileKind::kBinary, false}};
  return h;
}

class Publisher {
 public:
  Publisher()
      : root_(hotfix::PrivateKey::generate()),
        online_(hotfix::PrivateKey::generate()),
        targets_(hotfix::PrivateKey::load_pem_file((kit_.dir() / "key.key").string())) {
    hotfix::repo_init(context(base()), root_, targets_, online_);
    bundles_["KB1"] = kit_.build(kit_hotfix("KB1"));
    bundles_["KB2"] = kit_.build(kit_hotfix("KB2"));
    hotfix::repo_add(context(base()), {bundles_["KB1"]}, keys(), {});
  }

  std::string base() const { return (dir_ / "base").string(); }
  const std::string& bundle(const std::string& id) { return bundles_[id]; }
  hotfix::SigningKeys keys() const { return {targets_, online_}; }
  hotfix::SigningKeys all_keys() const { return {targets_, online_, root_, rotated_}; }
  const hotfix::PrivateKey& rotated() const { return rotated_; }
  const hotfix::PrivateKey& root_key() const { return root_; }

  hotfix::PublishContext context(const std::string& repo, hotfix::PublishStep step = {}) const {
    hotfix::PublishContext ctx;
    ctx.dir = repo;
    ctx.now = hotfix::Timestamp(static_cast<std::int64_t>(std::time(nullptr)));
    ctx.step = std::move(step);
    return ctx;
  }

  // A copy of the base repository to interrupt.
  std::string copy(const std::string& name) const {
    fs::path to = dir_ / name;
    fs::remove_all(to);
    fs::copy(base(), to, fs::copy_options::recursive);
    return to.string();
  }

 private:
  HotfixKit kit_;
  TempDir dir_;
  hotfix::PrivateKey root_, online_, targets_;
  hotfix::PrivateKey rotated_ = hotfix::PrivateKey::generate();  // a timestamp key to rotate to
  std::map<std::string, std::string> bundles_;
};

// What a client that trusts `trusted` finds in the repository: the ids it offers.
std::set<std::string> read_by_client(const hotfix::TrustedRepository& trusted,
                                     const std::string& repo) {
  hotfix::SourceConfig source{"corp", {"file://" + repo}, ""};
  auto transport = hotfix::make_curl_transport({});
  hotfix::SyncOptions options;
  options.now = hotfix::Timestamp(static_cast<std::int64_t>(std::time(nullptr)));
  hotfix::MetadataUpdate u = hotfix::update_metadata(trusted, source, *transport, options);
  std::set<std::string> ids;
  for (const auto& e : u.trusted.targets->targets) ids.insert(e.hotfix.id);
  return ids;
}

hotfix::TrustedRepository anchor(const std::string& repo) {
  hotfix::TrustedRepository t;
  t.source = "corp";
  t.root_file.bytes = hotfix::test::read_file(repo + "/metadata/1.root.json");
  t.root_file.signatures = hotfix::test::read_file(repo + "/metadata/1.root.json.sig");
  t.root = hotfix::check_anchor(t.root_file, "root");
  return t;
}

// The steps of one publish, counted on a copy that is left to finish.
std::vector<std::string> steps_of(
    const Publisher& p, const std::function<void(const hotfix::PublishContext&)>& publish) {
  std::vector<std::string> steps;
  publish(p.context(p.copy("count"), [&](const std::string& s) { steps.push_back(s); }));
  return steps;
}

// Stops `publish` at each of its steps in turn and checks what two clients read: one that
// synced before (it trusts the published base), one that only has root 1.
void every_step(Publisher& p, const std::function<void(const hotfix::PublishContext&)>& publish,
                const std::set<std::string>& before, const std::set<std::string>& after) {
  hotfix::TrustedRepository fresh = anchor(p.base());
  hotfix::SourceConfig source{"corp", {"file://" + p.base()}, ""};
  auto transport = hotfix::make_curl_transport({});
  hotfix::SyncOptions options;
  options.now = hotfix::Timestamp(static_cast<std::int64_t>(std::time(nullptr)));
  hotfix::TrustedRepository synced =
      hotfix::update_metadata(fresh, source, *transport, options).trusted;
  std::vector<std::string> steps = steps_of(p, publish);
  REQUIRE(steps.size() >= 4);
  for (std::size_t k = 0; k < steps.size(); ++k) {
    INFO("stopped before step " << k << ": " << steps[k]);
    std::string repo = p.copy("stopped");
    std::size_t seen = 0;
    CHECK_THROWS_AS(publish(p.context(repo,
                                      [&](const std::string& s) {
                                        if (seen++ == k) throw StopHere{s};
                                      })),
                    StopHere);
    for (const auto* client : {&synced, &fresh}) {
      std::set<std::string> ids = read_by_client(*client, repo);
      CHECK((ids == before || ids == after));
    }
    // The publisher carries on: the same publish again gives the new repository (or, when
    // only the pruning was left, the next job, a refresh, works on it).
    if (before != after && read_by_client(fresh, repo) == after) {
      hotfix::repo_refresh(p.context(repo), p.all_keys());
    } else {
      publish(p.context(repo));
    }
    CHECK(read_by_client(synced, repo) == after);
    CHECK(read_by_client(fresh, repo) == after);
  }
}

}  // namespace

TEST_CASE("repo add stopped at every step leaves the old repository or the new one") {
  Publisher p;
  every_step(p,
             [&](const hotfix::PublishContext& ctx) {
               hotfix::repo_add(ctx, {p.bundle("KB2")}, p.keys(), {});
             },
             {"KB1"}, {"KB1", "KB2"});
}

TEST_CASE("repo remove stopped at every step leaves the old repository or the new one") {
  Publisher p;
  every_step(p,
             [&](const hotfix::PublishContext& ctx) { hotfix::repo_remove(ctx, "KB1", p.keys()); },
             {"KB1"}, {});
}

TEST_CASE("a timestamp key rotation stopped at every step leaves a repository clients follow") {
  Publisher p;
  const hotfix::PrivateKey& next = p.rotated();
  hotfix::SigningKeys keys = p.keys();
  keys.push_back(p.root_key());
  every_step(p,
             [&](const hotfix::PublishContext& ctx) {
               hotfix::repo_rotate(ctx, hotfix::Role::kTimestamp, next, keys);
             },
             {"KB1"}, {"KB1"});
}

TEST_CASE("the publisher follows its whole root chain, past the client's per-sync bound") {
  Publisher p;
  hotfix::SigningKeys keys = p.keys();
  keys.push_back(p.root_key());
  const std::uint64_t rotations = hotfix::kMaxRootRotations + 2;
  for (std::uint64_t i = 0; i < rotations; ++i) {
    hotfix::repo_rotate(p.context(p.base()), hotfix::Role::kTimestamp, p.rotated(), keys);
  }
  hotfix::PublishedState s = hotfix::load_published(p.base());
  CHECK(s.root.header.version == rotations + 1);
  // The next rotation writes a new root rather than replacing one.
  hotfix::repo_rotate(p.context(p.base()), hotfix::Role::kTimestamp, p.rotated(), keys);
  CHECK(hotfix::load_published(p.base()).root.header.version == rotations + 2);
  CHECK(fs::exists(p.base() + "/metadata/" + std::to_string(rotations + 2) + ".root.json"));
}
