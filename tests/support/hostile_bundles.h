// A corpus of hostile and broken bundles, built at test time, each with the exit code and the
// error text it must produce (docs/hostile-input.md). All derive from one good bundle, so that
// each is refused for its one defect: manifests with hostile content are signed with the
// trusted key, so that they get past the signature check to the check that must stop them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hotfix::test {

struct HostileCase {
  std::string name;     // short and unique: "destination-dotdot"
  std::string what;     // one line for people: what is wrong with it
  std::string bundle;   // the bundle file
  int exit_code = 0;    // what `hotfix-installer apply` must exit with
  std::string message;  // a substring of its one line on standard error
  // `hotfix-packager verify` on the bundle: its exit code and a substring of its standard
  // error, or -1 where the defect is not the bundle's (a root property, applicability).
  int verify_exit_code = -1;
  std::string verify_message;
  // A hostile property of the root rather than of the bundle (a symbolic link pointing out),
  // set up on the root before the attempt; empty for most cases.
  std::function<void(const std::string& root)> prepare_root;
};

struct HostileCorpus {
  std::string trusted_key;       // the public key file the installer is told to trust
  std::string good_bundle;       // the bundle every hostile one derives from; applies cleanly
  std::string installed_bundle;  // applied to the root first: KB200000 revision 5
  std::vector<HostileCase> cases;
};

// The plain Linux-family x64 root (without the installed hotfix) that the corpus targets:
// etc/hotfix/system.json and the files the good bundle replaces.
void write_hostile_root(const std::string& root);

// Builds every bundle of the corpus under `dir` (a few MiB in all, a second or so).
HostileCorpus build_hostile_corpus(const std::string& dir);

// A zstd frame of `size` zero bytes made of RLE blocks: 4 bytes per 128 KiB, so that a
// multi-GiB decompression bomb costs a few hundred KiB to write.
std::string zstd_zero_frame(std::uint64_t size);

}  // namespace hotfix::test
