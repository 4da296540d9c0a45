#include "fuzz/fuzz_key.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <cstdlib>
#include <memory>

namespace hotfix::fuzz {

namespace {

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

// Derived from a constant seed, so that every build signs with the same key and the
// checked-in seed bundles stay valid.
EVP_PKEY* fuzz_key() {
  static const std::unique_ptr<EVP_PKEY, KeyDeleter> key = [] {
    std::array<unsigned char, 32> seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<unsigned char>(i * 7 + 1);
    EVP_PKEY* pkey =
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
    if (!pkey) std::abort();
    return std::unique_ptr<EVP_PKEY, KeyDeleter>(pkey);
  }();
  return key.get();
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return text;
}

}  // namespace

std::string sign_with_fuzz_key(std::string_view message) {
  std::string signature(kSignatureSize, '\0');
  std::size_t length = signature.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, fuzz_key()) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || length != kSignatureSize) std::abort();
  return signature;
}

std::string fuzz_private_key_pem() {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, fuzz_key(), nullptr, nullptr, 0, nullptr, nullptr);
  return bio_text(bio);
}

TrustStore fuzz_trust_store() {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, fuzz_key());
  TrustStore trust;
  trust.add(PublicKey::from_pem(bio_text(bio), "fuzz key"));
  return trust;
}

}  // namespace hotfix::fuzz
