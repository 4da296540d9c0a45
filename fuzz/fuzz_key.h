// The fixed Ed25519 key that the bundle fuzzer's inputs are signed with. Its private half
// is in this source, so it proves nothing: it exists only so that mutated bundles can pass
// the signature check and reach the stages behind it.
#pragma once

#include <string>
#include <string_view>

#include "manifests/signature.h"
#include "manifests/trust_store.h"

namespace hotfix::fuzz {

// 64 raw bytes, as manifest.json.sig holds them.
std::string sign_with_fuzz_key(std::string_view message);

// Unencrypted PKCS#8 PEM, for tools that load a PrivateKey from a file.
std::string fuzz_private_key_pem();

// A trust store holding only the fuzz key's public half.
TrustStore fuzz_trust_store();

}  // namespace hotfix::fuzz
