#include "manifests/file_identity.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "manifests/errors.h"
#include "manifests/file_descriptor.h"

namespace hotfix {

namespace {

class Mapping {
 public:
  Mapping(void* address, std::size_t size) : address_(address), size_(size) {}
  ~Mapping() { ::munmap(address_, size_); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  std::span<const std::uint8_t> bytes() const {
    return {static_cast<const std::uint8_t*>(address_), size_};
  }

 private:
  void* address_;
  std::size_t size_;
};

}  // namespace

std::optional<Arch> FileIdentity::arch() const {
  if (pe) return arch_from_pe_machine(pe->machine);
  if (elf) return arch_from_elf_machine(elf->machine);
  return std::nullopt;
}

std::optional<Version> FileIdentity::version() const {
  if (pe) return pe->file_version;
  return std::nullopt;
}

FileIdentity identify_bytes(std::span<const std::uint8_t> bytes, const std::string& source) {
  FileIdentity identity;
  if (std::optional<PeInfo> pe = read_pe(bytes, source)) {
    identity.format = FileIdentity::Format::kPe;
    identity.pe = std::move(pe);
  } else if (std::optional<ElfInfo> elf = read_elf(bytes, source)) {
    identity.format = FileIdentity::Format::kElf;
    identity.elf = elf;
  }
  return identity;
}

FileIdentity identify_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is rejected below.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) throw SystemError(path, "open", errno);
  return identify_fd(fd.get(), path);
}

FileIdentity identify_fd(int fd, const std::string& source) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw SystemError(source, "fstat", errno);
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::kBadInput, source, "not a regular file");
  if (st.st_size == 0) return identify_bytes({}, source);
  auto size = static_cast<std::size_t>(st.st_size);
  void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (address == MAP_FAILED) throw SystemError(source, "mmap", errno);
  Mapping mapping(address, size);
  return identify_bytes(mapping.bytes(), source);
}

}  // namespace hotfix
