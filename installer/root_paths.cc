#include "installer/root_paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

#include "manifests/errors.h"

namespace hotfix {

namespace {

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

// The entry of `dir` named `name`, or its case-insensitive match; empty if none.
std::string find_entry(const std::string& dir, const std::string& name, bool fold_case,
                       const std::string& where) {
  struct stat st {};
  if (::lstat((dir + "/" + name).c_str(), &st) == 0) return name;
  if (!fold_case) return {};
  DIR* d = ::opendir(dir.c_str());
  if (!d) return {};
  std::string found;
  int matches = 0;
  while (dirent* e = ::readdir(d)) {
    std::string entry = e->d_name;
    if (equal_fold(entry, name)) {
      found = entry;
      ++matches;
    }
  }
  ::closedir(d);
  if (matches > 1) {
    throw Error(ErrorKind::kBadInput, where,
                "several names in " + dir + " match '" + name + "' ignoring case");
  }
  return found;
}

}  // namespace

bool equal_fold(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

ResolvedPath resolve_under_root(const std::string& root, const std::string& manifest_path,
                                bool fold_case) {
  const std::string where = manifest_path;
  std::deque<std::string> pending;
  for (auto& p : split(manifest_path)) pending.push_back(p);
  if (pending.empty()) throw Error(ErrorKind::kBadInput, where, "empty destination path");
  for (const std::string& p : pending) {
    if (p == "..") throw Error(ErrorKind::kBadInput, where, "path escapes the root ('..')");
  }

  std::vector<std::string> resolved;  // components below the root, as on disk
  int links = 0;
  ResolvedPath result;
  bool missing = false;
  while (!pending.empty()) {
    std::string name = pending.front();
    pending.pop_front();
    bool last = pending.empty();
    if (name == "..") {  // only from a symbolic link's target
      if (resolved.empty()) {
        throw Error(ErrorKind::kBadInput, where,
                    "path escapes the root through a symbolic link");
      }
      resolved.pop_back();
      continue;
    }
    if (missing) {
      resolved.push_back(name);
      if (!last) result.missing_dirs.push_back(join(resolved));
      continue;
    }
    std::string dir = root + (resolved.empty() ? "" : "/" + join(resolved));
    std::string entry = find_entry(dir, name, fold_case, where);
    if (entry.empty()) {
      missing = true;
      resolved.push_back(name);
      if (!last) result.missing_dirs.push_back(join(resolved));
      continue;
    }
    std::string full = dir + "/" + entry;
    struct stat st {};
    if (::lstat(full.c_str(), &st) != 0) throw SystemError(full, "stat", errno);
    if (S_ISLNK(st.st_mode)) {
      if (last) {
        throw Error(ErrorKind::kBadInput, where,
                    "is a symbolic link on the target; only regular files are replaced");
      }
      if (++links > 40) throw Error(ErrorKind::kBadInput, where, "too many symbolic links");
      char target[4096];
      ssize_t n = ::readlink(full.c_str(), target, sizeof target - 1);
      if (n < 0) throw SystemError(full, "readlink", errno);
      std::string t(target, static_cast<std::size_t>(n));
      if (!t.empty() && t[0] == '/') resolved.clear();  // absolute: relative to the root
      auto parts = split(t);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_front(*it);
      continue;
    }
    if (last) {
      if (!S_ISREG(st.st_mode)) {
        throw Error(ErrorKind::kBadInput, where,
                    "exists on the target but is not a regular file");
      }
      resolved.push_back(entry);
      result.exists = true;
      break;
    }
    if (!S_ISDIR(st.st_mode)) {
      throw Error(ErrorKind::kBadInput, where,
                  "'" + join(resolved) + (resolved.empty() ? "" : "/") + entry +
                      "' on the target is not a directory");
    }
    resolved.push_back(entry);
  }
  result.relative = join(resolved);
  return result;
}

}  // namespace hotfix
