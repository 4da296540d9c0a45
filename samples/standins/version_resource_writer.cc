#include "samples/standins/version_resource_writer.h"

#include "samples/standins/byte_buffer.h"

namespace hotfix::standins {

namespace {

constexpr std::uint32_t kFixedFileInfoSignature = 0xFEEF04BD;
constexpr std::uint32_t kVosNtWindows32 = 0x00040004;
constexpr std::uint32_t kVftApp = 1;
constexpr std::uint32_t kVftDll = 2;
constexpr std::uint16_t kRtVersion = 16;
constexpr std::uint16_t kLanguageEnUs = 0x0409;
constexpr std::uint16_t kCodePageUnicode = 0x04B0;

// UTF-8 to UTF-16LE; malformed sequences become U+FFFD.
std::string utf16le(std::string_view utf8) {
  ByteBuffer out;
  std::size_t i = 0;
  while (i < utf8.size()) {
    auto c = static_cast<unsigned char>(utf8[i]);
    std::uint32_t cp = 0xFFFD;
    std::size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
    }
    if (len > 1) {
      if (i + len > utf8.size()) {
        len = 1;
      } else {
        cp = c & (0x7F >> len);
        for (std::size_t k = 1; k < len; ++k) {
          auto cc = static_cast<unsigned char>(utf8[i + k]);
          if ((cc & 0xC0) != 0x80) {
            cp = 0xFFFD;
            len = 1;
            break;
          }
          cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
      }
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.u16(static_cast<std::uint16_t>(0xD800 + (cp >> 10)));
      out.u16(static_cast<std::uint16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.u16(static_cast<std::uint16_t>(cp));
    }
    i += len;
  }
  return out.take();
}

// One node of the version tree: wLength, wValueLength, wType, szKey, padding, value,
// padding, children. wValueLength counts bytes for binary values, characters for text.
struct Node {
  std::string key;
  std::uint16_t type = 0;  // 0 binary, 1 text
  std::string value;
  std::uint16_t value_length = 0;
  std::vector<Node> children;
};

// Offsets are relative to the start of the block, which sits DWORD-aligned in the section,
// so aligning the buffer aligns the data.
void write_node(ByteBuffer& out, const Node& node) {
  std::size_t start = out.size();
  out.u16(0);  // wLength, patched below
  out.u16(node.value_length);
  out.u16(node.type);
  out.bytes(utf16le(node.key));
  out.u16(0);
  out.align(4);
  out.bytes(node.value);
  for (const Node& child : node.children) {
    out.align(4);
    write_node(out, child);
  }
  out.patch_u16(start, static_cast<std::uint16_t>(out.size() - start));
}

Node text_node(const std::string& key, const std::string& value) {
  std::string wide = utf16le(value);
  Node node{
      key, 1, wide + std::string(2, '\0'), static_cast<std::uint16_t>(wide.size() / 2 + 1), {}};
  return node;
}

std::string fixed_file_info(const VersionInfo& info) {
  ByteBuffer out;
  out.u32(kFixedFileInfoSignature);
  out.u32(0x00010000);  // dwStrucVersion 1.0
  out.u32(info.file_version.ms());
  out.u32(info.file_version.ls());
  out.u32(info.product_version.ms());
  out.u32(info.product_version.ls());
  out.u32(0x3F);  // dwFileFlagsMask: VS_FFI_FILEFLAGSMASK
  out.u32(0);     // dwFileFlags: a release build
  out.u32(kVosNtWindows32);
  out.u32(info.dll ? kVftDll : kVftApp);
  out.u32(0);  // dwFileSubtype
  out.u32(0);  // dwFileDateMS
  out.u32(0);  // dwFileDateLS
  return out.take();
}

}  // namespace

std::string version_info_block(const VersionInfo& info) {
  Node table{"040904B0", 1, "", 0, {}};
  for (const auto& [key, value] : info.strings) table.children.push_back(text_node(key, value));
  Node string_file_info{"StringFileInfo", 1, "", 0, {std::move(table)}};

  ByteBuffer translation;
  translation.u16(kLanguageEnUs);
  translation.u16(kCodePageUnicode);
  Node var{"Translation", 0, translation.take(), 4, {}};
  Node var_file_info{"VarFileInfo", 1, "", 0, {std::move(var)}};

  std::string fixed = fixed_file_info(info);
  Node root{"VS_VERSION_INFO",
            0,
            fixed,
            static_cast<std::uint16_t>(fixed.size()),
            {std::move(string_file_info), std::move(var_file_info)}};
  ByteBuffer out;
  write_node(out, root);
  return out.take();
}

std::string version_resource_section(std::string_view data, std::uint32_t section_rva) {
  constexpr std::uint32_t kSubdirectory = 0x80000000;
  ByteBuffer out;
  // Three directory levels (type, name, language), one entry each, then the data entry.
  auto directory = [&out](std::uint32_t id, std::uint32_t target) {
    out.u32(0);  // Characteristics
    out.u32(0);  // TimeDateStamp
    out.u16(0);  // MajorVersion
    out.u16(0);  // MinorVersion
    out.u16(0);  // NumberOfNamedEntries
    out.u16(1);  // NumberOfIdEntries
    out.u32(id);
    out.u32(target);
  };
  constexpr std::uint32_t kLevel = 16 + 8;
  directory(kRtVersion, kSubdirectory | kLevel);
  directory(1, kSubdirectory | (2 * kLevel));
  directory(kLanguageEnUs, 3 * kLevel);
  constexpr std::uint32_t kDataOffset = 3 * kLevel + 16;
  out.u32(section_rva + kDataOffset);
  out.u32(static_cast<std::uint32_t>(data.size()));
  out.u32(0);  // CodePage
  out.u32(0);  // Reserved
  out.bytes(data);
  return out.take();
}

}  // namespace hotfix::standins
