// A growing little-endian byte buffer, for writing binary file structures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hotfix::standins {

class ByteBuffer {
 public:
  void u8(std::uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v));
    u8(static_cast<std::uint8_t>(v >> 8));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v));
    u16(static_cast<std::uint16_t>(v >> 16));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v));
    u32(static_cast<std::uint32_t>(v >> 32));
  }
  void bytes(std::string_view data) { bytes_.append(data); }
  void zeros(std::size_t count) { bytes_.append(count, '\0'); }
  // Zero-pads up to the next multiple of `alignment` (a power of two).
  void align(std::size_t alignment) { zeros((alignment - bytes_.size() % alignment) % alignment); }

  void patch_u16(std::size_t offset, std::uint16_t v) {
    bytes_[offset] = static_cast<char>(v & 0xff);
    bytes_[offset + 1] = static_cast<char>(v >> 8);
  }
  void patch_u32(std::size_t offset, std::uint32_t v) {
    patch_u16(offset, static_cast<std::uint16_t>(v));
    patch_u16(offset + 2, static_cast<std::uint16_t>(v >> 16));
  }

  std::size_t size() const { return bytes_.size(); }
  const std::string& str() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

}  // namespace hotfix::standins
