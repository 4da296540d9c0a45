// Fetching a repository's files by URL (http, https, file), in one place: the TUF client
// (installer/repo_client.h) asks for a file with the most bytes it may have, and whatever
// answers is untrusted until the caller has checked it. libcurl does the work.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hotfix {

struct TransportOptions {
  std::string ca_file;                // https: trust these CAs instead of the system's
  long connect_timeout_seconds = 10;  // per attempt
  long stall_seconds = 30;            // abort when under 1 byte/s for this long
  int attempts = 3;                   // per URL, with backoff between them
  long backoff_milliseconds = 500;    // first pause; doubled after each failed attempt
};

// What came back for one request.
enum class FetchStatus {
  kOk,           // the body was delivered to the sink
  kNotFound,     // HTTP 404 or 410, or no such file: the file does not exist
  kNotModified,  // the conditional request matched (HTTP 304): nothing delivered
};

struct FetchRequest {
  std::string url;
  // The most the whole file may have, resume_from included: more is refused and reading stops
  // there (0 refuses any body).
  std::uint64_t max_bytes = 0;
  std::uint64_t resume_from = 0;  // ask for the bytes from here on (Range), for a partial file
  std::string if_none_match;      // an ETag from an earlier answer: conditional GET
  std::string if_modified_since;  // a Last-Modified from an earlier answer
  // The server may send it gzip-compressed in transit; the sink receives the file's own
  // bytes, and max_bytes bounds those.
  bool accept_compression = false;
};

struct FetchResult {
  FetchStatus status = FetchStatus::kOk;
  // True when the body starts at resume_from (HTTP 206); false when the server sent the whole
  // file from byte 0, which the sink then received from the start.
  bool resumed = false;
  std::string etag;  // validators of the answer, for the next conditional request
  std::string last_modified;
  std::uint64_t bytes = 0;  // body bytes delivered since the last restart, across retries
};

// Receives the body as it arrives. `restart` is true on the first call when the server
// ignored the Range and the sink must drop what it had and begin again at byte 0.
using FetchSink = std::function<void(const void* data, std::size_t size, bool restart)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // One file. Throws Error(kUnreachable) when no answer came (refused, timed out, DNS, TLS,
  // an HTTP status other than 200, 206, 304, 404, 410, and 416 for a resumed file, which is
  // kOk with nothing delivered), after the attempts of TransportOptions; a retry after part of
  // the body continues from there (If-Range, so a file changed meanwhile starts again);
  // Error(kMetadata) when the body would exceed max_bytes ("longer than the N bytes signed"),
  // having stopped reading there; whatever the sink throws passes through.
  virtual FetchResult fetch(const FetchRequest& request, const FetchSink& sink) = 0;
};

// The real transport: libcurl, with proxies from the environment as libcurl reads them
// (http_proxy, https_proxy, no_proxy, all_proxy), peer and host verified for https.
std::unique_ptr<Transport> make_curl_transport(const TransportOptions& options);

// `base` and `name` joined by one "/" ("http://h/repo" + "metadata/1.root.json").
std::string join_url(std::string_view base, std::string_view name);

}  // namespace hotfix
