// The repositories a root takes hotfixes from: one file per source,
// <root>/etc/hotfix/sources.d/NAME.json, naming its mirrors. What a source is trusted for is
// not here but in the root metadata the administrator gave (installer/repo_trust.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "installer/installer.h"

namespace hotfix {

inline constexpr const char* kSourcesDir = "etc/hotfix/sources.d";

struct SourceConfig {
  std::string name;               // [a-z0-9][a-z0-9._-]*, at most 64 characters
  std::vector<std::string> urls;  // mirrors, tried in order: http://, https://, file://
  std::string ca_file;            // https: trust these CAs (a path on the running system)
};

// Throws Error(kBadInput, "source NAME") when the name is not one a source may have.
void check_source_name(const std::string& name);
// Throws Error(kBadInput, url) for a URL that is not http, https or file, or holds spaces or
// control characters.
void check_source_url(const std::string& url);

// The name, 1 to 16 URLs each checked, and a CA file path that is absolute when given.
void check_source_config(const SourceConfig& source);

std::string source_config_path(const std::string& name);  // etc/hotfix/sources.d/NAME.json

// Every configured source, by name. A file there that is not a valid source is an error
// naming it (Error kBadInput): a source silently ignored would leave a server unpatched.
std::vector<SourceConfig> read_sources(const InstallerContext& ctx);
// One source; Error(kBadInput, "source NAME", "is not configured") when absent.
SourceConfig read_source(const InstallerContext& ctx, const std::string& name);
std::optional<SourceConfig> find_source(const InstallerContext& ctx, const std::string& name);

void write_source(const InstallerContext& ctx, const SourceConfig& source);  // durable
void remove_source_config(const InstallerContext& ctx, const std::string& name);

}  // namespace hotfix
