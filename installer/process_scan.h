// Which running processes still use the old version of files a hotfix replaced, judged from
// /proc alone: nothing belonging to those processes is ever executed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace hotfix {

// The identity of an old file, taken (stat) before it was replaced.
struct FileIdentityKey {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string path;  // as reported back to the administrator
};

struct ProcessUse {
  pid_t pid = 0;
  std::string command_line;        // arguments joined by spaces; "[comm]" when it has none
  std::string unit;                // systemd unit ("nginx.service"), empty when there is none
  std::vector<std::string> paths;  // the old files it uses, in the order they were given
  std::string how;                 // "mapped", "open" or "mapped, open"
};

// Processes under `proc_root` (one directory per pid) that map (maps: device and inode
// columns) or hold open (fd/*: device and inode of the link's target) any of `old_files`,
// matched by (dev, ino), ordered by pid. The calling process is left out, and so are
// processes that vanish or cannot be read while they are looked at.
std::vector<ProcessUse> find_processes_using(const std::vector<FileIdentityKey>& old_files,
                                             const std::string& proc_root = "/proc");

// The systemd unit a /proc/PID/cgroup text places the process in: the innermost unit
// (".service", ".scope", ".socket", ".mount", ".swap") of the unified hierarchy ("0::") or,
// on cgroup v1, of the "name=systemd" hierarchy. "" when the path names no unit.
std::string systemd_unit_from_cgroup(const std::string& cgroup_text);

}  // namespace hotfix
