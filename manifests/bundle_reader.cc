#include "manifests/bundle_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "manifests/bundle_format.h"
#include "manifests/errors.h"
#include "manifests/input_file.h"
#include "manifests/json_prescan.h"
#include "manifests/manifest_json.h"

namespace hotfix {

namespace {

// A bundle whose compressed bytes were damaged after it was written (zstd finds the data
// corrupt, or its frame checksum wrong) differs from what was signed, as a payload whose hash
// differs does: a verification failure (exit 4) wherever the damage is found, in both
// programs. A file that breaks the format's rules is bad input (exit 2).
ErrorKind damage_kind(const std::string& archive_message) {
  return archive_message.find("Zstd decompression failed") != std::string::npos
             ? ErrorKind::kVerification
             : ErrorKind::kBadInput;
}

std::string damage_text(const std::string& archive_message) {
  return (damage_kind(archive_message) == ErrorKind::kVerification
              ? "damaged (it differs from what was signed): "
              : "not a valid bundle: ") +
         archive_message;
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

std::string entry_kind(archive_entry* entry) {
  if (archive_entry_hardlink(entry)) return "a hard link";
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      return "a regular file";
    case AE_IFLNK:
      return "a symbolic link";
    case AE_IFDIR:
      return "a directory";
    case AE_IFCHR:
      return "a character device";
    case AE_IFBLK:
      return "a block device";
    case AE_IFIFO:
      return "a FIFO";
    case AE_IFSOCK:
      return "a socket";
    default:
      return "an entry of unknown type";
  }
}

}  // namespace

struct BundleReader::Impl {
  std::string path;
  ArchivePtr archive;
  std::string manifest_json;
  std::string signature;
  Manifest manifest;
  std::optional<PublicKey> signer;
  bool payloads_read = false;
  std::string last_entry;  // the name of the last entry whose header was read

  [[noreturn]] void corrupt(const std::string& what) const {
    throw Error(damage_kind(what), path, damage_text(what));
  }

  std::string archive_error() const {
    const char* msg = archive_error_string(archive.get());
    return msg ? msg : "unknown archive error";
  }

  // A bundle starts with a zstd frame (or a skippable one); say plainly what else it is.
  void check_magic(const unsigned char* start, std::size_t size) const {
    if (size == 0) corrupt("the file is empty");
    if (has_bundle_magic(start, size)) return;
    if (size >= 2 && start[0] == 0x1f && start[1] == 0x8b) {
      corrupt("gzip-compressed; a bundle is zstd-compressed");
    }
    if (size >= 262 && std::string_view(reinterpret_cast<const char*>(start) + 257, 5) == "ustar") {
      corrupt("an uncompressed tar; a bundle is zstd-compressed");
    }
    corrupt("not a zstd stream (no zstd magic number)");
  }

  void open() {
    archive.reset(archive_read_new());
    archive_read_support_filter_zstd(archive.get());
    archive_read_support_format_tar(archive.get());
    // O_NONBLOCK: a FIFO named by mistake is refused below, not waited on.
    FileDescriptor file = open_named_input(path, O_RDONLY | O_NONBLOCK, "a bundle");
    struct stat st {};
    if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      throw Error(ErrorKind::kBadInput, path, "not a regular file");
    }
    unsigned char start[512] = {};
    ssize_t got = ::pread(file.get(), start, sizeof start, 0);
    if (got < 0) throw SystemError(path, "read bundle", errno);
    check_magic(start, static_cast<std::size_t>(got));
    if (archive_read_open_filename(archive.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
      corrupt(archive_error());
    }
  }

  // Reads the next header; nullptr at a clean end of archive.
  archive_entry* next_entry() {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(archive.get(), &entry);
    if (r == ARCHIVE_EOF) return nullptr;
    if (r != ARCHIVE_OK) {
      // Damage is found at the header that follows the entry whose size lied: name where.
      corrupt(archive_error() +
              (last_entry.empty() ? " at the first entry" : " after entry '" + last_entry + "'"));
    }
    if (archive_filter_code(archive.get(), 0) != ARCHIVE_FILTER_ZSTD) {
      corrupt("the tar stream is not zstd-compressed");
    }
    const char* name = archive_entry_pathname(entry);
    last_entry = name ? name : "";
    return entry;
  }

