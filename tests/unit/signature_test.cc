#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>

#include "manifests/errors.h"
#include "manifests/file_descriptor.h"
#include "manifests/signature.h"
#include "manifests/trust_store.h"
#include "tests/support/temp_dir.h"

using namespace hotfix;
using hotfix::test::TempDir;

TEST_CASE("A signature verifies with its key and fails when anything changes") {
  PrivateKey key = PrivateKey::generate();
  PublicKey pub = key.public_key();
  std::string message = "{\"id\": \"KB967131\"}";
  std::string sig = key.sign(message);
  REQUIRE(sig.size() == kSignatureSize);
  CHECK(pub.verify(message, sig));
  CHECK(key.sign(message) == sig);  // Ed25519 is deterministic: bundles are reproducible

  std::string altered = message;
  altered[3] ^= 1;
  CHECK_FALSE(pub.verify(altered, sig));
  std::string bad_sig = sig;
  bad_sig[10] ^= 1;
  CHECK_FALSE(pub.verify(message, bad_sig));
  CHECK_FALSE(pub.verify(message, sig.substr(0, 63)));
  CHECK_FALSE(PrivateKey::generate().public_key().verify(message, sig));
}

TEST_CASE("Key pairs are written as PEM, private key 0600, never overwritten silently") {
  TempDir dir;
  std::string prefix = (dir / "release").string();
  PrivateKey key = PrivateKey::generate();
  write_key_pair(key, prefix, false);

  struct stat st {};
  REQUIRE(::stat((prefix + ".key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(hotfix::test::read_file(prefix + ".key").rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  CHECK(hotfix::test::read_file(prefix + ".pub").rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);

  PrivateKey loaded = PrivateKey::load_pem_file(prefix + ".key");
  PublicKey pub = PublicKey::load_pem_file(prefix + ".pub");
  CHECK(pub.fingerprint() == key.public_key().fingerprint());
  CHECK(pub.verify("m", loaded.sign("m")));

  CHECK_THROWS_AS(write_key_pair(PrivateKey::generate(), prefix, false), Error);
  CHECK(PublicKey::load_pem_file(prefix + ".pub").fingerprint() == pub.fingerprint());
  write_key_pair(PrivateKey::generate(), prefix, true);
  CHECK(PublicKey::load_pem_file(prefix + ".pub").fingerprint() != pub.fingerprint());
}

TEST_CASE("Keys made by the openssl command line work, and openssl verifies our signatures") {
  TempDir dir;
  std::string key = (dir / "ossl.key").string(), pub = (dir / "ossl.pub").string();
  REQUIRE(std::system(
              ("openssl genpkey -algorithm ed25519 -out " + key + " 2>/dev/null").c_str()) == 0);
  REQUIRE(std::system(("openssl pkey -in " + key + " -pubout -out " + pub).c_str()) == 0);

  PrivateKey k = PrivateKey::load_pem_file(key);
  PublicKey p = PublicKey::load_pem_file(pub);
  std::string message = "manifest bytes";
  std::string sig = k.sign(message);
  CHECK(p.verify(message, sig));

  hotfix::test::write_file(dir / "msg", message);
  hotfix::test::write_file(dir / "msg.sig", sig);
  std::string cmd = "openssl pkeyutl -verify -pubin -inkey " + pub + " -rawin -in " +
                    (dir / "msg").string() + " -sigfile " + (dir / "msg.sig").string() +
                    " >/dev/null 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  hotfix::test::write_file(dir / "msg", message + "!");
  CHECK(std::system(cmd.c_str()) != 0);
}

TEST_CASE("Keys that are not Ed25519 PEM are refused with a clear error") {
  TempDir dir;
  std::string rsa = (dir / "rsa.key").string();
  REQUIRE(std::system(("openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 -out " + rsa +
                       " 2>/dev/null")
                          .c_str()) == 0);
  try {
    PrivateKey::load_pem_file(rsa);
    FAIL("RSA key accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kBadInput);
    CHECK(std::string(e.what()).find("not Ed25519") != std::string::npos);
  }
  hotfix::test::write_file(dir / "junk.pub", "not a key");
  CHECK_THROWS_AS(PublicKey::load_pem_file((dir / "junk.pub").string()), Error);
  try {
    PublicKey::load_pem_file((dir / "missing.pub").string());
    FAIL("missing key accepted");
  } catch (const Error& e) {
    // A file named on the command line that is not there is bad input, as in every command.
    CHECK(e.kind() == ErrorKind::kBadInput);
    CHECK(e.message() == "does not exist (a key file)");
  }
}

TEST_CASE("A trust store loads files and directories of public keys") {
  TempDir dir;
  write_key_pair(PrivateKey::generate(), (dir / "a").string(), false);
  write_key_pair(PrivateKey::generate(), (dir / "b").string(), false);
  std::filesystem::create_directories(dir / "trusted.d");
  std::filesystem::copy_file(dir / "a.pub", dir / "trusted.d" / "a.pub");
  std::filesystem::copy_file(dir / "b.pub", dir / "trusted.d" / "b.pem");
  hotfix::test::write_file(dir / "trusted.d" / "README", "ignored");

  TrustStore store;
  store.add_path((dir / "trusted.d").string());
  CHECK(store.keys().size() == 2);
  store.add_path((dir / "a.pub").string());  // the same key again is not a second key
  CHECK(store.keys().size() == 2);
  PublicKey a = PublicKey::load_pem_file((dir / "a.pub").string());
  CHECK(store.find(a.fingerprint()) != nullptr);
  CHECK(store.find(std::string(64, '0')) == nullptr);
  CHECK_THROWS_AS(store.add_path((dir / "nowhere").string()), Error);
}

TEST_CASE("A key file that is a FIFO, or larger than 64 KiB, is refused without being read") {
  TempDir dir;
  std::string fifo = (dir / "fifo.pub").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto refused = [](const std::function<void()>& load, const std::string& why) {
    try {
      load();
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::kBadInput);
      CHECK(std::string(e.what()).find(why) != std::string::npos);
    }
  };
  // Without O_NONBLOCK these would wait for a writer for ever.
  refused([&] { PublicKey::load_pem_file(fifo); }, "not a regular file");
  refused([&] { PrivateKey::load_pem_file(fifo); }, "not a regular file");
  // A sparse file of 1 GiB: read whole, it would take a second and a gigabyte of memory.
  std::string big = (dir / "big.pub").string();
  {
    FileDescriptor fd(::open(big.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    REQUIRE(fd);
    REQUIRE(::ftruncate(fd.get(), off_t{1} << 30) == 0);
  }
  refused([&] { PublicKey::load_pem_file(big); }, "larger than 64 KiB");
}
