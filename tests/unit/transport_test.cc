// The libcurl transport (installer/transport.h) against a real nginx on 127.0.0.1 and with
// file:// URLs: whole files, missing ones, a body longer than allowed, conditional and resumed
// requests, a server that ignores ranges, one that is down and comes back; and https with a CA
// of the test's own: trusted when it is TransportOptions::ca_file and not otherwise, and only
// for the host names its certificate names.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "installer/transport.h"
#include "manifests/errors.h"
#include "tests/support/nginx_server.h"
#include "tests/support/pseudo_random.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ca.h"

using namespace hotfix;
using hotfix::test::NginxServer;
using hotfix::test::NginxTls;
using hotfix::test::TempDir;
using hotfix::test::TestCa;
namespace fs = std::filesystem;

namespace {

// What the sink was given; a restart drops what it had, as a real sink must.
struct Received {
  std::string bytes;
  int calls = 0;
  int restarts = 0;
  bool restart_first = false;  // a restart came with the first call
  FetchSink sink() {
    return [this](const void* data, std::size_t size, bool restart) {
      if (restart) {
        restart_first = restart_first || calls == 0;
        ++restarts;
        bytes.clear();
      }
      ++calls;
      bytes.append(static_cast<const char*>(data), size);
    };
  }
};

TransportOptions quick_options() {
  TransportOptions options;
  options.attempts = 2;
  options.backoff_milliseconds = 50;
  options.connect_timeout_seconds = 2;
  options.stall_seconds = 10;
  return options;
}

FetchRequest request(const std::string& url, std::uint64_t max_bytes = 1 << 20) {
  FetchRequest r;
  r.url = url;
  r.max_bytes = max_bytes;
  return r;
}

// A directory of files, served by nginx and reachable as file:// too.
struct Repo {
  TempDir dir;
  fs::path docs = dir / "docs";
  std::unique_ptr<NginxServer> server;
  std::unique_ptr<Transport> transport = make_curl_transport(quick_options());
  const std::string content = hotfix::test::pseudo_random(300000, 7);

