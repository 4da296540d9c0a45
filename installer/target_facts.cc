#include "installer/target_facts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <utility>

#include "manifests/case_fold.h"
#include "manifests/destination.h"
#include "manifests/errors.h"
#include "manifests/file_descriptor.h"
#include "manifests/file_identity.h"
#include "manifests/json_context.h"
#include "manifests/json_prescan.h"

namespace hotfix {

namespace {

constexpr auto kSystemFactsFields = std::to_array<std::string_view>(
    {"family", "product", "version", "service_pack", "architecture", "hotfixes"});
constexpr int kMaxSystemFactsDepth = 8;
constexpr std::size_t kMaxProductBytes = 256;
constexpr std::uint64_t kMaxServicePack = 255;
constexpr int kMaxSymlinks = 40;  // as the kernel's path walk allows

constexpr std::string_view kExpectFamily = "\"windows\" or \"linux\"";
constexpr std::string_view kExpectProduct =
    "the product name, 1 to 256 bytes, like \"Windows Server 2008\"";
constexpr std::string_view kExpectVersion =
    "a version of 1 to 4 numeric parts, each 0-65535, like \"6.0.6001\", or null";
constexpr std::string_view kExpectServicePack = "a service pack number 0-255";
constexpr std::string_view kExpectArchitecture = "one of x86, x64, ia64, arm64";
constexpr std::string_view kExpectHotfixes = "an array of hotfix ids, like [\"KB967131\"]";
constexpr std::string_view kExpectHotfixId =
    "a hotfix id: 1 to 64 letters, digits, \".\", \"_\" or \"-\", starting with a letter or "
    "digit, like \"KB967131\"";

std::string expected(std::string_view what) { return " (expected " + std::string(what) + ")"; }

std::string lower(std::string_view text) { return ascii_lower(text); }

std::string join_root(const std::string& root, std::string_view relative) {
  if (!root.empty() && root.back() == '/') return root + std::string(relative);
  return root + "/" + std::string(relative);
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Follows symbolic links as if `root` were "/", as chroot(2) would, so that an absolute link
// inside the root (Debian's /etc/os-release may be one) never reaches the host's files.
// nullopt when the path does not exist; SystemError for any other failure.
std::optional<std::string> resolve_in_root(const std::string& root, std::string_view relative) {
  std::vector<std::string> done;
  std::deque<std::string> todo;
  for (std::string& part : split_path(relative)) todo.push_back(std::move(part));
  int links = 0;
  auto current = [&] {
    std::string path = root;
    for (const std::string& part : done) path = join_root(path, part);
    return path;
  };
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();  // ".." at the root stays at the root
      continue;
    }
    done.push_back(part);
    const std::string path = current();
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
      throw SystemError(path, "lstat", errno);
    }
    if (!S_ISLNK(info.st_mode)) continue;
    if (++links > kMaxSymlinks) throw SystemError(path, "resolve", ELOOP);
    std::string target(static_cast<std::size_t>(info.st_size > 0 ? info.st_size : 0) + 256, '\0');
    while (true) {
      ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
      if (n < 0) throw SystemError(path, "readlink", errno);
      if (static_cast<std::size_t>(n) < target.size()) {
        target.resize(static_cast<std::size_t>(n));
        break;
      }
      target.resize(target.size() * 2);  // the link grew since lstat
    }
    done.pop_back();
    if (!target.empty() && target[0] == '/') done.clear();
    std::vector<std::string> parts = split_path(target);
    todo.insert(todo.begin(), parts.begin(), parts.end());
  }
  return current();
}

