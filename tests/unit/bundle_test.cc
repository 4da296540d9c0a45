// The bundle container end to end: writer and reader, reproducibility, and refusals.
#include <sys/stat.h>
#include <utime.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <set>

#include "manifests/bundle_format.h"
#include "manifests/bundle_reader.h"
#include "manifests/manifest_json.h"
#include "packager/bundle_builder.h"
#include "packager/bundle_writer.h"
#include "tests/support/raw_bundle.h"
#include "tests/support/temp_dir.h"

using namespace hotfix;
using hotfix::test::RawEntry;
using hotfix::test::TempDir;

namespace {

FileEntry data_entry(const std::string& name, const std::string& dest, std::uint64_t size) {
  FileEntry f;
  f.name = name;
  f.destination = dest;
  f.size = size;
  f.timestamp = *Timestamp::parse_iso8601("2007-12-18T21:00:00Z");
  f.platform = Arch::kNeutral;
  return f;
}

// Content that compresses like a binary would, different per seed.
std::string content(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  unsigned x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>((i % 7 == 0) ? (x & 0xff) : "MOVPUSHCALLRET"[x % 14]);
  }
  return s;
}

struct Fixture {
  TempDir dir;
  PrivateKey key = PrivateKey::generate();
  TrustStore trust;
  Manifest slice;
  std::map<std::string, std::string> files;  // path -> content

  Fixture() {
    trust.add(key.public_key());
    slice.id = "KB967131";
    slice.title = "test";
    slice.languages = {"en-US"};
    slice.restart = RestartRequirement::kReboot;
    auto& list = slice.architectures[Arch::kX64];
    list.push_back(data_entry("Appcmd.xml", "Windows/System32/inetsrv", 3654));
    list.push_back(data_entry("Appcmd.xml", "Windows/SysWOW64/inetsrv", 3654));  // same bytes
    list.push_back(data_entry("big.bin", "Windows/System32/inetsrv", 3 << 20));
    list.push_back(data_entry("empty.txt", "", 0));
    slice.bundle = BundleScope{Arch::kX64, std::nullopt, ""};
    for (std::size_t i = 0; i < list.size(); ++i) {
      unsigned seed = list[i].name == "Appcmd.xml" ? 1 : static_cast<unsigned>(i + 7);
      std::string bytes = content(list[i].size, seed);
      files[list[i].path()] = bytes;
      hotfix::test::write_file(dir / ("drop/" + list[i].path()), bytes);
    }
  }

  std::string drop() const { return (dir / "drop").string(); }
  std::string write(const std::string& name, BundleWriteOptions options = {}) {
    std::string out = (dir / name).string();
    write_bundle(slice, drop(), key, out, options);
    return out;
  }
};

ErrorKind kind_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  FAIL("no error thrown");
  return ErrorKind::kInternal;
}

void read_all(BundleReader& reader, std::map<std::string, std::string>* by_hash = nullptr) {
  reader.for_each_payload([&](const Sha256Digest& d, std::uint64_t size, PayloadStream& s) {
    std::string data;
    char buf[4096];
    while (std::size_t n = s.read(buf, sizeof buf)) data.append(buf, n);
    CHECK(data.size() == size);
    if (by_hash) (*by_hash)[to_hex(d)] = data;
  });
}

}  // namespace

TEST_CASE("A written bundle reads back with every payload, stored once per content") {
  Fixture fx;
  std::string path = (fx.dir / "KB967131-x64.hotfix").string();
  BundleWriteResult result = write_bundle(fx.slice, fx.drop(), fx.key, path);
  CHECK(result.blobs == 3);  // the two Appcmd.xml share one payload
  CHECK(result.input_bytes == 3654 * 2 + (3u << 20));
  CHECK(result.bundle_bytes < result.input_bytes);

  BundleReader reader = BundleReader::open_verified(path, fx.trust);
  CHECK(reader.verified());
  CHECK(reader.signer()->fingerprint() == fx.key.public_key().fingerprint());
  const Manifest& m = reader.manifest();
  CHECK(m == result.manifest);
  CHECK(m.bundle->key_id == fx.key.public_key().fingerprint());
  std::map<std::string, std::string> payloads;
  read_all(reader, &payloads);
  CHECK(payloads.size() == 3);
  for (const FileEntry& f : m.architectures.at(Arch::kX64)) {
    REQUIRE(f.sha256);
    CHECK(payloads.at(to_hex(*f.sha256)) == fx.files.at(f.path()));
  }
}

