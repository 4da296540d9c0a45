#include "installer/source_config.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "installer/atomic_write.h"
#include "manifests/errors.h"
#include "manifests/json_context.h"
#include "manifests/json_prescan.h"

namespace hotfix {

namespace {

constexpr std::uint64_t kMaxSourceFile = 64 * 1024;
constexpr std::size_t kMaxMirrors = 16;

bool name_char(char c, bool first) {
  bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  return alnum || (!first && (c == '.' || c == '-' || c == '_'));
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

SourceConfig parse_source(const std::string& text, const std::string& name,
                          const std::string& shown) {
  JsonPrescan pre = prescan_json(text, kMaxSourceFile, 8);
  if (!pre.issues.empty()) {
    throw Error(ErrorKind::kBadInput, shown, pre.issues.front().message);
  }
  Json doc = Json::parse(text);
  std::vector<ManifestIssue> issues;
  JsonContext c(issues);
  static constexpr std::array<std::string_view, 3> known = {"name", "urls", "ca_file"};
  JsonObject o(c, doc, known, "an object");
  SourceConfig s;
  o.required("name", "the source's name", [&](const Json& v) {
    if (auto n = read_string(c, v, "a name")) s.name = *n;
  });
  o.required("urls", "an array of URLs", [&](const Json& v) {
    const Json::array_t* urls = read_array(c, v, "an array of URLs");
    for (std::size_t i = 0; urls && i < urls->size(); ++i) {
      auto scope = c.at(i);
      if (auto u = read_string(c, (*urls)[i], "a URL")) s.urls.push_back(*u);
    }
  });
  o.optional("ca_file", [&](const Json& v) {
    if (auto f = read_string(c, v, "a file name")) s.ca_file = *f;
  });
  if (!issues.empty()) {
    throw Error(ErrorKind::kBadInput, shown, issues.front().path + ": " + issues.front().message);
  }
  if (s.name != name) {
    throw Error(ErrorKind::kBadInput, shown,
                "names source " + quote(s.name) + ", not " + quote(name));
  }
  try {
    check_source_config(s);
  } catch (const Error& e) {
    throw Error(ErrorKind::kBadInput, shown, e.message());
  }
  return s;
}

Json source_json(const SourceConfig& s) {
  Json j{{"name", s.name}, {"urls", s.urls}};
  if (!s.ca_file.empty()) j["ca_file"] = s.ca_file;
  return j;
}

}  // namespace

void check_source_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name_char(name[0], true) &&
            std::all_of(name.begin() + 1, name.end(), [](char c) { return name_char(c, false); });
  if (!ok) {
    throw Error(ErrorKind::kBadInput, "source " + quote(name),
                "a source name is 1 to 64 lower-case letters, digits, '.', '-' and '_', "
                "starting with a letter or digit");
  }
}

void check_source_url(const std::string& url) {
  bool scheme =
      starts_with(url, "http://") || starts_with(url, "https://") || starts_with(url, "file:///");
  bool clean = url.size() <= 2048 && std::none_of(url.begin(), url.end(), [](char c) {
                 return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
               });
  if (!scheme || !clean) {
    throw Error(ErrorKind::kBadInput, quote(url),
                "a source URL is http://, https:// or file:/// (an absolute path), without "
                "spaces or control characters");
  }
}

void check_source_config(const SourceConfig& source) {
  check_source_name(source.name);
  if (source.urls.empty() || source.urls.size() > kMaxMirrors) {
    throw Error(ErrorKind::kBadInput, "source " + quote(source.name),
                "needs 1 to " + std::to_string(kMaxMirrors) + " URLs, not " +
                    std::to_string(source.urls.size()));
  }
  for (const std::string& u : source.urls) check_source_url(u);
  if (!source.ca_file.empty() && source.ca_file[0] != '/') {
    throw Error(ErrorKind::kBadInput, quote(source.ca_file),
                "the CA file must be an absolute path");
  }
}

std::string source_config_path(const std::string& name) {
  return std::string(kSourcesDir) + "/" + name + ".json";
}

std::optional<SourceConfig> find_source(const InstallerContext& ctx, const std::string& name) {
  check_source_name(name);
  std::string path = source_config_path(name);
  if (!ctx.root.open_dir_if_exists(kSourcesDir) || !ctx.root.status(path)) return std::nullopt;
  return parse_source(ctx.root.read_file(path, kMaxSourceFile), name, ctx.root.show(path));
}

SourceConfig read_source(const InstallerContext& ctx, const std::string& name) {
  std::optional<SourceConfig> s = find_source(ctx, name);
  if (!s) {
    throw Error(ErrorKind::kBadInput, "source " + quote(name),
                "is not configured (" + ctx.root.show(kSourcesDir) + "; see source add)");
  }
  return *s;
}

std::vector<SourceConfig> read_sources(const InstallerContext& ctx) {
  std::optional<FileDescriptor> dir = ctx.root.open_dir_if_exists(kSourcesDir);
  if (!dir) return {};
  std::vector<SourceConfig> out;
  for (const std::string& file : ctx.root.list_opened_dir(*dir, kSourcesDir)) {
    if (file.size() <= 5 || file.compare(file.size() - 5, 5, ".json") != 0) continue;
    std::string name = file.substr(0, file.size() - 5);
    std::string path = std::string(kSourcesDir) + "/" + file;
    try {
      check_source_name(name);
    } catch (const Error& e) {
      throw Error(ErrorKind::kBadInput, ctx.root.show(path),
                  "is not named as a source: " + e.message());
    }
    out.push_back(
        parse_source(ctx.root.read_file(path, kMaxSourceFile), name, ctx.root.show(path)));
  }
  return out;
}

void write_source(const InstallerContext& ctx, const SourceConfig& source) {
  check_source_config(source);
  for (const char* d : {"etc", "etc/hotfix", kSourcesDir}) ctx.disk->make_dir(d);
  write_atomically(*ctx.disk, source_config_path(source.name), source_json(source).dump(2) + "\n",
                   0644);
}

void remove_source_config(const InstallerContext& ctx, const std::string& name) {
  check_source_name(name);
  if (ctx.disk->remove(source_config_path(name))) ctx.disk->sync_dir(kSourcesDir);
}

}  // namespace hotfix
