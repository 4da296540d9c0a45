#include "manifests/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "manifests/errors.h"
#include "manifests/file_descriptor.h"

namespace hotfix {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  EVP_MD* md = nullptr;
};

namespace {
void init(EVP_MD_CTX* ctx, const EVP_MD* md) {
  if (EVP_DigestInit_ex(ctx, md, nullptr) != 1) {
    throw Error(ErrorKind::kInternal, "sha256", "EVP_DigestInit_ex failed");
  }
}
}  // namespace

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  impl_->ctx = EVP_MD_CTX_new();
  if (!impl_->md || !impl_->ctx) {
    EVP_MD_free(impl_->md);
    EVP_MD_CTX_free(impl_->ctx);
    throw Error(ErrorKind::kInternal, "sha256", "OpenSSL has no SHA-256");
  }
  init(impl_->ctx, impl_->md);
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
  EVP_MD_free(impl_->md);
}

void Sha256::update(const void* data, std::size_t size) {
  if (size != 0) EVP_DigestUpdate(impl_->ctx, data, size);
}

Sha256Digest Sha256::finish() {
  Sha256Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
  init(impl_->ctx, impl_->md);
  return out;
}

Sha256Digest Sha256::of(const void* data, std::size_t size) {
  Sha256 h;
  h.update(data, size);
  return h.finish();
}

std::string to_hex(const Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (std::uint8_t b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::optional<Sha256Digest> parse_sha256_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Sha256Digest out{};
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

Sha256Digest sha256_of_fd(int fd, const std::string& source) {
  Sha256 hash;
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError(source, "read", errno);
    if (n == 0) break;
    hash.update(buf.data(), static_cast<std::size_t>(n));
  }
  return hash.finish();
}

Sha256Digest sha256_of_file(const std::string& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) throw SystemError(path, "open", errno);
  return sha256_of_fd(fd.get(), path);
}

}  // namespace hotfix
