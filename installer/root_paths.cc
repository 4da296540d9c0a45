#include "installer/root_paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>

#include "manifests/case_fold.h"
#include "manifests/errors.h"

namespace hotfix {

namespace {

// Queued after a link's target: once reached, the link's owner is checked against it.
constexpr char kLinkCheck = '\0';

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(pos, end - pos);
    if (!part.empty() && part != ".") parts.push_back(part);
    pos = end + 1;
  }
  return parts;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

NameIndex::Listing list_directory(const Root& root, int dir, const std::string& dir_rel) {
  int listing = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing < 0) throw SystemError(root.show(dir_rel), "open directory", errno);
  DIR* d = ::fdopendir(listing);
  if (!d) {
    ::close(listing);
    throw SystemError(root.show(dir_rel), "read directory", errno);
  }
  NameIndex::Listing names;
  while (dirent* e = ::readdir(d)) {
    std::string entry = e->d_name;
    if (entry == "." || entry == "..") continue;
    names[fold_name(entry)].push_back(std::move(entry));
  }
  ::closedir(d);
  return names;
}

// The entry of directory `dir` named `name`, or its match ignoring case; empty if none.
std::string find_entry(const Root& root, int dir, const std::string& dir_rel,
                       const std::string& name, bool fold_case, const std::string& where,
                       NameIndex& index) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return name;
  if (errno != ENOENT) throw SystemError(root.show(dir_rel + "/" + name), "stat", errno);
  if (!fold_case) return {};
  const std::vector<std::string>& found = index.matches(root, dir, dir_rel, fold_name(name));
  if (found.size() > 1) {
    throw Error(ErrorKind::kBadInput, where,
                "several names in " + root.show(dir_rel) + " match '" + name + "' ignoring case");
  }
  return found.empty() ? std::string() : found.front();
}

std::string read_link(const Root& root, int dir, const std::string& rel, const std::string& name) {
  char target[4096];
  ssize_t n = ::readlinkat(dir, name.c_str(), target, sizeof target - 1);
  if (n < 0) throw SystemError(root.show(rel), "readlink", errno);
  return std::string(target, static_cast<std::size_t>(n));
}

// The walk's current directory, reopened from the root when a link's target moves it back.
struct Walk {
  const Root& root;
  std::vector<std::string> resolved;  // components below the root, as on disk
  FileDescriptor dir;

  void reopen() { dir = root.open_dir(join(resolved)); }
  void enter(const std::string& entry) {
    int fd = ::openat(dir.get(), entry.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    resolved.push_back(entry);
    if (fd < 0) throw SystemError(root.show(join(resolved)), "open directory", errno);
    dir = FileDescriptor(fd);
  }
};

}  // namespace

const std::vector<std::string>& NameIndex::matches(const Root& root, int dir,
                                                   const std::string& dir_rel,
                                                   const std::string& key) {
  static const std::vector<std::string> kNone;
  struct stat st {};
  if (::fstat(dir, &st) != 0) throw SystemError(root.show(dir_rel), "stat", errno);
  auto [it, fresh] = listings_.try_emplace({st.st_dev, st.st_ino});
  if (fresh) it->second = list_directory(root, dir, dir_rel);
  auto found = it->second.find(key);
  return found == it->second.end() ? kNone : found->second;
}

