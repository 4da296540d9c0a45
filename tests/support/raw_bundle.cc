#include "tests/support/raw_bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <zstd.h>

#include <cstdio>
#include <stdexcept>

#include "tests/support/temp_dir.h"

namespace hotfix::test {

namespace {

la_ssize_t append(archive*, void* out, const void* data, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

// Rewrites the size field of the ustar header at `offset` and its checksum: a header that lies.
void patch_size(std::string& tar, std::size_t offset, long long size) {
  char field[13];
  std::snprintf(field, sizeof field, "%011llo", size);
  tar.replace(offset + 124, 12, std::string(field, 11) + '\0');
  tar.replace(offset + 148, 8, "        ");
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(tar[offset + i]);
  char checksum[9];
  std::snprintf(checksum, sizeof checksum, "%06o", sum);
  tar.replace(offset + 148, 8, std::string(checksum, 6) + '\0' + ' ');
}

}  // namespace

void write_raw_archive(const std::string& path, const std::vector<RawEntry>& entries,
                       const std::string& compression) {
  std::string tar;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_per_block(a, 0);
  if (compression == "gzip") archive_write_add_filter_gzip(a);
  archive_write_open(a, &tar, nullptr, append, nullptr);
  std::vector<std::pair<std::size_t, long long>> patches;
  for (const RawEntry& r : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, r.name.c_str());
    archive_entry_set_perm(e, 0644);
    switch (r.type) {
      case RawEntry::Type::kFile:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(r.content.size()));
        if (r.declared_size >= 0) patches.emplace_back(tar.size(), r.declared_size);
        break;
      case RawEntry::Type::kSymlink:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, r.content.c_str());
        break;
      case RawEntry::Type::kHardlink:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, r.content.c_str());
        archive_entry_set_size(e, 0);
        break;
      case RawEntry::Type::kDirectory:
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
      case RawEntry::Type::kFifo:
        archive_entry_set_filetype(e, AE_IFIFO);
        break;
      case RawEntry::Type::kCharDevice:
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdev(e, 0x0103);
        break;
    }
    if (archive_write_header(a, e) != ARCHIVE_OK) throw std::runtime_error(archive_error_string(a));
    if (r.type == RawEntry::Type::kFile && !r.content.empty()) {
      archive_write_data(a, r.content.data(), r.content.size());
    }
    archive_write_finish_entry(a);
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);

  if (compression == "gzip") {
    if (!patches.empty()) throw std::runtime_error("lying headers need zstd or none");
    write_file(path, tar);
    return;
  }
  for (const auto& [offset, size] : patches) patch_size(tar, offset, size);
  if (compression == "none") {
    write_file(path, tar);
    return;
  }
  std::string out(ZSTD_compressBound(tar.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), tar.data(), tar.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
  out.resize(n);
  write_file(path, out);
}

}  // namespace hotfix::test
