#include "installer/process_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <set>
#include <utility>

namespace hotfix {

namespace {

using Identity = std::pair<dev_t, ino_t>;

bool all_digits(const char* s) {
  if (*s == '\0') return false;
  for (; *s; ++s) {
    if (*s < '0' || *s > '9') return false;
  }
  return true;
}

// The whole of a small /proc file; nullopt when it cannot be opened or read.
std::optional<std::string> slurp(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

// Identities mapped by the process, from the "dev" (hex major:minor) and "inode" columns of
// /proc/PID/maps: "7f..-7f.. r--p 00000000 fe:01 1234   /usr/lib/x.so (deleted)".
std::set<Identity> mapped_identities(const std::string& maps,
                                     const std::set<ino_t>& wanted_inodes) {
  std::set<Identity> found;
  std::size_t pos = 0;
  while (pos < maps.size()) {
    std::size_t end = maps.find('\n', pos);
    if (end == std::string::npos) end = maps.size();
    const char* p = maps.c_str() + pos;
    const char* line_end = maps.c_str() + end;
    pos = end + 1;
    // Skip address, permissions and offset.
    for (int field = 0; field < 3 && p < line_end; ++field) {
      while (p < line_end && *p != ' ') ++p;
      while (p < line_end && *p == ' ') ++p;
    }
    if (p >= line_end) continue;
    char* after = nullptr;
    unsigned long major = std::strtoul(p, &after, 16);
    if (after == p || after >= line_end || *after != ':') continue;
    p = after + 1;
    unsigned long minor = std::strtoul(p, &after, 16);
    if (after == p || after >= line_end || *after != ' ') continue;
    p = after;
    while (p < line_end && *p == ' ') ++p;
    unsigned long long inode = std::strtoull(p, &after, 10);
    if (after == p || inode == 0) continue;
    if (!wanted_inodes.count(static_cast<ino_t>(inode))) continue;
    found.insert({makedev(static_cast<unsigned>(major), static_cast<unsigned>(minor)),
                  static_cast<ino_t>(inode)});
  }
  return found;
}

// Identities of what the process's descriptors refer to (stat follows the /proc links).
std::set<Identity> open_identities(const std::string& fd_dir,
                                   const std::set<ino_t>& wanted_inodes) {
  std::set<Identity> found;
  DIR* dir = opendir(fd_dir.c_str());
  if (!dir) return found;
  while (dirent* e = readdir(dir)) {
    if (!all_digits(e->d_name)) continue;
    struct stat st {};
    if (fstatat(dirfd(dir), e->d_name, &st, 0) != 0) continue;
    if (wanted_inodes.count(st.st_ino)) found.insert({st.st_dev, st.st_ino});
  }
  closedir(dir);
  return found;
}

std::string unit_of_path(const std::string& path) {
  static const char* const kSuffixes[] = {".service", ".scope", ".socket", ".mount", ".swap"};
  std::string unit;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(start, slash - start);
    for (const char* suffix : kSuffixes) {
      std::string s = suffix;
      if (part.size() > s.size() && part.compare(part.size() - s.size(), s.size(), s) == 0) {
        unit = part;  // innermost wins: user@1000.service/app.slice/foo.service is foo.service
      }
    }
    start = slash + 1;
  }
  return unit;
}

}  // namespace

std::string systemd_unit_from_cgroup(const std::string& cgroup_text) {
  // "hierarchy-ID:controllers:path" per line.
  std::string unified, named;
  std::size_t pos = 0;
  while (pos < cgroup_text.size()) {
    std::size_t end = cgroup_text.find('\n', pos);
    if (end == std::string::npos) end = cgroup_text.size();
    std::string line = cgroup_text.substr(pos, end - pos);
    pos = end + 1;
    std::size_t first = line.find(':');
    if (first == std::string::npos) continue;
    std::size_t second = line.find(':', first + 1);
    if (second == std::string::npos) continue;
    std::string id = line.substr(0, first);
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (id == "0" && controllers.empty()) unified = path;
    if (controllers == "name=systemd") named = path;
  }
  // Hybrid hosts list both; they agree where systemd tracks the process.
  std::string unit = unit_of_path(named);
  return unit.empty() ? unit_of_path(unified) : unit;
}

std::vector<ProcessUse> find_processes_using(const std::vector<FileIdentityKey>& old_files,
                                             const std::string& proc_root) {
  std::vector<ProcessUse> uses;
  if (old_files.empty()) return uses;
  std::set<ino_t> wanted_inodes;
  for (const auto& f : old_files) wanted_inodes.insert(f.ino);

  std::vector<pid_t> pids;
  DIR* dir = opendir(proc_root.c_str());
  if (!dir) return uses;
  while (dirent* e = readdir(dir)) {
    if (all_digits(e->d_name)) pids.push_back(static_cast<pid_t>(std::atol(e->d_name)));
  }
  closedir(dir);
  std::sort(pids.begin(), pids.end());

  const pid_t self = getpid();
  for (pid_t pid : pids) {
    if (pid == self) continue;
    const std::string base = proc_root + "/" + std::to_string(pid);
    std::set<Identity> mapped, open;
    if (auto maps = slurp(base + "/maps")) mapped = mapped_identities(*maps, wanted_inodes);
    open = open_identities(base + "/fd", wanted_inodes);
    if (mapped.empty() && open.empty()) continue;

    ProcessUse use;
    use.pid = pid;
    bool any_mapped = false, any_open = false;
    for (const auto& f : old_files) {
      Identity id{f.dev, f.ino};
      bool m = mapped.count(id) > 0, o = open.count(id) > 0;
      if (!m && !o) continue;
      any_mapped |= m;
      any_open |= o;
      use.paths.push_back(f.path);
    }
    if (use.paths.empty()) continue;  // same inode number on another device
    use.how = any_mapped && any_open ? "mapped, open" : any_mapped ? "mapped" : "open";

    // A process that is gone by now has no command line to show: leave it out.
    auto cmdline = slurp(base + "/cmdline");
    if (!cmdline) continue;
    while (!cmdline->empty() && cmdline->back() == '\0') cmdline->pop_back();
    for (char& c : *cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline->empty()) {
      auto comm = slurp(base + "/comm");
      if (!comm) continue;
      while (!comm->empty() && comm->back() == '\n') comm->pop_back();
      *cmdline = "[" + *comm + "]";
    }
    use.command_line = std::move(*cmdline);
    if (auto cgroup = slurp(base + "/cgroup")) use.unit = systemd_unit_from_cgroup(*cgroup);
    uses.push_back(std::move(use));
  }
  return uses;
}

}  // namespace hotfix
