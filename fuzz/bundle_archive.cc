#include "fuzz/bundle_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <zstd.h>

#include <cstdlib>
#include <memory>

#include "fuzz/fuzz_key.h"
#include "manifests/bundle_format.h"

namespace hotfix::fuzz {

namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};

la_ssize_t append(archive*, void* out, const void* data, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

}  // namespace

std::optional<std::vector<TarEntry>> decode_tar(std::span<const std::uint8_t> bytes,
                                                std::size_t max_bytes) {
  std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return std::nullopt;
  }
  std::vector<TarEntry> entries;
  std::size_t total = 0;
  archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) return entries;
    if (r != ARCHIVE_OK) return std::nullopt;
    TarEntry e;
    const char* name = archive_entry_pathname(entry);
    e.name = name ? name : "";
    if (const char* target = archive_entry_hardlink(entry)) {
      e.type = TarEntry::Type::kHardlink;
      e.data = target;
    } else {
      switch (archive_entry_filetype(entry)) {
        case AE_IFDIR:
          e.type = TarEntry::Type::kDirectory;
          break;
        case AE_IFLNK:
          e.type = TarEntry::Type::kSymlink;
          e.data = archive_entry_symlink(entry) ? archive_entry_symlink(entry) : "";
          break;
        case AE_IFIFO:
          e.type = TarEntry::Type::kFifo;
          break;
        case AE_IFCHR:
        case AE_IFBLK:
          e.type = TarEntry::Type::kCharDevice;
          break;
        default:
          e.type = TarEntry::Type::kFile;
          break;
      }
    }
    if (e.type == TarEntry::Type::kFile) {
      char buffer[16384];
      while (true) {
        la_ssize_t n = archive_read_data(a.get(), buffer, sizeof buffer);
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        e.data.append(buffer, static_cast<std::size_t>(n));
        if (e.data.size() > max_bytes) return std::nullopt;
      }
    }
    total += e.name.size() + e.data.size();
    if (total > max_bytes) return std::nullopt;
    entries.push_back(std::move(e));
  }
}

std::string encode_tar(const std::vector<TarEntry>& entries) {
  std::string tar;
  std::unique_ptr<archive, WriteDeleter> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_per_block(a.get(), 0);
  archive_write_open(a.get(), &tar, nullptr, append, nullptr);
  for (const TarEntry& e : entries) {
    archive_entry* h = archive_entry_new();
    archive_entry_set_pathname(h, e.name.c_str());
    archive_entry_set_perm(h, 0644);
    archive_entry_set_filetype(h, AE_IFREG);
    archive_entry_set_size(h, 0);
    switch (e.type) {
      case TarEntry::Type::kFile:
        archive_entry_set_size(h, static_cast<la_int64_t>(e.data.size()));
        break;
      case TarEntry::Type::kDirectory:
        archive_entry_set_filetype(h, AE_IFDIR);
        break;
      case TarEntry::Type::kSymlink:
        archive_entry_set_filetype(h, AE_IFLNK);
        archive_entry_set_symlink(h, e.data.c_str());
        break;
      case TarEntry::Type::kHardlink:
        archive_entry_set_hardlink(h, e.data.c_str());
        break;
      case TarEntry::Type::kFifo:
        archive_entry_set_filetype(h, AE_IFIFO);
        break;
      case TarEntry::Type::kCharDevice:
        archive_entry_set_filetype(h, AE_IFCHR);
        archive_entry_set_rdev(h, 0x0103);
        break;
    }
    // An entry libarchive refuses (an empty name, say) is left out.
    if (archive_write_header(a.get(), h) == ARCHIVE_OK && e.type == TarEntry::Type::kFile &&
        !e.data.empty()) {
      archive_write_data(a.get(), e.data.data(), e.data.size());
    }
    archive_write_finish_entry(a.get());
    archive_entry_free(h);
  }
  archive_write_close(a.get());
  return tar;
}

std::string zstd_compress(std::string_view data, int level) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  if (ZSTD_isError(n)) std::abort();
  out.resize(n);
  return out;
}

bool sign_manifest(std::vector<TarEntry>& entries) {
  for (std::size_t i = 0; i + 1 < entries.size(); ++i) {
    if (entries[i].name == kManifestEntry && entries[i + 1].name == kSignatureEntry) {
      entries[i + 1].data = sign_with_fuzz_key(entries[i].data);
      return true;
    }
  }
  return false;
}

}  // namespace hotfix::fuzz
