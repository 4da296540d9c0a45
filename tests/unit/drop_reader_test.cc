// The drop reader: digests before bytes, content handed over once, files larger than a
// window, and refusals of files that differ from what was promised or change while read.
#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "manifests/errors.h"
#include "packager/drop_reader.h"
#include "tests/support/temp_dir.h"

using namespace hotfix;
using hotfix::test::TempDir;

namespace {

constexpr std::size_t kWindow = 4096;  // one page: the smallest window

std::string bytes_of(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  unsigned x = seed * 2654435761u + 7;
  for (char& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

// Every byte of the current file, checking that no piece is larger than a window.
std::string read_bytes(DropReader& reader, std::size_t size) {
  std::string out;
  while (out.size() < size) {
    std::span<const char> chunk = reader.next_chunk();
    REQUIRE(!chunk.empty());
    CHECK(chunk.size() <= kWindow);
    out.append(chunk.data(), chunk.size());
  }
  CHECK(out.size() == size);
  return out;
}

ErrorKind kind_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  FAIL("no error thrown");
  return ErrorKind::kInternal;
}

}  // namespace

TEST_CASE("The drop reader gives each digest before the bytes, and each content once") {
  TempDir dir;
  // small, its twin, one larger than a window (not a multiple of it), its twin, empty,
  // exactly one window, and the small content again at the end.
  std::vector<std::pair<std::string, std::string>> files = {
      {"a", bytes_of(1000, 1)},
      {"b", bytes_of(1000, 1)},
      {"big", bytes_of(5 * kWindow + 123, 2)},
      {"big2", bytes_of(5 * kWindow + 123, 2)},
      {"empty", ""},
      {"page", bytes_of(kWindow, 3)},
      {"c", bytes_of(1000, 1)},
  };
  std::vector<DropReader::Source> sources;
  for (const auto& [name, content] : files) {
    hotfix::test::write_file(dir / name, content);
    sources.push_back({(dir / name).string(), content.size()});
  }
  const std::vector<bool> first = {true, false, true, false, true, true, false};

  for (std::size_t windows : {2u, 3u, 8u}) {
    DropReader reader(sources, {kWindow, windows});
    for (std::size_t i = 0; i < files.size(); ++i) {
      INFO(files[i].first << " with " << windows << " windows");
      DropReader::File file = reader.next_file();
      CHECK(file.digest == Sha256::of(files[i].second));
      CHECK(file.first == first[i]);
      if (file.first) CHECK(read_bytes(reader, files[i].second.size()) == files[i].second);
    }
  }
}

TEST_CASE("The drop reader refuses a file whose size differs from the promise, naming it") {
  TempDir dir;
  hotfix::test::write_file(dir / "ok", "fine");
  hotfix::test::write_file(dir / "short", "abc");
  DropReader reader({{(dir / "ok").string(), 4}, {(dir / "short").string(), 10}}, {kWindow, 2});
  CHECK(reader.next_file().digest == Sha256::of("fine"));
  CHECK(read_bytes(reader, 4) == "fine");
  std::string message;
  CHECK(kind_of([&] { reader.next_file(); }, &message) == ErrorKind::kVerification);
  CHECK(message.find((dir / "short").string()) != std::string::npos);
  CHECK(message.find("size is 3 bytes, the manifest says 10") != std::string::npos);
  // Asking again gives the same error, not a hang.
  CHECK(kind_of([&] { reader.next_file(); }) == ErrorKind::kVerification);
}

TEST_CASE("The drop reader reports a file that cannot be opened when its turn comes") {
  TempDir dir;
  hotfix::test::write_file(dir / "present", "here");
  DropReader reader({{(dir / "present").string(), 4}, {(dir / "absent").string(), 4}},
                    {kWindow, 2});
  CHECK(reader.next_file().first);
  CHECK(read_bytes(reader, 4) == "here");
  std::string message;
  CHECK(kind_of([&] { reader.next_file(); }, &message) == ErrorKind::kSystem);
  CHECK(message.find((dir / "absent").string()) != std::string::npos);
}

TEST_CASE("The drop reader refuses a large file that changes between its two passes") {
  TempDir dir;
  std::string content = bytes_of(10 * kWindow, 4);
  hotfix::test::write_file(dir / "big", content);
  DropReader reader({{(dir / "big").string(), content.size()}}, {kWindow, 2});
  // The digest is known: the first pass is over. With two windows the reader cannot map the
  // last window before the first ones are consumed, so this change comes before its check.
  DropReader::File file = reader.next_file();
  CHECK(file.digest == Sha256::of(content));
  struct timespec times[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, (dir / "big").c_str(), times, 0) == 0);
  std::string message;
  CHECK(kind_of([&] { read_bytes(reader, content.size()); }, &message) == ErrorKind::kVerification);
  CHECK(message.find("changed while it was read") != std::string::npos);
}

TEST_CASE("A drop reader left early stops without waiting for the rest of the drop") {
  TempDir dir;
  std::vector<DropReader::Source> sources;
  for (int i = 0; i < 20; ++i) {
    std::string name = "f" + std::to_string(i);
    hotfix::test::write_file(dir / name, bytes_of(3 * kWindow, 10 + i));
    sources.push_back({(dir / name).string(), 3 * kWindow});
  }
  DropReader reader(sources, {kWindow, 2});
  CHECK(reader.next_file().first);
  CHECK(reader.next_chunk().size() == kWindow);
  // The destructor stops the reading thread, which is waiting for a free window.
}
