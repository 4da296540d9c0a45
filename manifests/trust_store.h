// The public keys a verifier trusts, loaded from files and directories of *.pub/*.pem files.
#pragma once

#include <string>
#include <vector>

#include "manifests/signature.h"

namespace hotfix {

class TrustStore {
 public:
  // A file is loaded as one key; a directory contributes every *.pub and *.pem in it.
  // A missing directory is an empty contribution; an unreadable or malformed key is an error.
  void add_path(const std::string& path);
  void add(PublicKey key);

  const std::vector<PublicKey>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }
  const PublicKey* find(const std::string& fingerprint) const;

 private:
  std::vector<PublicKey> keys_;
};

}  // namespace hotfix
