#include "manifests/json_context.h"

namespace hotfix {

namespace {

bool is_plain_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-';
    if (!word) return false;
  }
  return true;
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

constexpr std::size_t kQuoteLimit = 80;  // bytes of a string shown in a message

}  // namespace

void JsonContext::report(std::string message) {
  if (issues_.size() >= kMaxManifestIssues) {
    ++omitted_;
    return;
  }
  issues_.push_back({path_, std::move(message)});
}

void note_omitted_issues(std::vector<ManifestIssue>& issues, std::size_t omitted) {
  if (omitted == 0) return;
  issues.push_back({"", "and " + std::to_string(omitted) + " more issue" +
                            (omitted == 1 ? "" : "s") + " not listed (the first " +
                            std::to_string(kMaxManifestIssues) + " are)"});
}

void append_path_key(std::string& path, std::string_view key) {
  if (is_plain_key(key)) {
    if (!path.empty()) path += '.';
    path += key;
  } else {
    path += '[' + quote(key) + ']';
  }
}

void append_path_index(std::string& path, std::size_t index) {
  path += '[' + std::to_string(index) + ']';
}

JsonContext::Scope JsonContext::at(std::string_view key) {
  std::size_t saved = path_.size();
  append_path_key(path_, key);
  return Scope(*this, saved);
}

JsonContext::Scope JsonContext::at(std::size_t index) {
  std::size_t saved = path_.size();
  append_path_index(path_, index);
  return Scope(*this, saved);
}

std::string quote(std::string_view text) {
  bool cut = text.size() > kQuoteLimit;
  if (cut) {
    std::size_t end = kQuoteLimit;
    // Never split a UTF-8 sequence: back up to the start of a character.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
  }
  std::string quoted = Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (cut) quoted.insert(quoted.size() - 1, "...");
  return quoted;
}

std::string describe_json(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return value.get<bool>() ? "boolean true" : "boolean false";
    case Json::value_t::string:
      return "string " + quote(value.get_ref<const std::string&>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number " + value.dump();
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return "an unexpected value";
  }
}

std::optional<std::string> read_string(JsonContext& context, const Json& value,
                                       std::string_view expected) {
  if (value.is_string()) return value.get<std::string>();
  context.report("expected " + std::string(expected) + ", found " + describe_json(value));
  return std::nullopt;
}

std::optional<bool> read_bool(JsonContext& context, const Json& value, std::string_view expected) {
  if (value.is_boolean()) return value.get<bool>();
  context.report("expected " + std::string(expected) + ", found " + describe_json(value));
  return std::nullopt;
}

std::optional<std::uint64_t> read_integer(JsonContext& context, const Json& value,
                                          std::uint64_t min, std::uint64_t max,
                                          std::string_view expected) {
  const std::string wanted = " (expected " + std::string(expected) + ")";
  if (!value.is_number()) {
    context.report("expected " + std::string(expected) + ", found " + describe_json(value));
    return std::nullopt;
  }
  const std::string shown = value.dump();
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    std::int64_t n = value.get<std::int64_t>();
    if (n < 0) {
      context.report(shown + " is negative" + wanted);
      return std::nullopt;
    }
  }
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (d < 0) {
      context.report(shown + " is negative" + wanted);
    } else if (d > static_cast<double>(max) || d >= 0x1p64) {
      context.report(shown + " is too large" + wanted);
    } else {
      context.report(shown + " is not an integer: it has a fraction or exponent" + wanted);
    }
    return std::nullopt;
  }
  std::uint64_t n = value.get<std::uint64_t>();
  if (n < min) {
    context.report(shown + " is too small" + wanted);
    return std::nullopt;
  }
  if (n > max) {
    context.report(shown + " is too large" + wanted);
    return std::nullopt;
  }
  return n;
}

const Json::array_t* read_array(JsonContext& context, const Json& value,
                                std::string_view expected) {
  if (value.is_array()) return &value.get_ref<const Json::array_t&>();
  context.report("expected " + std::string(expected) + ", found " + describe_json(value));
  return nullptr;
}

JsonObject::JsonObject(JsonContext& context, const Json& value,
                       std::span<const std::string_view> known, std::string_view expected)
    : context_(context) {
  if (!value.is_object()) {
    context_.report("expected " + std::string(expected) + ", found " + describe_json(value));
    return;
  }
  object_ = &value.get_ref<const Json::object_t&>();
  for (const auto& [key, unused] : *object_) {
    bool is_known = false;
    for (std::string_view name : known) is_known = is_known || name == key;
    if (!is_known) {
      auto scope = context_.at(key);
      context_.report("unknown field (expected one of: " + join(known) + ")");
    }
  }
}

const Json* JsonObject::find(std::string_view key) const {
  if (!object_) return nullptr;
  for (const auto& [name, value] : *object_) {
    if (name == key) return &value;
  }
  return nullptr;
}

}  // namespace hotfix
