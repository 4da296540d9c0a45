// Reading a bundle's payloads on a second thread: every wanted blob reaches the handler whole
// and in archive order, on the calling thread; errors on either side end it cleanly.
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "installer/payload_read_ahead.h"
#include "manifests/errors.h"
#include "manifests/manifest_json.h"
#include "manifests/signature.h"
#include "tests/support/pseudo_random.h"
#include "tests/support/raw_bundle.h"
#include "tests/support/temp_dir.h"

using namespace hotfix;
using hotfix::test::RawEntry;
using hotfix::test::TempDir;

namespace {

FileEntry data_entry(const std::string& name, std::uint64_t size) {
  FileEntry f;
  f.name = name;
  f.destination = "data";
  f.size = size;
  f.timestamp = *Timestamp::parse_iso8601("2007-12-18T21:00:00Z");
  f.platform = Arch::kNeutral;
  return f;
}

std::string content(std::size_t size, unsigned seed) {
  return hotfix::test::pseudo_random(size, seed);
}

// Many small blobs (several share a batch), an empty one, and some larger than a batch.
struct Fixture {
  TempDir dir;
  PrivateKey key = PrivateKey::generate();
  TrustStore trust;
  std::map<Sha256Digest, std::string> blobs;
  std::vector<Sha256Digest> order;  // as the manifest lists them
  std::string bundle;

  Fixture() {
    trust.add(key.public_key());
    Manifest slice;
    slice.id = "KB1";
    slice.title = "test";
    slice.languages = {"en-US"};
    slice.bundle = BundleScope{Arch::kX64, std::nullopt, key.public_key().fingerprint()};
    auto& list = slice.architectures[Arch::kX64];
    std::vector<std::size_t> sizes = {0, 1, 4095, 70000, 20000, 5000};
    for (unsigned i = 0; i < 60; ++i) sizes.push_back(100 + i * 37);
    std::vector<RawEntry> payloads;
    for (unsigned i = 0; i < sizes.size(); ++i) {
      std::string bytes = content(sizes[i], i + 1);
      Sha256Digest d = Sha256::of(bytes.data(), bytes.size());
      FileEntry entry = data_entry("f" + std::to_string(i) + ".bin", sizes[i]);
      entry.sha256 = d;
      list.push_back(entry);
      payloads.push_back({"payload/" + to_hex(d), bytes});
      blobs[d] = bytes;
      order.push_back(d);
    }
    // The bundle's layout, written directly: this layer's tests do not link the packager.
    std::string manifest_json = write_manifest(slice);
    std::vector<RawEntry> entries{{"manifest.json", manifest_json},
                                  {"manifest.json.sig", key.sign(manifest_json)}};
    entries.insert(entries.end(), payloads.begin(), payloads.end());
    bundle = (dir / "b.hotfix").string();
    hotfix::test::write_raw_archive(bundle, entries);
  }
};

struct Received {
  std::vector<std::pair<Sha256Digest, std::string>> blobs;
  std::set<std::thread::id> threads;
  bool open = false;
  bool data_outside_blob = false;
};

PayloadHandler recorder(Received& r) {
  PayloadHandler h;
  h.begin = [&r](const Sha256Digest& d, std::uint64_t) {
    CHECK_FALSE(r.open);
    r.open = true;
    r.blobs.emplace_back(d, std::string());
    r.threads.insert(std::this_thread::get_id());
  };
  h.data = [&r](std::span<const char> bytes) {
    if (!r.open) r.data_outside_blob = true;
    if (r.blobs.empty()) return;
    r.blobs.back().second.append(bytes.data(), bytes.size());
    r.threads.insert(std::this_thread::get_id());
  };
  h.end = [&r] {
    CHECK(r.open);
    r.open = false;
  };
  return h;
}

}  // namespace

TEST_CASE("Every wanted payload reaches the handler whole, in order, on the calling thread") {
  Fixture fx;
  // Small batches, so that blobs span batches and batches hold several blobs.
  ReadAheadOptions options;
  options.batch_bytes = GENERATE(std::size_t{1000}, std::size_t{4096}, std::size_t{1} << 20);
  options.batches = GENERATE(std::size_t{1}, std::size_t{3});
  bool all = GENERATE(true, false);
  std::set<Sha256Digest> unwanted;
  if (!all) {
    for (std::size_t i = 0; i < fx.order.size(); i += 3) unwanted.insert(fx.order[i]);
  }
  BundleReader reader = BundleReader::open_verified(fx.bundle, fx.trust);
  Received r;
  for_each_payload_read_ahead(
      reader, [&](const Sha256Digest& d) { return !unwanted.count(d); }, recorder(r), options);
  CHECK_FALSE(r.open);
  CHECK_FALSE(r.data_outside_blob);
  CHECK(r.threads == std::set<std::thread::id>{std::this_thread::get_id()});
  std::vector<Sha256Digest> expected;
  for (const Sha256Digest& d : fx.order) {
    if (!unwanted.count(d)) expected.push_back(d);
  }
  REQUIRE(r.blobs.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(r.blobs[i].first == expected[i]);
    CHECK(r.blobs[i].second == fx.blobs.at(expected[i]));
  }
}

TEST_CASE("A payload that does not match its hash fails the reading, after it was handed over") {
  Fixture fx;
  std::string manifest_json;
  {
    BundleReader good = BundleReader::open_verified(fx.bundle, fx.trust);
    manifest_json = good.manifest_json();
  }
  std::vector<RawEntry> entries{{"manifest.json", manifest_json},
                                {"manifest.json.sig", fx.key.sign(manifest_json)}};
  for (const Sha256Digest& d : fx.order) {
    entries.push_back({"payload/" + to_hex(d), fx.blobs.at(d)});
  }
  std::size_t bad =
      GENERATE(std::size_t{1}, std::size_t{4}, std::size_t{65});  // 1 byte, large, last
  entries[2 + bad].content[0] ^= 1;
  std::string path = (fx.dir / "bad.hotfix").string();
  hotfix::test::write_raw_archive(path, entries);

  BundleReader reader = BundleReader::open_verified(path, fx.trust);
  Received r;
  ReadAheadOptions options;
  options.batch_bytes = 4096;
  try {
    for_each_payload_read_ahead(
        reader, [](const Sha256Digest&) { return true; }, recorder(r), options);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kVerification);
    CHECK(std::string(e.what()).find("does not match its SHA-256") != std::string::npos);
  }
}

TEST_CASE("A handler that throws stops the reading and its error comes out") {
  Fixture fx;
  BundleReader reader = BundleReader::open_verified(fx.bundle, fx.trust);
  ReadAheadOptions options;
  options.batch_bytes = 4096;
  options.batches = 2;
  int begun = 0;
  PayloadHandler h;
  h.begin = [&](const Sha256Digest&, std::uint64_t) {
    if (++begun == 5) throw std::runtime_error("disk full");
  };
  h.data = [](std::span<const char>) {};
  h.end = [] {};
  CHECK_THROWS_WITH(for_each_payload_read_ahead(
                        reader, [](const Sha256Digest&) { return true; }, h, options),
                    "disk full");
  CHECK(begun == 5);
}
