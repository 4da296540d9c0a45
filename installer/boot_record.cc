#include "installer/boot_record.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "installer/atomic_write.h"
#include "installer/root.h"
#include "manifests/errors.h"

namespace hotfix {

namespace {

constexpr std::string_view kBootIdPrefix = "boot-id ";
constexpr std::string_view kMarkerPrefix = "marker ";
constexpr std::uint64_t kMaxMarkerBytes = 256;

bool is_hex(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// A kernel boot id: 36 characters, lower-case hex and dashes (8-4-4-4-12).
bool is_boot_id(std::string_view id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !is_hex(id.substr(i, 1))) return false;
  }
  return true;
}

// The first line of a small file of the running system, or nullopt.
std::optional<std::string> first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.size() > 256) return std::nullopt;
  return line;
}

std::optional<std::string> kernel_boot_id(const BootProbe& probe) {
  std::optional<std::string> id =
      probe.boot_id ? probe.boot_id() : first_line("/proc/sys/kernel/random/boot_id");
  if (!id || !is_boot_id(*id)) return std::nullopt;
  return id;
}

std::optional<std::int64_t> kernel_boot_time(const BootProbe& probe) {
  if (probe.boot_time) return probe.boot_time();
  std::ifstream in("/proc/stat");
  std::string key;
  long long value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(1 << 16, '\n');
  }
  return std::nullopt;
}

std::string new_token() {
  std::random_device rd;
  std::string hex;
  char buf[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    hex += buf;
  }
  return hex;
}

// The token in the marker, "" when there is none.
std::string marker_token(const Root& root) {
  const std::string path(kBootMarkerPath);
  std::optional<struct stat> st = root.status(path);
  if (!st) return "";
  if (!S_ISREG(st->st_mode) || static_cast<std::uint64_t>(st->st_size) > kMaxMarkerBytes) {
    throw UnsafePathError(root.show(path),
                          "is not the small regular file the installer writes to mark the boot "
                          "a restart need was recorded in");
  }
  std::string text = root.read_file(path, kMaxMarkerBytes);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace

bool is_boot_record(std::string_view text) {
  if (text.starts_with(kBootIdPrefix)) return is_boot_id(text.substr(kBootIdPrefix.size()));
  if (text.starts_with(kMarkerPrefix)) {
    std::string_view token = text.substr(kMarkerPrefix.size());
    return token.size() == 32 && is_hex(token);
  }
  return false;
}

std::string new_boot_record(bool live_root, const BootProbe& probe) {
  if (live_root) {
    if (std::optional<std::string> id = kernel_boot_id(probe)) {
      return std::string(kBootIdPrefix) + *id;
    }
  }
  return std::string(kMarkerPrefix) + new_token();
}

void write_boot_marker(Disk& disk, const std::string& boot) {
  if (!boot.starts_with(kMarkerPrefix)) return;
  const std::string token = boot.substr(kMarkerPrefix.size());
  if (marker_token(disk.root()) == token) return;
  if (disk.make_dir("run")) disk.sync_dir("");
  write_atomically(disk, std::string(kBootMarkerPath), token + "\n", 0644);
}

BootSince started_since(const Root& root, bool live_root, const std::string& boot,
                        std::optional<std::int64_t> since, const BootProbe& probe) {
  if (boot.starts_with(kBootIdPrefix)) {
    std::optional<std::string> now = live_root ? kernel_boot_id(probe) : std::nullopt;
    if (!now) return BootSince::kUnknown;
    return boot.substr(kBootIdPrefix.size()) == *now ? BootSince::kSameBoot : BootSince::kStarted;
  }
  if (boot.starts_with(kMarkerPrefix)) {
    return marker_token(root) == boot.substr(kMarkerPrefix.size()) ? BootSince::kSameBoot
                                                                   : BootSince::kStarted;
  }
  // Recorded before boots were: only the running system's boot time can tell.
  std::optional<std::int64_t> booted = live_root ? kernel_boot_time(probe) : std::nullopt;
  if (!booted || !since) return BootSince::kUnknown;
  return *booted > *since ? BootSince::kStarted : BootSince::kSameBoot;
}

}  // namespace hotfix
