#include "tests/support/fault_disk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <vector>

#include "manifests/errors.h"
#include "tests/support/temp_dir.h"

namespace hotfix::test {

std::uint64_t fault_stride() {
  const char* v = std::getenv("HOTFIX_FAULT_STRIDE");
  if (!v || !*v) return 1;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  return (*end == '\0' && n >= 1) ? n : 1;
}

namespace fs = std::filesystem;

std::string_view fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone:
      return "none";
    case FaultKind::kError:
      return "I/O error";
    case FaultKind::kCrash:
      return "crash";
    case FaultKind::kPowerLoss:
      return "power loss";
    case FaultKind::kSwap:
      return "directory swapped for a link";
  }
  return "none";
}

namespace {

struct Meta {
  std::uint32_t mode = 0;
  std::int64_t mtime = 0;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

std::string parent_of(const std::string& rel) {
  auto slash = rel.find_last_of('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

bool is_under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

// `path` as the directory iterator spells it under `dir`, relative to `dir` (lexically:
// fs::relative resolves every component, which costs more than the rest of the test).
std::string below(const std::string& path, const std::string& dir) {
  std::string rel = path.substr(dir.size());
  return rel.empty() || rel[0] != '/' ? rel : rel.substr(1);
}

mode_t current_umask() {
  mode_t u = ::umask(0);
  ::umask(u);
  return u;
}

}  // namespace

// A file's content is what was appended through the Disk (files the installer creates are
// written once, front to back) or, for files that were there from the start, the original.
struct FaultDisk::Node {
  bool dir = false;
  std::optional<std::string> origin;  // relative path in `original`: there from the start
  std::string content, durable_content;
  Meta meta, durable_meta;
};

class FaultFile : public WritableFile {
 public:
  FaultFile(std::unique_ptr<WritableFile> base, FaultDisk& disk,
            std::shared_ptr<FaultDisk::Node> node, std::string path)
      : base_(std::move(base)), disk_(disk), node_(std::move(node)), path_(std::move(path)) {}
  void append(const void* data, std::size_t size) override {
    disk_.step(path_, "write");
    base_->append(data, size);
    node_->content.append(static_cast<const char*>(data), size);
  }
  void sync() override {
    disk_.step(path_, "fsync");
    node_->durable_content = node_->content;  // data only: fdatasync keeps no mode or time
  }
  // Not an operation: it changes nothing a power loss could keep or drop.
  void start_writeback() override { base_->start_writeback(); }
  void close() override {
    if (closed_) return;
    closed_ = true;
    disk_.step(path_, "close");
    base_->close();
  }

 private:
  std::unique_ptr<WritableFile> base_;
  FaultDisk& disk_;
  std::shared_ptr<FaultDisk::Node> node_;
  std::string path_;
  bool closed_ = false;
};

FaultDisk::FaultDisk(std::string root, std::string original, std::set<std::string> untracked,
                     std::string report)
    : root_(std::move(root)),
      original_(std::move(original)),
      report_(std::move(report)),
      untracked_(std::move(untracked)),
      base_(make_root_disk(Root::open(root_))) {
  std::map<ino_t, std::uint64_t> by_inode;
  for (auto it = fs::recursive_directory_iterator(root_); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = below(it->path().string(), root_);
    if (untracked_.count(rel)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) throw SystemError(it->path(), "stat", errno);
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
      throw std::logic_error(it->path().string() + ": only files and directories are modelled");
    }
    auto known = by_inode.find(st.st_ino);
    if (known != by_inode.end()) {
      current_[rel] = known->second;  // a hard link within the tree
      continue;
    }
    auto node = std::make_shared<Node>();
    node->dir = S_ISDIR(st.st_mode);
    if (!node->dir) node->origin = rel;
    node->meta = {static_cast<std::uint32_t>(st.st_mode & 07777), st.st_mtim.tv_sec, st.st_uid,
                  st.st_gid};
    node->durable_meta = node->meta;
    std::uint64_t id = next_id_++;
    nodes_[id] = node;
    by_inode[st.st_ino] = id;
    current_[rel] = id;
  }
  durable_ = current_;
}

FaultDisk::~FaultDisk() = default;

void FaultDisk::arm(std::uint64_t at, FaultKind kind) {
  armed_at_ = at;
  kind_ = kind;
}

int FaultDisk::error_for(std::uint64_t at) { return at % 2 == 1 ? EIO : ENOSPC; }

void FaultDisk::step(const std::string& path, const char* operation) {
  ++count_;
  // Root-relative paths are logged as the root sees them: "rename /var/lib/hotfix/journal.json".
  log_.push_back(std::string(operation) + " " + (path == "state database" ? path : "/" + path));
  if (count_ != armed_at_ || kind_ == FaultKind::kNone) return;
  fired_ = true;
  switch (kind_) {
    case FaultKind::kError:
      throw SystemError(path, operation, error_for(count_));
    case FaultKind::kCrash:
      ::_exit(kStoppedDead);
    case FaultKind::kPowerLoss:
      lose_power();
    case FaultKind::kSwap:
      swap_directory(path == "state database" ? "" : parent_of(path));
      break;
    case FaultKind::kNone:
      break;
  }
}

void FaultDisk::arm_swap(std::uint64_t at, std::string outside) {
  arm(at, FaultKind::kSwap);
  outside_ = std::move(outside);
}

// As an attacker who may write the directory would: it goes aside, and a link to the same
// place under `outside_` takes its name. The model no longer matches the tree after this.
void FaultDisk::swap_directory(const std::string& dir) {
  if (dir.empty()) return;  // the root itself is the installer's descriptor, not a name
  std::string here = root_ + "/" + dir;
  if (::rename(here.c_str(), (here + ".swapped").c_str()) != 0) return;  // not there (yet)
  if (::symlink((outside_ + "/" + dir).c_str(), here.c_str()) != 0) {
    throw std::logic_error("cannot put a link at " + here);
  }
}

std::string FaultDisk::relative(const std::string& path) const {
  if (path.empty() || !is_clean_relative(path)) {
    throw std::logic_error(path + ": not a clean path relative to the modelled root " + root_);
  }
  return path;
}

std::unique_ptr<WritableFile> FaultDisk::create(const std::string& path, std::uint32_t mode) {
  step(path, "create");
  std::string rel = relative(path);
  auto file = base_->create(path, mode);
  struct stat st {};
  ::lstat((root_ + "/" + rel).c_str(), &st);
  auto node = std::make_shared<Node>();
  node->meta = {static_cast<std::uint32_t>(st.st_mode & 07777), st.st_mtim.tv_sec, {}, {}};
  node->durable_meta = node->meta;
  std::uint64_t id = next_id_++;
  nodes_[id] = node;
  current_[rel] = id;
  return std::make_unique<FaultFile>(std::move(file), *this, node, path);
}

void FaultDisk::rename(const std::string& from, const std::string& to) {
  step(to, "rename");
  std::string a = relative(from), b = relative(to);
  base_->rename(from, to);
  std::uint64_t id = current_.at(a);
  current_.erase(a);
  current_[b] = id;
}

void FaultDisk::link(const std::string& from, const std::string& to) {
  step(to, "link");
  std::string a = relative(from), b = relative(to);
  base_->link(from, to);
  current_[b] = current_.at(a);
}

bool FaultDisk::remove(const std::string& path) {
  step(path, "remove");
  std::string rel = relative(path);
  bool removed = base_->remove(path);
  if (removed) current_.erase(rel);
  return removed;
}

bool FaultDisk::make_dir(const std::string& path) {
  step(path, "create directory");
  std::string rel = relative(path);
  bool made = base_->make_dir(path);
  if (current_.count(rel)) return made;
  struct stat st {};
  ::lstat((root_ + "/" + rel).c_str(), &st);
  auto node = std::make_shared<Node>();
  node->dir = true;
  node->meta = {static_cast<std::uint32_t>(st.st_mode & 07777), 0, {}, {}};
  node->durable_meta = node->meta;
  std::uint64_t id = next_id_++;
  nodes_[id] = node;
  current_[rel] = id;
  return made;
}

bool FaultDisk::remove_dir(const std::string& path) {
  step(path, "remove directory");
  std::string rel = relative(path);
  bool removed = base_->remove_dir(path);
  if (removed) current_.erase(rel);
  return removed;
}

void FaultDisk::sync_dir(const std::string& path) {
  step(path, "fsync directory");
  std::string dir = path.empty() ? "" : relative(path);
  // The directory's entries become what they are now; an entry that went away takes what
  // was durable beneath it along.
  std::vector<std::string> gone;
  for (const auto& [rel, id] : durable_) {
    if (parent_of(rel) != dir) continue;
    auto now = current_.find(rel);
    if (now == current_.end() || now->second != id) gone.push_back(rel);
  }
  for (const std::string& rel : gone) {
    for (auto it = durable_.begin(); it != durable_.end();) {
      it = (it->first == rel || is_under(it->first, rel)) ? durable_.erase(it) : std::next(it);
    }
  }
  for (const auto& [rel, id] : current_) {
    if (parent_of(rel) == dir) durable_[rel] = id;
  }
}

void FaultDisk::sync_filesystem(const std::string& path) {
  step(path, "syncfs");
  durable_ = current_;
  for (auto& [id, node] : nodes_) {
    node->durable_content = node->content;
    node->durable_meta = node->meta;
  }
}

void FaultDisk::set_metadata(const std::string& path, const FileMetadata& m) {
  step(path, "chmod");
  std::string rel = relative(path);
  base_->set_metadata(path, m);
  Node& node = *nodes_.at(current_.at(rel));
  node.meta.mode = m.mode & 07777;
  node.meta.mtime = m.mtime;
  if (m.uid) node.meta.uid = m.uid;
  if (m.gid) node.meta.gid = m.gid;
}

std::optional<struct stat> FaultDisk::status(const std::string& path) {
  step(path, "stat");
  return base_->status(path);
}

std::string FaultDisk::read_file(const std::string& path, std::uint64_t max_size) {
  step(path, "read");
  return base_->read_file(path, max_size);
}

void FaultDisk::commit(const std::function<void()>& durable_commit) {
  step("state database", "commit");
  base_->commit(durable_commit);
}

std::string FaultDisk::model_mismatch() const {
  std::map<std::string, bool> seen;  // relative path -> is a directory
  for (auto it = fs::recursive_directory_iterator(root_); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = below(it->path().string(), root_);
    if (untracked_.count(rel)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    seen[rel] = it->is_directory();
  }
  std::string out;
  for (const auto& [rel, dir] : seen) {
    auto it = current_.find(rel);
    if (it == current_.end()) {
      out += "changed without the Disk: " + rel + " exists\n";
    } else if (nodes_.at(it->second)->dir != dir) {
      out += "changed without the Disk: " + rel + " changed type\n";
    }
  }
  for (const auto& [rel, id] : current_) {
    if (!seen.count(rel)) out += "changed without the Disk: " + rel + " is gone\n";
  }
  return out;
}

void FaultDisk::broken(const std::string& why) const {
  int fd = ::open(report_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    [[maybe_unused]] ssize_t n = ::write(fd, why.data(), why.size());
    ::close(fd);
  }
  ::_exit(kModelBroken);
}

void FaultDisk::lose_power() {
  rebuild();
  ::_exit(kStoppedDead);
}

// Puts the tree in the state a reboot would find: the durable names, each with its durable
// content and metadata. Names whose directory is not durable are lost with it.
void FaultDisk::rebuild() {
  if (std::string mismatch = model_mismatch(); !mismatch.empty()) broken(mismatch);
  auto full = [&](const std::string& rel) { return root_ + "/" + rel; };

  for (const auto& [rel, id] : current_) {
    if (!nodes_.at(id)->dir && ::unlink(full(rel).c_str()) != 0) broken("unlink " + rel);
  }
  for (auto it = current_.rbegin(); it != current_.rend(); ++it) {
    const auto& [rel, id] = *it;
    if (!nodes_.at(id)->dir) continue;
    auto d = durable_.find(rel);
    if (d != durable_.end() && nodes_.at(d->second)->dir) continue;
    if (::rmdir(full(rel).c_str()) != 0) {
      broken("a directory lost to the power cut is not empty: " + rel +
             " (it holds files the model does not know, such as the database)");
    }
  }

  std::set<std::string> dirs;  // durable directories reachable from the root
  std::map<std::uint64_t, std::string> written;
  const mode_t mask = current_umask();
  for (const auto& [rel, id] : durable_) {
    std::string parent = parent_of(rel);
    if (!parent.empty() && !dirs.count(parent)) continue;  // its directory was lost
    const Node& node = *nodes_.at(id);
    std::string path = full(rel);
    if (node.dir) {
      dirs.insert(rel);
      if (::mkdir(path.c_str(), 0777 & ~mask) != 0 && errno != EEXIST) broken("mkdir " + rel);
      ::chmod(path.c_str(), node.durable_meta.mode);
      continue;
    }
    if (auto w = written.find(id); w != written.end()) {
      if (::link(full(w->second).c_str(), path.c_str()) != 0) broken("link " + rel);
      continue;
    }
    written[id] = rel;
    std::string data = node.origin ? hotfix::test::read_file(fs::path(original_) / *node.origin)
                                   : node.durable_content;
    write_file(path, data);
    const Meta& m = node.durable_meta;
    if (m.uid || m.gid) {
      if (::lchown(path.c_str(), m.uid ? *m.uid : static_cast<uid_t>(-1),
                   m.gid ? *m.gid : static_cast<gid_t>(-1)) != 0) {
        broken("chown " + rel);
      }
    }
    struct timespec times[2] = {{m.mtime, 0}, {m.mtime, 0}};
    if (::chmod(path.c_str(), m.mode) != 0 ||
        ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      broken("set metadata of " + rel);
    }
  }
}

}  // namespace hotfix::test
