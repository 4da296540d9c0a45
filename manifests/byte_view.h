// A read-only view of untrusted bytes: every read is bounds-checked, and a read
// outside the view throws hotfix::Error(kBadInput) naming the source instead of
// touching memory it does not own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

namespace hotfix {

class ByteView {
 public:
  ByteView(std::span<const std::uint8_t> bytes, std::string source)
      : bytes_(bytes), source_(std::move(source)) {}

  std::size_t size() const { return bytes_.size(); }
  const std::string& source() const { return source_; }

  // True when [offset, offset + length) lies inside the view. Never overflows.
  bool contains(std::uint64_t offset, std::uint64_t length) const {
    return offset <= bytes_.size() && length <= bytes_.size() - offset;
  }

  std::uint8_t u8(std::uint64_t offset) const;
  std::uint16_t u16le(std::uint64_t offset) const;
  std::uint32_t u32le(std::uint64_t offset) const;
  std::uint16_t u16be(std::uint64_t offset) const;
  std::uint32_t u32be(std::uint64_t offset) const;

  // The bytes [offset, offset + length); throws when they are not all inside the view.
  std::span<const std::uint8_t> sub(std::uint64_t offset, std::uint64_t length) const;

  // Throws hotfix::Error(kBadInput, source, message).
  [[noreturn]] void fail(const std::string& message) const;

 private:
  void require(std::uint64_t offset, std::uint64_t length) const;

  std::span<const std::uint8_t> bytes_;
  std::string source_;
};

// "0x1a2b": how offsets, RVAs and magic numbers appear in error messages.
std::string format_hex(std::uint64_t value);

}  // namespace hotfix
