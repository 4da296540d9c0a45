#include "samples/standins/standin_files.h"

#include <string_view>

#include "manifests/errors.h"
#include "samples/standins/code_filler.h"
#include "samples/standins/pe_writer.h"
#include "samples/standins/sample_root.h"
#include "samples/standins/text_standin.h"
#include "samples/standins/version_resource_writer.h"

namespace hotfix::standins {

namespace {

constexpr std::string_view kHotfixEdition = "hotfix sample";
constexpr std::string_view kRtmEdition = "IIS 7.0 RTM, before the hotfix";

bool ends_with_dll(std::string_view name) {
  if (name.size() < 4) return false;
  std::string tail(name.substr(name.size() - 4));
  for (char& c : tail) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return tail == ".dll";
}

std::string stem(std::string_view name) {
  auto dot = name.rfind('.');
  return std::string(dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot));
}

std::string join(const std::string& destination, const std::string& name) {
  return destination.empty() ? name : destination + "/" + name;
}

void check_size(std::uint64_t size, const std::string& where) {
  if (size > kMaxStandinSize) {
    throw Error(ErrorKind::kBadInput, where,
                "size " + std::to_string(size) + " is larger than the " +
                    std::to_string(kMaxStandinSize) + " bytes a stand-in may have");
  }
}

// Equal entries (the same x86 file in the x86 and the x64 bundle) give equal bytes.
std::uint64_t seed_for(const FileEntry& entry, std::string_view edition) {
  return filler_seed(entry.name + "\n" + std::string(arch_token(entry.platform)) + "\n" +
                     format_file_version(entry.version) + "\n" + std::to_string(entry.size) + "\n" +
                     std::string(edition));
}

PeImageSpec pe_spec(const FileEntry& entry, const Version& version, std::uint64_t seed) {
  const bool dll = ends_with_dll(entry.name);
  const std::string text_version = version.to_string();
  VersionInfo info{version,
                   version,
                   dll,
                   {{"CompanyName", "hotfix sample stand-in"},
                    {"FileDescription", "Stand-in for " + entry.name},
                    {"FileVersion", text_version},
                    {"InternalName", stem(entry.name)},
                    {"OriginalFilename", entry.name},
                    {"ProductName", "Internet Information Services (stand-in)"},
                    {"ProductVersion", text_version}}};
  PeImageSpec spec;
  spec.arch = entry.platform == Arch::kNeutral ? Arch::kX86 : entry.platform;
  spec.dll = dll;
  spec.version_info = version_info_block(info);
  spec.filler_seed = seed;
  return spec;
}

}  // namespace

StandinFile drop_standin(const FileEntry& entry, const std::string& where) {
  check_size(entry.size, where);
  const std::uint64_t seed = seed_for(entry, kHotfixEdition);
  StandinFile file{entry.path(), "", entry.timestamp};
  if (entry.version) {
    PeImageSpec spec = pe_spec(entry, *entry.version, seed);
    spec.link_time = entry.timestamp;
    spec.size = entry.size;
    file.content = write_pe_image(spec, where);
  } else {
    file.content = text_standin(entry.name, entry.size, kHotfixEdition, seed);
  }
  return file;
}

void check_drop_standin(const FileEntry& entry, const std::string& where) {
  check_size(entry.size, where);
  if (!entry.version) return;
  const PeImageSpec spec = pe_spec(entry, *entry.version, 0);
  const std::uint64_t minimum = minimum_pe_image_size(spec);
  if (entry.size < minimum) {
    throw Error(ErrorKind::kBadInput, where,
                "size " + std::to_string(entry.size) + " is too small for a valid PE image " +
                    "with a version resource: at least " + std::to_string(minimum) +
                    " bytes needed");
  }
}

StandinFile root_standin(const FileEntry& entry, const std::string& where) {
  check_size(entry.size, where);
  const std::string path = join(entry.destination, installed_name(entry.name));
  if (entry.version) {
    PeImageSpec spec = pe_spec(entry, rtm_version(*entry.version), seed_for(entry, kRtmEdition));
    spec.link_time = rtm_binary_time(entry.timestamp);
    spec.size = rtm_binary_size(entry.size, minimum_pe_image_size(spec), spec.filler_seed);
    return StandinFile{path, write_pe_image(spec, where), spec.link_time};
  }
  if (entry.timestamp <= kRtmTextTime) {
    // The hotfix ships the file as RTM had it: the installer should find them equal.
    StandinFile same = drop_standin(entry, where);
    same.path = path;
    return same;
  }
  return StandinFile{path,
                     text_standin(entry.name, rtm_text_size(entry.size), kRtmEdition,
                                  seed_for(entry, kRtmEdition)),
                     kRtmTextTime};
}

StandinFile system_facts_standin(Arch arch) {
  return StandinFile{"etc/hotfix/system.json", system_facts_json(arch), kRtmTextTime};
}

}  // namespace hotfix::standins
