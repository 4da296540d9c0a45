// A small, fully specified pseudo-random generator (xorshift64*), so that stand-in bytes
// never depend on the standard library's implementation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace hotfix::standins {

class Xorshift {
 public:
  explicit Xorshift(std::uint64_t seed) : state_(seed == 0 ? 0x9E3779B97F4A7C15ULL : seed) {}

  std::uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }

  template <typename T, std::size_t N>
  const T& pick(const std::array<T, N>& items) {
    return items[next() % N];
  }

 private:
  std::uint64_t state_;
};

}  // namespace hotfix::standins
