#include "installer/verify.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "manifests/errors.h"
#include "manifests/file_identity.h"
#include "manifests/manifest_json.h"
#include "manifests/sha256.h"
#include "manifests/timestamp.h"

namespace hotfix {

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 16;
constexpr std::size_t kMaxCachedDirectories = 64;  // open descriptors per thread, at most
constexpr std::string_view kNewSuffix = ".hotfix-new";

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Per-thread state: reused buffers and hasher, and the directories already walked to, since
// files of one hotfix tend to share directories.
struct Worker {
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(kChunk);
  std::vector<std::uint8_t> whole;  // a PE image larger than one chunk, for its version
  Sha256 sha;
  std::unordered_map<std::string, Fd> directories;  // relative path -> open directory
  std::uint64_t bytes_hashed = 0;
};

enum class OpenStatus { kOk, kMissing, kNotRegular, kUnreadable };

struct Opened {
  OpenStatus status = OpenStatus::kOk;
  Fd fd;
  struct stat st {};
  std::string why;  // for anything but kOk
};

std::string errno_text(int error_number) { return std::strerror(error_number); }

std::string file_type_name(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link, not followed";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

// Relative, with no empty, "." or ".." component: it cannot name anything outside the root.
bool safe_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

Opened fail(OpenStatus status, std::string why) {
  Opened out;
  out.status = status;
  out.why = std::move(why);
  return out;
}

// The directory `dir` (relative, "" for the root) opened by walking from the root one
// component at a time, refusing symbolic links; -1 and `failure` set when it cannot be.
// Directories opened on the way are kept for the next files.
int open_directory(Worker& worker, int root_fd, const std::string& dir, Opened& failure) {
  if (dir.empty()) return root_fd;
  auto& cache = worker.directories;
  if (auto hit = cache.find(dir); hit != cache.end()) return hit->second.get();
  if (cache.size() + static_cast<std::size_t>(std::count(dir.begin(), dir.end(), '/')) + 1 >
      kMaxCachedDirectories) {
    cache.clear();
  }
  // Start from the deepest directory already open.
  int at = root_fd;
  std::size_t start = 0;
  for (std::size_t slash = dir.rfind('/'); slash != std::string::npos && slash > 0;
       slash = dir.rfind('/', slash - 1)) {
    if (auto hit = cache.find(dir.substr(0, slash)); hit != cache.end()) {
      at = hit->second.get();
      start = slash + 1;
      break;
    }
  }
  while (start < dir.size()) {
    std::size_t end = dir.find('/', start);
    if (end == std::string::npos) end = dir.size();
    std::string part = dir.substr(start, end - start);
    std::string prefix = dir.substr(0, end);
    int fd = ::openat(at, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      int error = errno;
      if (error == ENOENT) {
        failure = fail(OpenStatus::kMissing, prefix + " does not exist");
      } else if (error == ELOOP || error == ENOTDIR) {
        struct stat st {};
        std::string what = ::fstatat(at, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0
                               ? file_type_name(st.st_mode)
                               : "not a directory";
        failure = fail(OpenStatus::kNotRegular, "not a regular file: " + prefix + " is " + what);
      } else {
        failure = fail(OpenStatus::kUnreadable, "cannot open " + prefix + ": " + errno_text(error));
      }
      return -1;
    }
    cache.insert_or_assign(prefix, Fd(fd));
    at = fd;
    start = end + 1;
  }
  return at;
}

// Opens the regular file at `path` under the root without following any symbolic link.
Opened open_in_root(Worker& worker, int root_fd, const std::string& path) {
  if (!safe_relative_path(path)) {
    return fail(OpenStatus::kNotRegular, "not a regular file: unsafe path, not checked");
  }
  std::size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  Opened failure;
  int dir_fd = open_directory(worker, root_fd, dir, failure);
  if (dir_fd < 0) return failure;

  // Look before opening: opening a device or FIFO can have effects of its own.
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    int error = errno;
    if (error == ENOENT) return fail(OpenStatus::kMissing, "missing");
    return fail(OpenStatus::kUnreadable, "cannot stat: " + errno_text(error));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(OpenStatus::kNotRegular, "not a regular file: " + file_type_name(st.st_mode));
  }
  int fd =
      ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    if (error == ENOENT) return fail(OpenStatus::kMissing, "missing");
    if (error == ELOOP)
      return fail(OpenStatus::kNotRegular, "not a regular file: " + file_type_name(S_IFLNK));
    return fail(OpenStatus::kUnreadable, "cannot open: " + errno_text(error));
  }
  Opened out;
  out.fd = Fd(fd);
  if (::fstat(fd, &out.st) != 0)
    return fail(OpenStatus::kUnreadable, "cannot stat: " + errno_text(errno));
  // It may have been swapped between the look and the open.
  if (!S_ISREG(out.st.st_mode)) {
    return fail(OpenStatus::kNotRegular, "not a regular file: " + file_type_name(out.st.st_mode));
  }
  return out;
}

// Fills `buffer` from the current offset; fewer bytes only at end of file. -1 on error.
std::ptrdiff_t fill(int fd, std::span<std::uint8_t> buffer) {
  std::size_t got = 0;
  while (got < buffer.size()) {
    ssize_t n = ::read(fd, buffer.data() + got, buffer.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return static_cast<std::ptrdiff_t>(got);
}

struct Content {
  std::optional<Sha256Digest> digest;    // when asked for
  std::optional<Version> version;        // the PE file version
  std::optional<std::string> bad_image;  // why the version could not be read
};

// Reads the file once, as fstat() saw it (its first `size` bytes, fewer if it shrank): its
// digest (when `hash`) and, for a PE image ("MZ"), its version. Asking for no more than the
// size saves the read that would only find the end. Returns an error text, or nullopt.
std::optional<std::string> scan(Worker& worker, int fd, std::uint64_t size, bool hash, Content& out,
                                const std::string& source) {
  std::span<std::uint8_t> buffer(worker.buffer);
  std::uint64_t remaining = size;
  auto next_chunk = [&]() -> std::ptrdiff_t {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buffer.size()));
    std::ptrdiff_t n = fill(fd, buffer.first(want));
    if (n > 0) remaining -= static_cast<std::uint64_t>(n);
    return n;
  };
  std::ptrdiff_t n = next_chunk();
  if (n < 0) return "cannot read: " + errno_text(errno);
  auto first = static_cast<std::size_t>(n);
  bool pe = first >= 2 && buffer[0] == 'M' && buffer[1] == 'Z';
  if (hash) worker.sha.update(buffer.data(), first);
  std::uint64_t total = first;
  std::span<const std::uint8_t> image = buffer.first(first);
  if (remaining > 0 && first == buffer.size() && (hash || pe)) {
    if (pe) worker.whole.assign(buffer.begin(), buffer.end());
    while (remaining > 0) {
      n = next_chunk();
      if (n < 0) return "cannot read: " + errno_text(errno);
      if (n == 0) break;
      auto got = static_cast<std::size_t>(n);
      if (hash) worker.sha.update(buffer.data(), got);
      if (pe) worker.whole.insert(worker.whole.end(), buffer.begin(), buffer.begin() + n);
      total += got;
    }
    if (pe) image = worker.whole;
  }
  if (hash) {
    out.digest = worker.sha.finish();
    worker.bytes_hashed += total;
  }
  if (pe) {
    try {
      out.version = identify_bytes(image, source).version();
    } catch (const Error& e) {
      out.bad_image = e.message();
    }
  }
  if (worker.whole.capacity() > 64 * kChunk) std::vector<std::uint8_t>().swap(worker.whole);
  return std::nullopt;
}

std::string version_text(const std::optional<Version>& version,
                         const std::optional<std::string>& bad_image) {
  if (bad_image) return "unreadable (" + *bad_image + ")";
  return format_file_version(version);
}

void add_detail(FileCheck& check, const std::string& part) {
  if (!check.detail.empty()) check.detail += "; ";
  check.detail += part;
}

// Records an open failure; false when there is nothing more to check.
bool opened_ok(FileCheck& check, const Opened& opened, const std::string& label) {
  switch (opened.status) {
    case OpenStatus::kOk:
      return true;
    case OpenStatus::kMissing:
      check.missing = true;
      break;
    case OpenStatus::kNotRegular:
      check.not_regular = true;
      break;
    case OpenStatus::kUnreadable:
      check.unreadable = true;
      break;
  }
  add_detail(check, label.empty() ? opened.why : label + ": " + opened.why);
  return false;
}

void check_size_and_digest(FileCheck& check, const InstalledFile& promise, const struct stat& st,
                           const Content& content, const std::string& label) {
  std::string prefix = label.empty() ? "" : label + ": ";
  auto size = static_cast<std::uint64_t>(st.st_size);
  if (size != promise.size) {
    check.size_differs = true;
    add_detail(check, prefix + "size " + std::to_string(size) + ", expected " +
                          std::to_string(promise.size));
  }
  if (content.digest && *content.digest != promise.sha256) {
    check.digest_differs = true;
    add_detail(check, prefix + "sha256 " + to_hex(*content.digest) + ", expected " +
                          to_hex(promise.sha256));
  }
}

void check_content(Worker& worker, int root_fd, const InstalledFile& promise, FileCheck& check) {
  Opened opened = open_in_root(worker, root_fd, promise.path);
  if (!opened_ok(check, opened, "")) return;
  Content content;
  if (auto error = scan(worker, opened.fd.get(), static_cast<std::uint64_t>(opened.st.st_size),
                        true, content, promise.path)) {
    check.unreadable = true;
    add_detail(check, *error);
    return;
  }
  check.found_version = content.version;
  check_size_and_digest(check, promise, opened.st, content, "");
  if (content.bad_image || content.version != promise.version) {
    // A version that cannot be read only differs when one was promised.
    if (!content.bad_image || promise.version) {
      check.version_differs = true;
      add_detail(check, "version " + version_text(content.version, content.bad_image) +
                            ", expected " + format_file_version(promise.version));
    }
  }
  std::int64_t mtime = opened.st.st_mtim.tv_sec;
  if (mtime != promise.mtime) {
    check.mtime_differs = true;
    add_detail(check, "mtime " + Timestamp(mtime).iso8601() + ", expected " +
                          Timestamp(promise.mtime).iso8601());
  }
  std::uint32_t mode = opened.st.st_mode & 07777;
  if (mode != (promise.mode & 07777)) {
    check.mode_differs = true;
    add_detail(check, "mode " + format_mode(mode) + ", expected " + format_mode(promise.mode));
  }
}

// A versioned file was skipped for a version at least the hotfix's: that version is the
// promise. An unversioned one was skipped because it already held the hotfix's content: that
// content is.
void check_skipped(Worker& worker, int root_fd, const InstalledFile& promise, FileCheck& check) {
  Opened opened = open_in_root(worker, root_fd, promise.path);
  if (!opened_ok(check, opened, "")) return;
  Content content;
  const bool by_content = !promise.version;
  if (auto error = scan(worker, opened.fd.get(), static_cast<std::uint64_t>(opened.st.st_size),
                        by_content, content, promise.path)) {
    check.unreadable = true;
    add_detail(check, *error);
    return;
  }
  check.found_version = content.version;
  if (by_content) {
    check_size_and_digest(check, promise, opened.st, content, "");
    return;
  }
  if (promise.version && (!content.version || *content.version < *promise.version)) {
    check.version_differs = true;
    add_detail(check, "version " + version_text(content.version, content.bad_image) +
                          ", expected at least " + format_file_version(promise.version));
  }
}

void check_kept(Worker& worker, int root_fd, const InstalledFile& promise, FileCheck& check) {
  Opened kept = open_in_root(worker, root_fd, promise.path);
  if (!opened_ok(check, kept, "kept file")) return;
  kept.fd.reset();
  std::string new_path = promise.path + std::string(kNewSuffix);
  std::string label(new_path.substr(new_path.rfind('/') + 1));
  Opened opened = open_in_root(worker, root_fd, new_path);
  if (opened.status == OpenStatus::kMissing) {
    check.beside_missing = true;
    add_detail(check, label + ": " + opened.why);
    return;
  }
  if (!opened_ok(check, opened, label)) return;
  Content content;
  if (auto error = scan(worker, opened.fd.get(), static_cast<std::uint64_t>(opened.st.st_size),
                        true, content, new_path)) {
    check.unreadable = true;
    add_detail(check, label + ": " + *error);
    return;
  }
  check_size_and_digest(check, promise, opened.st, content, label);
}

void check_one(Worker& worker, int root_fd, const InstalledFile& promise, FileCheck& check) {
  switch (promise.action) {
    case FileAction::kInstalled:
    case FileAction::kReplaced:
      check_content(worker, root_fd, promise, check);
      return;
    case FileAction::kSkipped:
      check_skipped(worker, root_fd, promise, check);
      return;
    case FileAction::kKept:
      check_kept(worker, root_fd, promise, check);
      return;
  }
}

}  // namespace

