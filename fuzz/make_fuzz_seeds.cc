// Writes the binary seed inputs of the fuzz corpora: small PE and ELF images for
// file_identity_fuzzer, and bundles signed with the fuzz key for bundle_reader_fuzzer.
// Its output is checked in under fuzz/corpus; run it again after changing the bundle format:
//   make-fuzz-seeds fuzz/corpus
#include <unistd.h>

#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "fuzz/bundle_archive.h"
#include "fuzz/fuzz_key.h"
#include "manifests/bundle_format.h"
#include "manifests/errors.h"
#include "manifests/manifest_json.h"
#include "manifests/sha256.h"
#include "packager/bundle_writer.h"
#include "samples/standins/pe_writer.h"
#include "samples/standins/version_resource_writer.h"

namespace fs = std::filesystem;
using namespace hotfix;
using hotfix::fuzz::TarEntry;

namespace {

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error(ErrorKind::kSystem, path.string(), "cannot write");
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- PE and ELF ----

std::string pe_image(Arch arch, bool dll) {
  standins::VersionInfo info;
  info.file_version = Version(7, 0, 6001, 22329);
  info.product_version = Version(7, 0, 6001, 22329);
  info.dll = dll;
  info.strings = {{"CompanyName", "Microsoft Corporation"},
                  {"FileVersion", "7.0.6001.22329 (vistasp1_ldr.081212-1531)"},
                  {"OriginalFilename", dll ? "admwprox.dll" : "appcmd.exe"}};
  standins::PeImageSpec spec;
  spec.arch = arch;
  spec.dll = dll;
  spec.link_time = *Timestamp::parse_iso8601("2008-12-13T04:27:00Z");
  spec.version_info = standins::version_info_block(info);
  spec.size = standins::minimum_pe_image_size(spec);
  return standins::write_pe_image(spec, "seed");
}

// An ELF header alone: e_ident, e_type, e_machine, e_version, then zeros.
std::string elf_header(int elf_class, bool little_endian, unsigned machine) {
  std::string h(elf_class == 32 ? 52 : 64, '\0');
  h[0] = 0x7f;
  h[1] = 'E';
  h[2] = 'L';
  h[3] = 'F';
  h[4] = static_cast<char>(elf_class == 32 ? 1 : 2);
  h[5] = static_cast<char>(little_endian ? 1 : 2);
  h[6] = 1;
  auto put16 = [&](std::size_t at, unsigned v) {
    h[at + (little_endian ? 0 : 1)] = static_cast<char>(v & 0xff);
    h[at + (little_endian ? 1 : 0)] = static_cast<char>(v >> 8);
  };
  put16(16, 3);  // ET_DYN
  put16(18, machine);
  h[little_endian ? 20 : 23] = 1;  // e_version
  return h;
}

void write_file_identity_seeds(const fs::path& dir) {
  std::string x86_dll = pe_image(Arch::kX86, true);
  std::string x64_exe = pe_image(Arch::kX64, false);
  write(dir / "pe-x86-dll-with-version", x86_dll);
  write(dir / "pe-x64-exe-with-version", x64_exe);
  write(dir / "pe-ia64-dll-with-version", pe_image(Arch::kIa64, true));
  write(dir / "pe-x64-headers-only", x64_exe.substr(0, standins::kPeFileAlignment));
  std::string dos = x86_dll.substr(0, 0x80);
  dos[0x3c] = 0x40;  // e_lfanew at the stub: a DOS program
  write(dir / "dos-program", dos);
  write(dir / "elf64-x86-64", elf_header(64, true, 62));
  write(dir / "elf32-i386", elf_header(32, true, 3));
  write(dir / "elf64-aarch64", elf_header(64, true, 183));
  write(dir / "elf64-big-endian-ia64", elf_header(64, false, 50));
  write(dir / "elf-truncated", elf_header(64, true, 62).substr(0, 20));
  write(dir / "data-text", "<configuration>\n  <system.webServer/>\n</configuration>\n");
}

// ---- Bundles ----

FileEntry entry(const std::string& name, const std::string& destination, Arch platform,
                const std::string& content) {
  FileEntry f;
  f.name = name;
  f.destination = destination;
  f.size = content.size();
  f.timestamp = *Timestamp::parse_iso8601("2008-12-13T04:27:00Z");
  f.platform = platform;
  return f;
}

struct Drop {
  fs::path dir;
  Manifest slice;
  void add(FileEntry f, const std::string& content, Arch arch) {
    write(dir / f.path(), content);
    slice.architectures[arch].push_back(std::move(f));
  }
};

Manifest slice_for(Arch arch) {
  Manifest m;
  m.id = "KB967131";
  m.title = "IIS 7.0 configuration read while written";
  m.revision = 1;
  m.languages = {"en-US"};
  m.restart = RestartRequirement::kReboot;
  m.bundle = BundleScope{arch, std::nullopt, ""};
  return m;
}

// The writer leaves room for the head frame in a skippable frame of about 64 KiB; a seed
// keeps the layout (head frame, skippable frame, payload frames) with a small one.
std::string shrink_reserve(const std::string& bundle) {
  std::size_t head = ZSTD_findFrameCompressedSize(bundle.data(), bundle.size());
  if (ZSTD_isError(head) || bundle.size() - head < 8) return bundle;
  std::size_t skip = ZSTD_findFrameCompressedSize(bundle.data() + head, bundle.size() - head);
  if (ZSTD_isError(skip) || skip < 8) return bundle;
  std::string small = bundle.substr(head, 4) + std::string("\x08\0\0\0", 4) + std::string(8, '\0');
  return bundle.substr(0, head) + small + bundle.substr(head + skip);
}

std::string build(const fs::path& work, Drop& drop, const PrivateKey& key) {
  fs::path out = work / "out.hotfix";
  write_bundle(drop.slice, drop.dir.string(), key, out.string(), {.level = 19, .threads = 0});
  return shrink_reserve(read(out));
}

std::string encode(std::vector<TarEntry> entries, bool sign) {
  if (sign) fuzz::sign_manifest(entries);
  return fuzz::zstd_compress(fuzz::encode_tar(entries), 19);
}

std::vector<TarEntry> entries_of(const std::string& bundle) {
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(bundle.data()), bundle.size());
  return *fuzz::decode_tar(bytes, 1 << 20);
}

