#include "manifests/signature.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "manifests/errors.h"
#include "manifests/file_descriptor.h"
#include "manifests/file_replace.h"
#include "manifests/input_file.h"
#include "manifests/read_to_end.h"
#include "manifests/sha256.h"

namespace hotfix {

struct PublicKey::Handle {
  EVP_PKEY* pkey;
  ~Handle() { EVP_PKEY_free(pkey); }
};
struct PrivateKey::Handle {
  EVP_PKEY* pkey;
  ~Handle() { EVP_PKEY_free(pkey); }
};

namespace {

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

// A key file: regular (a FIFO given by mistake must not hang the command), at most 64 KiB,
// and never read past that.
std::string read_small_file(const std::string& path) {
  constexpr std::size_t kMaxKeyFile = 64 * 1024;
  FileDescriptor fd = open_named_input(path, O_RDONLY | O_NONBLOCK | O_NOCTTY, "a key file");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw SystemError(path, "stat", errno);
  if (!S_ISREG(st.st_mode)) {
    throw Error(ErrorKind::kBadInput, path, "not a PEM key file (not a regular file)");
  }
  std::string text = read_to_end(fd.get(), kMaxKeyFile, path);
  if (text.size() > kMaxKeyFile) {
    throw Error(ErrorKind::kBadInput, path, "not a PEM key file (larger than 64 KiB)");
  }
  return text;
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string compute_fingerprint(EVP_PKEY* pkey) {
  unsigned char raw[32];
  std::size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != sizeof raw) {
    throw Error(ErrorKind::kInternal, "ed25519", "cannot read raw public key: " + openssl_error());
  }
  return to_hex(Sha256::of(raw, len));
}

void require_ed25519(EVP_PKEY* pkey, const std::string& source) {
  if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(pkey);
    throw Error(ErrorKind::kBadInput, source,
                "key is not Ed25519 (make one with `hotfix-packager keygen` or "
                "`openssl genpkey -algorithm ed25519`)");
  }
}

}  // namespace

PublicKey PublicKey::from_pem(std::string_view pem, const std::string& source) {
  // PEM_read_bio_PUBKEY skips what comes before a public key block: a file holding the
  // private key as well must not be taken for a trust key quietly.
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    throw Error(ErrorKind::kBadInput, source,
                "holds a private key: a trust key is the public half alone (keygen writes it "
                "as NAME.pub); keep private keys off the servers, and treat this one as "
                "disclosed");
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!pkey) {
    throw Error(ErrorKind::kBadInput, source, "not a PEM public key: " + openssl_error());
  }
  require_ed25519(pkey, source);
  PublicKey key;
  key.key_ = std::shared_ptr<Handle>(new Handle{pkey});
  key.fingerprint_ = compute_fingerprint(pkey);
  key.source_ = source;
  return key;
}

PublicKey PublicKey::load_pem_file(const std::string& path) {
  return from_pem(read_small_file(path), path);
}

bool PublicKey::verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != kSignatureSize) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key_->pkey) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

std::string PublicKey::pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key_->pkey);
  std::string out = bio_to_string(bio);
  BIO_free(bio);
  return out;
}

PrivateKey PrivateKey::generate() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!pkey) throw Error(ErrorKind::kInternal, "keygen", "Ed25519 keygen: " + openssl_error());
  PrivateKey key;
  key.key_ = std::shared_ptr<Handle>(new Handle{pkey});
  return key;
}

PrivateKey PrivateKey::load_pem_file(const std::string& path) {
  std::string pem = read_small_file(path);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!pkey) {
    throw Error(ErrorKind::kBadInput, path,
                "not an unencrypted PEM private key: " + openssl_error());
  }
  require_ed25519(pkey, path);
  PrivateKey key;
  key.key_ = std::shared_ptr<Handle>(new Handle{pkey});
  return key;
}

std::string PrivateKey::sign(std::string_view message) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(kSignatureSize, '\0');
  std::size_t len = sig.size();
  bool ok =
      ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_->pkey) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != kSignatureSize) {
    throw Error(ErrorKind::kInternal, "ed25519", "signing failed: " + openssl_error());
  }
  return sig;
}

PublicKey PrivateKey::public_key() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key_->pkey);
  std::string pem = bio_to_string(bio);
  BIO_free(bio);
  return PublicKey::from_pem(pem, "generated key");
}

std::string PrivateKey::pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key_->pkey, nullptr, nullptr, 0, nullptr, nullptr);
  std::string out = bio_to_string(bio);
  BIO_free(bio);
  return out;
}

void write_key_pair(const PrivateKey& key, const std::string& prefix, bool overwrite) {
  std::string key_path = prefix + ".key";
  std::string pub_path = prefix + ".pub";
  std::filesystem::path parent = std::filesystem::path(key_path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw SystemError(parent.string(), "create directory", ec.value());
  }
  if (!overwrite) {
    for (const std::string& p : {key_path, pub_path}) {
      if (::access(p.c_str(), F_OK) == 0) {
        throw Error(ErrorKind::kBadInput, p, "already exists (use --force to replace it)");
      }
    }
  }
  write_file_atomically(key_path, key.pem(), 0600, overwrite);
  write_file_atomically(pub_path, key.public_key().pem(), 0644, overwrite);
}

std::string short_fingerprint(const std::string& fingerprint) { return fingerprint.substr(0, 16); }

}  // namespace hotfix
