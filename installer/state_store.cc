#include "installer/state_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <string_view>

#include "installer/state_checks.h"
#include "manifests/errors.h"

namespace hotfix {

namespace {

// Whether the state directory's backups/ holds anything: backups exist only for hotfixes the
// database records (or a transaction the journal names).
bool holds_backups(int state_dir) {
  int fd = ::openat(state_dir, "backups", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;  // none (check_state_dir refused anything but a directory)
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return false;
  }
  bool any = false;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      any = true;
      break;
    }
  }
  ::closedir(d);
  return any;
}

// A database that is missing or empty while backups are kept was truncated, replaced or
// removed: taken for "nothing installed", it would orphan the originals for good.
void refuse_empty_with_backups(int state_dir, const std::string& shown) {
  if (holds_backups(state_dir)) {
    state_damaged(shown,
                  "the database is missing or empty, but backups/ holds the originals of "
                  "installed hotfixes");
  }
}

bool missing_or_empty(int state_dir, const char* name) {
  struct stat st {};
  if (::fstatat(state_dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT;
  return st.st_size == 0;
}

}  // namespace

StateDb open_state_db(const InstallerContext& ctx, StateDb::Mode mode) {
  const std::string shown = ctx.show_state("state.db");
  std::optional<FileDescriptor> dir = check_state_dir(ctx.root, ctx.state_dir);
  if (!dir) {
    if (mode == StateDb::Mode::kReadOnly) return StateDb::none(shown);
    throw SystemError(ctx.root.show(ctx.state_dir), "opening the state directory", ENOENT);
  }
  const int dir_fd = dir->get();  // still open inside the StateDb while it is being opened
  // Checked before SQLite creates or writes anything, and again for a file without tables.
  if (missing_or_empty(dir_fd, "state.db")) refuse_empty_with_backups(dir_fd, shown);
  return StateDb::open(std::move(*dir), "state.db", shown, mode, kStateDbBusyTimeout,
                       [&] { refuse_empty_with_backups(dir_fd, shown); });
}

bool has_state_db(const InstallerContext& ctx) {
  std::optional<FileDescriptor> dir = check_state_dir(ctx.root, ctx.state_dir);
  if (!dir) return false;
  if (ctx.disk->exists(ctx.state_file("state.db"))) return true;
  refuse_empty_with_backups(dir->get(), ctx.show_state("state.db"));
  return false;
}

}  // namespace hotfix
