// SHA-256 digests (OpenSSL), streaming and one-shot.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hotfix {

using Sha256Digest = std::array<std::uint8_t, 32>;

std::string to_hex(const Sha256Digest& digest);
// Exactly 64 lower- or upper-case hex digits.
std::optional<Sha256Digest> parse_sha256_hex(std::string_view hex);

// SHA-256 of a whole file's content (read in 1 MiB blocks, symbolic links not followed).
// Throws SystemError naming the path.
Sha256Digest sha256_of_file(const std::string& path);
// The SHA-256 of what is left to read from `fd`; errors name `source`.
Sha256Digest sha256_of_fd(int fd, const std::string& source);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  Sha256Digest finish();  // the object can be reused after finish()

  static Sha256Digest of(const void* data, std::size_t size);
  static Sha256Digest of(std::string_view data) { return of(data.data(), data.size()); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hotfix
