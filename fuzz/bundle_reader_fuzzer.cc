// libFuzzer target: the bundle reader's whole path, as the installer takes it: signature
// check, then manifest parsing, then payload streaming.
//
// Each input is a bundle file exactly as it would sit on disk, and the target reads it
// through BundleReader::open_verified with a trust store holding one fixed fuzz key
// (fuzz_key.h). To get mutated manifests past the signature, the custom mutator below
// works on the archive's entries and signs whatever manifest.json the result carries with
// that key before compressing it again. This keeps the target on the production path with
// nothing bypassed, and any input that crashes is an ordinary bundle that reproduces with
// `hotfix-installer --trust` given the fuzz key. Some mutations are plain byte mutations
// of the compressed file instead, which reach truncated archives, corrupt compression and
// bad signatures.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "fuzz/bundle_archive.h"
#include "fuzz/fuzz_key.h"
#include "manifests/bundle_format.h"
#include "manifests/bundle_reader.h"
#include "manifests/errors.h"
#include "manifests/sha256.h"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

using hotfix::fuzz::TarEntry;

// Decoded archives larger than this are mutated as bytes only: the mutator's memory stays
// small even for an input that decompresses to a lot.
constexpr std::size_t kMaxDecodedBytes = 1 << 20;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "bundle_reader_fuzzer: %s\n", what);
    std::abort();
  }
}

// The reader takes a path: the input goes into one memory file, reused across runs.
const std::string& input_path(const std::uint8_t* data, std::size_t size) {
  static const int fd = [] {
    int f = ::memfd_create("fuzz.hotfix", MFD_CLOEXEC);
    check(f >= 0, "memfd_create failed");
    return f;
  }();
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  check(::ftruncate(fd, 0) == 0, "ftruncate failed");
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    check(n > 0, "pwrite failed");
    done += static_cast<std::size_t>(n);
  }
  return path;
}

// FUZZ_VERBOSE=1 prints what each input came to, for looking at seeds and findings.
bool verbose() {
  static const bool on = std::getenv("FUZZ_VERBOSE") != nullptr;
  return on;
}

struct Streamed {
  std::uint64_t size = 0;
  bool whole = false;  // the sink read it to the end itself
  hotfix::Sha256Digest hash{};
};

void read_bundle(const std::string& path, bool collect_problems, bool read_partly) {
  static const hotfix::TrustStore trust = hotfix::fuzz::fuzz_trust_store();
  try {
    hotfix::BundleReader reader = hotfix::BundleReader::open_verified(path, trust);
    check(reader.verified(), "open_verified returned an unverified reader");
    const hotfix::Manifest& manifest = reader.manifest();
    check(manifest.bundle && manifest.bundle->key_id == trust.keys()[0].fingerprint(),
          "a verified manifest names another key");

    std::map<hotfix::Sha256Digest, std::uint64_t> declared;
    for (const auto& [arch, files] : manifest.architectures) {
      check(arch == manifest.bundle->arch, "a verified bundle holds another architecture");
      for (const hotfix::FileEntry& file : files) {
        check(file.sha256.has_value(), "a bundle file without a sha256");
        declared[*file.sha256] = file.size;
      }
    }

    std::map<hotfix::Sha256Digest, Streamed> streamed;
    std::vector<std::string> problems;
    reader.for_each_payload(
        [&](const hotfix::Sha256Digest& digest, std::uint64_t size, hotfix::PayloadStream& data) {
          Streamed& s = streamed[digest];
          hotfix::Sha256 hash;
          char buffer[4096];
          std::size_t chunk = 1;
          while (true) {
            std::size_t n = data.read(buffer, chunk);
            check(n <= chunk, "a payload read returned more than asked for");
            if (n == 0) break;
            hash.update(buffer, n);
            s.size += n;
            chunk = chunk * 2 % sizeof buffer + 1;
            if (read_partly && s.size >= 100) return;  // the reader must skip the rest
          }
          check(s.size == size, "a payload stream ended before its declared size");
          s.whole = true;
          s.hash = hash.finish();
        },
        collect_problems ? &problems : nullptr);

    // Accepted without complaint: exactly the declared blobs, each as declared.
    if (!problems.empty()) return;
    check(streamed.size() == declared.size(), "accepted payloads differ from the declared set");
    for (const auto& [digest, s] : streamed) {
      auto it = declared.find(digest);
      check(it != declared.end(), "accepted an undeclared payload");
      if (s.whole) {
        check(s.size == it->second, "accepted a payload of the wrong size");
        check(s.hash == digest, "accepted a payload whose content does not match its name");
      }
    }
    if (verbose()) std::fprintf(stderr, "accepted, %zu payloads\n", streamed.size());
  } catch (const hotfix::Error& error) {
    if (verbose()) std::fprintf(stderr, "%s\n", error.what());
  }
}

// ---- Structure-aware mutation ----

