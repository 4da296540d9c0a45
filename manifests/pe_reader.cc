#include "manifests/pe_reader.h"

#include <set>
#include <vector>

#include "manifests/byte_view.h"
#include "manifests/version_resource.h"

namespace hotfix {

namespace {

constexpr std::uint64_t kDosHeaderSize = 64;
constexpr std::uint64_t kLfanewOffset = 0x3c;
constexpr std::uint64_t kCoffHeaderSize = 20;
constexpr std::uint64_t kSectionHeaderSize = 40;
constexpr std::uint16_t kPe32Magic = 0x10b;
constexpr std::uint16_t kPe32PlusMagic = 0x20b;
constexpr std::uint16_t kDllCharacteristic = 0x2000;
constexpr std::uint32_t kResourceDirectoryIndex = 2;
constexpr std::uint32_t kRtVersion = 16;
constexpr std::uint64_t kResourceDirectorySize = 16;
constexpr std::uint64_t kResourceEntrySize = 8;
constexpr std::uint64_t kResourceDataEntrySize = 16;
constexpr std::uint32_t kHighBit = 0x80000000;

struct Section {
  std::string name;
  std::uint32_t virtual_address = 0;
  std::uint32_t virtual_size = 0;
  std::uint32_t raw_offset = 0;
  std::uint32_t raw_size = 0;
};

// Where an RVA lies in the file: its offset and how many bytes of its section follow it there.
struct Mapped {
  const Section* section = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t available = 0;
};

std::string printable(std::span<const std::uint8_t> raw) {
  std::string out;
  for (std::uint8_t c : raw) {
    if (c == 0) break;
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

class PeReader {
 public:
  PeReader(std::span<const std::uint8_t> bytes, const std::string& source) : view_(bytes, source) {}

  std::optional<PeInfo> read() {
    if (view_.size() < 2 || view_.u8(0) != 'M' || view_.u8(1) != 'Z') return std::nullopt;
    if (view_.size() < kDosHeaderSize) {
      fail("starts with \"MZ\" but is " + std::to_string(view_.size()) +
           " bytes, shorter than the 64-byte DOS header of an executable");
    }
    std::uint32_t lfanew = view_.u32le(kLfanewOffset);
    if (!view_.contains(lfanew, 4)) {
      fail("PE header offset e_lfanew " + format_hex(lfanew) + " is past the end of the file (" +
           std::to_string(view_.size()) + " bytes)");
    }
    if (view_.u8(lfanew) != 'P' || view_.u8(lfanew + 1) != 'E' || view_.u8(lfanew + 2) != 0 ||
        view_.u8(lfanew + 3) != 0) {
      return std::nullopt;  // a DOS program, or a format we do not read (NE, LE)
    }

    PeInfo info;
    std::uint64_t coff = std::uint64_t{lfanew} + 4;
    require(coff, kCoffHeaderSize, "COFF file header");
    info.machine = view_.u16le(coff);
    std::uint16_t section_count = view_.u16le(coff + 2);
    std::uint16_t optional_size = view_.u16le(coff + 16);
    info.is_dll = (view_.u16le(coff + 18) & kDllCharacteristic) != 0;

    std::uint64_t optional = coff + kCoffHeaderSize;
    if (optional_size < 2) {
      fail("optional header size " + std::to_string(optional_size) +
           " is too small for a PE image");
    }
    require(optional, optional_size, "optional header");
    std::uint16_t magic = view_.u16le(optional);
    if (magic != kPe32Magic && magic != kPe32PlusMagic) {
      fail("optional header at offset " + format_hex(optional) + " has unknown magic " +
           format_hex(magic) + " (expected 0x10b or 0x20b)");
    }
    info.pe32_plus = magic == kPe32PlusMagic;
    std::uint64_t count_field = info.pe32_plus ? 108 : 92;
    std::uint64_t directories_field = count_field + 4;
    if (optional_size < directories_field) {
      fail("optional header is " + std::to_string(optional_size) + " bytes, a " +
           (info.pe32_plus ? "PE32+" : "PE32") + " header needs at least " +
           std::to_string(directories_field));
    }
    std::uint32_t directory_count = view_.u32le(optional + count_field);
    std::uint64_t room = (optional_size - directories_field) / 8;
    if (directory_count > room) {
      fail("NumberOfRvaAndSizes " + std::to_string(directory_count) +
           " does not fit in the optional header (room for " + std::to_string(room) + ")");
    }

    read_sections(optional + optional_size, section_count);

    if (directory_count > kResourceDirectoryIndex) {
      std::uint64_t entry = optional + directories_field + kResourceDirectoryIndex * 8;
      std::uint32_t rva = view_.u32le(entry);
      if (rva != 0) read_version(rva, info);
    }
    return info;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { view_.fail(message); }

  void require(std::uint64_t offset, std::uint64_t length, const std::string& what) const {
    if (!view_.contains(offset, length)) {
      fail(what + " at offset " + format_hex(offset) + " (" + std::to_string(length) +
           " bytes) extends past the end of the file (" + std::to_string(view_.size()) + " bytes)");
    }
  }

  void read_sections(std::uint64_t table, std::uint16_t count) {
    require(table, std::uint64_t{count} * kSectionHeaderSize,
            "section table of " + std::to_string(count) + " sections");
    sections_.reserve(count);
    for (std::uint16_t i = 0; i < count; ++i) {
      std::uint64_t header = table + std::uint64_t{i} * kSectionHeaderSize;
      Section section;
      section.name = printable(view_.sub(header, 8));
      section.virtual_size = view_.u32le(header + 8);
      section.virtual_address = view_.u32le(header + 12);
      section.raw_size = view_.u32le(header + 16);
      section.raw_offset = view_.u32le(header + 20);
      sections_.push_back(section);
    }
  }

  // The first section whose virtual extent holds `rva` (an image without VirtualSize
  // uses its raw size), with the part of it actually stored in the file.
  std::optional<Mapped> map_rva(std::uint32_t rva) const {
    for (const Section& section : sections_) {
      std::uint32_t extent = section.virtual_size != 0 ? section.virtual_size : section.raw_size;
      if (rva < section.virtual_address || rva - section.virtual_address >= extent) continue;
      std::uint64_t delta = rva - section.virtual_address;
      if (!view_.contains(section.raw_offset, section.raw_size)) {
        fail("section \"" + section.name + "\" data at offset " + format_hex(section.raw_offset) +
             " (" + std::to_string(section.raw_size) +
             " bytes) extends past the end of the file (" + std::to_string(view_.size()) +
             " bytes)");
      }
      Mapped mapped;
      mapped.section = &section;
      mapped.offset = std::uint64_t{section.raw_offset} + delta;
      mapped.available = delta < section.raw_size ? section.raw_size - delta : 0;
      return mapped;
    }
    return std::nullopt;
  }

  // Resource tree: type (RT_VERSION) -> first name -> first language -> data entry.
  void read_version(std::uint32_t rva, PeInfo& info) {
    std::optional<Mapped> root = map_rva(rva);
    if (!root) fail("resource directory RVA " + format_hex(rva) + " is not inside any section");
    if (root->available < kResourceDirectorySize) {
      fail("resource directory RVA " + format_hex(rva) + " is not backed by data in section \"" +
           root->section->name + "\"");
    }
    root_ = root->offset;
    area_ = root->available;
    check_tree(0, 0, 0);

    std::uint64_t types = read_directory(0);
    std::optional<std::uint32_t> version_dir;
    std::uint64_t version_entry = 0;
    for (std::uint64_t i = 0; i < types; ++i) {
      std::uint64_t entry = entry_offset(0, i);
      std::uint32_t name = view_.u32le(entry);
      if (name == kRtVersion) {
        version_entry = entry;
        version_dir = view_.u32le(entry + 4);
        break;
      }
    }
    if (!version_dir) return;  // no version resource

    std::uint32_t names_dir = subdirectory(*version_dir, 0, version_entry, "RT_VERSION type");
    std::uint64_t languages_entry = first_entry(names_dir, "RT_VERSION names");
    std::uint32_t languages_dir = subdirectory(view_.u32le(languages_entry + 4), names_dir,
                                               languages_entry, "RT_VERSION name");
    std::uint64_t data_entry = first_entry(languages_dir, "RT_VERSION languages");
    std::uint32_t data = view_.u32le(data_entry + 4);
    if (data & kHighBit) {
      check_loop(data & ~kHighBit, languages_dir);
      fail("resource entry at offset " + format_hex(data_entry) +
           " points to a fourth directory level; a resource tree has only type, name and "
           "language");
    }
    if (data > area_ || area_ - data < kResourceDataEntrySize) {
      fail("resource data entry at offset " + format_hex(root_ + data) +
           " is outside the resource section");
    }
    std::uint64_t descriptor = root_ + data;
    std::uint32_t data_rva = view_.u32le(descriptor);
    std::uint32_t data_size = view_.u32le(descriptor + 4);
    std::optional<Mapped> blob = map_rva(data_rva);
    if (!blob) {
      fail("version resource data RVA " + format_hex(data_rva) + " is not inside any section");
    }
    if (data_size > blob->available) {
      fail("version resource data at RVA " + format_hex(data_rva) + " (" +
           std::to_string(data_size) + " bytes) extends past the data of section \"" +
           blob->section->name + "\"");
    }
    VersionResource resource =
        parse_version_resource(view_.sub(blob->offset, data_size), blob->offset, view_.source());
    info.file_version = resource.file_version;
    info.product_version = resource.product_version;
    info.strings = std::move(resource.strings);
  }

  // The whole tree, not only the path to RT_VERSION: every directory in the section and
  // entered once, no loop, three levels (type, name, language), every name string and data
  // entry inside the section. A tree that is broken anywhere is broken.
  void check_tree(std::uint32_t directory, int level, std::uint32_t type) {
    if (checked_.count(directory)) return;
    std::uint64_t count = read_directory(directory);
    // Directories that overlap could make the walk quadratic; in a real tree they cannot.
    entries_ += count;
    if (entries_ * kResourceEntrySize > area_) {
      fail("resource directories from offset " + format_hex(root_) + " declare " +
           std::to_string(entries_) +
           " entries, more than the resource section holds: they "
           "overlap");
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      std::uint64_t entry = entry_offset(directory, i);
      std::uint32_t name = view_.u32le(entry);
      if (name & kHighBit) check_name(name & ~kHighBit, entry);
      if (level == 0) type = name;
      std::uint32_t target = view_.u32le(entry + 4);
      const std::string what = type_label(type, level);
      if (level < 2) {
        check_tree(subdirectory(target, directory, entry, what), level + 1, type);
      } else if (target & kHighBit) {
        check_loop(target & ~kHighBit, directory);
        fail("resource entry at offset " + format_hex(entry) +
             " points to a fourth directory level; a resource tree has only type, name and "
             "language");
      } else if (target > area_ || area_ - target < kResourceDataEntrySize) {
        fail("resource data entry at offset " + format_hex(root_ + target) +
             " is outside the resource section");
      }
    }
    visited_.pop_back();  // pushed by read_directory: the path above the next directory
    checked_.insert(directory);
  }

  // A name string: a 16-bit length, then that many UTF-16 units, inside the section.
  void check_name(std::uint32_t relative, std::uint64_t entry) const {
    if (relative > area_ || area_ - relative < 2) {
      fail("resource entry at offset " + format_hex(entry) + " has its name at offset " +
           format_hex(root_ + relative) + ", outside the resource section");
    }
    std::uint64_t units = view_.u16le(root_ + relative);
    if (area_ - relative - 2 < units * 2) {
      fail("resource entry at offset " + format_hex(entry) + " has a name of " +
           std::to_string(units) + " UTF-16 units at offset " + format_hex(root_ + relative) +
           ", which extends past the resource section");
    }
  }

  // "RT_VERSION type", "resource type 3 name": as the messages name an entry by its level.
  static std::string type_label(std::uint32_t type, int level) {
    std::string label = type == kRtVersion  ? "RT_VERSION type"
                        : (type & kHighBit) ? "named resource type"
                                            : "resource type " + std::to_string(type);
    if (level == 1) label = (type == kRtVersion ? "RT_VERSION" : label) + " name";
    return label;
  }

  std::uint64_t entry_offset(std::uint32_t directory, std::uint64_t index) const {
    return root_ + directory + kResourceDirectorySize + index * kResourceEntrySize;
  }

  // Checks the directory at `relative` (from the resource root) and returns its entry count.
  std::uint64_t read_directory(std::uint32_t relative) {
    if (relative > area_ || area_ - relative < kResourceDirectorySize) {
      fail("resource directory at offset " + format_hex(root_ + relative) +
           " is outside the resource section");
    }
    visited_.push_back(relative);
    std::uint64_t header = root_ + relative;
    std::uint64_t count = std::uint64_t{view_.u16le(header + 12)} + view_.u16le(header + 14);
    std::uint64_t room = (area_ - relative - kResourceDirectorySize) / kResourceEntrySize;
    if (count > room) {
      fail("resource directory at offset " + format_hex(header) + " declares " +
           std::to_string(count) + " entries, but only " + std::to_string(room) +
           " fit in the resource section");
    }
    return count;
  }

  // Follows the entry at `entry` (in the directory at `parent`) to a subdirectory.
  std::uint32_t subdirectory(std::uint32_t target, std::uint32_t parent, std::uint64_t entry,
                             const std::string& what) {
    if (!(target & kHighBit)) {
      fail(what + " entry at offset " + format_hex(entry) +
           " points to data where a directory is expected");
    }
    std::uint32_t relative = target & ~kHighBit;
    check_loop(relative, parent);
    return relative;
  }

  // A directory that points to one on the path above it would make the walk circular.
  void check_loop(std::uint32_t relative, std::uint32_t parent) const {
    for (std::uint32_t seen : visited_) {
      if (seen != relative) continue;
      if (relative == parent) {
        fail("PE resource directory at offset " + format_hex(root_ + parent) +
             " loops back to itself");
      }
      fail("PE resource directory at offset " + format_hex(root_ + parent) +
           " loops back to the directory at offset " + format_hex(root_ + relative));
    }
  }

  std::uint64_t first_entry(std::uint32_t directory, const std::string& what) {
    if (read_directory(directory) == 0) {
      fail(what + " directory at offset " + format_hex(root_ + directory) + " has no entries");
    }
    return entry_offset(directory, 0);
  }

  ByteView view_;
  std::vector<Section> sections_;
  std::uint64_t root_ = 0;              // file offset of the resource root directory
  std::uint64_t area_ = 0;              // bytes of the resource section from the root on
  std::vector<std::uint32_t> visited_;  // directories on the path walked so far
  std::set<std::uint32_t> checked_;     // directories check_tree has finished
  std::uint64_t entries_ = 0;           // entries of the directories check_tree entered
};

}  // namespace

std::optional<PeInfo> read_pe(std::span<const std::uint8_t> bytes, const std::string& source) {
  return PeReader(bytes, source).read();
}

}  // namespace hotfix
