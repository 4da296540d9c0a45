// The stand-in files for one manifest entry: the file a build drop holds, and the file a
// server had at the same place before the hotfix.
#pragma once

#include <cstdint>
#include <string>

#include "manifests/arch.h"
#include "manifests/manifest.h"
#include "manifests/timestamp.h"

namespace hotfix::standins {

// Largest stand-in written: every file is built in memory.
inline constexpr std::uint64_t kMaxStandinSize = std::uint64_t{1} << 30;

struct StandinFile {
  std::string path;  // relative to the architecture's tree: "Windows/System32/inetsrv/x.dll"
  std::string content;
  Timestamp mtime;
};

// The build drop's file for `entry`: exactly entry.size bytes dated entry.timestamp. A
// versioned entry becomes a PE image of the entry's platform (x86 when neutral, as
// platform-independent .NET images are) with the entry's file and product version; an
// unversioned entry becomes text. `where` names the entry in errors, which are thrown
// when the size cannot hold a valid image.
StandinFile drop_standin(const FileEntry& entry, const std::string& where);

// Throws what drop_standin would throw for `entry`, without building the file.
void check_drop_standin(const FileEntry& entry, const std::string& where);

// The pre-hotfix server's file at the same destination, under its installed name
// (sample_root.h): a PE image at the RTM version, size and date, or, for text, the same
// file when the hotfix's is not newer than RTM and an older text otherwise.
StandinFile root_standin(const FileEntry& entry, const std::string& where);

// etc/hotfix/system.json of the pre-hotfix server.
StandinFile system_facts_standin(Arch arch);

}  // namespace hotfix::standins
