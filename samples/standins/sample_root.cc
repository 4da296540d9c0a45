#include "samples/standins/sample_root.h"

#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <utility>

namespace hotfix::standins {

namespace {

using namespace std::string_view_literals;

// Keyed by the lower-case name.
constexpr std::array kIisSpellings{
    std::pair{"applicationhost.config"sv, "applicationHost.config"sv},
    std::pair{"redirection.config"sv, "redirection.config"sv},
    std::pair{"iis_schema.xml"sv, "IIS_schema.xml"sv},
    std::pair{"aspnet_schema.xml"sv, "ASPNET_schema.xml"sv},
    std::pair{"fx_schema.xml"sv, "FX_schema.xml"sv},
    std::pair{"rscaext.xml"sv, "rscaext.xml"sv},
};

constexpr std::int64_t kSecondsPerDay = 86400;

}  // namespace

std::string installed_name(std::string_view manifest_name) {
  std::string lower(manifest_name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (const auto& [key, spelling] : kIisSpellings) {
    if (lower == key) return std::string(spelling);
  }
  return lower;
}

Version rtm_version(const Version& hotfix_version) {
  const auto& p = hotfix_version.parts();
  Version rtm(p[0], p[1], p[2], kRtmRevision);
  return rtm < hotfix_version ? rtm : hotfix_version;
}

Timestamp rtm_binary_time(Timestamp hotfix_time) {
  std::int64_t seconds = hotfix_time.unix_seconds() % kSecondsPerDay;
  if (seconds < 0) seconds += kSecondsPerDay;
  return Timestamp(kRtmDay.unix_seconds() + seconds);
}

std::uint64_t rtm_binary_size(std::uint64_t hotfix_size, std::uint64_t minimum,
                              std::uint64_t seed) {
  const std::uint64_t smaller_by = 2048 + 512 * (seed % 5);
  const std::uint64_t size = hotfix_size > smaller_by ? (hotfix_size - smaller_by) / 512 * 512 : 0;
  return size < minimum ? minimum : size;
}

std::uint64_t rtm_text_size(std::uint64_t hotfix_size) { return hotfix_size - hotfix_size / 8; }

std::string system_facts_json(Arch arch) {
  nlohmann::ordered_json facts;
  facts["family"] = "windows";
  facts["product"] = arch == Arch::kX86 ? "Windows Vista" : "Windows Server 2008";
  facts["version"] = "6.0.6001";
  facts["service_pack"] = 1;
  facts["architecture"] = std::string(arch_token(arch));
  facts["hotfixes"] = nlohmann::json::array();
  return facts.dump(2) + "\n";
}

}  // namespace hotfix::standins
