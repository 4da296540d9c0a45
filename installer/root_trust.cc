#include "installer/root_trust.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
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
  std::vector<std::string> names = root.list_opened_dir(dir, kTrustedDir);
  std::erase_if(names, [](const std::string& n) { return !is_key_name(n); });
  return names;
}

// sshd's StrictModes for one file or directory of the trust store.
void check_strict(const Root& root, int fd, const std::string& rel) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw SystemError(root.show(rel), "stat", errno);
  const std::string why =
      " (anyone who can write there can make the installer trust a key; "
      "make it owned by root and writable by its owner alone)";
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    throw Error(ErrorKind::kBadInput, root.show(rel),
                "is owned by uid " + std::to_string(st.st_uid) + ", not by root" + why);
  }
  if (st.st_mode & 022) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw Error(ErrorKind::kBadInput, root.show(rel),
                std::string("is writable by ") + ((st.st_mode & 002) ? "everyone" : "its group") +
                    " (mode " + mode + ")" + why);
  }
}

}  // namespace

std::vector<std::string> add_root_trusted_keys(const Root& root, TrustStore& trust) {
  std::optional<FileDescriptor> dir = root.open_dir_if_exists(kTrustedDir);
  if (!dir) return {};
  for (const char* rel : {"etc", "etc/hotfix"}) check_strict(root, root.open_dir(rel).get(), rel);
  check_strict(root, dir->get(), kTrustedDir);
  std::vector<std::string> warnings;
  for (const std::string& name : key_names(root, *dir)) {
    const std::string rel = std::string(kTrustedDir) + "/" + name;
    FileDescriptor file = root.open_file(rel);
    check_strict(root, file.get(), rel);
    std::string pem = root.read_opened(file, rel, kMaxKeyFileBytes);  // the file checked
    try {
      trust.add(PublicKey::from_pem(pem, root.show(rel)));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kBadInput) throw;
      warnings.push_back(std::string(e.what()) + "; skipped: it is not trusted");
    }
  }
  return warnings;
}

}  // namespace hotfix
