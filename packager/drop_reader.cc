#include "packager/drop_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "manifests/errors.h"
#include "manifests/file_descriptor.h"

namespace hotfix {

namespace {

// Thrown inside the reading thread when the consumer has gone away.
struct Stopped {};

bool same_file_state(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ctim.tv_sec == b.st_ctim.tv_sec &&
         a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// Opens a drop file.
int open_source(const DropReader::Source& source) {
  int fd = ::open(source.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw SystemError(source.path, "open", errno);
  return fd;
}

// Checks an opened drop file against its promised size; `st` receives its state.
void check_source(int fd, const DropReader::Source& source, struct stat* st) {
  const std::string& path = source.path;
  if (::fstat(fd, st) != 0) throw SystemError(path, "stat", errno);
  if (!S_ISREG(st->st_mode)) throw Error(ErrorKind::kBadInput, path, "not a regular file");
  if (static_cast<std::uint64_t>(st->st_size) != source.size) {
    throw Error(ErrorKind::kVerification, path,
                "size is " + std::to_string(st->st_size) + " bytes, the manifest says " +
                    std::to_string(source.size) + " (the drop changed after it was checked)");
  }
}

}  // namespace

DropReader::DropReader(std::vector<Source> sources, DropReaderOptions options)
    : sources_(std::move(sources)), options_(options) {
  // Windows start at multiples of their size: it must be a multiple of the page size.
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  options_.window_bytes = std::max(page, options_.window_bytes / page * page);
  options_.windows = std::max<std::size_t>(options_.windows, 2);
  prehashed_.resize(sources_.size());
  thread_ = std::thread([this] { run(); });
  prehasher_ = std::thread([this] { prehash_run(); });
}

DropReader::~DropReader() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
  prehasher_.join();
  release_held();
  for (Item& item : items_) {
    if (item.window.base) unmap(item.window);
  }
}

void DropReader::run() {
  try {
    for (std::size_t i = 0; i < sources_.size(); ++i) read_source(i);
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    changed_.notify_all();
  } catch (const Stopped&) {
  } catch (...) {
    Item item;
    item.kind = Item::Kind::kError;
    item.error = std::current_exception();
    try {
      push(std::move(item));
    } catch (const Stopped&) {
    }
  }
}

DropReader::Window DropReader::map_window(int fd, std::uint64_t offset, std::size_t length,
                                          const std::string& path) {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopping_ || mapped_ < options_.windows; });
    if (stopping_) throw Stopped{};
    ++mapped_;
  }
  // MAP_POPULATE: one call maps every page (and reads what the page cache lacks), instead
  // of a fault every few pages.
  void* base = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
                      static_cast<off_t>(offset));
  if (base == MAP_FAILED) {
    int error = errno;
    unmap({});  // gives the window back
    throw SystemError(path, "map", error);
  }
  return {base, length};
}

void DropReader::unmap(Window window) {
  if (window.base) ::munmap(window.base, window.length);
  {
    std::lock_guard lock(mutex_);
    --mapped_;
  }
  changed_.notify_all();
}

void DropReader::prehash_run() {
  // Hashing a large file takes long enough to starve the compressor if it waited for the
  // file's turn; done ahead, it overlaps with the compression of the files before it.
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    const Source& source = sources_[i];
    if (source.size <= options_.window_bytes) continue;
    Prehash result;
    try {
      FileDescriptor fd(open_source(source));
      check_source(fd.get(), source, &result.before);
      Sha256 hasher;
      for (std::uint64_t at = 0; at < source.size; at += options_.window_bytes) {
        {
          std::lock_guard lock(mutex_);
          if (stopping_) return;
        }
        std::size_t n = static_cast<std::size_t>(
            std::min<std::uint64_t>(options_.window_bytes, source.size - at));
        void* base = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(),
                            static_cast<off_t>(at));
        if (base == MAP_FAILED) throw SystemError(source.path, "map", errno);
        hasher.update(base, n);
        ::munmap(base, n);
      }
      result.digest = hasher.finish();
    } catch (...) {
      result.error = std::current_exception();
    }
    result.done = true;
    {
      std::lock_guard lock(mutex_);
      prehashed_[i] = result;
    }
    changed_.notify_all();
    if (result.error) return;  // the reader stops at this file
  }
}

