#include "installer/writer_activity.h"

#include "installer/root_lock.h"
#include "installer/state_checks.h"
#include "manifests/errors.h"
#include "manifests/read_to_end.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace hotfix {

namespace {

// The whole file and its stamp (size, mtime and ctime to the nanosecond), or "-" when absent.
// O_NONBLOCK: a FIFO planted there must not hang a reader; it is read as nothing.
std::string look(int dir, const char* name, std::string* content) {
  if (dir < 0) return "-";
  int fd = ::openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return "-";
  struct stat st {};
  std::string data;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (64 << 20)) {
    try {
      data = read_to_end(fd, 64 << 20, name);
    } catch (const SystemError&) {
      data = "?";  // unreadable: still a mark, compared like any other
    }
  }
  ::close(fd);
  if (content) *content = data;
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec) + ":" + data;
}

}  // namespace

std::set<std::string> WriterActivity::changing_paths() const {
  std::set<std::string> out;
  if (journal) {
    for (const JournalOp& op : journal->ops) out.insert(op.path);
  }
  return out;
}

WriterActivity observe_writers(const Root& root, const std::string& state_dir) {
  WriterActivity a;
  std::optional<FileDescriptor> dir;
  try {
    dir = root.open_dir_if_exists(state_dir);
  } catch (const std::exception&) {
    // not a directory one may read: no writer can be told
  }
  const int fd = dir ? dir->get() : -1;
  std::string lock, journal;
  a.marks = look(fd, "lock", &lock) + "|";
  std::string journal_look = look(fd, "journal.json", &journal);
  a.marks += journal_look;
  a.journal_present = journal_look != "-";
  if (a.journal_present) {
    try {
      a.journal = journal_from_json(journal, root.show(state_dir + "/journal.json"));
      check_journal(*a.journal, state_dir, root.show(state_dir + "/journal.json"));
    } catch (const std::exception&) {
      // unreadable or damaged: every file counts as possibly changing (see verify)
      a.journal.reset();
    }
  }
  // The lock itself says whether its holder is alive: a pid in the file may be a dead
  // writer's, since given to another process.
  LockHolder holder = lock_holder(root, state_dir);
  a.writer_alive = holder.held;
  a.holder_pid = holder.pid;
  return a;
}

}  // namespace hotfix
