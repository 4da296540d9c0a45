#include "manifests/progress.h"

#include <unistd.h>

#include <cstdio>

#include "manifests/terminal_text.h"

namespace hotfix {

namespace {

std::string mebibytes(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::string duration(double seconds) {
  auto s = static_cast<long long>(seconds + 0.5);
  if (s < 60) return std::to_string(s) + " s";
  return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;  // progress is a courtesy: a failed write is not the command's failure
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string progress_line(const std::string& label, std::uint64_t files, std::uint64_t files_total,
                          std::uint64_t bytes, std::uint64_t bytes_total, double seconds) {
  std::string line = label + ": " + std::to_string(files) +
                     (files_total ? "/" + std::to_string(files_total) : "") + " files, " +
                     mebibytes(bytes) + (bytes_total ? "/" + mebibytes(bytes_total) : "") + " MiB";
  if (seconds < 0.2 || bytes == 0) return line;
  const double rate = static_cast<double>(bytes) / seconds;
  line += ", " + mebibytes(static_cast<std::uint64_t>(rate)) + " MiB/s";
  if (bytes_total > bytes) {
    line += ", " + duration(static_cast<double>(bytes_total - bytes) / rate) + " left";
  } else if (!bytes_total && files_total > files && files > 0) {
    // Bytes to come unknown (verify reads some files whole, some only their version): by files.
    line +=
        ", " +
        duration(seconds * static_cast<double>(files_total - files) / static_cast<double>(files)) +
        " left";
  }
  return line;
}

Progress::Progress(std::string label, bool enabled, int fd)
    : label_(terminal_safe(label)),
      enabled_(enabled),
      fd_(fd),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { finish(); }

bool Progress::wanted(bool json, bool quiet, int fd) { return !json && !quiet && ::isatty(fd); }

void Progress::add_totals(std::uint64_t files, std::uint64_t bytes) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  files_total_ += files;
  bytes_total_ += bytes;
}

void Progress::advance(std::uint64_t files, std::uint64_t bytes) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  files_ += files;
  bytes_ += bytes;
  draw_locked(false);
}

void Progress::draw_locked(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  double seconds = std::chrono::duration<double>(now - start_).count();
  // "\r" back to the margin, the line, then erase what a longer earlier line left.
  write_all(fd_, "\r" + progress_line(label_, files_, files_total_, bytes_, bytes_total_, seconds) +
                     "\x1b[K");
}

void Progress::finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (drawn_) write_all(fd_, "\r\x1b[K");
  drawn_ = false;
}

}  // namespace hotfix