void DropReader::read_source(std::size_t index) {
  const Source& source = sources_[index];
  const std::string& path = source.path;
  struct stat before {};
  FileDescriptor fd(open_source(source));
  check_source(fd.get(), source, &before);
  auto check_unchanged = [&] {
    struct stat after {};
    if (::fstat(fd.get(), &after) != 0) throw SystemError(path, "stat", errno);
    if (!same_file_state(before, after)) {
      throw Error(ErrorKind::kVerification, path,
                  "changed while it was read (the drop changed after it was checked)");
    }
  };
  auto chunk_of = [](Window window) {
    Item chunk;
    chunk.kind = Item::Kind::kChunk;
    chunk.window = window;
    return chunk;
  };

  const std::uint64_t size = source.size;
  const std::size_t step = options_.window_bytes;
  Sha256 hasher;
  File file;
  if (size == 0) {
    file.digest = hasher.finish();
    file.first = seen_.insert(file.digest).second;
    check_unchanged();
    Item item;
    item.file = file;
    push(item);
    return;
  }
  if (size <= step) {  // the one read: hashed, then handed over as it is
    Window window = map_window(fd.get(), 0, static_cast<std::size_t>(size), path);
    try {
      hasher.update(window.base, window.length);
      file.digest = hasher.finish();
      file.first = seen_.insert(file.digest).second;
      check_unchanged();
      Item item;
      item.file = file;
      push(item);
    } catch (...) {
      unmap(window);
      throw;
    }
    if (file.first) {
      try {
        push(chunk_of(window));
      } catch (...) {
        unmap(window);
        throw;
      }
    } else {
      unmap(window);
    }
    return;
  }

  // Larger than a window: its digest, hashed ahead, then, if it is new, its bytes mapped again.
  Prehash prehash;
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopping_ || prehashed_[index].done; });
    if (stopping_) throw Stopped{};
    prehash = prehashed_[index];
  }
  if (prehash.error) std::rethrow_exception(prehash.error);
  if (!same_file_state(prehash.before, before)) {
    throw Error(ErrorKind::kVerification, path,
                "changed while it was read (the drop changed after it was checked)");
  }
  file.digest = prehash.digest;
  file.first = seen_.insert(file.digest).second;
  if (!file.first) check_unchanged();
  Item item;
  item.file = file;
  push(item);
  if (!file.first) return;
  for (std::uint64_t at = 0; at < size; at += step) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(step, size - at));
    Window window = map_window(fd.get(), at, n, path);
    try {
      if (at + n == size) check_unchanged();  // before its last bytes are handed over
      push(chunk_of(window));
    } catch (...) {
      unmap(window);
      throw;
    }
  }
}

void DropReader::push(Item item) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw Stopped{};
    items_.push_back(std::move(item));
  }
  changed_.notify_all();
}

DropReader::Item DropReader::pop() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !items_.empty() || finished_; });
  if (items_.empty()) throw Error(ErrorKind::kInternal, "drop reader", "read past the last file");
  Item item = std::move(items_.front());
  items_.pop_front();
  if (item.kind == Item::Kind::kError) {
    items_.push_front(item);  // every later call fails the same way
    std::rethrow_exception(item.error);
  }
  return item;
}

void DropReader::release_held() {
  if (!held_.base) return;
  unmap(held_);
  held_ = {};
}

DropReader::File DropReader::next_file() {
  release_held();
  Item item = pop();
  if (item.kind != Item::Kind::kFile) {
    throw Error(ErrorKind::kInternal, "drop reader", "bytes where a file was expected");
  }
  return item.file;
}

std::span<const char> DropReader::next_chunk() {
  release_held();
  Item item = pop();
  if (item.kind != Item::Kind::kChunk) {
    throw Error(ErrorKind::kInternal, "drop reader", "a file where bytes were expected");
  }
  held_ = item.window;
  return {static_cast<const char*>(held_.base), held_.length};
}

}  // namespace hotfix
