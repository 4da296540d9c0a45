// Ed25519 keys and signatures (OpenSSL). Keys are PEM files in the format
// `openssl genpkey -algorithm ed25519` writes, so bundles can be checked with openssl too.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace hotfix {

inline constexpr std::size_t kSignatureSize = 64;  // raw Ed25519 signature

class PublicKey {
 public:
  static PublicKey load_pem_file(const std::string& path);
  static PublicKey from_pem(std::string_view pem, const std::string& source);

  bool verify(std::string_view message, std::string_view signature) const;
  // SHA-256 of the raw 32-byte public key, hex: names the key in bundles and messages.
  const std::string& fingerprint() const { return fingerprint_; }
  std::string pem() const;
  const std::string& source() const { return source_; }  // where it was loaded from

 private:
  struct Handle;
  std::shared_ptr<Handle> key_;
  std::string fingerprint_;
  std::string source_;
  friend class PrivateKey;
};

class PrivateKey {
 public:
  static PrivateKey generate();
  static PrivateKey load_pem_file(const std::string& path);

  std::string sign(std::string_view message) const;  // 64 raw bytes
  PublicKey public_key() const;
  std::string pem() const;  // unencrypted PKCS#8, as openssl genpkey writes

 private:
  struct Handle;
  std::shared_ptr<Handle> key_;
};

// Writes PREFIX.key (mode 0600, created exclusively) and PREFIX.pub. Refuses to overwrite
// existing files unless `overwrite`; never leaves a half-written pair.
void write_key_pair(const PrivateKey& key, const std::string& prefix, bool overwrite);

// Short form of a fingerprint for tables and messages: its first 16 hex digits.
std::string short_fingerprint(const std::string& fingerprint);

}  // namespace hotfix