namespace {

struct Resolution {
  bool fold_case = false;
  bool follow_last = false;   // the last component may be a link to the file (a reader's view)
  bool clamp_dotdot = false;  // ".." at the root stays at the root, as under chroot(2)
  bool show_root = false;     // errors name the path with the root, not as the manifest does
};

ResolvedPath resolve(const Root& root, const std::string& manifest_path, const Resolution& how,
                     NameIndex& index) {
  const bool fold_case = how.fold_case;
  const std::string where = how.show_root ? root.show(manifest_path) : manifest_path;
  std::deque<std::string> pending;
  for (auto& p : split(manifest_path)) pending.push_back(p);
  if (pending.empty()) throw Error(ErrorKind::kBadInput, where, "empty destination path");
  for (const std::string& p : pending) {
    if (p == "..") throw Error(ErrorKind::kBadInput, where, "path escapes the root ('..')");
  }

  Walk walk{root, {}, root.open_dir("")};
  int links = 0;
  ResolvedPath result;
  bool missing = false;
  auto last = [&] {
    for (const std::string& p : pending) {
      if (p[0] != kLinkCheck) return false;
    }
    return true;
  };
  while (!pending.empty()) {
    std::string name = pending.front();
    pending.pop_front();
    if (name[0] == kLinkCheck) {  // a followed link's target has been reached
      uid_t link_owner = static_cast<uid_t>(std::stoul(name.substr(1)));
      struct stat st {};
      bool trusted = link_owner == 0 ||
                     (!missing && ::fstat(walk.dir.get(), &st) == 0 && st.st_uid == link_owner);
      if (!trusted) {
        throw Error(ErrorKind::kBadInput, where,
                    "a symbolic link on the way belongs to uid " + std::to_string(link_owner) +
                        ", not to root or to the owner of the directory it leads to; it is not "
                        "followed");
      }
      continue;
    }
    if (name == "..") {  // only from a symbolic link's target
      if (walk.resolved.empty() && how.clamp_dotdot) continue;
      if (walk.resolved.empty()) {
        throw Error(ErrorKind::kBadInput, where, "path escapes the root through a symbolic link");
      }
      walk.resolved.pop_back();
      if (!missing) walk.reopen();
      continue;
    }
    const bool at_end = last();
    if (missing) {
      walk.resolved.push_back(name);
      if (!at_end) result.missing_dirs.push_back(join(walk.resolved));
      continue;
    }
    const std::string here = join(walk.resolved);
    std::string entry = find_entry(root, walk.dir.get(), here, name, fold_case, where, index);
    if (entry.empty()) {
      // A link's target that does not exist: following it would create directories where
      // the link points, which no one asked for.
      const bool in_link = std::any_of(pending.begin(), pending.end(),
                                       [](const std::string& p) { return p[0] == kLinkCheck; });
      if (in_link && !how.follow_last) {
        throw Error(ErrorKind::kBadInput, where,
                    "a symbolic link on the way leads to '" +
                        (here.empty() ? name : here + "/" + name) +
                        "', which does not exist in the root; no directory is made through a link");
      }
      missing = true;
      walk.resolved.push_back(name);
      if (!at_end) result.missing_dirs.push_back(join(walk.resolved));
      continue;
    }
    const std::string rel = here.empty() ? entry : here + "/" + entry;
    struct stat st {};
    if (::fstatat(walk.dir.get(), entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      throw SystemError(root.show(rel), "stat", errno);
    }
    if (S_ISLNK(st.st_mode)) {
      if (at_end && !how.follow_last) {
        throw Error(ErrorKind::kBadInput, where,
                    "is a symbolic link on the target; only regular files are replaced");
      }
      if (++links > 40) throw Error(ErrorKind::kBadInput, where, "too many symbolic links");
      std::string target = read_link(root, walk.dir.get(), rel, entry);
      pending.push_front(std::string(1, kLinkCheck) + std::to_string(st.st_uid));
      auto parts = split(target);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_front(*it);
      if (!target.empty() && target[0] == '/') {  // absolute: relative to the root
        walk.resolved.clear();
        walk.reopen();
      }
      continue;
    }
    if (at_end) {
      if (!S_ISREG(st.st_mode)) {
        throw Error(ErrorKind::kBadInput, where, "exists on the target but is not a regular file");
      }
      walk.resolved.push_back(entry);
      result.exists = true;
      break;
    }
    if (!S_ISDIR(st.st_mode)) {
      throw Error(ErrorKind::kBadInput, where, "'" + rel + "' on the target is not a directory");
    }
    walk.enter(entry);
  }
  result.relative = join(walk.resolved);
  return result;
}

}  // namespace

ResolvedPath resolve_under_root(const Root& root, const std::string& manifest_path, bool fold_case,
                                NameIndex* index) {
  NameIndex once;
  return resolve(root, manifest_path, {fold_case, false, false, false}, index ? *index : once);
}

std::optional<std::string> resolve_to_read(const Root& root, const std::string& path) {
  NameIndex unused;  // exact names only
  ResolvedPath p = resolve(root, path, {false, true, true, true}, unused);
  if (!p.exists) return std::nullopt;
  return p.relative;
}

}  // namespace hotfix
