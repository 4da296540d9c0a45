// The background file writer: bytes land in order from the given offset; errors surface.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "manifests/errors.h"
#include "manifests/file_descriptor.h"
#include "packager/async_file_writer.h"
#include "tests/support/temp_dir.h"

using namespace hotfix;
using hotfix::test::TempDir;

TEST_CASE("The file writer writes committed buffers in order, from its offset") {
  TempDir dir;
  std::string path = (dir / "out").string();
  FileDescriptor fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  REQUIRE(fd.get() >= 0);
  std::string expected(100, '\0');  // the gap before the offset reads as zeros
  off_t end = 0;
  {
    AsyncFileWriter writer(fd.get(), 100, path, 4096, 2);
    for (int i = 0; i < 50; ++i) {  // many more buffers than the pool holds
      char* buffer = writer.take();
      std::size_t n = 1 + static_cast<std::size_t>(i * 97) % writer.buffer_bytes();
      for (std::size_t k = 0; k < n; ++k) buffer[k] = static_cast<char>('a' + (i + k) % 26);
      expected.append(buffer, n);
      writer.commit(buffer, n);
    }
    end = writer.finish();
  }
  CHECK(end == static_cast<off_t>(expected.size()));
  CHECK(hotfix::test::read_file(path) == expected);
}

TEST_CASE("A write error surfaces as a system error naming the file") {
  TempDir dir;
  std::string path = (dir / "out").string();
  hotfix::test::write_file(path, "");
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));  // writes fail with EBADF
  REQUIRE(fd.get() >= 0);
  AsyncFileWriter writer(fd.get(), 0, path, 4096, 2);
  auto write_and_finish = [&] {
    for (int i = 0; i < 4; ++i) {
      char* buffer = writer.take();
      std::memset(buffer, 'x', 10);
      writer.commit(buffer, 10);
    }
    writer.finish();
  };
  try {
    write_and_finish();
    FAIL("no error thrown");
  } catch (const SystemError& e) {
    CHECK(e.kind() == ErrorKind::kSystem);
    CHECK(e.error_number() == EBADF);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
  }
}
