#include "installer/prerequisite_eval.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace hotfix {

namespace {

using Type = Prerequisite::Type;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Whether a clause holds and, when not, what about the target made it fail: phrases such as
// "target is Windows Vista RTM" that make sense on their own after the "needs" part.
struct Outcome {
  bool satisfied = true;
  std::vector<std::string> details;
};

void add_unique(std::vector<std::string>& out, const std::vector<std::string>& more) {
  for (const std::string& detail : more) {
    if (std::find(out.begin(), out.end(), detail) == out.end()) out.push_back(detail);
  }
}

class Evaluator {
 public:
  explicit Evaluator(const PrerequisiteContext& context) : context_(context) {}

  // `bare` is true for an unlabelled top clause: its "needs" part already names the file,
  // so the detail need not repeat it.
  Outcome evaluate(const Prerequisite& p, bool bare) const {
    const TargetFacts& facts = context_.facts;
    switch (p.type) {
      case Type::kAllOf:
        for (const Prerequisite& child : p.children) {
          Outcome outcome = evaluate(child, false);
          if (!outcome.satisfied) return outcome;  // the first failing clause says most
        }
        return {};
      case Type::kAnyOf: {
        if (p.children.empty()) return {false, {"no clause can be met"}};
        Outcome failed{false, {}};
        for (const Prerequisite& child : p.children) {
          Outcome outcome = evaluate(child, false);
          if (outcome.satisfied) return outcome;
          add_unique(failed.details, outcome.details);
        }
        return failed;
      }
      case Type::kProduct:
        return {lower(facts.product) == lower(p.value), {target()}};
      case Type::kServicePackAtLeast:
        return {facts.service_pack >= p.service_pack, {target()}};
      case Type::kVersionAtLeast:
        if (!facts.version) return {false, {"target version is unknown"}};
        return {*facts.version >= p.version, {"target version is " + facts.version->to_string()}};
      case Type::kArchitecture:
        return {facts.architecture == p.arch,
                {"target architecture is " + std::string(arch_display(facts.architecture))}};
      case Type::kHotfixInstalled: {
        bool installed = context_.hotfix_installed && context_.hotfix_installed(p.value);
        return {installed, {"hotfix " + p.value + " is not installed"}};
      }
      case Type::kFileVersionAtLeast:
        return evaluate_file(p, bare);
      case Type::kOsId:
        if (facts.os_id.empty()) return {false, {"target has no os-release ID"}};
        return {facts.os_id == p.value, {"target os-release ID is " + facts.os_id}};
      case Type::kOsVersionAtLeast:
        if (facts.os_id.empty()) return {false, {"target has no os-release VERSION_ID"}};
        if (!facts.version) return {false, {"target VERSION_ID is unknown or not numeric"}};
        return {*facts.version >= p.version,
                {"target VERSION_ID is " + facts.version->to_string()}};
    }
    return {};
  }

 private:
  std::string target() const { return "target is " + describe_target(context_.facts); }

  Outcome evaluate_file(const Prerequisite& p, bool bare) const {
    std::optional<Version> found;
    if (context_.file_version) found = context_.file_version(p.value);
    if (found) {
      std::string detail =
          bare ? "found " + found->to_string() : p.value + " is version " + found->to_string();
      return {*found >= p.version, {detail}};
    }
    const std::string subject = bare ? "the file" : p.value;
    if (!context_.file_exists) return {false, {subject + " is missing or has no version"}};
    return {false, {subject + (context_.file_exists(p.value) ? " has no version" : " is missing")}};
  }

  const PrerequisiteContext& context_;
};

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += "; ";
    out += part;
  }
  return out;
}

}  // namespace

PrerequisiteResult evaluate_prerequisites(const Prerequisite& prerequisite,
                                          const PrerequisiteContext& context) {
  const bool bare = prerequisite.label.empty();
  Outcome outcome = Evaluator(context).evaluate(prerequisite, bare);
  if (outcome.satisfied) return {};
  if (bare && prerequisite.type == Type::kHotfixInstalled) {
    return {false, "needs hotfix " + prerequisite.value + " installed"};
  }
  return {false, "needs " + prerequisite.describe() + "; " + join(outcome.details)};
}

}  // namespace hotfix