TEST_CASE(
    "Bundles are byte-identical for the same inputs, whatever the thread count or read window") {
  Fixture fx;
  std::string a = hotfix::test::read_file(fx.write("a.hotfix", {3, 1, {}}));
  std::string b = hotfix::test::read_file(fx.write("b.hotfix", {3, 2, {}}));
  std::string c = hotfix::test::read_file(fx.write("c.hotfix", {3, 4, {}}));
  CHECK(a == b);
  CHECK(a == c);
  // Nor on how the drop is read: big.bin (3 MiB) is read in one window or in many.
  BundleWriteOptions small_windows;
  small_windows.read = {4096, 2};
  CHECK(hotfix::test::read_file(fx.write("w.hotfix", small_windows)) == b);
  // File metadata of the drop (mtime, mode) does not leak into the bundle.
  ::chmod((fx.dir / "drop/Windows/System32/inetsrv/big.bin").c_str(), 0600);
  CHECK(hotfix::test::read_file(fx.write("d.hotfix")) == b);
}

TEST_CASE("A bundle is a plain tar.zst: manifest first, signature second, payloads by hash") {
  Fixture fx;
  std::string path = fx.write("KB967131-x64.hotfix");
  std::string list = (fx.dir / "list.txt").string();
  REQUIRE(std::system(("tar --zstd -tf " + path + " > " + list).c_str()) == 0);
  std::string names = hotfix::test::read_file(list);
  CHECK(names.rfind("manifest.json\nmanifest.json.sig\npayload/", 0) == 0);
  CHECK(std::count(names.begin(), names.end(), '\n') == 5);
}

TEST_CASE("The bundle appears whole or not at all, a drop that changed is refused") {
  Fixture fx;
  hotfix::test::write_file(fx.dir / "drop/Windows/System32/inetsrv/big.bin", "short");
  std::string out = (fx.dir / "x.hotfix").string();
  CHECK(kind_of([&] { write_bundle(fx.slice, fx.drop(), fx.key, out); }) ==
        ErrorKind::kVerification);
  CHECK_FALSE(std::filesystem::exists(out));
  for (const auto& e : std::filesystem::directory_iterator(fx.dir.path())) {
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  }
}

TEST_CASE("Signature problems are refused before any payload is read") {
  Fixture fx;
  std::string good = fx.write("good.hotfix");
  std::string manifest_json, sig;
  {
    BundleReader r = BundleReader::open_verified(good, fx.trust);
    manifest_json = r.manifest_json();
    sig = fx.key.sign(manifest_json);
  }
  std::string payload = fx.files.at("empty.txt");
  std::string msg;

  SECTION("no trusted key at all") {
    CHECK(kind_of([&] { BundleReader::open_verified(good, TrustStore{}); }, &msg) ==
          ErrorKind::kSignature);
    CHECK(msg.find("no trusted keys") != std::string::npos);
  }
  SECTION("unknown key") {
    TrustStore other;
    other.add(PrivateKey::generate().public_key());
    CHECK(kind_of([&] { BundleReader::open_verified(good, other); }, &msg) ==
          ErrorKind::kSignature);
    CHECK(msg.find("unknown key " + short_fingerprint(fx.key.public_key().fingerprint())) !=
          std::string::npos);
  }
  SECTION("manifest altered after signing") {
    std::string altered = manifest_json;
    altered.replace(altered.find("\"test\""), 6, "\"evil\"");
    std::string path = (fx.dir / "altered.hotfix").string();
    hotfix::test::write_raw_archive(path, {{"manifest.json", altered}, {"manifest.json.sig", sig}});
    CHECK(kind_of([&] { BundleReader::open_verified(path, fx.trust); }, &msg) ==
          ErrorKind::kSignature);
    CHECK(msg.find("bad signature") != std::string::npos);
  }
  SECTION("unsigned") {
    std::string path = (fx.dir / "unsigned.hotfix").string();
    hotfix::test::write_raw_archive(path, {{"manifest.json", manifest_json}});
    CHECK(kind_of([&] { BundleReader::open_verified(path, fx.trust); }, &msg) ==
          ErrorKind::kSignature);
    CHECK(msg.find("not signed") != std::string::npos);
  }
  SECTION("signature of the wrong length") {
    std::string path = (fx.dir / "short.hotfix").string();
    hotfix::test::write_raw_archive(
        path, {{"manifest.json", manifest_json}, {"manifest.json.sig", sig.substr(0, 10)}});
    CHECK(kind_of([&] { BundleReader::open_verified(path, fx.trust); }) == ErrorKind::kSignature);
  }
  SECTION("payload before the signature") {
    std::string path = (fx.dir / "order.hotfix").string();
    hotfix::test::write_raw_archive(path, {{"manifest.json", manifest_json},
                                           {"payload/" + to_hex(Sha256::of("")), ""},
                                           {"manifest.json.sig", sig}});
    CHECK(kind_of([&] { BundleReader::open_verified(path, fx.trust); }) == ErrorKind::kSignature);
  }
}

