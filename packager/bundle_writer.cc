#include "packager/bundle_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <vector>

#include "manifests/bundle_format.h"
#include "manifests/errors.h"
#include "manifests/manifest_json.h"
#include "manifests/sha256.h"
#include "packager/async_file_writer.h"
#include "packager/drop_reader.h"

namespace hotfix {

namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void write_all(int fd, const void* data, std::size_t size, const std::string& where) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SystemError(where, "write", errno);
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

// A zstd stream whose output goes to an AsyncFileWriter.
class ZstdSink {
 public:
  ZstdSink(AsyncFileWriter& out, const std::string& where, int level, int threads)
      : out_(out), where_(where) {
    cctx_ = ZSTD_createCCtx();
    if (!cctx_) throw Error(ErrorKind::kInternal, where_, "zstd: out of memory");
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level));
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1));
    if (threads > 0) check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, threads));
  }
  ~ZstdSink() { ZSTD_freeCCtx(cctx_); }
  ZstdSink(const ZstdSink&) = delete;
  ZstdSink& operator=(const ZstdSink&) = delete;

  void write(const void* data, std::size_t size) { pump(data, size, ZSTD_e_continue); }
  // Ends the frame and hands over the last bytes.
  void end() {
    pump(nullptr, 0, ZSTD_e_end);
    if (buffer_.pos) out_.commit(static_cast<char*>(buffer_.dst), buffer_.pos);
    buffer_ = {};
  }

 private:
  void check(std::size_t r) const {
    if (ZSTD_isError(r)) throw Error(ErrorKind::kInternal, where_, ZSTD_getErrorName(r));
  }

  void pump(const void* data, std::size_t size, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data, size, 0};
    while (true) {
      if (!buffer_.dst) buffer_ = {out_.take(), out_.buffer_bytes(), 0};
      std::size_t remaining = ZSTD_compressStream2(cctx_, &buffer_, &in, mode);
      check(remaining);
      if (buffer_.pos == buffer_.size) {
        out_.commit(static_cast<char*>(buffer_.dst), buffer_.pos);
        buffer_ = {};
      }
      bool done = mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size;
      if (done) break;
    }
  }

  AsyncFileWriter& out_;
  const std::string& where_;
  ZSTD_CCtx* cctx_;
  ZSTD_outBuffer buffer_{};
};

