// Reads the files of a drop in order on a thread of its own, hashing each as it is read, so
// that the bundle writer learns a file's SHA-256 (its payload's name) before its bytes.
#pragma once

#include <sys/stat.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "manifests/sha256.h"

namespace hotfix {

struct DropReaderOptions {
  // Files are mapped a window at a time. A file that fits in one window is read once: hashed
  // and handed over from the same mapping. A larger one is hashed ahead of its turn, by a
  // thread of its own, and mapped again (from the page cache) for its bytes. At most
  // `windows` + 1 windows are mapped at once: memory is bounded by window_bytes * (windows +
  // 1), whatever the drop.
  std::size_t window_bytes = 4 << 20;
  std::size_t windows = 4;
};

class DropReader {
 public:
  struct Source {
    std::string path;
    std::uint64_t size = 0;  // what the manifest promises; another size is an error
  };
  struct File {
    Sha256Digest digest{};
    bool first = false;  // no earlier file had this content: its bytes follow
  };

  DropReader(std::vector<Source> sources, DropReaderOptions options = {});
  ~DropReader();  // stops the reading threads
  DropReader(const DropReader&) = delete;
  DropReader& operator=(const DropReader&) = delete;

  // The next file's digest. If it is `first`, its bytes follow through next_chunk() until
  // they add up to its size. Rethrows what the reading thread met (named after the file).
  File next_file();
  // The next piece of the current file; valid until the next call.
  std::span<const char> next_chunk();

 private:
  struct Window {
    void* base = nullptr;  // of the mapping; null for no mapping
    std::size_t length = 0;
  };
  struct Item {
    enum class Kind { kFile, kChunk, kError } kind = Kind::kFile;
    File file;
    Window window;
    std::exception_ptr error;
  };

  // A large file's digest, computed ahead of its turn.
  struct Prehash {
    bool done = false;
    Sha256Digest digest{};
    struct stat before {};
    std::exception_ptr error;
  };

  void run();
  void prehash_run();
  void read_source(std::size_t index);
  // Maps [offset, offset + length) of `fd`, once fewer than `windows` are mapped; throws
  // Stopped when stopping.
  Window map_window(int fd, std::uint64_t offset, std::size_t length, const std::string& path);
  void unmap(Window window);
  void push(Item item);
  Item pop();
  void release_held();

  std::vector<Source> sources_;
  DropReaderOptions options_;
  std::set<Sha256Digest> seen_;  // reading thread only

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> items_;
  std::size_t mapped_ = 0;  // windows mapped, not yet unmapped
  bool stopping_ = false;
  bool finished_ = false;           // the reading thread has handed over everything
  std::vector<Prehash> prehashed_;  // by source

  Window held_;  // the chunk last handed out
  std::thread thread_;
  std::thread prehasher_;
};

}  // namespace hotfix