bool FileCheck::ok() const {
  return !missing && !not_regular && !unreadable && !size_differs && !digest_differs &&
         !version_differs && !mtime_differs && !mode_differs && !beside_missing;
}

bool FileCheck::config_changed() const {
  return config && !ok() && !missing && !not_regular && !unreadable;
}

std::string FileCheck::codes() const {
  if (missing || beside_missing) return "missing";
  if (not_regular) return "not-regular";
  if (unreadable) return "unreadable";
  std::string out = ".....";
  if (size_differs) out[0] = 'S';
  if (digest_differs) out[1] = '5';
  if (version_differs) out[2] = 'V';
  if (mtime_differs) out[3] = 'T';
  if (mode_differs) out[4] = 'M';
  return out;
}

namespace {

// The records being checked: appended by the reading thread while the workers take them.
class WorkQueue {
 public:
  struct Item {
    std::string hotfix_id;
    InstalledFile file;
    FileCheck check;
    bool wanted = true;       // of the hotfix asked for (all when none was named)
    bool superseded = false;  // a later record holds the same path
    std::uint64_t bytes_hashed = 0;
  };

  explicit WorkQueue(std::optional<std::string> only) : only_(std::move(only)) {}

  void add(const std::string& hotfix_id, InstalledFile&& file) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t index = items_.size();
    Item& item = items_.emplace_back();
    item.hotfix_id = hotfix_id;
    item.file = std::move(file);
    item.wanted = !only_ || *only_ == hotfix_id;
    // The newest layer of each path is the one held to its promise; a later record wins a tie.
    auto [it, inserted] = top_.emplace(item.file.path, index);
    if (!inserted) {
      Item& other = items_[it->second];
      if (item.file.layer >= other.file.layer) {
        other.superseded = true;
        it->second = index;
      } else {
        item.superseded = true;
      }
    }
    ready_.notify_one();
  }

  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    ready_.notify_all();
  }

  // The next records to check, none when all are taken and no more will come. A record
  // known to be superseded already is passed over; one superseded after it was taken is
  // checked in vain and its result replaced in finish().
  //
  // Records are taken a few at a time, neighbours together: they tend to share a directory,
  // and two threads opening files in the same directory slow each other down in the kernel.
  // A batch stops at kBatchBytes so that the last batches still spread over the threads.
  void take(std::vector<Item*>& batch) {
    constexpr std::size_t kBatchFiles = 32;
    constexpr std::uint64_t kBatchBytes = std::uint64_t{1} << 20;
    batch.clear();
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      std::uint64_t bytes = 0;
      while (next_ < items_.size() && batch.size() < kBatchFiles && bytes < kBatchBytes) {
        Item& item = items_[next_++];
        if (item.wanted && !item.superseded) {
          batch.push_back(&item);
          bytes += item.file.size;
        }
      }
      if (!batch.empty() || closed_) return;
      ready_.wait(lock);
    }
  }

  // Once every worker is done.
  VerifyReport finish() {
    VerifyReport report;
    for (Item& item : items_) {
      if (!item.wanted) continue;
      FileCheck check;
      if (item.superseded) {
        check.detail = "superseded by " + items_[top_.at(item.file.path)].hotfix_id;
      } else {
        check = std::move(item.check);
        report.bytes_hashed += item.bytes_hashed;
      }
      check.hotfix_id = item.hotfix_id;
      check.path = item.file.path;
      check.action = item.file.action;
      check.config = !item.superseded && item.file.kind == FileKind::kConfig;
      if (check.ok()) {
        ++report.ok;
      } else if (check.config_changed()) {
        ++report.config_changed;
      } else {
        ++report.failed;
      }
      report.files.push_back(std::move(check));
    }
    return report;
  }

 private:
  std::optional<std::string> only_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> items_;                       // never moves an element once added
  std::map<std::string_view, std::size_t> top_;  // path -> newest record
  std::size_t next_ = 0;
  bool closed_ = false;
};

}  // namespace

