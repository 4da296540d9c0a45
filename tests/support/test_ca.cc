#include "tests/support/test_ca.h"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace hotfix::test {
namespace {

namespace fs = std::filesystem;
const char* const kOpenssl = "/usr/bin/openssl";

// Its own configuration, so that the system's openssl.cnf adds no extension of its own.
const char* const kConfig = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1, DNS:localhost
[other_host]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:example.invalid
)";

void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), kOpenssl);
  RunResult r = run(args);
  if (r.exit_code != 0) {
    std::string command;
    for (const std::string& a : args) command += (command.empty() ? "" : " ") + a;
    throw std::runtime_error(command + " failed (" + std::to_string(r.exit_code) + "): " + r.err);
  }
}

void make_key(const std::string& path) {
  openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path});
}

// A self-signed CA certificate for a new key.
void make_ca(const std::string& config, const std::string& name, const std::string& serial,
             const std::string& cert, const std::string& key) {
  make_key(key);
  openssl({"req", "-x509", "-new", "-config", config, "-extensions", "ca", "-key", key, "-subj",
           "/CN=" + name, "-set_serial", serial, "-days", "1", "-sha256", "-out", cert});
}

// A certificate for a new key, signed by the CA, with the extensions of config's `section`.
void make_leaf(const std::string& config, const std::string& section, const std::string& name,
               const std::string& serial, const std::string& ca_cert, const std::string& ca_key,
               const std::string& cert, const std::string& key) {
  make_key(key);
  const std::string request = cert + ".csr";
  openssl({"req", "-new", "-config", config, "-key", key, "-subj", "/CN=" + name, "-out", request});
  openssl({"x509", "-req", "-in", request, "-CA", ca_cert, "-CAkey", ca_key, "-set_serial", serial,
           "-days", "1", "-sha256", "-extfile", config, "-extensions", section, "-out", cert});
}

}  // namespace

bool openssl_available() { return ::access(kOpenssl, X_OK) == 0; }

TestCa make_test_ca(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path base = fs::absolute(dir);
  auto at = [&base](const char* name) { return (base / name).string(); };
  const std::string config = at("openssl.cnf");
  write_file(config, kConfig);
  TestCa ca;
  ca.ca_cert = at("ca.crt");
  ca.ca_key = at("ca.key");
  ca.server_cert = at("server.crt");
  ca.server_key = at("server.key");
  ca.other_host_cert = at("other-host.crt");
  ca.other_host_key = at("other-host.key");
  ca.unrelated_ca_cert = at("unrelated-ca.crt");
  ca.unrelated_ca_key = at("unrelated-ca.key");
  make_ca(config, "hotfix test CA", "1", ca.ca_cert, ca.ca_key);
  make_leaf(config, "server", "127.0.0.1", "2", ca.ca_cert, ca.ca_key, ca.server_cert,
            ca.server_key);
  make_leaf(config, "other_host", "example.invalid", "3", ca.ca_cert, ca.ca_key, ca.other_host_cert,
            ca.other_host_key);
  make_ca(config, "hotfix unrelated test CA", "4", ca.unrelated_ca_cert, ca.unrelated_ca_key);
  return ca;
}

}  // namespace hotfix::test
