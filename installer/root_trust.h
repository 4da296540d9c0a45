// The keys an administrator installed in the root: <root>/etc/hotfix/trusted.d/*.pub and
// *.pem, read through the root's descriptor like every other file in it.
#pragma once

#include "installer/root.h"
#include "manifests/trust_store.h"

namespace hotfix {

// A public key file holds a few hundred bytes; anything larger is refused before it is read.
inline constexpr std::uint64_t kMaxKeyFileBytes = 64 << 10;

// Adds every regular *.pub and *.pem file of the directory, when it exists. A link, a FIFO or
// an oversized file among them is an error naming it.
void add_root_trusted_keys(const Root& root, TrustStore& trust);

}  // namespace hotfix
