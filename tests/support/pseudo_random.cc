#include "tests/support/pseudo_random.h"

namespace hotfix::test {

std::string pseudo_random(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  unsigned x = seed * 2654435761u + 1;  // xorshift32
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

}  // namespace hotfix::test
