// Throwaway certificates for https tests, made with the openssl command line: a CA, a server
// certificate it signed for 127.0.0.1 and localhost, one it signed for another host name only,
// and a second CA, unrelated, that signed none of them. Keys are EC P-256, quick to make.
#pragma once

#include <filesystem>
#include <string>

namespace hotfix::test {

// The openssl program is installed; tests say "SKIPPED: openssl not installed" if not.
bool openssl_available();

// Paths of PEM files, all in one directory.
struct TestCa {
  std::string ca_cert;      // the CA's self-signed certificate: TransportOptions::ca_file
  std::string ca_key;       // its key, which signed the two server certificates
  std::string server_cert;  // subjectAltName IP:127.0.0.1, DNS:localhost; signed by the CA
  std::string server_key;
  std::string other_host_cert;  // subjectAltName DNS:example.invalid only; signed by the CA
  std::string other_host_key;
  std::string unrelated_ca_cert;  // another CA, with another name and key; signed nothing here
  std::string unrelated_ca_key;
};

// Makes them in dir (created if need be), valid from now for a day, or throws with what
// openssl said.
TestCa make_test_ca(const std::filesystem::path& dir);

}  // namespace hotfix::test