  std::string read_small_entry(archive_entry* entry, std::string_view name,
                               std::uint64_t max_size) {
    const char* entry_name = archive_entry_pathname(entry);
    if (!entry_name || entry_name != name) {
      corrupt("expected '" + std::string(name) + "' here, found '" +
              (entry_name ? entry_name : "") + "'");
    }
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry)) {
      corrupt("'" + std::string(name) + "' is " + entry_kind(entry) + ", not a regular file");
    }
    if (!archive_entry_size_is_set(entry) || archive_entry_size(entry) < 0 ||
        static_cast<std::uint64_t>(archive_entry_size(entry)) > max_size) {
      corrupt("'" + std::string(name) + "' is larger than " + std::to_string(max_size) + " bytes");
    }
    std::string data(static_cast<std::size_t>(archive_entry_size(entry)), '\0');
    std::size_t done = 0;
    while (done < data.size()) {
      la_ssize_t n = archive_read_data(archive.get(), data.data() + done, data.size() - done);
      if (n < 0) corrupt(archive_error());
      if (n == 0) corrupt("'" + std::string(name) + "' is truncated");
      done += static_cast<std::size_t>(n);
    }
    return data;
  }

  void read_header_entries() {
    archive_entry* entry = next_entry();
    if (!entry) corrupt("the archive is empty");
    manifest_json = read_small_entry(entry, kManifestEntry, kMaxManifestSize);
    entry = next_entry();
    if (!entry) {
      throw Error(ErrorKind::kSignature, path, "bundle is not signed (no manifest.json.sig)");
    }
    const char* name = archive_entry_pathname(entry);
    if (!name || name != kSignatureEntry) {
      throw Error(ErrorKind::kSignature, path,
                  "bundle is not signed: expected manifest.json.sig after manifest.json, found '" +
                      std::string(name ? name : "") + "'");
    }
    signature = read_small_entry(entry, kSignatureEntry, kSignatureSize);
    if (signature.size() != kSignatureSize) {
      throw Error(ErrorKind::kSignature, path,
                  "manifest.json.sig is " + std::to_string(signature.size()) +
                      " bytes, expected a 64-byte Ed25519 signature");
    }
  }

  // The key id the manifest claims, read only to word the error when no trusted key verifies.
  // The text is not trusted: the prescan's limits keep a hostile one (16 MiB of "[", say)
  // from growing into a tree of gigabytes here.
  std::string claimed_key_id() const {
    if (prescan_json(manifest_json, kMaxManifestBytes, kMaxJsonDepth).fatal) return {};
    nlohmann::json doc = nlohmann::json::parse(manifest_json, nullptr, false);
    if (doc.is_object() && doc.contains("bundle") && doc["bundle"].is_object() &&
        doc["bundle"].contains("key_id") && doc["bundle"]["key_id"].is_string()) {
      return doc["bundle"]["key_id"].get<std::string>();
    }
    return {};
  }

  void verify(const TrustStore& trust) {
    if (trust.empty()) {
      throw Error(ErrorKind::kSignature, path,
                  "no trusted keys: give --trust KEY.pub (an unverified bundle is never used)");
    }
    for (const PublicKey& key : trust.keys()) {
      if (key.verify(manifest_json, signature)) {
        signer = key;
        return;
      }
    }
    std::string claimed = claimed_key_id();
    if (!claimed.empty() && trust.find(claimed)) {
      throw Error(ErrorKind::kSignature, path,
                  "bad signature: manifest.json does not match its signature by trusted key " +
                      short_fingerprint(claimed) + " (the bundle was altered)");
    }
    throw Error(ErrorKind::kSignature, path,
                "signed by an unknown key" +
                    (claimed.empty() ? std::string() : " " + short_fingerprint(claimed)) +
                    ": no trusted key verifies it (" + std::to_string(trust.keys().size()) +
                    " trusted)");
  }

  void parse() {
    manifest = parse_manifest(manifest_json, path + ": manifest.json", {.bundle = true});
    if (signer && manifest.bundle && manifest.bundle->key_id != signer->fingerprint()) {
      throw Error(ErrorKind::kSignature, path,
                  "manifest names key " + short_fingerprint(manifest.bundle->key_id) +
                      " but was signed by " + short_fingerprint(signer->fingerprint()));
    }
  }
};

namespace {

class ArchivePayloadStream : public PayloadStream {
 public:
  ArchivePayloadStream(archive* a, std::uint64_t size, const std::string& where)
      : archive_(a), remaining_(size), where_(where) {}

  std::size_t read(void* buffer, std::size_t size) override {
    if (remaining_ == 0) return 0;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size, remaining_));
    la_ssize_t n = archive_read_data(archive_, buffer, want);
    if (n < 0) {
      const char* msg = archive_error_string(archive_);
      std::string what = msg ? msg : "read error";
      throw Error(damage_kind(what), where_, damage_text(what));
    }
    if (n == 0) throw Error(ErrorKind::kBadInput, where_, "not a valid bundle: payload truncated");
    hash_.update(buffer, static_cast<std::size_t>(n));
    remaining_ -= static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }

  // Reads whatever the sink left unread, then returns the digest of the whole blob.
  Sha256Digest finish() {
    char buf[1 << 16];
    while (read(buf, sizeof buf) != 0) {
    }
    return hash_.finish();
  }

 private:
  archive* archive_;
  std::uint64_t remaining_;
  std::string where_;
  Sha256 hash_;
};

}  // namespace