TEST_CASE("Malformed payload sections are refused with the entry named") {
  Fixture fx;
  std::string good = fx.write("good.hotfix");
  std::string manifest_json;
  Manifest m;
  {
    BundleReader r = BundleReader::open_verified(good, fx.trust);
    manifest_json = r.manifest_json();
    m = r.manifest();
  }
  std::string sig = fx.key.sign(manifest_json);
  // The three correct payload entries, in order.
  std::vector<RawEntry> payloads;
  std::set<std::string> seen;
  for (const FileEntry& f : m.architectures.at(Arch::kX64)) {
    std::string hex = to_hex(*f.sha256);
    if (seen.insert(hex).second) payloads.push_back({"payload/" + hex, fx.files.at(f.path())});
  }
  auto bundle_with = [&](std::vector<RawEntry> rest, const std::string& compression = "zstd") {
    std::vector<RawEntry> entries{{"manifest.json", manifest_json}, {"manifest.json.sig", sig}};
    entries.insert(entries.end(), rest.begin(), rest.end());
    std::string path = (fx.dir / "bad.hotfix").string();
    hotfix::test::write_raw_archive(path, entries, compression);
    return path;
  };
  auto read = [&](const std::string& path) {
    BundleReader r = BundleReader::open_verified(path, fx.trust);
    read_all(r);
  };
  std::string msg;

  SECTION("the raw writer makes a good bundle from the right entries") {
    CHECK_NOTHROW(read(bundle_with(payloads)));
  }
  SECTION("undeclared entry") {
    auto p = payloads;
    p.push_back({"payload/" + to_hex(Sha256::of("x")), "x"});
    CHECK(kind_of([&] { read(bundle_with(p)); }, &msg) == ErrorKind::kBadInput);
    CHECK(msg.find("not declared") != std::string::npos);
  }
  SECTION("entry outside payload/") {
    auto p = payloads;
    p.push_back({"../../etc/passwd", "x"});
    CHECK(kind_of([&] { read(bundle_with(p)); }, &msg) == ErrorKind::kBadInput);
    CHECK(msg.find("undeclared archive entry") != std::string::npos);
  }
  SECTION("duplicated payload") {
    auto p = payloads;
    p.push_back(payloads[0]);
    CHECK(kind_of([&] { read(bundle_with(p)); }, &msg) == ErrorKind::kBadInput);
    CHECK(msg.find("appears twice") != std::string::npos);
  }
  SECTION("missing payload") {
    auto p = payloads;
    p.pop_back();
    CHECK(kind_of([&] { read(bundle_with(p)); }, &msg) == ErrorKind::kVerification);
    CHECK(msg.find("missing") != std::string::npos);
  }
  SECTION("payload with other content of the same size") {
    auto p = payloads;
    p[0].content[5] ^= 1;
    CHECK(kind_of([&] { read(bundle_with(p)); }, &msg) == ErrorKind::kVerification);
    CHECK(msg.find("does not match its SHA-256") != std::string::npos);
  }
  SECTION("payload whose size differs from the manifest") {
    auto p = payloads;
    p[0].content += "extra";
    CHECK(kind_of([&] { read(bundle_with(p)); }, &msg) == ErrorKind::kVerification);
    CHECK(msg.find("differs from the manifest") != std::string::npos);
  }
  SECTION("a header that claims a huge size is refused before its data is read") {
    auto p = payloads;
    p[0].declared_size = 4LL << 30;  // 4 GiB claimed, a few KiB present
    p.resize(1);
    CHECK(kind_of([&] { read(bundle_with(p)); }, &msg) == ErrorKind::kVerification);
    CHECK(msg.find("payload size 4294967296 differs") != std::string::npos);
  }
  SECTION("links, directories, FIFOs and devices") {
    for (auto type :
         {RawEntry::Type::kSymlink, RawEntry::Type::kHardlink, RawEntry::Type::kDirectory,
          RawEntry::Type::kFifo, RawEntry::Type::kCharDevice}) {
      auto p = payloads;
      p[0].type = type;
      p[0].content = "/etc/passwd";
      CHECK(kind_of([&] { read(bundle_with(p)); }, &msg) == ErrorKind::kBadInput);
      CHECK(msg.find("not a regular file") != std::string::npos);
    }
  }
  SECTION("not zstd") {
    CHECK(kind_of([&] { read(bundle_with(payloads, "gzip")); }, &msg) == ErrorKind::kBadInput);
    CHECK(kind_of([&] { read(bundle_with(payloads, "none")); }, &msg) == ErrorKind::kBadInput);
  }
  SECTION("truncated at many points") {
    std::string bytes = hotfix::test::read_file(good);
    for (std::size_t cut : {std::size_t{0}, std::size_t{10}, bytes.size() / 3, bytes.size() / 2,
                            bytes.size() - 100, bytes.size() - 1}) {
      std::string path = (fx.dir / "cut.hotfix").string();
      hotfix::test::write_file(path, bytes.substr(0, cut));
      INFO("cut at " << cut);
      ErrorKind k = kind_of([&] { read(path); });
      CHECK((k == ErrorKind::kBadInput || k == ErrorKind::kSignature));
    }
  }
  SECTION("corrupt compressed bytes") {
    std::string bytes = hotfix::test::read_file(good);
    bytes[bytes.size() / 2] ^= 0x55;
    std::string path = (fx.dir / "flip.hotfix").string();
    hotfix::test::write_file(path, bytes);
    ErrorKind k = kind_of([&] { read(path); });
    CHECK((k == ErrorKind::kBadInput || k == ErrorKind::kVerification));
  }
}

