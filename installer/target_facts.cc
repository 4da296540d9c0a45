#include "installer/target_facts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "installer/root_paths.h"
#include "manifests/case_fold.h"
#include "manifests/destination.h"
#include "manifests/errors.h"
#include "manifests/file_descriptor.h"
#include "manifests/file_identity.h"
#include "manifests/json_context.h"
#include "manifests/json_prescan.h"
#include "manifests/prerequisite.h"
#include "manifests/read_to_end.h"

namespace hotfix {

namespace {

constexpr auto kSystemFactsFields = std::to_array<std::string_view>(
    {"family", "product", "version", "service_pack", "architecture", "hotfixes", "os_id"});
constexpr int kMaxSystemFactsDepth = 8;
constexpr std::size_t kMaxProductBytes = 256;
constexpr std::uint64_t kMaxServicePack = 255;

constexpr std::string_view kExpectFamily = "\"windows\" or \"linux\"";
constexpr std::string_view kExpectProduct =
    "the product name, 1 to 256 bytes, like \"Windows Server 2008\"";
constexpr std::string_view kExpectVersion =
    "a version of 1 to 4 numeric parts, each 0-65535, like \"6.0.6001\", or null";
constexpr std::string_view kExpectServicePack = "a service pack number 0-255";
constexpr std::string_view kExpectArchitecture = "one of x86, x64, ia64, arm64";
constexpr std::string_view kExpectOsId =
    "an os-release ID: 1 to 64 of a-z, 0-9, \".\", \"_\" or \"-\", like \"debian\"";
constexpr std::string_view kExpectHotfixes = "an array of hotfix ids, like [\"KB967131\"]";
constexpr std::string_view kExpectHotfixId =
    "a hotfix id: 1 to 64 letters, digits, \".\", \"_\" or \"-\", starting with a letter or "
    "digit, like \"KB967131\"";

std::string expected(std::string_view what) { return " (expected " + std::string(what) + ")"; }

std::string lower(std::string_view text) { return ascii_lower(text); }

// The whole of the regular file `rel` under the root, of at most `limit` bytes. A FIFO or a
// device is refused without being opened for a blocking read.
std::string read_small_file(const Root& root, const std::string& rel, std::size_t limit,
                            std::string_view what) {
  const std::string shown = root.show(rel);
  FileDescriptor fd = root.open_file(rel);
  std::string text = read_to_end(fd.get(), limit, shown);
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
  object.optional("os_id", [&](const Json& v) {
    if (v.is_null()) return;
    if (auto s = read_string(context, v, kExpectOsId)) {
      if (is_valid_os_id(*s)) {
        facts.os_id = *s;
      } else {
        context.report(quote(*s) + " is not an os-release ID" + expected(kExpectOsId));
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
TargetFacts detect_linux(const Root& root) {
  TargetFacts facts;
  facts.family = "linux";
  facts.product = "unknown";

  std::string release_shown;
  for (std::string_view candidate : {"etc/os-release", "usr/lib/os-release"}) {
    std::optional<std::string> path = resolve_to_read(root, std::string(candidate));
    if (!path) continue;
    release_shown = root.show(candidate);
    std::map<std::string, std::string> values =
        parse_os_release(read_small_file(root, *path, kMaxOsReleaseBytes, "an os-release file"));
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
    // os-release(5): ID defaults to "linux"; one that breaks its syntax matches no os_id.
    auto id = values.find("ID");
    facts.os_id = id == values.end() ? "linux" : is_valid_os_id(id->second) ? id->second : "";
    break;
  }
  facts.source = release_shown.empty() ? "detected: no " + root.show("etc/os-release") + " or " +
                                             root.show("usr/lib/os-release") + ", product unknown"
                                       : "detected from " + release_shown;

  // A root other than "/" may be another machine's: its own executables say what it runs.
  if (!root.live()) {
    for (std::string_view candidate : {"bin/sh", "usr/bin/env"}) {
      try {
        std::optional<std::string> path = resolve_to_read(root, std::string(candidate));
        if (!path) continue;
        FileDescriptor fd = root.open_file(*path);
        if (std::optional<Arch> arch = identify_fd(fd.get(), root.show(*path)).arch()) {
          facts.architecture = *arch;
          facts.source += "; architecture from " + root.show(candidate);
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

namespace {

// True when something is at `path` itself, not following it: a link that leads nowhere.
bool entry_exists(const Root& root, std::string_view path) {
  try {
    return root.status(path).has_value();
  } catch (const UnsafePathError&) {
    return false;  // a link among the directories: resolve_to_read has followed it already
  }
}

}  // namespace

TargetFacts load_target_facts(const Root& root) {
  if (std::optional<std::string> path = resolve_to_read(root, std::string(kSystemFactsPath))) {
    return parse_system_facts(read_small_file(root, *path, kMaxSystemFactsBytes, "system.json"),
                              root.show(kSystemFactsPath));
  }
  // The administrator put facts there: a link to nothing in the root (perhaps to a file of
  // the machine running the installer) is a mistake to name, not a reason to guess.
  if (entry_exists(root, kSystemFactsPath)) {
    throw Error(ErrorKind::kBadInput, root.show(kSystemFactsPath),
                "is a symbolic link that leads to nothing inside the root (links are followed "
                "as in a chroot); the facts are not guessed instead");
  }
  return detect_linux(root);
}

TargetFacts load_target_facts(const std::string& root) {
  check_root(root);
  return load_target_facts(Root::open(root));
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
  j["os_id"] =
      facts.os_id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(facts.os_id);
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