void write_bundle_seeds(const fs::path& dir, const fs::path& work, const fs::path& manifests) {
  fs::path key_file = work / "fuzz.key";
  write(key_file, fuzz::fuzz_private_key_pem());
  PrivateKey key = PrivateKey::load_pem_file(key_file.string());

  // The KB967131 x64 shape in small: a native and a WOW64 binary, a shared config, an empty file.
  Drop x64{work / "drop-x64", slice_for(Arch::kX64)};
  std::string dll = pe_image(Arch::kX64, true);
  std::string wow = pe_image(Arch::kX86, true);
  std::string config = "<configuration>\n  <system.applicationHost/>\n</configuration>\n";
  x64.add(entry("Admwprox.dll", "Windows/System32/inetsrv", Arch::kX64, dll), dll, Arch::kX64);
  x64.add(entry("Admwprox.dll", "Windows/SysWOW64/inetsrv", Arch::kX86, wow), wow, Arch::kX64);
  FileEntry c1 = entry("Appcmd.xml", "Windows/System32/inetsrv", Arch::kNeutral, config);
  c1.kind = FileKind::kConfig;
  c1.mode = 0644;
  FileEntry c2 = c1;
  c2.destination = "Windows/SysWOW64/inetsrv";
  x64.add(c1, config, Arch::kX64);
  x64.add(c2, config, Arch::kX64);
  x64.add(entry("empty.txt", "", Arch::kNeutral, ""), "", Arch::kX64);
  std::string valid_x64 = build(work, x64, key);
  write(dir / "valid-x64", valid_x64);

  // A language-specific x86 bundle with prerequisites and an optional file.
  Drop x86{work / "drop-x86", slice_for(Arch::kX86)};
  x86.slice.languages = {"en-US", "de-DE"};
  x86.slice.bundle->language = "de-DE";
  x86.slice.supersedes = {"KB954438"};
  Prerequisite vista;
  vista.type = Prerequisite::Type::kProduct;
  vista.value = "Windows Vista";
  Prerequisite file;
  file.type = Prerequisite::Type::kFileVersionAtLeast;
  file.value = "Windows/System32/inetsrv/appcmd.exe";
  file.version = Version(7, 0, 6001, 18000);
  x86.slice.prerequisites.type = Prerequisite::Type::kAnyOf;
  x86.slice.prerequisites.children = {vista, file};
  x86.slice.prerequisites.label = "Vista or IIS 7";
  FileEntry text = entry("readme.txt", "doc", Arch::kNeutral, "Hallo\n");
  text.language = "de-DE";
  text.only_if_present = true;
  x86.add(text, "Hallo\n", Arch::kX86);
  std::string valid_x86 = build(work, x86, key);
  write(dir / "valid-x86-de-DE", valid_x86);

  std::vector<TarEntry> base = entries_of(valid_x64);
  write(manifests / "bundle-x64.json", base[0].data);

  std::vector<TarEntry> e = base;
  e.erase(e.begin() + 1);
  write(dir / "unsigned", encode(e, false));

  e = base;
  e[1].data[0] ^= 1;
  write(dir / "bad-signature", encode(e, false));

  e = base;
  e[2].data += "x";  // content no longer matches its name and declared size
  write(dir / "payload-size-differs", encode(e, true));

  e = base;
  e[2].data[0] ^= 1;
  write(dir / "payload-hash-differs", encode(e, true));

  e = base;
  e.push_back({"payload/" + to_hex(Sha256::of("extra")), TarEntry::Type::kFile, "extra"});
  write(dir / "payload-undeclared", encode(e, true));

  e = base;
  e.back().type = TarEntry::Type::kSymlink;
  e.back().data = "/etc/passwd";
  write(dir / "payload-symlink", encode(e, true));

  e = base;
  e.insert(e.begin() + 2, TarEntry{"../escape", TarEntry::Type::kFile, "x"});
  write(dir / "entry-escapes", encode(e, true));

  std::string tar = fuzz::encode_tar(base);
  write(dir / "truncated", fuzz::zstd_compress(tar.substr(0, tar.size() / 2), 19));
  write(dir / "not-compressed", tar);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make-fuzz-seeds CORPUS_DIR (writes file_identity/ and bundle_reader/)\n";
    return 2;
  }
  try {
    fs::path root = argv[1];
    fs::path work = fs::temp_directory_path() / ("make-fuzz-seeds-" + std::to_string(::getpid()));
    fs::create_directories(work);
    write_file_identity_seeds(root / "file_identity");
    write_bundle_seeds(root / "bundle_reader", work, root / "manifest");
    fs::remove_all(work);
  } catch (const std::exception& error) {
    std::cerr << "make-fuzz-seeds: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
