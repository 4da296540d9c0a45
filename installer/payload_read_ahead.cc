#include "installer/payload_read_ahead.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace hotfix {

namespace {

struct Piece {
  enum class Kind { kBegin, kData, kEnd };
  Kind kind = Kind::kData;
  Sha256Digest digest{};   // kBegin
  std::uint64_t size = 0;  // kBegin: the blob's size
  std::size_t offset = 0;  // kData: where in the batch's bytes
  std::size_t length = 0;
};

// Bytes of one or more blobs (many small ones share a batch, so that handing over costs
// little per file) and how they divide into blobs.
struct Batch {
  std::vector<char> bytes;
  std::size_t used = 0;
  std::vector<Piece> pieces;
  bool last = false;  // the reading is complete and checked
};

struct Stopped {};  // the reading thread's way out once the calling thread gave up

// Batches go round: free ones to the reading thread, filled ones back to the caller.
class Channel {
 public:
  explicit Channel(const ReadAheadOptions& options) {
    for (std::size_t i = 0; i < std::max<std::size_t>(options.batches, 2); ++i) {
      auto batch = std::make_unique<Batch>();
      batch->bytes.resize(std::max<std::size_t>(options.batch_bytes, 1));
      free_.push_back(std::move(batch));
    }
  }

  // Reading side.
  std::unique_ptr<Batch> take_free() {
    std::unique_lock<std::mutex> lock(mutex_);
    free_ready_.wait(lock, [&] { return !free_.empty() || stopped_; });
    if (stopped_) throw Stopped{};
    auto batch = std::move(free_.front());
    free_.pop_front();
    return batch;
  }
  void send(std::unique_ptr<Batch> batch) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_) throw Stopped{};
    full_.push_back(std::move(batch));
    full_ready_.notify_one();
  }
  void fail(std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::move(error);
    full_ready_.notify_one();
  }

  // Calling side. nullptr when the reading failed.
  std::unique_ptr<Batch> receive() {
    std::unique_lock<std::mutex> lock(mutex_);
    full_ready_.wait(lock, [&] { return !full_.empty() || error_; });
    if (error_) return nullptr;
    auto batch = std::move(full_.front());
    full_.pop_front();
    return batch;
  }
  void recycle(std::unique_ptr<Batch> batch) {
    batch->used = 0;
    batch->pieces.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(batch));
    free_ready_.notify_one();
  }
  void stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    free_ready_.notify_all();
  }
  std::exception_ptr error() {
    std::lock_guard<std::mutex> lock(mutex_);
    return error_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable free_ready_, full_ready_;
  std::deque<std::unique_ptr<Batch>> free_, full_;
  std::exception_ptr error_;
  bool stopped_ = false;
};

void read_into_batches(BundleReader& reader, const std::function<bool(const Sha256Digest&)>& wanted,
                       Channel& channel) {
  try {
    std::unique_ptr<Batch> batch = channel.take_free();
    reader.for_each_payload(
        [&](const Sha256Digest& digest, std::uint64_t size, PayloadStream& stream) {
          if (!wanted(digest)) return;  // the reader still checks it
          batch->pieces.push_back({Piece::Kind::kBegin, digest, size, 0, 0});
          for (;;) {
            if (batch->used == batch->bytes.size()) {
              channel.send(std::move(batch));
              batch = channel.take_free();
            }
            std::size_t n =
                stream.read(batch->bytes.data() + batch->used, batch->bytes.size() - batch->used);
            if (n == 0) break;
            batch->pieces.push_back({Piece::Kind::kData, {}, 0, batch->used, n});
            batch->used += n;
          }
          batch->pieces.push_back({Piece::Kind::kEnd, {}, 0, 0, 0});
        });
    batch->last = true;
    channel.send(std::move(batch));
  } catch (const Stopped&) {
  } catch (...) {
    channel.fail(std::current_exception());
  }
}

void hand_over(const Batch& batch, const PayloadHandler& handler) {
  for (const Piece& piece : batch.pieces) {
    switch (piece.kind) {
      case Piece::Kind::kBegin:
        handler.begin(piece.digest, piece.size);
        break;
      case Piece::Kind::kData:
        handler.data(std::span<const char>(batch.bytes.data() + piece.offset, piece.length));
        break;
      case Piece::Kind::kEnd:
        handler.end();
        break;
    }
  }
}

// Without a second thread: the same, taking turns.
void read_here(BundleReader& reader, const std::function<bool(const Sha256Digest&)>& wanted,
               const PayloadHandler& handler, std::size_t buffer_bytes) {
  std::vector<char> buffer(std::max<std::size_t>(buffer_bytes, 1));
  reader.for_each_payload(
      [&](const Sha256Digest& digest, std::uint64_t size, PayloadStream& stream) {
        if (!wanted(digest)) return;
        handler.begin(digest, size);
        while (std::size_t n = stream.read(buffer.data(), buffer.size())) {
          handler.data(std::span<const char>(buffer.data(), n));
        }
        handler.end();
      });
}

}  // namespace

void for_each_payload_read_ahead(BundleReader& reader,
                                 const std::function<bool(const Sha256Digest&)>& wanted,
                                 const PayloadHandler& handler, const ReadAheadOptions& options) {
  Channel channel(options);
  std::thread thread;
  try {
    thread = std::thread([&] { read_into_batches(reader, wanted, channel); });
  } catch (const std::system_error&) {
    read_here(reader, wanted, handler, options.batch_bytes);
    return;
  }
  try {
    for (;;) {
      std::unique_ptr<Batch> batch = channel.receive();
      if (!batch) break;
      hand_over(*batch, handler);
      bool last = batch->last;
      channel.recycle(std::move(batch));
      if (last) break;
    }
  } catch (...) {
    channel.stop();
    thread.join();
    throw;
  }
  thread.join();
  if (std::exception_ptr error = channel.error()) std::rethrow_exception(error);
}

}  // namespace hotfix
