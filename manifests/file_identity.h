// What a file is, judged from its bytes: a PE image, an ELF object, or plain data;
// its architecture and its file version.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "manifests/arch.h"
#include "manifests/elf_reader.h"
#include "manifests/pe_reader.h"
#include "manifests/version.h"

namespace hotfix {

struct FileIdentity {
  enum class Format { kData, kPe, kElf };

  Format format = Format::kData;
  std::optional<PeInfo> pe;    // set when format is kPe
  std::optional<ElfInfo> elf;  // set when format is kElf

  // From the PE machine or the ELF e_machine; nullopt for data and unknown machines.
  std::optional<Arch> arch() const;
  // The PE VS_FIXEDFILEINFO file version; nullopt for data, ELF and unversioned PE files.
  std::optional<Version> version() const;
};

// Anything that is neither a PE image nor ELF (a DOS "MZ" without a PE signature
// included) is kData. A file that has the PE or ELF signature but broken structures
// throws hotfix::Error(kBadInput, source, ...); `source` names the file in errors.
FileIdentity identify_bytes(std::span<const std::uint8_t> bytes, const std::string& source);

// identify_bytes over the contents of the regular file at `path` (mapped read-only).
// Throws hotfix::SystemError naming the path when it cannot be opened or mapped, and
// hotfix::Error(kBadInput) when it is not a regular file.
FileIdentity identify_file(const std::string& path);
// The same over an open regular file; errors name `source`.
FileIdentity identify_fd(int fd, const std::string& source);

}  // namespace hotfix
