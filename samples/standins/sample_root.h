// The sample server before the hotfix: IIS 7.0 as Windows Server 2008 / Windows Vista SP1
// shipped it. Names, versions, sizes, dates and the target's facts of that server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "manifests/arch.h"
#include "manifests/timestamp.h"
#include "manifests/version.h"

namespace hotfix::standins {

// 2008-01-19, the date of the Windows Server 2008 RTM build.
inline constexpr Timestamp kRtmDay{1200700800};
// The time given to RTM text files: 2008-01-19T07:00:00Z.
inline constexpr Timestamp kRtmTextTime{1200726000};
// The revision of the RTM build of every IIS 7.0 binary (7.0.6001.18000).
inline constexpr std::uint16_t kRtmRevision = 18000;

// The name as Windows installs the file: lower case ("appcmd.exe", "admwprox.dll"), except
// the files IIS itself spells otherwise ("applicationHost.config", "IIS_schema.xml").
std::string installed_name(std::string_view manifest_name);

// The RTM version of a file the hotfix brings at `hotfix_version`: the same
// major.minor.build at revision 18000 (7.0.6001.22329 -> 7.0.6001.18000). Never newer
// than the hotfix's: if that would be, the hotfix's own version.
Version rtm_version(const Version& hotfix_version);

// The RTM date at the hotfix file's time of day (04:27 on 13-Dec-2008 -> 2008-01-19 04:27).
Timestamp rtm_binary_time(Timestamp hotfix_time);

// The RTM size of a binary: 2 to 4 KiB below the hotfix's, rounded down to whole 512-byte
// units, chosen by `seed`; never below `minimum`.
std::uint64_t rtm_binary_size(std::uint64_t hotfix_size, std::uint64_t minimum, std::uint64_t seed);

// The RTM size of a text file the hotfix changed: about an eighth smaller.
std::uint64_t rtm_text_size(std::uint64_t hotfix_size);

// The target's facts as etc/hotfix/system.json states them: Windows Vista SP1 for x86,
// Windows Server 2008 SP1 otherwise, version 6.0.6001, no hotfixes installed.
std::string system_facts_json(Arch arch);

}  // namespace hotfix::standins