std::string mutate_bytes(std::string text, std::size_t extra) {
  std::size_t size = text.size();
  text.resize(size + extra);
  size = LLVMFuzzerMutate(reinterpret_cast<std::uint8_t*>(text.data()), size, text.size());
  text.resize(size);
  return text;
}

TarEntry* pick(std::vector<TarEntry>& entries, std::minstd_rand& rng) {
  return entries.empty() ? nullptr : &entries[rng() % entries.size()];
}

TarEntry* find(std::vector<TarEntry>& entries, std::string_view name) {
  for (TarEntry& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::string payload_name(std::string_view content) {
  return std::string(hotfix::kPayloadPrefix) + hotfix::to_hex(hotfix::Sha256::of(content));
}

// Names a payload after its (new) content and makes the manifest declare that content, so
// that mutated payloads can still be accepted and reach the deeper checks.
void rehash_payload(std::vector<TarEntry>& entries, TarEntry& payload) {
  std::string old_hex =
      payload.name.substr(std::min(payload.name.size(), hotfix::kPayloadPrefix.size()));
  payload.name = payload_name(payload.data);
  TarEntry* manifest = find(entries, hotfix::kManifestEntry);
  if (!manifest) return;
  auto doc = nlohmann::ordered_json::parse(manifest->data, nullptr, false);
  if (!doc.is_object() || !doc.contains("architectures") || !doc["architectures"].is_object()) {
    return;
  }
  for (auto& [arch, list] : doc["architectures"].items()) {
    if (!list.is_object() || !list.contains("files") || !list["files"].is_array()) continue;
    for (auto& file : list["files"]) {
      if (file.is_object() && file.contains("sha256") && file["sha256"] == old_hex) {
        file["sha256"] = payload.name.substr(hotfix::kPayloadPrefix.size());
        file["size"] = payload.data.size();
      }
    }
  }
  manifest->data = doc.dump(2) + "\n";
}

void mutate_entries(std::vector<TarEntry>& entries, std::minstd_rand& rng) {
  static const char* const kNames[] = {
      "manifest.json", "manifest.json.sig", "payload/",  "payload/../manifest.json",
      "/etc/passwd",   "payload/x",         "../escape", "",
      "payload/./a",   "payload//a"};
  switch (rng() % 10) {
    case 0:
    case 1:
    case 2: {  // the manifest's text, most often: that is where the structure is
      TarEntry* e = find(entries, hotfix::kManifestEntry);
      if (!e || rng() % 4 == 0) e = pick(entries, rng);
      if (e) e->data = mutate_bytes(e->data, 256);
      break;
    }
    case 3:
      if (TarEntry* e = pick(entries, rng)) {
        e->data = mutate_bytes(e->data, 64);
        if (e->name.rfind(hotfix::kPayloadPrefix, 0) == 0 && rng() % 2) rehash_payload(entries, *e);
      }
      break;
    case 4:
      if (TarEntry* e = pick(entries, rng)) {
        if (rng() % 2) {
          e->name = kNames[rng() % std::size(kNames)];
        } else if (rng() % 2) {
          e->name = mutate_bytes(e->name, 16);
        } else {
          e->name = payload_name(e->data);
        }
      }
      break;
    case 5:
      if (TarEntry* e = pick(entries, rng)) {
        e->type = static_cast<TarEntry::Type>(rng() % 6);
        if (e->type != TarEntry::Type::kFile && e->data.empty()) e->data = "manifest.json";
      }
      break;
    case 6:
      if (!entries.empty())
        entries.erase(entries.begin() + static_cast<long>(rng() % entries.size()));
      break;
    case 7:
      if (TarEntry* e = pick(entries, rng)) {
        TarEntry copy = *e;
        entries.insert(entries.begin() + static_cast<long>(rng() % (entries.size() + 1)), copy);
      }
      break;
    case 8:
      if (entries.size() >= 2)
        std::swap(entries[rng() % entries.size()], entries[rng() % entries.size()]);
      break;
    case 9: {  // a new payload: undeclared, or declared by rehashing
      TarEntry e;
      e.data = mutate_bytes("", 64);
      e.name = payload_name(e.data);
      entries.push_back(e);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Two cheap bits of the input choose how the payloads are consumed.
  std::uint8_t last = size ? data[size - 1] : 0;
  read_bundle(input_path(data, size), (last & 1) != 0, (last & 2) != 0);
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  std::minstd_rand rng(seed);
  if (rng() % 8 == 0) return LLVMFuzzerMutate(data, size, max_size);
  auto entries = hotfix::fuzz::decode_tar({data, size}, kMaxDecodedBytes);
  if (!entries) return LLVMFuzzerMutate(data, size, max_size);
  int rounds = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < rounds; ++i) mutate_entries(*entries, rng);
  if (rng() % 16 != 0) hotfix::fuzz::sign_manifest(*entries);
  std::string tar = hotfix::fuzz::encode_tar(*entries);
  if (rng() % 32 == 0 && !tar.empty()) tar.resize(rng() % tar.size());  // a truncated archive
  std::string out = hotfix::fuzz::zstd_compress(tar, 1);
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}
