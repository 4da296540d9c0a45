#include "manifests/version_resource.h"

#include <algorithm>
#include <vector>

#include "manifests/byte_view.h"

namespace hotfix {

namespace {

constexpr std::uint32_t kFixedFileInfoSignature = 0xFEEF04BD;
constexpr std::uint64_t kFixedFileInfoSize = 52;
constexpr std::uint64_t kBlockHeaderSize = 6;  // wLength, wValueLength, wType

// Children and values are aligned on 32 bits from the start of the resource data.
std::uint64_t align4(std::uint64_t offset) { return (offset + 3) & ~std::uint64_t{3}; }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// One node of the VS_VERSIONINFO tree. Offsets are relative to the resource data.
struct Block {
  std::uint64_t start = 0;
  std::uint64_t end = 0;           // start + wLength
  std::uint16_t value_length = 0;  // wValueLength: bytes for binary values, characters for text
  std::uint16_t type = 0;          // wType: 1 text, 0 binary
  std::string key;
  std::uint64_t value_start = 0;  // after the key and its padding; at most `end`
};

class Parser {
 public:
  Parser(std::span<const std::uint8_t> data, std::uint64_t file_offset, const std::string& source)
      : view_(data, source), file_offset_(file_offset) {}

  VersionResource parse() {
    VersionResource result;
    Block root = read_block(0, view_.size(), "VS_VERSIONINFO");
    if (root.key != "VS_VERSION_INFO") {
      fail("VS_VERSIONINFO at offset " + at(0) + " has key \"" + root.key +
           "\", expected \"VS_VERSION_INFO\"");
    }
    std::uint64_t children = root.value_start;
    if (root.value_length != 0) {
      read_fixed_file_info(root, result);
      children = root.value_start + root.value_length;
    }
    bool have_strings = false;
    for (std::uint64_t pos = align4(children); pos < root.end;) {
      Block child = read_block(pos, root.end, "VS_VERSIONINFO child");
      if (child.key == "StringFileInfo" && !have_strings) {
        read_string_file_info(child, result);
        have_strings = true;
      }
      pos = align4(child.end);
    }
    return result;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { view_.fail(message); }
  std::string at(std::uint64_t offset) const { return format_hex(file_offset_ + offset); }

  // Reads the header and key of the block at `pos`, which must end by `parent_end`.
  Block read_block(std::uint64_t pos, std::uint64_t parent_end, const char* what) const {
    if (parent_end - pos < kBlockHeaderSize) {
      fail(std::string(what) + " at offset " + at(pos) +
           " is truncated: " + std::to_string(parent_end - pos) +
           " bytes left, a block header needs " + std::to_string(kBlockHeaderSize));
    }
    Block block;
    block.start = pos;
    std::uint16_t length = view_.u16le(pos);
    if (length < kBlockHeaderSize) {
      fail(std::string(what) + " at offset " + at(pos) + " has length " + std::to_string(length) +
           ", smaller than its " + std::to_string(kBlockHeaderSize) + "-byte header");
    }
    if (length > parent_end - pos) {
      fail(std::string(what) + " at offset " + at(pos) + " has length " + std::to_string(length) +
           " but only " + std::to_string(parent_end - pos) + " bytes remain in its parent");
    }
    block.end = pos + length;
    block.value_length = view_.u16le(pos + 2);
    block.type = view_.u16le(pos + 4);
    std::vector<std::uint16_t> key;
    std::uint64_t p = pos + kBlockHeaderSize;
    for (;; p += 2) {
      if (block.end - p < 2) {
        fail(std::string(what) + " at offset " + at(pos) + " has a key without a terminating NUL");
      }
      std::uint16_t unit = view_.u16le(p);
      if (unit == 0) break;
      key.push_back(unit);
    }
    block.key = utf16_to_utf8(key);
    block.value_start = std::min(align4(p + 2), block.end);
    return block;
  }

  void read_fixed_file_info(const Block& root, VersionResource& result) const {
    std::uint64_t pos = root.value_start;
    if (root.value_length < kFixedFileInfoSize) {
      fail("VS_FIXEDFILEINFO at offset " + at(pos) + " is " + std::to_string(root.value_length) +
           " bytes, expected " + std::to_string(kFixedFileInfoSize));
    }
    if (root.value_length > root.end - pos) {
      fail("VS_FIXEDFILEINFO at offset " + at(pos) + " (" + std::to_string(root.value_length) +
           " bytes) extends past the end of VS_VERSIONINFO");
    }
    std::uint32_t signature = view_.u32le(pos);
    if (signature != kFixedFileInfoSignature) {
      fail("VS_FIXEDFILEINFO at offset " + at(pos) + " has signature " + format_hex(signature) +
           ", expected " + format_hex(kFixedFileInfoSignature));
    }
    result.file_version = Version::from_ms_ls(view_.u32le(pos + 8), view_.u32le(pos + 12));
    result.product_version = Version::from_ms_ls(view_.u32le(pos + 16), view_.u32le(pos + 20));
  }

  // StringFileInfo -> first StringTable -> String children.
  void read_string_file_info(const Block& info, VersionResource& result) const {
    std::uint64_t pos = info.value_start;
    if (pos >= info.end) return;  // no string table
    Block table = read_block(pos, info.end, "StringTable");
    for (std::uint64_t p = table.value_start; p < table.end;) {
      Block string = read_block(p, table.end, "String");
      result.strings.emplace(string.key, read_text_value(string));
      p = align4(string.end);
    }
  }

  // wValueLength counts characters, but some tools write bytes: the value is read up to
  // the first NUL and never past the block.
  std::string read_text_value(const Block& block) const {
    std::uint64_t limit = block.value_start + std::uint64_t{block.value_length} * 2;
    limit = std::min(limit, block.end);
    std::vector<std::uint16_t> units;
    for (std::uint64_t p = block.value_start; p < limit && limit - p >= 2; p += 2) {
      std::uint16_t unit = view_.u16le(p);
      if (unit == 0) break;
      units.push_back(unit);
    }
    return utf16_to_utf8(units);
  }

  ByteView view_;
  std::uint64_t file_offset_;
};

}  // namespace

std::string utf16_to_utf8(std::span<const std::uint16_t> units) {
  std::string out;
  out.reserve(units.size());
  for (std::size_t i = 0; i < units.size(); ++i) {
    std::uint32_t unit = units[i];
    if (unit >= 0xD800 && unit <= 0xDBFF && i + 1 < units.size() && units[i + 1] >= 0xDC00 &&
        units[i + 1] <= 0xDFFF) {
      append_utf8(out, 0x10000 + ((unit - 0xD800) << 10) + (units[i + 1] - 0xDC00));
      ++i;
    } else if (unit >= 0xD800 && unit <= 0xDFFF) {
      append_utf8(out, 0xFFFD);
    } else {
      append_utf8(out, unit);
    }
  }
  return out;
}

VersionResource parse_version_resource(std::span<const std::uint8_t> data,
                                       std::uint64_t file_offset, const std::string& source) {
  return Parser(data, file_offset, source).parse();
}

}  // namespace hotfix
