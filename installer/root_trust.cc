#include "installer/root_trust.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "manifests/errors.h"

namespace hotfix {

namespace {

constexpr const char* kTrustedDir = "etc/hotfix/trusted.d";

bool is_key_name(const std::string& name) {
  auto ends_with = [&](const std::string& ext) {
    return name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
  };
  return ends_with(".pub") || ends_with(".pem");
}

std::vector<std::string> key_names(const Root& root, const FileDescriptor& dir) {
  int listing = ::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing < 0) throw SystemError(root.show(kTrustedDir), "open directory", errno);
  DIR* d = ::fdopendir(listing);
  if (!d) {
    ::close(listing);
    throw SystemError(root.show(kTrustedDir), "read directory", errno);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (is_key_name(e->d_name)) names.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());  // deterministic order in messages
  return names;
}

}  // namespace

void add_root_trusted_keys(const Root& root, TrustStore& trust) {
  std::optional<FileDescriptor> dir = root.open_dir_if_exists(kTrustedDir);
  if (!dir) return;
  for (const std::string& name : key_names(root, *dir)) {
    const std::string rel = std::string(kTrustedDir) + "/" + name;
    trust.add(PublicKey::from_pem(root.read_file(rel, kMaxKeyFileBytes), root.show(rel)));
  }
}

}  // namespace hotfix
