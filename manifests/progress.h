// Progress on standard error while a long command works (build, apply staging, uninstall,
// verify): files, bytes, rate and time left on one line redrawn in place, as rsync and
// dpkg-deb show it. Only where a person watches: the stream is a terminal, and neither --json
// nor --quiet was given; otherwise a Progress does nothing, and no escape reaches a log.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace hotfix {

// "verify: 12/47 files, 3.2/8.1 MiB, 41.0 MiB/s, 2 s left"; a total of 0 is unknown, and
// rate and time left appear once there is a rate to tell.
std::string progress_line(const std::string& label, std::uint64_t files, std::uint64_t files_total,
                          std::uint64_t bytes, std::uint64_t bytes_total, double seconds);

class Progress {
 public:
  // Draws on `fd` when `enabled`; see wanted().
  Progress(std::string label, bool enabled, int fd = 2);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Whether a command should show progress: `fd` is a terminal, and neither --json nor
  // --quiet asks otherwise.
  static bool wanted(bool json, bool quiet, int fd = 2);

  bool enabled() const { return enabled_; }
  // Totals to count against (0: unknown); they add up across calls (several bundles).
  void add_totals(std::uint64_t files, std::uint64_t bytes);
  // Safe from several threads (verify's workers); redraws at most ten times a second.
  void advance(std::uint64_t files, std::uint64_t bytes);
  // Clears the line, so that what is printed next starts at the left margin.
  void finish();

 private:
  void draw_locked(bool force);

  std::string label_;
  const bool enabled_;
  const int fd_;
  std::mutex mutex_;
  std::uint64_t files_ = 0, files_total_ = 0, bytes_ = 0, bytes_total_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace hotfix
