// The hostile corpus's bombs are what they claim: frames that really decompress to gigabytes.
#include <zstd.h>

#include <catch2/catch.hpp>

#include "tests/support/hostile_bundles.h"

TEST_CASE("zstd_zero_frame is a valid zstd frame of exactly that many zeros") {
  for (std::uint64_t size :
       {std::uint64_t{1}, std::uint64_t{128 << 10}, std::uint64_t{(5 << 17) + 7}}) {
    std::string frame = hotfix::test::zstd_zero_frame(size);
    std::string out(size + 100, 'x');
    std::size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
    INFO("size " << size);
    REQUIRE_FALSE(ZSTD_isError(n));
    CHECK(n == size);
    CHECK(out.find_first_not_of('\0') == size);
  }
  // 4 GiB in 128 KiB blocks of 4 bytes each, after a 6-byte header.
  std::string bomb = hotfix::test::zstd_zero_frame(4ULL << 30);
  CHECK(bomb.size() == 6 + 4 * (4ULL << 30) / (128 << 10));
  CHECK(ZSTD_getFrameContentSize(bomb.data(), bomb.size()) == ZSTD_CONTENTSIZE_UNKNOWN);
  // Its block headers add up: a decoder walks the whole frame.
  CHECK(ZSTD_findFrameCompressedSize(bomb.data(), bomb.size()) == bomb.size());
}