BundleReader::BundleReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BundleReader::BundleReader(BundleReader&&) noexcept = default;
BundleReader& BundleReader::operator=(BundleReader&&) noexcept = default;
BundleReader::~BundleReader() = default;

BundleReader BundleReader::open_verified(const std::string& path, const TrustStore& trust) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->open();
  impl->read_header_entries();
  impl->verify(trust);
  impl->parse();
  return BundleReader(std::move(impl));
}

BundleReader BundleReader::open_unverified(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->open();
  impl->read_header_entries();
  impl->parse();
  return BundleReader(std::move(impl));
}

const Manifest& BundleReader::manifest() const { return impl_->manifest; }
const std::string& BundleReader::manifest_json() const { return impl_->manifest_json; }
bool BundleReader::verified() const { return impl_->signer.has_value(); }
const std::optional<PublicKey>& BundleReader::signer() const { return impl_->signer; }

void BundleReader::for_each_payload(const PayloadSink& sink, std::vector<std::string>* problems) {
  if (impl_->payloads_read) {
    throw Error(ErrorKind::kInternal, impl_->path, "payloads can be read only once");
  }
  impl_->payloads_read = true;

  // Every declared blob, with its size and the first file that needs it (for messages).
  struct Declared {
    std::uint64_t size;
    std::string first_path;
    bool seen = false;
  };
  std::map<Sha256Digest, Declared> declared;
  for (const auto& [arch, files] : impl_->manifest.architectures) {
    for (const FileEntry& f : files) {
      auto [it, inserted] = declared.try_emplace(*f.sha256, Declared{f.size, f.path()});
      if (!inserted && it->second.size != f.size) {
        throw Error(ErrorKind::kBadInput, impl_->path,
                    "manifest declares two sizes for content " + to_hex(*f.sha256) + " (" +
                        it->second.first_path + ", " + f.path() + ")");
      }
    }
  }

  while (archive_entry* entry = impl_->next_entry()) {
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = raw_name ? raw_name : "";
    std::string where = impl_->path + ": " + name;
    if (name.rfind(kPayloadPrefix, 0) != 0) {
      throw Error(ErrorKind::kBadInput, where, "not a valid bundle: undeclared archive entry");
    }
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry)) {
      throw Error(ErrorKind::kBadInput, where,
                  "not a valid bundle: payload is " + entry_kind(entry) + ", not a regular file");
    }
    std::string hex = name.substr(kPayloadPrefix.size());
    auto digest = parse_sha256_hex(hex);
    if (!digest || hex != to_hex(*digest)) {
      throw Error(ErrorKind::kBadInput, where,
                  "not a valid bundle: payload name is not a lower-case SHA-256");
    }
    auto it = declared.find(*digest);
    if (it == declared.end()) {
      throw Error(ErrorKind::kBadInput, where,
                  "not a valid bundle: payload not declared by the manifest");
    }
    if (it->second.seen) {
      throw Error(ErrorKind::kBadInput, where, "not a valid bundle: payload appears twice");
    }
    it->second.seen = true;
    if (!archive_entry_size_is_set(entry) || archive_entry_size(entry) < 0 ||
        static_cast<std::uint64_t>(archive_entry_size(entry)) != it->second.size) {
      // Nothing after a wrong size is read: the data could be arbitrarily large.
      Error error(ErrorKind::kVerification, where,
                  "payload size " + std::to_string(archive_entry_size(entry)) +
                      " differs from the manifest's " + std::to_string(it->second.size) + " (" +
                      it->second.first_path + ")");
      if (!problems) throw error;
      problems->push_back(error.what());
      return;
    }
    ArchivePayloadStream stream(impl_->archive.get(), it->second.size, where);
    sink(*digest, it->second.size, stream);
    if (stream.finish() != *digest) {
      Error error(ErrorKind::kVerification, where,
                  "payload content does not match its SHA-256 (" + it->second.first_path + ")");
      if (!problems) throw error;
      problems->push_back(error.what());
    }
  }
  for (const auto& [digest, d] : declared) {
    if (!d.seen) {
      Error error(ErrorKind::kVerification, impl_->path,
                  "payload " + to_hex(digest) + " is missing (needed by " + d.first_path + ")");
      if (!problems) throw error;
      problems->push_back(error.what());
    }
  }
}

bool is_bundle_file(const std::string& path) {
  FileDescriptor file = open_named_input(path, O_RDONLY | O_NONBLOCK, "a bundle or manifest");
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) throw SystemError(path, "stat", errno);
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::kBadInput, path, "not a regular file");
  unsigned char start[4] = {};
  ssize_t got = ::pread(file.get(), start, sizeof start, 0);
  if (got < 0) throw SystemError(path, "read", errno);
  return has_bundle_magic(start, static_cast<std::size_t>(got));
}

}  // namespace hotfix
