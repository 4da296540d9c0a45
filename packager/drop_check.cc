#include "packager/drop_check.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <vector>

#include "manifests/file_identity.h"
#include "manifests/manifest_json.h"

namespace hotfix {

DropMismatchError::DropMismatchError(std::vector<DropIssue> issues)
    : Error(ErrorKind::kVerification, issues.empty() ? "" : issues.front().where,
            (issues.empty() ? std::string("drop does not match the manifest")
                            : issues.front().message) +
                (issues.size() > 1 ? " (and " + std::to_string(issues.size() - 1) + " more)"
                                   : std::string())),
      issues_(std::move(issues)) {}

std::vector<std::string> DropMismatchError::lines() const {
  if (issues_.empty()) return Error::lines();
  std::vector<std::string> out;
  for (const DropIssue& issue : issues_) out.push_back(issue.where + ": " + issue.message);
  return out;
}

namespace {

std::string describe_platform(const FileIdentity& id) {
  if (auto arch = id.arch()) return std::string(arch_display(*arch));
  switch (id.format) {
    case FileIdentity::Format::kData:
      return "data (no machine code)";
    case FileIdentity::Format::kPe:
      return "PE machine 0x" + [&] {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%x", id.pe ? id.pe->machine : 0);
        return std::string(buf);
      }();
    case FileIdentity::Format::kElf:
      return "ELF machine " + std::to_string(id.elf ? id.elf->machine : 0);
  }
  return "unknown";
}

// The manifest's mode asks for setuid, setgid or sticky: say what that does on every server.
std::string special_bits_warning(std::uint32_t mode) {
  std::vector<std::string> bits;
  if (mode & 04000) bits.push_back("setuid (it runs as its owner, root, whoever starts it)");
  if (mode & 02000) bits.push_back("setgid (it runs with its group)");
  if (mode & 01000) bits.push_back("sticky");
  std::string text;
  for (std::size_t i = 0; i < bits.size(); ++i) text += (i ? ", " : "") + bits[i];
  return "mode " + format_mode(mode) + " sets " + text +
         " on every server that installs it; make sure the manifest means it";
}

std::string file_type_text(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "a regular file";
}

std::string file_type_text(std::filesystem::file_status status) {
  namespace fs = std::filesystem;
  switch (status.type()) {
    case fs::file_type::symlink:
      return "a symbolic link";
    case fs::file_type::fifo:
      return "a FIFO";
    case fs::file_type::socket:
      return "a socket";
    case fs::file_type::block:
    case fs::file_type::character:
      return "a device";
    default:
      return "a special file";
  }
}

// The first directory on the way to `rel` under `drop` that is a symbolic link, as
// "DROP/dir"; nullopt when there is none.
std::optional<std::string> linked_directory(const std::string& drop, const std::string& rel) {
  std::string path = drop;
  for (std::size_t start = 0, slash; (slash = rel.find('/', start)) != std::string::npos;
       start = slash + 1) {
    path += "/" + rel.substr(start, slash - start);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) return path;
  }
  return std::nullopt;
}

}  // namespace

DropCheckResult check_drop(Arch arch, const std::vector<FileEntry>& files,
                           const std::string& drop_dir) {
  namespace fs = std::filesystem;
  DropCheckResult result;
  const std::string prefix = std::string(arch_token(arch)) + ": ";
  std::set<std::string> expected;
  std::error_code ec;
  if (!fs::is_directory(drop_dir, ec)) {
    result.errors.push_back({prefix + drop_dir, "drop directory does not exist"});
    return result;
  }

  for (const FileEntry& entry : files) {
    const std::string where = prefix + entry.path();
    const std::string path = drop_dir + "/" + entry.path();
    expected.insert(entry.path());
    auto issue = [&](std::string message) { result.errors.push_back({where, std::move(message)}); };
    if (entry.mode && (*entry.mode & 07000)) {
      result.warnings.push_back({where, special_bits_warning(*entry.mode)});
    }

    if (std::optional<std::string> link = linked_directory(drop_dir, entry.path())) {
      issue("is reached through the symbolic link " + *link +
            " in the drop: a drop holds its files, not links to them");
      continue;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      issue(errno == ENOENT ? "missing from the drop (expected " + path + ")"
                            : "cannot stat " + path + ": " + std::strerror(errno));
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      issue("is " + file_type_text(st.st_mode) + " in the drop, not a regular file");
      continue;
    }
    if (static_cast<std::uint64_t>(st.st_size) != entry.size) {
      issue("size is " + std::to_string(st.st_size) + " bytes, the manifest says " +
            std::to_string(entry.size));
    }
    Timestamp mtime(static_cast<std::int64_t>(st.st_mtim.tv_sec));
    if (!mtime.same_minute(entry.timestamp)) {
      issue("timestamp is " + mtime.iso8601() + ", the manifest says " + entry.timestamp.iso8601() +
            " (compared to the minute)");
    }
    FileIdentity id;
    try {
      id = identify_file(path);
    } catch (const Error& e) {
      issue("cannot read the file's identity: " + e.message());
      continue;
    }
    auto version = id.version();
    if (entry.version && !version) {
      issue("has no version resource, the manifest says version " + entry.version->to_string());
    } else if (!entry.version && version) {
      issue("has version " + version->to_string() +
            ", the manifest says it is unversioned (Not Applicable)");
    } else if (entry.version && version && *entry.version != *version) {
      issue("version is " + version->to_string() + ", the manifest says " +
            entry.version->to_string());
    }
    auto file_arch = id.arch();
    Arch actual = file_arch.value_or(Arch::kNeutral);
    bool machine_unknown = !file_arch && id.format != FileIdentity::Format::kData;
    if (machine_unknown || actual != entry.platform) {
      issue("platform is " + describe_platform(id) + ", the manifest says " +
            std::string(arch_display(entry.platform)));
    }
  }

  {
    std::vector<DropIssue> extra;
    for (auto it = fs::recursive_directory_iterator(drop_dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      // symlink_status: a link is named as one, never followed (nor a linked directory).
      fs::file_status status = it->symlink_status(ec);
      if (ec || fs::is_directory(status)) continue;
      // lexically: fs::relative would resolve a link to what it names.
      std::string rel = it->path().lexically_relative(drop_dir).generic_string();
      if (expected.count(rel)) continue;
      std::string what = fs::is_regular_file(status) ? "a file" : file_type_text(status);
      extra.push_back({prefix + rel, what + " in the drop but not in the manifest: not bundled"});
    }
    std::sort(extra.begin(), extra.end(),
              [](const DropIssue& a, const DropIssue& b) { return a.where < b.where; });
    for (DropIssue& w : extra) result.warnings.push_back(std::move(w));
  }
  return result;
}

}  // namespace hotfix