// One complete zstd frame of `data`.
std::string compress_frame(const std::string& data, int level, const std::string& where) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string out(ZSTD_compressBound(data.size()), '\0');
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) throw Error(ErrorKind::kInternal, where, ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

// A zstd skippable frame of exactly `size` bytes (at least 8): decoders pass over it.
std::string skippable_frame(std::size_t size) {
  std::string frame(size, '\0');
  const std::uint32_t magic = 0x184D2A50, length = static_cast<std::uint32_t>(size - 8);
  for (int i = 0; i < 4; ++i) {
    frame[i] = static_cast<char>(magic >> (8 * i));
    frame[4 + i] = static_cast<char>(length >> (8 * i));
  }
  return frame;
}

void pwrite_all(int fd, const std::string& data, off_t offset, const std::string& where) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SystemError(where, "write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
}

// A tar writer (libarchive, pax restricted, unblocked) whose bytes go to a callback.
class TarWriter {
 public:
  using Sink = std::function<void(const void*, std::size_t)>;
  explicit TarWriter(Sink sink) : sink_(std::move(sink)), a_(archive_write_new()) {
    archive_write_set_format_pax_restricted(a_);
    archive_write_set_bytes_per_block(a_, 0);
    if (archive_write_open(a_, this, nullptr, &TarWriter::on_write, nullptr) != ARCHIVE_OK) {
      fail("open");
    }
  }
  ~TarWriter() { archive_write_free(a_); }
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // An entry of `size` bytes, with fixed metadata so that the same content always gives the
  // same bytes; its data follows through data(), then finish().
  void begin(const std::string& name, std::uint64_t size) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    archive_entry_set_mtime(e, 0, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    int r = archive_write_header(a_, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK) fail("write header for " + name);
    name_ = name;
  }
  void data(const char* p, std::size_t size) {
    while (size > 0) {
      la_ssize_t n = archive_write_data(a_, p, size);
      if (n <= 0) fail("write data for " + name_);
      p += n;
      size -= static_cast<std::size_t>(n);
    }
  }
  void finish() {
    if (archive_write_finish_entry(a_) != ARCHIVE_OK) fail("finish " + name_);
  }
  void add(const std::string& name, const std::string& content) {
    begin(name, content.size());
    data(content.data(), content.size());
    finish();
  }

  void close() {
    if (archive_write_close(a_) != ARCHIVE_OK) fail("close");
  }

 private:
  static la_ssize_t on_write(archive*, void* self, const void* buffer, size_t length) {
    auto* w = static_cast<TarWriter*>(self);
    try {
      w->sink_(buffer, length);
    } catch (...) {
      w->pending_ = std::current_exception();
      return -1;
    }
    return static_cast<la_ssize_t>(length);
  }

  [[noreturn]] void fail(const std::string& what) {
    if (pending_) std::rethrow_exception(pending_);
    const char* msg = archive_error_string(a_);
    throw Error(ErrorKind::kInternal, "tar", what + ": " + (msg ? msg : "libarchive error"));
  }

  Sink sink_;
  archive* a_;
  std::exception_ptr pending_;
  std::string name_;
};

void copy_fd(int from, off_t from_offset, int to, std::uint64_t size, const std::string& where) {
  loff_t in_off = from_offset;
  while (size > 0) {
    ssize_t n = ::copy_file_range(from, &in_off, to, nullptr, size, 0);
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) {
      // Fallback: plain read/write.
      std::vector<char> buf(1 << 20);
      while (size > 0) {
        ssize_t r = ::pread(from, buf.data(), std::min<std::uint64_t>(size, buf.size()), in_off);
        if (r <= 0) throw SystemError(where, "read temporary payload", r < 0 ? errno : EIO);
        write_all(to, buf.data(), static_cast<std::size_t>(r), where);
        in_off += r;
        size -= static_cast<std::uint64_t>(r);
      }
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SystemError(where, "copy payload", errno);
    }
    if (n == 0) throw SystemError(where, "copy payload", EIO);
    size -= static_cast<std::uint64_t>(n);
  }
}

