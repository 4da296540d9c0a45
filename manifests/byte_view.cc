#include "manifests/byte_view.h"

#include <cstdio>

#include "manifests/errors.h"

namespace hotfix {

std::string format_hex(std::uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
  return buffer;
}

void ByteView::fail(const std::string& message) const {
  throw Error(ErrorKind::kBadInput, source_, message);
}

void ByteView::require(std::uint64_t offset, std::uint64_t length) const {
  if (!contains(offset, length)) {
    fail("read of " + std::to_string(length) + " bytes at offset " + format_hex(offset) +
         " is past the end of the data (" + std::to_string(bytes_.size()) + " bytes)");
  }
}

std::uint8_t ByteView::u8(std::uint64_t offset) const {
  require(offset, 1);
  return bytes_[offset];
}

std::uint16_t ByteView::u16le(std::uint64_t offset) const {
  require(offset, 2);
  return static_cast<std::uint16_t>(bytes_[offset] | (bytes_[offset + 1] << 8));
}

std::uint32_t ByteView::u32le(std::uint64_t offset) const {
  require(offset, 4);
  return std::uint32_t{bytes_[offset]} | (std::uint32_t{bytes_[offset + 1]} << 8) |
         (std::uint32_t{bytes_[offset + 2]} << 16) | (std::uint32_t{bytes_[offset + 3]} << 24);
}

std::uint16_t ByteView::u16be(std::uint64_t offset) const {
  require(offset, 2);
  return static_cast<std::uint16_t>((bytes_[offset] << 8) | bytes_[offset + 1]);
}

std::uint32_t ByteView::u32be(std::uint64_t offset) const {
  require(offset, 4);
  return (std::uint32_t{bytes_[offset]} << 24) | (std::uint32_t{bytes_[offset + 1]} << 16) |
         (std::uint32_t{bytes_[offset + 2]} << 8) | std::uint32_t{bytes_[offset + 3]};
}

std::span<const std::uint8_t> ByteView::sub(std::uint64_t offset, std::uint64_t length) const {
  require(offset, length);
  return bytes_.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
}

}  // namespace hotfix
