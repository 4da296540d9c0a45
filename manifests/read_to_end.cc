#include "manifests/read_to_end.h"

#include <unistd.h>

#include <cerrno>

#include "manifests/errors.h"

namespace hotfix {

std::string read_to_end(int fd, std::size_t limit, const std::string& shown) {
  std::string text;
  char buffer[65536];
  while (text.size() <= limit) {
    std::size_t left = limit - text.size();  // one more than this is still read
    std::size_t want = left >= sizeof buffer ? sizeof buffer : left + 1;
    ssize_t n = ::read(fd, buffer, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError(shown, "read", errno);
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace hotfix
