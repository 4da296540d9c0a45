// Writes a stream of bytes into a file on a thread of its own, starting the file's writeback
// as it goes: whoever produces the bytes does not wait for the file system, and a final
// fsync has little left to wait for.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace hotfix {

class AsyncFileWriter {
 public:
  // Bytes go to `fd` from `offset` on; `where` names the file in errors.
  AsyncFileWriter(int fd, off_t offset, std::string where, std::size_t buffer_bytes = 1 << 20,
                  std::size_t buffers = 4);
  ~AsyncFileWriter();  // stops; bytes not yet written are dropped
  AsyncFileWriter(const AsyncFileWriter&) = delete;
  AsyncFileWriter& operator=(const AsyncFileWriter&) = delete;

  std::size_t buffer_bytes() const { return buffer_bytes_; }
  // A buffer of buffer_bytes() to fill (waits for one to be free).
  char* take();
  // Queues the first `size` bytes of a buffer from take(); they are written in order.
  void commit(char* buffer, std::size_t size);
  // Waits until every committed byte is written; returns the offset after the last one.
  // Write errors surface here or in take()/commit(), as SystemError naming the file.
  off_t finish();

 private:
  void run();
  void rethrow_failure();  // with mutex_ held

  int fd_;
  off_t offset_;
  std::string where_;
  std::size_t buffer_bytes_;
  std::vector<std::unique_ptr<char[]>> buffers_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::pair<char*, std::size_t>> queue_;
  std::vector<char*> free_;
  std::size_t writing_ = 0;  // buffers taken off the queue, not yet written
  bool stopping_ = false;
  std::exception_ptr failure_;
  std::thread thread_;
};

}  // namespace hotfix
