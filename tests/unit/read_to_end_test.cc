// The shared bounded reader (manifests/read_to_end.h).
#include "manifests/read_to_end.h"

#include <fcntl.h>

#include <catch2/catch.hpp>
#include <limits>
#include <string>

#include "manifests/file_descriptor.h"
#include "tests/support/temp_dir.h"

TEST_CASE("read_to_end reads to the end, or to one byte past its limit") {
  hotfix::test::TempDir dir;
  std::string path = (dir / "f").string();
  hotfix::test::write_file(path, std::string(200000, 'x'));
  auto read = [&](std::size_t limit) {
    hotfix::FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    return hotfix::read_to_end(fd.get(), limit, path).size();
  };
  CHECK(read(std::numeric_limits<std::size_t>::max()) == 200000);  // no limit
  CHECK(read(200000) == 200000);
  CHECK(read(199999) == 200000);  // one past the limit: too large
  CHECK(read(65536) == 65537);
  CHECK(read(0) == 1);
}
