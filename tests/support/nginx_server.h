// A real nginx serving a directory on 127.0.0.1, for tests of the transport: ETags, ranges,
// conditional requests and a server that goes away and comes back, as a real server does them.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "tests/support/child_process.h"

namespace hotfix::test {

// https: the server's certificate (PEM, its chain after it) and private key, read by nginx.
struct NginxTls {
  std::string cert_file;
  std::string key_file;
};

// /usr/sbin/nginx exists and is executable; tests say "SKIPPED: nginx not installed" if not.
bool nginx_available();

// nginx in the foreground (daemon off, one master and one worker) as this process's child: its
// pid is the master's, and stop() signals that pid only. Its prefix, nginx.conf, pid file,
// logs and temp directories are under work_dir/nginx. It serves document_root at "/" and again
// at "/no-ranges/" with byte ranges off (max_ranges 0), for a server that ignores Range.
// With NginxTls it speaks https only (listen ... ssl), on 127.0.0.1 still.
class NginxServer {
 public:
  // Started and accepting connections on an unused port, or throws with nginx's error log.
  NginxServer(const std::string& work_dir, const std::string& document_root);
  // The same, serving https with tls's certificate and key.
  NginxServer(const std::string& work_dir, const std::string& document_root, const NginxTls& tls);
  ~NginxServer();  // stop()
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  // "http://127.0.0.1:PORT", or "https://127.0.0.1:PORT" with TLS; no trailing "/". A
  // certificate for https must name IP:127.0.0.1 in its subjectAltName.
  std::string url() const;
  int port() const { return port_; }
  pid_t pid() const;  // the master's, -1 when stopped
  bool running() const { return child_ != nullptr; }
  // SIGTERM, then SIGKILL after 5 s, to pid() only, and reaped. No-op when stopped.
  void stop();
  // stop() and start again on the same port: a server that comes back.
  void restart();

 private:
  NginxServer(const std::string& work_dir, const std::string& document_root,
              const std::optional<NginxTls>& tls);
  enum class Start { kReady, kPortTaken };
  void write_config() const;
  Start start_once();
  std::string diagnostics() const;

  std::string prefix_, document_root_;
  std::optional<NginxTls> tls_;
  int port_ = 0;
  std::unique_ptr<Child> child_;
  std::string exit_output_;  // what an nginx that exited wrote to its standard error
};

}  // namespace hotfix::test