VerifyReport verify_installed(const Root& root, const FileFeed& feed,
                              const VerifyOptions& options) {
  WorkQueue queue(options.only_hotfix);
  std::size_t threads = options.threads > 0 ? static_cast<std::size_t>(options.threads)
                                            : std::thread::hardware_concurrency();
  threads = std::max<std::size_t>(threads, 1);

  std::atomic<bool> stop{false};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto record_failure = [&] {
    std::lock_guard<std::mutex> lock(failure_mutex);
    if (!failure) failure = std::current_exception();
    stop = true;
  };
  auto run = [&] {
    try {
      Worker worker;
      std::vector<WorkQueue::Item*> batch;
      while (!stop) {
        queue.take(batch);
        if (batch.empty()) break;
        for (WorkQueue::Item* item : batch) {
          std::uint64_t before = worker.bytes_hashed;
          try {
            check_one(worker, root.fd(), item->file, item->check);
          } catch (const Error& e) {
            item->check.unreadable = true;
            add_detail(item->check, e.what());
          }
          item->bytes_hashed = worker.bytes_hashed - before;
          if (options.on_checked) options.on_checked(item->bytes_hashed);
        }
      }
    } catch (...) {
      record_failure();
    }
  };

  // The workers start on the first records while the calling thread reads the rest; then the
  // calling thread works too. If a thread cannot be started, fewer do the work.
  std::vector<std::thread> pool;
  pool.reserve(threads);
  try {
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(run);
  } catch (const std::system_error&) {
  }
  try {
    feed([&](const std::string& hotfix_id, InstalledFile&& file) {
      if (stop) throw std::runtime_error("verification stopped");
      queue.add(hotfix_id, std::move(file));
    });
  } catch (...) {
    record_failure();
  }
  queue.close();
  if (!stop) run();
  for (std::thread& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
  return queue.finish();
}

VerifyReport verify_installed(const Root& root, const std::vector<InstalledHotfix>& hotfixes,
                              const VerifyOptions& options) {
  return verify_installed(
      root,
      [&](const FileSink& sink) {
        for (const InstalledHotfix& hotfix : hotfixes) {
          for (InstalledFile file : hotfix.files) sink(hotfix.id, std::move(file));
        }
      },
      options);
}

}  // namespace hotfix