std::string directory_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// A temporary file in `dir` that is removed unless released.
class TempFile {
 public:
  TempFile(const std::string& dir, const std::string& stem) {
    path_ = dir + "/." + stem + ".tmp-XXXXXX";
    fd_ = ::mkstemp(path_.data());
    if (fd_ < 0) throw SystemError(path_, "create temporary file", errno);
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Renames into place after making the content durable.
  void commit(const std::string& target) {
    if (::fchmod(fd_, 0644) != 0) throw SystemError(path_, "chmod", errno);
    if (::fsync(fd_) != 0) throw SystemError(path_, "fsync", errno);
    if (::rename(path_.c_str(), target.c_str()) != 0) throw SystemError(target, "rename", errno);
    path_.clear();
    Fd dir(::open(directory_of(target).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

BundleWriteResult write_bundle(Manifest slice, const std::string& drop_dir, const PrivateKey& key,
                               const std::string& out_path, const BundleWriteOptions& options) {
  if (!slice.bundle || slice.architectures.size() != 1) {
    throw Error(ErrorKind::kInternal, out_path, "write_bundle needs a one-architecture slice");
  }
  BundleWriteResult result;
  const std::string dir = directory_of(out_path);
  const std::string stem = out_path.substr(out_path.find_last_of('/') + 1);

  // One pass over the drop: each file is read once, hashed, and its bytes go straight into the
  // compressed payload stream (a file larger than a read buffer is read twice, see
  // DropReaderOptions). The manifest, which needs every hash, comes first in the
  // bundle: the payload is written after a gap reserved for it, and the gap is then filled
  // with the head frame and a skippable frame. Only when the head does not fit is the
  // payload copied once more. The gap depends only on the manifest, so output is reproducible.
  std::size_t entry_count = 0;
  for (const auto& [arch, files] : slice.architectures) entry_count += files.size();
  const off_t reserve = static_cast<off_t>(64 * 1024 + 1024 * entry_count);

  TempFile out(dir, stem);
  off_t payload_end = 0;
  {
    std::vector<DropReader::Source> sources;
    for (const auto& [arch, files] : slice.architectures) {
      for (const FileEntry& entry : files)
        sources.push_back({drop_dir + "/" + entry.path(), entry.size});
    }
    // Three stages run side by side, as `tar | zstd` does: the reader reads and hashes, this
    // thread feeds the compressor's workers, the writer writes. Memory is bounded by their
    // buffers, whatever the size of the drop.
    DropReader reader(std::move(sources), options.read);
    AsyncFileWriter writer(out.fd(), reserve, out_path);
    ZstdSink zsink(writer, out_path, options.level, options.threads);
    TarWriter tar([&](const void* p, std::size_t n) { zsink.write(p, n); });
    for (auto& [arch, files] : slice.architectures) {
      for (FileEntry& entry : files) {
        DropReader::File file = reader.next_file();
        if (entry.sha256 && *entry.sha256 != file.digest) {
          throw Error(ErrorKind::kVerification, drop_dir + "/" + entry.path(),
                      "SHA-256 " + to_hex(file.digest) + " differs from the manifest's " +
                          to_hex(*entry.sha256));
        }
        entry.sha256 = file.digest;
        result.input_bytes += entry.size;
        if (options.progress) options.progress->advance(1, entry.size);
        if (!file.first) continue;
        tar.begin(std::string(kPayloadPrefix) + to_hex(file.digest), entry.size);
        for (std::uint64_t left = entry.size; left > 0;) {
          std::span<const char> chunk = reader.next_chunk();
          tar.data(chunk.data(), chunk.size());
          left -= chunk.size();
        }
        tar.finish();
        result.payload_bytes += entry.size;
        ++result.blobs;
      }
    }
    tar.close();
    zsink.end();
    payload_end = writer.finish();
  }

  slice.bundle->key_id = key.public_key().fingerprint();
  std::string manifest_json = write_manifest(slice);
  std::string signature = key.sign(manifest_json);

  // The head: manifest.json and its signature as tar entries, without the end-of-archive
  // marker (the payload stream carries it), compressed as a zstd frame of its own.
  std::string head;
  {
    TarWriter tar(
        [&](const void* p, std::size_t n) { head.append(static_cast<const char*>(p), n); });
    tar.add(std::string(kManifestEntry), manifest_json);
    tar.add(std::string(kSignatureEntry), signature);
    tar.close();
  }
  constexpr std::size_t kEndMarker = 1024;
  if (head.size() < kEndMarker ||
      head.find_first_not_of('\0', head.size() - kEndMarker) != std::string::npos) {
    throw Error(ErrorKind::kInternal, out_path, "unexpected tar trailer");
  }
  head.resize(head.size() - kEndMarker);
  std::string head_frame = compress_frame(head, options.level, out_path);

  struct stat st {};
  if (head_frame.size() + 8 <= static_cast<std::size_t>(reserve)) {
    pwrite_all(out.fd(), head_frame, 0, out_path);
    pwrite_all(out.fd(), skippable_frame(static_cast<std::size_t>(reserve) - head_frame.size()),
               static_cast<off_t>(head_frame.size()), out_path);
    if (::fstat(out.fd(), &st) != 0) throw SystemError(out_path, "stat", errno);
    out.commit(out_path);
  } else {
    TempFile copy(dir, stem);
    pwrite_all(copy.fd(), head_frame, 0, out_path);
    if (::lseek(copy.fd(), static_cast<off_t>(head_frame.size()), SEEK_SET) < 0) {
      throw SystemError(out_path, "seek", errno);
    }
    copy_fd(out.fd(), reserve, copy.fd(), static_cast<std::uint64_t>(payload_end - reserve),
            out_path);
    if (::fstat(copy.fd(), &st) != 0) throw SystemError(out_path, "stat", errno);
    copy.commit(out_path);
  }

  result.bundle_bytes = static_cast<std::uint64_t>(st.st_size);
  result.manifest = std::move(slice);
  return result;
}

}  // namespace hotfix