  explicit Repo(bool serve = true) {
    hotfix::test::write_file(docs / "metadata/file.bin", content);
    // Older than the second of any answer: its validators are not racy (see below).
    fs::last_write_time(docs / "metadata/file.bin",
                        fs::last_write_time(docs / "metadata/file.bin") - std::chrono::seconds(10));
    if (serve) server = std::make_unique<NginxServer>((dir / "work").string(), docs.string());
  }
  std::string http(const std::string& name) const { return join_url(server->url(), name); }
  std::string file(const std::string& name) const { return "file://" + (docs / name).string(); }
};

// nginx logs a request once it has sent the answer, which the client may see first.
bool access_log_has(const Repo& repo, const std::string& text) {
  for (int i = 0; i < 100; ++i) {
    std::string log = hotfix::test::read_file(repo.dir / "work/nginx/access.log");
    if (log.find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool skip_without_nginx() {
  if (hotfix::test::nginx_available()) return false;
  WARN("SKIPPED: nginx not installed");
  return true;
}

// https: a throwaway CA, and nginx serving a file with a certificate that CA signed, for
// 127.0.0.1 and localhost or (other_host) for example.invalid only.
struct HttpsRepo {
  TempDir dir;
  fs::path docs = dir / "docs";
  TestCa ca = hotfix::test::make_test_ca(dir / "ca");
  const std::string content = hotfix::test::pseudo_random(300000, 11);
  std::unique_ptr<NginxServer> server;

  explicit HttpsRepo(bool other_host = false) {
    hotfix::test::write_file(docs / "metadata/file.bin", content);
    NginxTls tls{other_host ? ca.other_host_cert : ca.server_cert,
                 other_host ? ca.other_host_key : ca.server_key};
    server = std::make_unique<NginxServer>((dir / "work").string(), docs.string(), tls);
  }
  std::string https(const std::string& name) const { return join_url(server->url(), name); }
  // No request reached nginx: the client gave up in the TLS handshake, before sending one.
  bool no_request_logged() const {
    return hotfix::test::read_file(dir / "work/nginx/access.log").find("GET ") == std::string::npos;
  }
};

// One attempt, so that a failure is quick; ca_file empty: the system's CAs.
std::unique_ptr<Transport> tls_transport(const std::string& ca_file) {
  TransportOptions options = quick_options();
  options.attempts = 1;
  options.ca_file = ca_file;
  return make_curl_transport(options);
}

// The fetch of url is Error(kUnreachable) for that url, after its one attempt, and the sink
// received nothing. Returns the message.
std::string fetch_unreachable(Transport& transport, const std::string& url) {
  Received got;
  std::string message;
  try {
    transport.fetch(request(url), got.sink());
    FAIL("an https server that must not be trusted was");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kUnreachable);
    CHECK(e.where() == url);
    message = e.message();
    CHECK_THAT(message, Catch::EndsWith(" after 1 attempt"));
  }
  CHECK(got.calls == 0);
  return message;
}

bool skip_without_https_tools() {
  if (skip_without_nginx()) return true;
  if (hotfix::test::openssl_available()) return false;
  WARN("SKIPPED: openssl not installed");
  return true;
}

}  // namespace

TEST_CASE("A file is fetched whole, with the right bytes and its validators") {
  if (skip_without_nginx()) return;
  Repo repo;
  Received got;
  FetchResult result = repo.transport->fetch(
      request(repo.http("metadata/file.bin"), repo.content.size()), got.sink());
  CHECK(result.status == FetchStatus::kOk);
  CHECK_FALSE(result.resumed);
  CHECK(result.bytes == repo.content.size());
  CHECK(got.bytes == repo.content);
  CHECK(got.restarts == 0);
  CHECK_FALSE(result.etag.empty());
  CHECK_FALSE(result.last_modified.empty());
  CHECK(access_log_has(repo, "\"hotfix-installer/"));  // the User-Agent
}

TEST_CASE("A missing file is not found, and nothing reaches the sink") {
  if (skip_without_nginx()) return;
  Repo repo;
  Received got;
  FetchResult result = repo.transport->fetch(request(repo.http("metadata/none.json")), got.sink());
  CHECK(result.status == FetchStatus::kNotFound);
  CHECK(result.bytes == 0);
  CHECK(got.calls == 0);
}

TEST_CASE("A body longer than max_bytes is refused, and no more than that was delivered") {
  if (skip_without_nginx()) return;
  Repo repo;
  FetchRequest r = request(repo.http("metadata/file.bin"), repo.content.size() - 1);
  SECTION("from the start") {}
  SECTION("resumed: the limit is on the file, not on the rest") { r.resume_from = 1000; }
  Received got;
  try {
    repo.transport->fetch(r, got.sink());
    FAIL("a body longer than max_bytes was accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kMetadata);
    CHECK(e.where() == r.url);
    CHECK(e.message() == "longer than the " + std::to_string(r.max_bytes) + " bytes signed");
  }
  CHECK(r.resume_from + got.bytes.size() <= r.max_bytes);
}

TEST_CASE("A conditional GET is not modified with the validators, and gets a changed file") {
  if (skip_without_nginx()) return;
  Repo repo;
  Received first;
  FetchResult original =
      repo.transport->fetch(request(repo.http("metadata/file.bin")), first.sink());
  REQUIRE_FALSE(original.etag.empty());
  FetchRequest r = request(repo.http("metadata/file.bin"));
  SECTION("If-None-Match") { r.if_none_match = original.etag; }
  SECTION("If-Modified-Since") { r.if_modified_since = original.last_modified; }
  Received same;
  FetchResult unchanged = repo.transport->fetch(r, same.sink());
  CHECK(unchanged.status == FetchStatus::kNotModified);
  CHECK(unchanged.bytes == 0);
  CHECK(same.calls == 0);

  // Another length, so that the ETag (mtime and size) differs within the same second too.
  const std::string changed = hotfix::test::pseudo_random(1234, 8);
  hotfix::test::write_file(repo.docs / "metadata/file.bin", changed);
  r.if_none_match = original.etag;
  Received fresh;
  FetchResult result = repo.transport->fetch(r, fresh.sink());
  CHECK(result.status == FetchStatus::kOk);
  CHECK(fresh.bytes == changed);
  CHECK(result.etag != original.etag);
}

TEST_CASE("Validators of a file changed in the second of the answer are not handed out") {
  if (skip_without_nginx()) return;
  Repo repo;
  // Rewritten now with the same size: nginx's ETag (mtime in seconds, size) could be the one
  // of the next change in this second, so a conditional request with it could miss that.
  hotfix::test::write_file(repo.docs / "metadata/file.bin", repo.content);
  Received got;
  FetchResult r = repo.transport->fetch(request(repo.http("metadata/file.bin")), got.sink());
  CHECK(r.status == FetchStatus::kOk);
  CHECK(r.etag.empty());
  CHECK(r.last_modified.empty());
}

TEST_CASE("A partial download resumes with only the rest") {
  if (skip_without_nginx()) return;
  Repo repo;
  FetchRequest r = request(repo.http("metadata/file.bin"), repo.content.size());
  r.resume_from = 1000;
  Received got;
  FetchResult result = repo.transport->fetch(r, got.sink());
  CHECK(result.status == FetchStatus::kOk);
  CHECK(result.resumed);
  CHECK(result.bytes == repo.content.size() - 1000);
  CHECK(got.bytes == repo.content.substr(1000));
  CHECK(got.restarts == 0);
}

TEST_CASE("A partial download that is already whole resumes with nothing (HTTP 416)") {
  if (skip_without_nginx()) return;
  Repo repo;
  FetchRequest r = request(repo.http("metadata/file.bin"), repo.content.size());
  r.resume_from = repo.content.size();
  Received got;
  FetchResult result = repo.transport->fetch(r, got.sink());
  CHECK(result.status == FetchStatus::kOk);
  CHECK(result.resumed);
  CHECK(result.bytes == 0);
  CHECK(got.calls == 0);
}

TEST_CASE("A server that ignores the Range sends it all, and the sink starts again") {
  if (skip_without_nginx()) return;
  Repo repo;
  FetchRequest r = request(repo.http("no-ranges/metadata/file.bin"), repo.content.size());
  r.resume_from = 1000;
  Received got;
  FetchResult result = repo.transport->fetch(r, got.sink());
  CHECK(result.status == FetchStatus::kOk);
  CHECK_FALSE(result.resumed);
  CHECK(result.bytes == repo.content.size());
  CHECK(got.restart_first);
  CHECK(got.restarts == 1);
  CHECK(got.bytes == repo.content);
}

TEST_CASE("An answer other than 2xx, 304, 404 or 410 is unreachable, after the attempts") {
  if (skip_without_nginx()) return;
  Repo repo;
  Received got;
  const std::string url = repo.http("metadata/");  // a directory, no index: 403
  try {
    repo.transport->fetch(request(url), got.sink());
    FAIL("HTTP 403 was taken for an answer");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kUnreachable);
    CHECK(e.where() == url);
    CHECK(e.message() == "HTTP 403 after 2 attempts");
  }
  CHECK(got.calls == 0);
}

TEST_CASE("A server that is down is unreachable in bounded time, and usable when it is back") {
  if (skip_without_nginx()) return;
  Repo repo;
  const int port = repo.server->port();
  const pid_t first_pid = repo.server->pid();
  repo.server->stop();
  CHECK(repo.server->pid() == -1);
  Received got;
  auto start = std::chrono::steady_clock::now();
  try {
    repo.transport->fetch(request(repo.http("metadata/file.bin")), got.sink());
    FAIL("a stopped server answered");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kUnreachable);
    CHECK_THAT(e.message(), Catch::EndsWith(" after 2 attempts"));
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  CHECK(got.calls == 0);

  repo.server->restart();
  CHECK(repo.server->port() == port);
  CHECK(repo.server->pid() != first_pid);
  FetchResult result = repo.transport->fetch(request(repo.http("metadata/file.bin")), got.sink());
  CHECK(result.status == FetchStatus::kOk);
  CHECK(got.bytes == repo.content);
}

TEST_CASE("A transfer cut off is continued from where it stopped, or restarted if changed") {
  if (skip_without_nginx()) return;
  Repo repo;
  // Larger than the socket buffers, so that most of it is still unsent when nginx stops.
  const std::string big = hotfix::test::pseudo_random(32 << 20, 9);
  // Another length: nginx's ETag is the mtime in seconds and the size.
  const std::string changed = hotfix::test::pseudo_random((32 << 20) + 1, 10);
  hotfix::test::write_file(repo.docs / "big.bin", big);
  bool change = false;
  SECTION("the same file: a Range for the rest") {}
  SECTION("changed meanwhile: If-Range fails, and the sink starts again") { change = true; }
  Received got;
  FetchSink inner = got.sink();
  bool cut = false;
  FetchSink sink = [&](const void* data, std::size_t size, bool restart) {
    inner(data, size, restart);
    if (cut) return;
    cut = true;  // once: nginx goes away in the middle of the body and comes back
    if (change) hotfix::test::write_file(repo.docs / "big.bin", changed);
    repo.server->restart();
  };
  FetchResult result = repo.transport->fetch(request(repo.http("big.bin"), 64 << 20), sink);
  CHECK(result.status == FetchStatus::kOk);
  CHECK_FALSE(result.resumed);
  CHECK(got.restarts == (change ? 1 : 0));
  CHECK(result.bytes == got.bytes.size());
  const bool same = got.bytes == (change ? changed : big);  // not printed: 32 MiB
  CHECK(same);
  if (!change) CHECK(access_log_has(repo, "\"GET /big.bin HTTP/1.1\" 206 "));
}

TEST_CASE("What the sink throws passes through, and is not retried") {
  if (skip_without_nginx()) return;
  Repo repo;
  int calls = 0;
  FetchSink sink = [&calls](const void*, std::size_t, bool) {
    ++calls;
    throw std::runtime_error("disk full");
  };
  CHECK_THROWS_WITH(repo.transport->fetch(request(repo.http("metadata/file.bin")), sink),
                    "disk full");
  CHECK(calls == 1);
}

TEST_CASE("https with the CA as ca_file fetches the file, by address and by name") {
  if (skip_without_https_tools()) return;
  HttpsRepo repo;
  REQUIRE_THAT(repo.server->url(), Catch::StartsWith("https://127.0.0.1:"));
  std::string url = repo.https("metadata/file.bin");
  SECTION("127.0.0.1: the certificate's IP address") {}
  SECTION("localhost: the certificate's DNS name") {
    url = "https://localhost:" + std::to_string(repo.server->port()) + "/metadata/file.bin";
  }
  std::unique_ptr<Transport> transport = tls_transport(repo.ca.ca_cert);
  Received got;
  FetchResult result = transport->fetch(request(url, repo.content.size()), got.sink());
  CHECK(result.status == FetchStatus::kOk);
  CHECK(result.bytes == repo.content.size());
  CHECK(got.bytes == repo.content);
}

TEST_CASE("https without ca_file trusts the system's CAs only: a test CA's server is refused") {
  if (skip_without_https_tools()) return;
  HttpsRepo repo;
  std::unique_ptr<Transport> system_cas = tls_transport("");
  std::string message = fetch_unreachable(*system_cas, repo.https("metadata/file.bin"));
  CHECK_THAT(message, Catch::Contains("certificate"));
  CHECK(repo.no_request_logged());
  // The server itself is fine: with its CA, the same file comes.
  Received got;
  CHECK(tls_transport(repo.ca.ca_cert)
            ->fetch(request(repo.https("metadata/file.bin")), got.sink())
            .status == FetchStatus::kOk);
  CHECK(got.bytes == repo.content);
}

TEST_CASE("https with another CA as ca_file refuses the server, unverified") {
  if (skip_without_https_tools()) return;
  HttpsRepo repo;
  std::unique_ptr<Transport> wrong_ca = tls_transport(repo.ca.unrelated_ca_cert);
  std::string message = fetch_unreachable(*wrong_ca, repo.https("metadata/file.bin"));
  CHECK_THAT(message, Catch::Contains("certificate"));
  CHECK(repo.no_request_logged());
}

TEST_CASE("https refuses a certificate of the trusted CA for another host name") {
  if (skip_without_https_tools()) return;
  HttpsRepo repo(true);  // its certificate names example.invalid only
  std::unique_ptr<Transport> transport = tls_transport(repo.ca.ca_cert);
  std::string message = fetch_unreachable(*transport, repo.https("metadata/file.bin"));
  CHECK_THAT(message, Catch::Contains("127.0.0.1"));  // the host name it does not match
  CHECK(repo.no_request_logged());
}

TEST_CASE("file:// URLs: whole, missing, too long, resumed") {
  Repo repo(false);
  Received got;
  FetchRequest r = request(repo.file("metadata/file.bin"), repo.content.size());
  SECTION("whole") {
    FetchResult result = repo.transport->fetch(r, got.sink());
    CHECK(result.status == FetchStatus::kOk);
    CHECK_FALSE(result.resumed);
    CHECK(result.bytes == repo.content.size());
    CHECK(got.bytes == repo.content);
  }
  SECTION("missing") {
    FetchResult result = repo.transport->fetch(request(repo.file("none.json")), got.sink());
    CHECK(result.status == FetchStatus::kNotFound);
    CHECK(got.calls == 0);
  }
  SECTION("too long") {
    r.max_bytes = 4096;
    try {
      repo.transport->fetch(r, got.sink());
      FAIL("a file longer than max_bytes was accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::kMetadata);
      CHECK(e.message() == "longer than the 4096 bytes signed");
    }
    CHECK(got.bytes.size() <= 4096);
  }
  SECTION("resumed") {
    r.resume_from = 1000;
    FetchResult result = repo.transport->fetch(r, got.sink());
    CHECK(result.status == FetchStatus::kOk);
    CHECK(result.resumed);
    CHECK(result.bytes == repo.content.size() - 1000);
    CHECK(got.bytes == repo.content.substr(1000));
  }
  SECTION("resumed at the end") {
    r.resume_from = repo.content.size();
    FetchResult result = repo.transport->fetch(r, got.sink());
    CHECK(result.status == FetchStatus::kOk);
    CHECK(result.resumed);
    CHECK(result.bytes == 0);
  }
}

TEST_CASE("A scheme other than http, https and file is refused") {
  Repo repo(false);
  Received got;
  try {
    repo.transport->fetch(request("ftp://127.0.0.1:1/metadata/file.bin"), got.sink());
    FAIL("an ftp:// URL was fetched");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kUnreachable);
  }
  CHECK(got.calls == 0);
}

TEST_CASE("join_url joins with one slash") {
  CHECK(join_url("http://h/repo", "metadata/1.root.json") == "http://h/repo/metadata/1.root.json");
  CHECK(join_url("http://h/repo/", "metadata/x") == "http://h/repo/metadata/x");
  CHECK(join_url("http://h/repo//", "//metadata/x") == "http://h/repo/metadata/x");
  CHECK(join_url("http://h/repo", "/x") == "http://h/repo/x");
  CHECK(join_url("http://h", "x") == "http://h/x");
  CHECK(join_url("file:///srv/repo/", "targets/a.bin") == "file:///srv/repo/targets/a.bin");
  CHECK(join_url("file:///", "x") == "file:///x");
}
