// Test content that does not compress to nothing, the same for the same seed.
#pragma once

#include <cstddef>
#include <string>

namespace hotfix::test {

std::string pseudo_random(std::size_t size, unsigned seed);

}  // namespace hotfix::test
