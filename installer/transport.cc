#include "installer/transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "manifests/errors.h"

namespace hotfix {
namespace {

#ifdef HOTFIX_VERSION
constexpr const char* kUserAgent = "hotfix-installer/" HOTFIX_VERSION;
#else
constexpr const char* kUserAgent = "hotfix-installer";
#endif

// curl_global_init is not thread-safe: a function-local static runs it exactly once.
void global_init() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) {
    throw Error(ErrorKind::kInternal, "libcurl",
                std::string("cannot initialize: ") + curl_easy_strerror(code));
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string_view trim(std::string_view s) {
  const char* space = " \t\r\n";
  std::size_t first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

bool is_http(std::string_view url) {
  return iequals(url.substr(0, 7), "http://") || iequals(url.substr(0, 8), "https://");
}

struct EasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, ListDeleter>;

// Where the whole fetch stands, across its attempts.
struct Progress {
  std::uint64_t base = 0;       // the file offset of the sink's first byte
  std::uint64_t delivered = 0;  // bytes given to the sink since base
  bool restarted = false;       // the server ignored a Range and sent the file from byte 0
  std::string range_etag;       // validator of the body the sink holds, for If-Range
  std::uint64_t offset() const { return base + delivered; }
};

// One attempt, shared with libcurl's C callbacks (which must not throw).
struct Attempt {
  Attempt(const FetchRequest& r, const FetchSink& s, Progress& p, CURL* c)
      : request(r), sink(s), progress(p), curl(c), offset(p.offset()) {}
  const FetchRequest& request;
  const FetchSink& sink;
  Progress& progress;
  CURL* curl;
  std::uint64_t offset;     // the Range this attempt asks for
  bool first_chunk = true;  // of this attempt's body
  bool restart_pending = false;
  std::string etag, last_modified, date;
  std::exception_ptr error;
  char error_text[CURL_ERROR_SIZE] = {};
};

long response_code(CURL* curl) {
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

// Only a 200 or 206 answer (or a file) carries the body the caller asked for.
bool body_wanted(long code) { return code == 0 || code == 200 || code == 206; }

[[noreturn]] void throw_too_long(const FetchRequest& request) {
  throw Error(ErrorKind::kMetadata, request.url,
              "longer than the " + std::to_string(request.max_bytes) + " bytes signed");
}

// A 200 to a Range: the server sends the file from byte 0, so the sink must start again.
bool range_ignored(const Attempt& a, long code) { return code == 200 && a.offset > 0; }

// The first chunk of a body: a restart when the server ignored the Range, and the refusal of a
// body whose announced length is already too long, before anything of it is delivered.
// max_bytes limits the file, so a resumed body may be max_bytes - resume_from long.
void begin_body(Attempt& a, long code) {
  a.first_chunk = false;
  if (range_ignored(a, code)) {
    a.progress = Progress{0, 0, true, {}};
    a.restart_pending = true;
  }
  curl_off_t length = -1;
  curl_easy_getinfo(a.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  if (length >= 0 &&
      a.progress.offset() + static_cast<std::uint64_t>(length) > a.request.max_bytes) {
    throw_too_long(a.request);
  }
}

void deliver(Attempt& a, const char* data, std::size_t size) {
  long code = response_code(a.curl);
  if (!body_wanted(code)) return;  // the text of an error page
  if (a.first_chunk) begin_body(a, code);
  if (a.progress.offset() + size > a.request.max_bytes) throw_too_long(a.request);
  bool restart = a.restart_pending;
  a.restart_pending = false;
  a.sink(data, size, restart);
  a.progress.delivered += size;
  a.progress.range_etag = a.etag;
}

std::size_t on_write(char* data, std::size_t one, std::size_t size, void* user) {
  Attempt& a = *static_cast<Attempt*>(user);
  try {
    deliver(a, data, one * size);
    return one * size;
  } catch (...) {
    a.error = std::current_exception();
    return 0;
  }
}

bool racy(const std::string& last_modified, const std::string& date) {
  if (last_modified.empty()) return false;  // an ETag alone is the server's own promise
  time_t modified = curl_getdate(last_modified.c_str(), nullptr);
  time_t now = date.empty() ? -1 : curl_getdate(date.c_str(), nullptr);
  return modified < 0 || now < 0 || now - modified < 2;
}

// Validators of the final answer only: a new status line (a redirect followed) forgets them.
std::size_t on_header(char* data, std::size_t one, std::size_t size, void* user) {
  Attempt& a = *static_cast<Attempt*>(user);
  std::string_view line(data, one * size);
  if (line.starts_with("HTTP/")) {
    a.etag.clear();
    a.last_modified.clear();
    a.date.clear();
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return one * size;
  std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
  if (iequals(name, "ETag")) a.etag = value;
  if (iequals(name, "Last-Modified")) a.last_modified = value;
  if (iequals(name, "Date")) a.date = value;
  return one * size;
}

HeaderList request_headers(const Attempt& a) {
  std::vector<std::string> lines;
  if (a.progress.delivered > 0 || a.progress.restarted) {
    // A retry continuing a body: only the same file may continue it, and never a 304.
    if (!a.progress.range_etag.empty()) lines.push_back("If-Range: " + a.progress.range_etag);
  } else {
    if (!a.request.if_none_match.empty())
      lines.push_back("If-None-Match: " + a.request.if_none_match);
    if (!a.request.if_modified_since.empty()) {
      lines.push_back("If-Modified-Since: " + a.request.if_modified_since);
    }
  }
  curl_slist* list = nullptr;
  for (const std::string& line : lines) {
    curl_slist* grown = curl_slist_append(list, line.c_str());
    if (!grown) {
      curl_slist_free_all(list);
      throw std::bad_alloc();
    }
    list = grown;
  }
  return HeaderList(list);
}

void set_options(CURL* curl, const TransportOptions& options, Attempt& a, curl_slist* headers) {
  curl_easy_setopt(curl, CURLOPT_URL, a.request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
  // An https source is not redirected to plain http: what it fetches stays private.
  bool https = a.request.url.rfind("https://", 0) == 0;
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_file.empty()) {  // instead of the system CAs, not beside them
    curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
  if (options.stall_seconds > 0) {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options.stall_seconds);
  }
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 0L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, a.error_text);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
  // A Range rather than CURLOPT_RESUME_FROM_LARGE: with that, libcurl fails a 200 answer
  // (CURLE_RANGE_ERROR) instead of letting the sink start again.
  if (a.offset > 0) {
    std::string range = std::to_string(a.offset) + "-";
    curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());  // libcurl copies it
  }
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024);  // fewer, larger writes of a bundle
  // Metadata may travel gzip-compressed (nginx's gzip on); the sink gets it decoded. Never a
  // range: that is of the file's own bytes.
  if (a.request.accept_compression && a.offset == 0) {
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
  }
}

// What one attempt's answer means; nullopt when another attempt may do better.
std::optional<FetchStatus> answer(const Attempt& a, CURLcode rc) {
  long code = response_code(a.curl);
  if (!is_http(a.request.url)) {
    if (rc == CURLE_OK) return FetchStatus::kOk;
    if (rc == CURLE_FILE_COULDNT_READ_FILE) return FetchStatus::kNotFound;
    if (rc == CURLE_BAD_DOWNLOAD_RESUME && a.offset > 0) return FetchStatus::kOk;  // as a 416
    return std::nullopt;
  }
  if (rc != CURLE_OK) return std::nullopt;
  if (code == 200 || code == 206) return FetchStatus::kOk;
  if (code == 304) return FetchStatus::kNotModified;
  if (code == 404 || code == 410) return FetchStatus::kNotFound;
  // Nothing after the offset: the partial file is complete, or bad, which its hash will tell.
  if (code == 416 && a.offset > 0) return FetchStatus::kOk;
  return std::nullopt;
}

std::string failure_text(const Attempt& a, CURLcode rc) {
  if (rc == CURLE_OK) return "HTTP " + std::to_string(response_code(a.curl));
  return a.error_text[0] ? a.error_text : curl_easy_strerror(rc);
}

FetchResult result_of(Attempt& a, FetchStatus status) {
  if (status == FetchStatus::kOk && a.first_chunk && range_ignored(a, response_code(a.curl))) {
    a.progress = Progress{0, 0, true, {}};
    a.sink("", 0, true);  // an empty file, but the sink must still drop what it had
  }
  FetchResult result;
  result.status = status;
  result.resumed = status == FetchStatus::kOk && a.request.resume_from > 0 && !a.progress.restarted;
  result.bytes = status == FetchStatus::kOk ? a.progress.delivered : 0;
  // Validators of a file changed in the second the answer was made cannot tell it from the
  // next change in that second (nginx's ETag is its mtime in seconds and its size): as git
  // does with a racily clean index, such an answer is not used for a conditional request.
  if (!racy(a.last_modified, a.date)) {
    result.etag = a.etag;
    result.last_modified = a.last_modified;
  }
  return result;
}

class CurlTransport : public Transport {
 public:
  explicit CurlTransport(const TransportOptions& options) : options_(options) {
    global_init();
    curl_.reset(curl_easy_init());
    if (!curl_) throw Error(ErrorKind::kInternal, "libcurl", "cannot start a libcurl transfer");
  }

  FetchResult fetch(const FetchRequest& request, const FetchSink& sink) override {
    Progress progress{request.resume_from, 0, false, {}};
    std::string failure;
    int attempts = std::max(options_.attempts, 1);
    long pause = options_.backoff_milliseconds;
    for (int i = 1;; ++i) {
      if (std::optional<FetchResult> result = attempt(request, sink, progress, failure)) {
        return *result;
      }
      if (i >= attempts) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(pause));
      pause *= 2;
    }
    throw Error(ErrorKind::kUnreachable, request.url,
                failure + " after " + std::to_string(attempts) +
                    (attempts == 1 ? " attempt" : " attempts"));
  }

 private:
  std::optional<FetchResult> attempt(const FetchRequest& request, const FetchSink& sink,
                                     Progress& progress, std::string& failure) {
    // One handle for every request: its connection is kept for the next (one TCP and TLS
    // handshake per sync, not per file); the options are set afresh each time.
    curl_easy_reset(curl_.get());
    Attempt a(request, sink, progress, curl_.get());
    HeaderList headers = request_headers(a);
    set_options(curl_.get(), options_, a, headers.get());
    CURLcode rc = curl_easy_perform(curl_.get());
    if (a.error) std::rethrow_exception(a.error);
    std::optional<FetchStatus> status = answer(a, rc);
    if (!status) {
      failure = failure_text(a, rc);
      return std::nullopt;
    }
    return result_of(a, *status);
  }

  TransportOptions options_;
  Easy curl_;
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport(const TransportOptions& options) {
  return std::make_unique<CurlTransport>(options);
}

std::string join_url(std::string_view base, std::string_view name) {
  // Not into the "//" of a scheme: "file:///" and "x" make "file:///x".
  while (base.ends_with('/') && !base.ends_with("://")) base.remove_suffix(1);
  while (name.starts_with('/')) name.remove_prefix(1);
  std::string url(base);
  url += '/';
  url += name;
  return url;
}

}  // namespace hotfix
