#include "manifests/scratch_dir.h"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "manifests/errors.h"

namespace hotfix {

ScratchDir::ScratchDir(const std::string& purpose) {
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp && *tmp == '/' ? tmp : "/tmp";
  std::string pattern = base + "/hotfix-" + purpose + "-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw SystemError(pattern, "mkdtemp", errno);
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;  // remove_all never follows a link out of the directory
  std::filesystem::remove_all(path_, ec);
}

}  // namespace hotfix
