#include "tests/support/nginx_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

namespace hotfix::test {
namespace {

namespace fs = std::filesystem;
const char* const kNginx = "/usr/sbin/nginx";
constexpr int kPortTries = 5;

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A port nothing listens on now: the kernel's pick for 127.0.0.1:0. Another program may take
// it before nginx binds it, which start_once tells and the constructor retries.
int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot pick a port on 127.0.0.1");
  return ntohs(address.sin_port);
}

bool accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address = loopback(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

std::string read_or_empty(const fs::path& path) {
  try {
    return read_file(path);
  } catch (const std::exception&) {
    return {};
  }
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
}

// As root, "user root": the default "nobody" could not read a test's temp directory. Every
// temp path is under the prefix, else nginx wants /var/lib/nginx.
const char* const kConfig = R"(@USER@
worker_processes 1;
pid "@PREFIX@/nginx.pid";
lock_file "@PREFIX@/nginx.lock";
error_log "@PREFIX@/error.log" info;
events { worker_connections 64; }
http {
  access_log "@PREFIX@/access.log";
  client_body_temp_path "@PREFIX@/client_body_temp";
  proxy_temp_path "@PREFIX@/proxy_temp";
  fastcgi_temp_path "@PREFIX@/fastcgi_temp";
  uwsgi_temp_path "@PREFIX@/uwsgi_temp";
  scgi_temp_path "@PREFIX@/scgi_temp";
  default_type application/octet-stream;
  sendfile on;
  etag on;
  server {
    @LISTEN@
    root "@ROOT@";
    location /no-ranges/ {
      alias "@ROOT@/";
      max_ranges 0;
    }
  }
}
)";

}  // namespace

bool nginx_available() {
  std::error_code ec;
  return fs::is_regular_file(kNginx, ec) && ::access(kNginx, X_OK) == 0;
}

NginxServer::NginxServer(const std::string& work_dir, const std::string& document_root)
    : NginxServer(work_dir, document_root, std::nullopt) {}

NginxServer::NginxServer(const std::string& work_dir, const std::string& document_root,
                         const NginxTls& tls)
    : NginxServer(work_dir, document_root, std::optional<NginxTls>(tls)) {}

NginxServer::NginxServer(const std::string& work_dir, const std::string& document_root,
                         const std::optional<NginxTls>& tls)
    : prefix_(fs::absolute(fs::path(work_dir) / "nginx").string()),
      document_root_(fs::absolute(document_root).string()),
      tls_(tls) {
  if (tls_) {  // absolute: nginx takes a relative path from its prefix
    tls_->cert_file = fs::absolute(tls_->cert_file).string();
    tls_->key_file = fs::absolute(tls_->key_file).string();
  }
  fs::create_directories(prefix_);
  for (int i = 0; i < kPortTries; ++i) {
    port_ = unused_port();
    if (start_once() == Start::kReady) return;
  }
  throw std::runtime_error("nginx found no free port in " + std::to_string(kPortTries) +
                           " tries: " + diagnostics());
}

void NginxServer::write_config() const {
  std::string conf = kConfig;
  replace_all(conf, "@USER@", ::geteuid() == 0 ? "user root;" : "");
  std::string listen = "listen 127.0.0.1:@PORT@;";
  if (tls_) {
    listen = "listen 127.0.0.1:@PORT@ ssl;\n    ssl_certificate \"" + tls_->cert_file +
             "\";\n    ssl_certificate_key \"" + tls_->key_file + "\";";
  }
  replace_all(conf, "@LISTEN@", listen);
  replace_all(conf, "@PORT@", std::to_string(port_));
  replace_all(conf, "@PREFIX@", prefix_);
  replace_all(conf, "@ROOT@", document_root_);
  write_file(prefix_ + "/nginx.conf", conf);
}

// One start on port_: ready once the pid file names our child (nginx writes it after binding)
// and a connection is accepted; kPortTaken when nginx exited because the port was in use.
NginxServer::Start NginxServer::start_once() {
  write_config();
  std::error_code ec;
  fs::remove(prefix_ + "/nginx.pid", ec);  // a stale one, from a killed nginx
  fs::remove(prefix_ + "/error.log", ec);  // so diagnostics are this start's
  exit_output_.clear();
  child_ = std::make_unique<Child>(std::vector<std::string>{kNginx, "-p", prefix_ + "/", "-c",
                                                            prefix_ + "/nginx.conf", "-g",
                                                            "daemon off; master_process on;"});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (child_->exited()) {
      exit_output_ = child_->wait().err;
      child_.reset();
      if (diagnostics().find("Address already in use") != std::string::npos)
        return Start::kPortTaken;
      throw std::runtime_error("nginx exited: " + diagnostics());
    }
    if (read_or_empty(prefix_ + "/nginx.pid") == std::to_string(child_->pid()) + "\n" &&
        accepts(port_)) {
      return Start::kReady;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  throw std::runtime_error("nginx accepted no connection in 10 s: " + diagnostics());
}

std::string NginxServer::diagnostics() const {
  return read_or_empty(prefix_ + "/error.log") + exit_output_;
}

NginxServer::~NginxServer() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; Child's own destructor still kills and reaps.
  }
}

std::string NginxServer::url() const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
}

pid_t NginxServer::pid() const { return child_ ? child_->pid() : -1; }

void NginxServer::stop() {
  if (!child_) return;
  child_->signal(SIGTERM);
  if (!child_->wait_for(std::chrono::seconds(5))) {
    child_->signal(SIGKILL);
    child_->wait();
  }
  child_.reset();
}

void NginxServer::restart() {
  stop();
  if (start_once() != Start::kReady) {
    throw std::runtime_error("nginx cannot listen on its port again: " + diagnostics());
  }
}

}  // namespace hotfix::test
