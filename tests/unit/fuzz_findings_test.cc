// What fuzzing found, kept found: each test reproduces one finding of the fuzz targets in
// fuzz/ (docs/testing.md), and the inputs that crashed them are replayed from the corpora.
#include <sys/resource.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "manifests/bundle_reader.h"
#include "manifests/errors.h"
#include "manifests/file_identity.h"
#include "manifests/manifest_json.h"
#include "manifests/trust_store.h"
#include "tests/support/raw_bundle.h"
#include "tests/support/temp_dir.h"

using namespace hotfix;

namespace {

std::string header_with_files(const std::string& files) {
  return R"({"schema": 1, "id": "KB1", "title": "t", "revision": 1, "languages": ["en-US"],
             "restart": "none", "architectures": {"x64": {"files": [)" +
         files + "]}}}";
}

std::string repeat(const std::string& item, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += (i ? "," : "") + item;
  return out;
}

// The process's peak resident memory so far, in MiB.
long peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

ManifestError parse_error(const std::string& text, ManifestReadOptions options = {}) {
  try {
    parse_manifest(text, "m.json", options);
  } catch (const ManifestError& error) {
    return error;
  }
  FAIL("the manifest was accepted");
  throw;
}

}  // namespace

// Found by manifest_fuzzer's memory limit: every issue was kept, so a 16 MiB manifest of
// empty file entries ("{}," 5.6 million times) made over 2 GB of messages (about 600 bytes
// per input byte), before the manifest was rejected anyway.
TEST_CASE("a manifest with thousands of broken entries lists a bounded number of issues") {
  constexpr std::size_t kEntries = 10000;
  SECTION("source manifest: six missing fields per entry") {
    ManifestError error = parse_error(header_with_files(repeat("{}", kEntries)));
    REQUIRE(error.issues().size() == kMaxManifestIssues + 1);
    CHECK(error.issues()[0].path == "architectures.x64.files[0].name");
    CHECK(error.issues()[kMaxManifestIssues - 1].path == "architectures.x64.files[16].size");
    CHECK(error.issues().back().path.empty());
    CHECK(error.issues().back().message == "and " +
                                               std::to_string(6 * kEntries - kMaxManifestIssues) +
                                               " more issues not listed (the first 100 are)");
    CHECK(error.report().size() < 20000);
  }
  SECTION("bundle manifest: the sha256 is missing too, and the bundle scope") {
    ManifestError error = parse_error(header_with_files(repeat("{}", kEntries)), {.bundle = true});
    REQUIRE(error.issues().size() == kMaxManifestIssues + 1);
    // "bundle" missing comes first, then seven per entry.
    CHECK(error.issues().back().message ==
          "and " + std::to_string(1 + 7 * kEntries - kMaxManifestIssues) +
              " more issues not listed (the first 100 are)");
  }
  SECTION("exactly at the limit nothing is left out") {
    // 100 entries missing only "platform": one issue each.
    std::string entry =
        R"({"name": "a", "destination": "d%", "version": null, "size": 0,
            "timestamp": "2008-12-13T04:27:00Z"})";
    std::string files;
    for (std::size_t i = 0; i < kMaxManifestIssues; ++i) {
      std::string e = entry;
      e.replace(e.find('%'), 1, std::to_string(i));
      files += (i ? "," : "") + e;
    }
    ManifestError error = parse_error(header_with_files(files));
    REQUIRE(error.issues().size() == kMaxManifestIssues);
    CHECK(error.issues().back().path == "architectures.x64.files[99].platform");
  }
}

TEST_CASE("duplicate keys past the issue limit are counted, not listed") {
  std::string object = "{" + repeat(R"("title": "t")", 250) + "}";
  ManifestError error = parse_error(object);
  REQUIRE(error.issues().size() == kMaxManifestIssues + 1);
  CHECK(error.issues()[0].message ==
        "duplicate key \"title\" (expected each key once in an object)");
  // 249 duplicates, then the missing fields of the manifest (all counted, none listed).
  CHECK(error.issues().back().message.rfind("and ", 0) == 0);
  CHECK(error.issues().back().message.find(" more issues not listed") != std::string::npos);
}

// Found by bundle_reader_fuzzer's memory limit (regression-deep-unverified-manifest): when no
// trusted key verified a bundle, the reader parsed its manifest into a JSON tree without the
// nesting limit, to name the key it claims. 16 MiB of "[" (a 671-byte bundle) made a tree
// of over 2 GB, before anything in the bundle was trusted.
TEST_CASE("an unverifiable bundle with a hostile manifest is rejected in bounded memory") {
  test::TempDir dir;
  std::string bundle = (dir / "deep.hotfix").string();
  test::write_raw_archive(bundle, {{"manifest.json", std::string(16 * 1024 * 1024, '[')},
                                   {"manifest.json.sig", std::string(64, '\x01')}});
  TrustStore trust;
  trust.add(PrivateKey::generate().public_key());
  long before = peak_rss_mib();
  try {
    BundleReader::open_verified(bundle, trust);
    FAIL("accepted");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::kSignature);
    CHECK(std::string(error.what()).find("signed by an unknown key: no trusted key verifies it") !=
          std::string::npos);
  }
  // The manifest's text is read (16 MiB) and hashed; a tree of it would take gigabytes.
  CHECK(peak_rss_mib() - before < 256);
}

// Every input that once made a fuzz target fail, through the same entry points. Bundles are
// opened unverified here: the tests do not have the fuzz key, and the stages after the
// signature check are the ones that read the bundle's content.
TEST_CASE("inputs that made the fuzz targets fail are handled") {
  namespace fs = std::filesystem;
  const fs::path corpus = fs::path(HOTFIX_SOURCE_DIR) / "fuzz" / "corpus";
  std::size_t replayed = 0;
  for (const char* target : {"manifest", "file_identity", "bundle_reader"}) {
    for (const auto& entry : fs::directory_iterator(corpus / target)) {
      if (entry.path().filename().string().rfind("regression-", 0) != 0) continue;
      INFO(entry.path().string());
      std::string bytes = test::read_file(entry.path());
      ++replayed;
      if (std::string_view(target) == "manifest") {
        for (bool bundle : {false, true}) {
          try {
            parse_manifest(bytes, "m.json", {.bundle = bundle});
          } catch (const Error&) {
          }
        }
      } else if (std::string_view(target) == "file_identity") {
        try {
          identify_bytes(
              std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), "f");
        } catch (const Error&) {
        }
      } else {
        try {
          BundleReader reader = BundleReader::open_unverified(entry.path().string());
          reader.for_each_payload([](const Sha256Digest&, std::uint64_t, PayloadStream&) {});
        } catch (const Error&) {
        }
      }
    }
  }
  CHECK(replayed > 0);
}
