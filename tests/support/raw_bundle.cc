#include "tests/support/raw_bundle.h"

#include <archive.h>
#include <archive_entry.h>

#include <stdexcept>

namespace hotfix::test {

void write_raw_archive(const std::string& path, const std::vector<RawEntry>& entries,
                       const std::string& compression) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (compression == "zstd") archive_write_add_filter_zstd(a);
  if (compression == "gzip") archive_write_add_filter_gzip(a);
  if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) {
    throw std::runtime_error(archive_error_string(a));
  }
  for (const RawEntry& r : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, r.name.c_str());
    archive_entry_set_perm(e, 0644);
    switch (r.type) {
      case RawEntry::Type::kFile:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(
            e, r.declared_size >= 0 ? r.declared_size : static_cast<la_int64_t>(r.content.size()));
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
      // A lying header: libarchive writes at most the declared size and pads the rest.
      archive_write_data(a, r.content.data(), r.content.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace hotfix::test
