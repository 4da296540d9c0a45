#include "manifests/trust_store.h"

#include <algorithm>
#include <filesystem>

#include "manifests/errors.h"

namespace hotfix {

void TrustStore::add(PublicKey key) {
  if (!find(key.fingerprint())) keys_.push_back(std::move(key));
}

void TrustStore::add_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    throw Error(ErrorKind::kBadInput, path, "trusted key file or directory does not exist");
  }
  if (!fs::is_directory(status)) {
    add(PublicKey::load_pem_file(path));
    return;
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::string ext = entry.path().extension().string();
    if ((ext == ".pub" || ext == ".pem") && entry.is_regular_file()) {
      files.push_back(entry.path().string());
    }
  }
  if (ec) throw SystemError(path, "read directory", ec.value());
  std::sort(files.begin(), files.end());  // deterministic order in messages
  for (const std::string& f : files) add(PublicKey::load_pem_file(f));
}

const PublicKey* TrustStore::find(const std::string& fingerprint) const {
  for (const PublicKey& k : keys_) {
    if (k.fingerprint() == fingerprint) return &k;
  }
  return nullptr;
}

}  // namespace hotfix
