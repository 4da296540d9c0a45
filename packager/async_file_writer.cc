#include "packager/async_file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "manifests/errors.h"

namespace hotfix {

namespace {
// Writeback is started in steps of this size, so the page cache never holds much dirty data
// of the file.
constexpr off_t kWritebackStep = 16 << 20;
}  // namespace

AsyncFileWriter::AsyncFileWriter(int fd, off_t offset, std::string where, std::size_t buffer_bytes,
                                 std::size_t buffers)
    : fd_(fd),
      offset_(offset),
      where_(std::move(where)),
      buffer_bytes_(std::max<std::size_t>(buffer_bytes, 4096)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(buffers, 2); ++i) {
    buffers_.push_back(std::make_unique_for_overwrite<char[]>(buffer_bytes_));
    free_.push_back(buffers_.back().get());
  }
  thread_ = std::thread([this] { run(); });
}

AsyncFileWriter::~AsyncFileWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void AsyncFileWriter::rethrow_failure() {
  if (failure_) std::rethrow_exception(failure_);
}

char* AsyncFileWriter::take() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return failure_ || !free_.empty(); });
  rethrow_failure();
  char* buffer = free_.back();
  free_.pop_back();
  return buffer;
}

void AsyncFileWriter::commit(char* buffer, std::size_t size) {
  {
    std::lock_guard lock(mutex_);
    rethrow_failure();
    queue_.emplace_back(buffer, size);
  }
  changed_.notify_all();
}

off_t AsyncFileWriter::finish() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return failure_ || (queue_.empty() && writing_ == 0); });
  rethrow_failure();
  return offset_;
}

void AsyncFileWriter::run() {
  off_t written_back = offset_;  // writeback has been started up to here
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto [buffer, size] = queue_.front();
    queue_.pop_front();
    ++writing_;
    off_t at = offset_;
    const bool failed = failure_ != nullptr;  // nothing more is written after a failure
    lock.unlock();

    int error = 0;
    std::size_t done = failed ? size : 0;
    while (done < size) {
      ssize_t n = ::pwrite(fd_, buffer + done, size - done, at + static_cast<off_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        error = errno;
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    at += static_cast<off_t>(done);
    if (!error && !failed && at - written_back >= kWritebackStep) {
      ::sync_file_range(fd_, written_back, at - written_back, SYNC_FILE_RANGE_WRITE);
      written_back = at;
    }

    lock.lock();
    --writing_;
    offset_ = at;
    free_.push_back(buffer);
    if (error && !failure_) {
      failure_ = std::make_exception_ptr(SystemError(where_, "write", error));
    }
    changed_.notify_all();
  }
}

}  // namespace hotfix
