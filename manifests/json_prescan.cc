#include "manifests/json_prescan.h"

#include <optional>
#include <string>
#include <unordered_set>

#include "manifests/json_context.h"

namespace hotfix {

namespace {

std::string at_position(std::string_view text, std::size_t offset) {
  TextPosition p = position_of(text, offset);
  return "line " + std::to_string(p.line) + ", column " + std::to_string(p.column);
}

// Offset of the bracket that opens level max_depth + 1, if any. Brackets inside strings
// do not count; malformed text is left for the parser to report.
std::optional<std::size_t> find_excess_nesting(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

// nlohmann's messages may quote raw input bytes; keep the message valid UTF-8 by showing
// bytes that are not part of a well-formed sequence as \xNN.
std::string printable_utf8(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80           ? 1
                         : (c >> 5) == 0x6  ? 2
                         : (c >> 4) == 0xE  ? 3
                         : (c >> 3) == 0x1E ? 4
                                            : 0;
    bool whole = length != 0 && i + length <= text.size();
    for (std::size_t k = 1; whole && k < length; ++k) {
      whole = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (whole) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    }
  }
  return out;
}

// The part of nlohmann's message after its own "[json.exception...] parse error at line L,
// column C: " prefix, which we replace with our own position.
std::string parser_reason(const std::string& what) {
  std::size_t column = what.find("column ");
  std::size_t colon = column == std::string::npos ? column : what.find(": ", column);
  return printable_utf8(colon == std::string::npos ? what : what.substr(colon + 2));
}

// Walks the document as a stream of events, tracking the path so that a key repeated in
// one object can be reported where it occurs.
class DuplicateKeyFinder : public nlohmann::json_sax<Json> {
 public:
  DuplicateKeyFinder(std::string_view text, JsonPrescan& result) : text_(text), result_(result) {}

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& key) override {
    Frame& frame = frames_.back();
    path_.resize(frame.path_length);
    append_path_key(path_, key);
    if (!frame.keys.insert(key).second) {
      if (result_.issues.size() >= kMaxManifestIssues) {
        ++result_.omitted;
      } else {
        result_.issues.push_back(
            {path_, "duplicate key " + quote(key) + " (expected each key once in an object)"});
      }
    }
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    // `position` counts bytes read, including the one that failed.
    std::size_t offset = position == 0 ? 0 : position - 1;
    result_.issues.clear();
    result_.omitted = 0;
    result_.issues.push_back(
        {"", "invalid JSON at " + at_position(text_, offset) + ": " + parser_reason(error.what())});
    result_.fatal = true;
    return false;
  }

 private:
  struct Frame {
    bool array = false;
    std::size_t path_length = 0;
    std::size_t next_index = 0;
    std::unordered_set<std::string> keys;
  };

  // Every value inside an array takes the next index in the path.
  bool value() {
    if (!frames_.empty() && frames_.back().array) {
      Frame& frame = frames_.back();
      path_.resize(frame.path_length);
      append_path_index(path_, frame.next_index++);
    }
    return true;
  }

  bool open(bool array) {
    value();
    frames_.push_back(Frame{array, path_.size(), 0, {}});
    return true;
  }

  bool close() {
    path_.resize(frames_.back().path_length);
    frames_.pop_back();
    return true;
  }

  std::string_view text_;
  JsonPrescan& result_;
  std::vector<Frame> frames_;
  std::string path_;
};

}  // namespace

TextPosition position_of(std::string_view text, std::size_t offset) {
  TextPosition p;
  if (offset > text.size()) offset = text.size();
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

JsonPrescan prescan_json(std::string_view text, std::size_t max_bytes, int max_depth) {
  JsonPrescan result;
  if (text.size() > max_bytes) {
    result.issues.push_back({"", "document is " + std::to_string(text.size()) +
                                     " bytes (expected at most " + std::to_string(max_bytes) +
                                     " bytes)"});
    result.fatal = true;
    return result;
  }
  if (auto offset = find_excess_nesting(text, max_depth)) {
    result.issues.push_back({"", "nesting deeper than " + std::to_string(max_depth) +
                                     " levels at " + at_position(text, *offset) +
                                     " (expected at most " + std::to_string(max_depth) +
                                     " nested arrays and objects)"});
    result.fatal = true;
    return result;
  }
  DuplicateKeyFinder finder(text, result);
  Json::sax_parse(text, &finder);
  return result;
}

}  // namespace hotfix
