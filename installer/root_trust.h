// The keys an administrator installed in the root: <root>/etc/hotfix/trusted.d/*.pub and
// *.pem, read through the root's descriptor like every other file in it.
#pragma once

#include <string>
#include <vector>

#include "installer/root.h"
#include "manifests/trust_store.h"

namespace hotfix {

// A public key file holds a few hundred bytes; anything larger is refused before it is read.
inline constexpr std::uint64_t kMaxKeyFileBytes = 64 << 10;

// Adds every *.pub and *.pem file of the directory, when it exists, held to sshd's StrictModes:
// etc, etc/hotfix, trusted.d and each key owned by root (or by the user running the
// installer) and writable by their owner alone, else Error(kBadInput) naming the file, since
// anyone who can write there can make the installer trust a key. A link, a FIFO or an
// oversized file there is an error naming it too. A file that is not a public key (garbage, a
// private key) is skipped: returned as a warning naming it, so that one bad file does not
// block every apply.
std::vector<std::string> add_root_trusted_keys(const Root& root, TrustStore& trust);

}  // namespace hotfix