// The whole of a regular file of at most `limit` bytes. `shown` names it in errors.
std::string read_small_file(const std::string& path, const std::string& shown, std::size_t limit,
                            std::string_view what) {
  // O_NONBLOCK: a FIFO planted there must not hang the installer; it is refused below.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) throw SystemError(shown, "open", errno);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) throw SystemError(shown, "fstat", errno);
  if (!S_ISREG(info.st_mode)) {
    throw Error(ErrorKind::kBadInput, shown,
                "is not a regular file (expected " + std::string(what) + ")");
  }
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  std::string text;
  char buffer[65536];
  while (text.size() <= limit) {
    ssize_t n = ::read(fd.get(), buffer, std::min(sizeof buffer, limit + 1 - text.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError(shown, "read", errno);
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  if (text.size() > limit) {
    throw Error(
        ErrorKind::kBadInput, shown,
        "is larger than " + std::to_string(limit) + " bytes (expected " + std::string(what) + ")");
  }
  return text;
}

void check_root(const std::string& root) {
  struct stat info {};
  if (root.empty()) throw Error(ErrorKind::kBadInput, "--root", "is empty (expected a directory)");
  if (::stat(root.c_str(), &info) != 0) {
    int error = errno;
    if (error == ENOENT) {
      throw Error(ErrorKind::kBadInput, root, "does not exist (expected the target's root)");
    }
    throw SystemError(root, "stat", error);
  }
  if (!S_ISDIR(info.st_mode)) {
    throw Error(ErrorKind::kBadInput, root, "is not a directory (expected the target's root)");
  }
}

bool is_host_root(const std::string& root) {
  struct stat a {};
  struct stat b {};
  return ::stat(root.c_str(), &a) == 0 && ::stat("/", &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

// Reads system.json's tree into facts, reporting each problem at its field.
TargetFacts read_facts(JsonContext& context, const Json& root) {
  TargetFacts facts;
  JsonObject object(context, root, kSystemFactsFields, "an object with the target's facts");
  object.required("family", kExpectFamily, [&](const Json& v) {
    if (auto s = read_string(context, v, kExpectFamily)) {
      if (*s == "windows" || *s == "linux") {
        facts.family = *s;
      } else {
        context.report(quote(*s) + " is not a known family" + expected(kExpectFamily));
      }
    }
  });
  object.required("product", kExpectProduct, [&](const Json& v) {
    if (auto s = read_string(context, v, kExpectProduct)) {
      if (s->empty()) {
        context.report("is empty" + expected(kExpectProduct));
      } else if (s->size() > kMaxProductBytes) {
        context.report("is " + std::to_string(s->size()) + " bytes long" +
                       expected(kExpectProduct));
      } else {
        facts.product = *s;
      }
    }
  });
  object.optional("version", [&](const Json& v) {
    if (v.is_null()) return;
    if (auto s = read_string(context, v, kExpectVersion)) {
      facts.version = Version::parse(*s, false);
      if (!facts.version)
        context.report(quote(*s) + " is not a version" + expected(kExpectVersion));
    }
  });
  object.optional("service_pack", [&](const Json& v) {
    if (auto n = read_integer(context, v, 0, kMaxServicePack, kExpectServicePack)) {
      facts.service_pack = static_cast<int>(*n);
    }
  });
  object.required("architecture", kExpectArchitecture, [&](const Json& v) {
    if (auto s = read_string(context, v, kExpectArchitecture)) {
      bool found = false;
      for (Arch arch : {Arch::kX86, Arch::kX64, Arch::kIa64, Arch::kArm64}) {
        if (arch_token(arch) == *s) {
          facts.architecture = arch;
          found = true;
        }
      }
      if (!found) {
        context.report(quote(*s) + " is not an architecture" + expected(kExpectArchitecture));
      }
    }
  });
  object.optional("hotfixes", [&](const Json& v) {
    const Json::array_t* array = read_array(context, v, kExpectHotfixes);
    if (!array) return;
    for (std::size_t i = 0; i < array->size(); ++i) {
      auto scope = context.at(i);
      auto id = read_string(context, (*array)[i], kExpectHotfixId);
      if (!id) continue;
      if (!is_valid_id(*id)) {
        context.report(quote(*id) + " is not a hotfix id" + expected(kExpectHotfixId));
        continue;
      }
      bool duplicate =
          std::any_of(facts.hotfixes.begin(), facts.hotfixes.end(),
                      [&](const std::string& seen) { return lower(seen) == lower(*id); });
      if (duplicate) {
        context.report(quote(*id) + " is listed twice (expected each hotfix once)");
        continue;
      }
      facts.hotfixes.push_back(*id);
    }
  });
  return facts;
}

// Detects the facts of a Linux root that has no system.json.
TargetFacts detect_linux(const std::string& root) {
  TargetFacts facts;
  facts.family = "linux";
  facts.product = "unknown";

  std::string release_shown;
  for (std::string_view candidate : {"etc/os-release", "usr/lib/os-release"}) {
    std::optional<std::string> path = resolve_in_root(root, candidate);
    if (!path) continue;
    release_shown = join_root(root, candidate);
    std::map<std::string, std::string> values = parse_os_release(
        read_small_file(*path, release_shown, kMaxOsReleaseBytes, "an os-release file"));
    // os-release(5): both default to "Linux".
    facts.product = "Linux";
    if (auto it = values.find("NAME"); it != values.end() && !it->second.empty()) {
      facts.product = it->second;
    }
    if (auto it = values.find("PRETTY_NAME"); it != values.end() && !it->second.empty()) {
      facts.product = it->second;
    }
    if (auto it = values.find("VERSION_ID"); it != values.end()) {
      facts.version = Version::parse(it->second, false);
    }
    break;
  }
  facts.source = release_shown.empty()
                     ? "detected: no " + join_root(root, "etc/os-release") + " or " +
                           join_root(root, "usr/lib/os-release") + ", product unknown"
                     : "detected from " + release_shown;

  // A root other than "/" may be another machine's: its own executables say what it runs.
  if (!is_host_root(root)) {
    for (std::string_view candidate : {"bin/sh", "usr/bin/env"}) {
      try {
        std::optional<std::string> path = resolve_in_root(root, candidate);
        if (!path) continue;
        if (std::optional<Arch> arch = identify_file(*path).arch()) {
          facts.architecture = *arch;
          facts.source += "; architecture from " + join_root(root, candidate);
          return facts;
        }
      } catch (const Error&) {
        // A link loop, unreadable, or not an executable: try the next, then the kernel.
      }
    }
  }
  struct utsname names {};
  if (::uname(&names) != 0) throw SystemError("uname", "uname", errno);
  std::optional<Arch> arch = arch_from_uname_machine(names.machine);
  facts.architecture = arch.value_or(Arch::kNeutral);
  facts.source += std::string("; architecture from uname (") + names.machine +
                  (arch ? ")" : ", a machine no bundle is built for)");
  return facts;
}

}  // namespace

TargetFacts parse_system_facts(std::string_view json_text, const std::string& source) {
  JsonPrescan prescan = prescan_json(json_text, kMaxSystemFactsBytes, kMaxSystemFactsDepth);
  std::vector<ManifestIssue> issues = std::move(prescan.issues);
  std::size_t omitted = prescan.omitted;
  TargetFacts facts;
  if (!prescan.fatal) {
    Json root = Json::parse(json_text);  // cannot fail: the prescan parsed the same text
    JsonContext context(issues);
    facts = read_facts(context, root);
    omitted += context.omitted();
  }
  note_omitted_issues(issues, omitted);
  if (!issues.empty()) {
    std::string message;
    for (const ManifestIssue& issue : issues) {
      if (!message.empty()) message += "; ";
      message += issue.path.empty() ? issue.message : issue.path + ": " + issue.message;
    }
    throw Error(ErrorKind::kBadInput, source, message);
  }
  facts.source = source;
  return facts;
}

TargetFacts load_target_facts(const std::string& root) {
  check_root(root);
  if (std::optional<std::string> path = resolve_in_root(root, kSystemFactsPath)) {
    const std::string shown = join_root(root, kSystemFactsPath);
    return parse_system_facts(read_small_file(*path, shown, kMaxSystemFactsBytes, "system.json"),
                              shown);
  }
  return detect_linux(root);
}

std::map<std::string, std::string> parse_os_release(std::string_view text) {
  std::map<std::string, std::string> values;
  std::size_t pos = 0;
  const std::size_t size = text.size();
  auto is_blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  auto skip_line = [&] {
    std::size_t end = text.find('\n', pos);
    pos = end == std::string_view::npos ? size : end + 1;
  };
  while (pos < size) {
    while (pos < size && (is_blank(text[pos]) || text[pos] == '\n')) ++pos;
    if (pos >= size) break;
    if (text[pos] == '#') {
      skip_line();
      continue;
    }
    const std::size_t line_start = pos;
    std::size_t eq = pos;
    while (eq < size && text[eq] != '=' && text[eq] != '\n') ++eq;
    std::string_view key = text.substr(pos, eq - pos);
    while (!key.empty() && is_blank(key.back())) key.remove_suffix(1);
    bool key_ok =
        !key.empty() && !(key[0] >= '0' && key[0] <= '9') &&
        std::all_of(key.begin(), key.end(), [](char c) { return is_ascii_alnum(c) || c == '_'; });
    if (eq >= size || text[eq] != '=' || !key_ok) {
      skip_line();
      continue;
    }
    pos = eq + 1;
    // As in the shell, "#" after an unquoted blank starts a comment.
    bool after_blank = false;
    while (pos < size && is_blank(text[pos])) {
      ++pos;
      after_blank = true;
    }

    // Shell-style value: unquoted text, "double quotes" (backslash escapes $ ` " \ and a
    // newline), 'single quotes' (literal). Trailing unquoted blanks are dropped.
    std::string value;
    std::size_t keep = 0;  // value length up to the last character that is not a trailing blank
    bool closed = true;
    while (pos < size && text[pos] != '\n') {
      char c = text[pos++];
      if (c == '\\') {
        if (pos >= size) break;
        char next = text[pos++];
        if (next != '\n') value += next;
        keep = value.size();
      } else if (c == '"') {
        closed = false;
        while (pos < size) {
          char q = text[pos++];
          if (q == '"') {
            closed = true;
            break;
          }
          if (q == '\\' && pos < size) {
            char next = text[pos];
            if (next == '\n') {
              ++pos;
              continue;
            }
            if (next == '$' || next == '`' || next == '"' || next == '\\') {
              value += next;
              ++pos;
              continue;
            }
          }
          value += q;
        }
        keep = value.size();
      } else if (c == '\'') {
        std::size_t end = text.find('\'', pos);
        if (end == std::string_view::npos) {
          closed = false;
          break;
        }
        value.append(text.substr(pos, end - pos));
        pos = end + 1;
        keep = value.size();
      } else if (c == '#' && after_blank) {
        std::size_t end = text.find('\n', pos);
        pos = end == std::string_view::npos ? size : end;
      } else {
        value += c;
        if (!is_blank(c)) keep = value.size();
      }
      after_blank = is_blank(c);
      if (!closed) break;
    }
    if (!closed) {
      // An unterminated quote: ignore the assignment and carry on after its line.
      pos = line_start;
      skip_line();
      continue;
    }
    value.resize(keep);
    values[std::string(key)] = std::move(value);
  }
  return values;
}

std::optional<Arch> arch_from_uname_machine(std::string_view machine) {
  if (machine == "x86_64" || machine == "amd64") return Arch::kX64;
  if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686") {
    return Arch::kX86;
  }
  if (machine == "aarch64" || machine == "arm64") return Arch::kArm64;
  if (machine == "ia64") return Arch::kIa64;
  return std::nullopt;
}

nlohmann::ordered_json facts_to_json(const TargetFacts& facts) {
  nlohmann::ordered_json j;
  j["family"] = facts.family;
  j["product"] = facts.product;
  j["version"] = facts.version ? nlohmann::ordered_json(facts.version->to_string()) : nullptr;
  j["service_pack"] = facts.service_pack;
  j["architecture"] = std::string(arch_token(facts.architecture));
  j["hotfixes"] = facts.hotfixes;
  j["description"] = describe_target(facts);
  j["source"] = facts.source;
  return j;
}

std::string describe_target(const TargetFacts& facts) {
  if (facts.windows_paths()) {
    return facts.product +
           (facts.service_pack == 0 ? " RTM" : " SP" + std::to_string(facts.service_pack));
  }
  if (facts.service_pack > 0) return facts.product + " SP" + std::to_string(facts.service_pack);
  return facts.product;
}

}  // namespace hotfix
