#include "samples/standins/text_standin.h"

#include <array>
#include <cctype>

#include "samples/standins/xorshift.h"

namespace hotfix::standins {

namespace {

using namespace std::string_view_literals;

// Words an IIS configuration file is made of, so the text compresses like the real thing.
constexpr std::array kWords{
    "system.webServer"sv, "httpErrors"sv,     "defaultDocument"sv, "staticContent"sv,
    "modules"sv,          "handlers"sv,       "isapiFilters"sv,    "asp"sv,
    "security"sv,         "authentication"sv, "anonymous"sv,       "windows"sv,
    "applicationPools"sv, "sites"sv,          "logFile"sv,         "tracing"sv,
    "caching"sv,          "compression"sv,    "directoryBrowse"sv, "serverRuntime"sv,
    "requestFiltering"sv, "urlCompression"sv, "httpLogging"sv,     "globalModules"sv,
    "processModel"sv,     "recycling"sv,      "failedRequests"sv,  "odbcLogging"sv,
};
constexpr std::array kAttributes{"type"sv, "value"sv, "defaultValue"sv, "allowDefinition"sv,
                                 "overrideModeDefault"sv};
constexpr std::array kValues{"true"sv,        "false"sv,      "Allow"sv,  "Deny"sv,
                             "MachineOnly"sv, "Everywhere"sv, "string"sv, "uint"sv,
                             "bool"sv,        "timeSpan"sv,   "enum"sv,   "00:20:00"sv};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// "--" may not appear inside an XML comment.
std::string comment_safe(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '-' && !out.empty() && out.back() == '-') out.push_back(' ');
    out.push_back(c);
  }
  if (!out.empty() && out.back() == '-') out.push_back(' ');
  return out;
}

std::string xml_line(Xorshift& rng, std::uint64_t index) {
  std::string line = "    <add name=\"";
  line += rng.pick(kWords);
  line += std::to_string(index);
  // Two different attributes besides "name": XML forbids repeating one.
  const std::size_t first = rng.next() % kAttributes.size();
  const std::size_t second =
      (first + 1 + rng.next() % (kAttributes.size() - 1)) % kAttributes.size();
  line += "\" ";
  line += kAttributes[first];
  line += "=\"";
  line += rng.pick(kValues);
  line += "\" ";
  line += kAttributes[second];
  line += "=\"";
  line += rng.pick(kWords);
  line += "\" />\n";
  return line;
}

std::string text_line(Xorshift& rng, std::uint64_t index) {
  std::string line(rng.pick(kWords));
  line += '.';
  line += std::to_string(index);
  line += '=';
  line += rng.pick(kValues);
  line += '\n';
  return line;
}

// Fills `gap` bytes inside the root element: a comment when it fits, else spaces.
std::string xml_padding(std::uint64_t gap) {
  constexpr std::string_view kOpen = "    <!--", kClose = "-->\n";
  if (gap == 0) return "";
  if (gap >= kOpen.size() + kClose.size()) {
    return std::string(kOpen) + std::string(gap - kOpen.size() - kClose.size(), ' ') +
           std::string(kClose);
  }
  return std::string(gap - 1, ' ') + "\n";
}

std::string fit(std::string text, std::uint64_t size) {
  if (text.size() > size) {
    text.resize(size);
  } else {
    text.append(size - text.size(), ' ');
  }
  return text;
}

std::string xml_standin(std::string_view name, std::uint64_t size, std::string_view edition,
                        Xorshift& rng) {
  const std::string lowered = lower(name);
  const std::string root = ends_with(lowered, ".config")      ? "configuration"
                           : ends_with(lowered, "schema.xml") ? "configSchema"
                                                              : "standIn";
  const std::string declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const std::string header = declaration + "<!-- " +
                             comment_safe("Stand-in for " + std::string(name) + " (" +
                                          std::string(edition) + "); not the real file.") +
                             " -->\n<" + root + ">\n";
  const std::string footer = "</" + root + ">\n";
  if (header.size() + footer.size() > size) {
    // Too small for the full frame: keep an empty element if even that fits.
    std::string minimal = declaration + "<" + root + " />\n";
    return fit(minimal.size() <= size ? minimal : declaration, size);
  }
  std::string text = header;
  const std::uint64_t limit = size - footer.size();
  for (std::uint64_t index = 1;; ++index) {
    std::string line = xml_line(rng, index);
    if (text.size() + line.size() > limit) break;
    text += line;
  }
  text += xml_padding(limit - text.size());
  text += footer;
  return text;
}

std::string plain_standin(std::string_view name, std::uint64_t size, std::string_view edition,
                          Xorshift& rng) {
  std::string text = "; Stand-in for " + std::string(name) + " (" + std::string(edition) +
                     "); not the real file.\n";
  if (text.size() > size) return fit(text, size);
  for (std::uint64_t index = 1;; ++index) {
    std::string line = text_line(rng, index);
    if (text.size() + line.size() > size) break;
    text += line;
  }
  const std::uint64_t gap = size - text.size();
  if (gap > 0) text += std::string(gap - 1, ' ') + "\n";
  return text;
}

}  // namespace

std::string text_standin(std::string_view name, std::uint64_t size, std::string_view edition,
                         std::uint64_t seed) {
  Xorshift rng(seed);
  const std::string lowered = lower(name);
  if (ends_with(lowered, ".xml") || ends_with(lowered, ".config")) {
    return xml_standin(name, size, edition, rng);
  }
  return plain_standin(name, size, edition, rng);
}

}  // namespace hotfix::standins
