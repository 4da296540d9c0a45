// Reading a JSON tree with validation: where in the document we are, the issues found so
// far, and readers for JSON values that say what they found and what they expected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifests/manifest_json.h"

namespace hotfix {

// Ordered, so that issues come out in document order.
using Json = nlohmann::ordered_json;

// Path steps as issues show them: "a.b", "a[3]"; a key that is not a plain word is
// written ["like this"] so that the path stays unambiguous.
void append_path_key(std::string& path, std::string_view key);
void append_path_index(std::string& path, std::size_t index);

// The current JSON path and the issues found so far. Issues are reported at the current
// path; Scope objects step into a key or index and step back out when destroyed.
class JsonContext {
 public:
  // `base_path` is where the value being read sits in a larger document, if anywhere.
  explicit JsonContext(std::vector<ManifestIssue>& issues, std::string base_path = "")
      : issues_(issues), path_(std::move(base_path)) {}

  class [[nodiscard]] Scope {
   public:
    Scope(JsonContext& context, std::size_t saved) : context_(context), saved_(saved) {}
    ~Scope() { context_.path_.resize(saved_); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    JsonContext& context_;
    std::size_t saved_;
  };

  Scope at(std::string_view key);
  Scope at(std::size_t index);
  const std::string& path() const { return path_; }

  // Past kMaxManifestIssues issues in the list, issues are only counted.
  void report(std::string message);
  std::size_t issue_count() const { return issues_.size() + omitted_; }
  std::size_t omitted() const { return omitted_; }

 private:
  std::vector<ManifestIssue>& issues_;
  std::string path_;
  std::size_t omitted_ = 0;
};

// Appends the issue that says how many were left out, if any were.
void note_omitted_issues(std::vector<ManifestIssue>& issues, std::size_t omitted);

// A JSON value as messages show it: "number 12", "string \"x\"", "boolean true", "null",
// "an array", "an object".
std::string describe_json(const Json& value);
// A string as messages show it: JSON-quoted, control characters escaped, long ones cut.
std::string quote(std::string_view text);

// Typed readers. On a type mismatch they report "expected <expected>, found <what>" and
// return nothing.
std::optional<std::string> read_string(JsonContext& context, const Json& value,
                                       std::string_view expected);
std::optional<bool> read_bool(JsonContext& context, const Json& value, std::string_view expected);
// An integer in [min, max], written without fraction or exponent.
std::optional<std::uint64_t> read_integer(JsonContext& context, const Json& value,
                                          std::uint64_t min, std::uint64_t max,
                                          std::string_view expected);
const Json::array_t* read_array(JsonContext& context, const Json& value, std::string_view expected);

// One JSON object being read: reports (at the current path) a value that is not an object,
// and each field not in `known`; then hands each wanted field to a reader at its path.
class JsonObject {
 public:
  JsonObject(JsonContext& context, const Json& value, std::span<const std::string_view> known,
             std::string_view expected);

  bool ok() const { return object_ != nullptr; }
  const Json* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Reports "missing (expected <expected>)" at the field's path when absent.
  template <class Read>
  void required(std::string_view key, std::string_view expected, Read&& read) {
    if (!ok()) return;
    auto scope = context_.at(key);
    if (const Json* value = find(key)) {
      read(*value);
    } else {
      context_.report("missing (expected " + std::string(expected) + ")");
    }
  }

  template <class Read>
  void optional(std::string_view key, Read&& read) {
    if (!ok()) return;
    if (const Json* value = find(key)) {
      auto scope = context_.at(key);
      read(*value);
    }
  }

 private:
  JsonContext& context_;
  const Json::object_t* object_ = nullptr;
};

}  // namespace hotfix