TEST_CASE("A manifest too large for the reserved gap still gives a valid, reproducible bundle") {
  Fixture fx;
  std::string text;
  unsigned x = 12345;
  for (int i = 0; i < 300000; ++i) {  // incompressible enough to overflow the gap
    x = x * 1103515245u + 12345u;
    text.push_back(static_cast<char>('a' + (x >> 16) % 26));
  }
  fx.slice.description = text;
  std::string a = fx.write("a.hotfix");
  std::string b = fx.write("b.hotfix");
  CHECK(hotfix::test::read_file(a) == hotfix::test::read_file(b));
  BundleReader reader = BundleReader::open_verified(a, fx.trust);
  CHECK(reader.manifest().description == text);
  std::map<std::string, std::string> payloads;
  read_all(reader, &payloads);
  CHECK(payloads.size() == 3);
  CHECK(std::system(("tar --zstd -tf " + a + " >/dev/null").c_str()) == 0);
}

TEST_CASE("Reading a payload stops at its declared size, whatever follows in the archive") {
  Fixture fx;
  std::string good = fx.write("good.hotfix");
  std::string manifest_json = BundleReader::open_verified(good, fx.trust).manifest_json();
  const FileEntry& first = fx.slice.architectures.at(Arch::kX64).front();
  std::string content = fx.files.at(first.path());
  // The tar header says the declared size; 1 MiB more follows, which is no valid tar entry.
  RawEntry lying{"payload/" + to_hex(Sha256::of(content)), content + std::string(1 << 20, 'A')};
  lying.declared_size = static_cast<long long>(content.size());
  std::string path = (fx.dir / "lying.hotfix").string();
  hotfix::test::write_raw_archive(
      path,
      {{"manifest.json", manifest_json}, {"manifest.json.sig", fx.key.sign(manifest_json)}, lying});
  BundleReader reader = BundleReader::open_verified(path, fx.trust);
  std::uint64_t delivered = 0;
  std::string msg;
  CHECK(kind_of(
            [&] {
              reader.for_each_payload([&](const Sha256Digest&, std::uint64_t, PayloadStream& s) {
                std::vector<char> buffer(4 << 20);  // asks for far more than declared
                while (std::size_t n = s.read(buffer.data(), buffer.size())) delivered += n;
              });
            },
            &msg) == ErrorKind::kBadInput);
  CHECK(delivered == content.size());
  CHECK(msg.find("not a valid bundle") != std::string::npos);
}
