// The hand-on rules of docs/state-database.md ("Layering"), as installer/layering.h states
// them: what happens to the records over one path when a hotfix leaves the layering.
#include <catch2/catch.hpp>

#include "installer/layering.h"

using hotfix::FileAction;
using hotfix::FileLayer;
using hotfix::InstalledFile;

namespace {

InstalledFile record(FileAction action, std::optional<std::string> backup, std::int64_t layer,
                     std::uint64_t size = 1) {
  InstalledFile f;
  f.path = "app/x.dll";
  f.action = action;
  f.backup = std::move(backup);
  f.layer = layer;
  f.size = size;
  return f;
}

const std::string kOriginal = "backups/20240101T000000Z-00000001/0";  // A's: the original
const std::string kOfA = "backups/20240101T000000Z-00000002/0";       // B's: A's file

}  // namespace

TEST_CASE("The top layer hands nothing on") {
  InstalledFile a = record(FileAction::kReplaced, kOriginal, 1);
  std::vector<FileLayer> layers{{"A", a}};
  std::vector<FileLayer> updated;
  std::vector<std::string> discard;
  CHECK_FALSE(hotfix::hand_on(layers, "A", a, updated, discard));
  CHECK(updated.empty());
  CHECK(discard.empty());
}

TEST_CASE("The next later record takes over the backup of the original, and its own goes") {
  InstalledFile a = record(FileAction::kReplaced, kOriginal, 1);
  InstalledFile b = record(FileAction::kReplaced, kOfA, 2);
  std::vector<FileLayer> layers{{"A", a}, {"B", b}};
  std::vector<FileLayer> updated;
  std::vector<std::string> discard;
  CHECK(hotfix::hand_on(layers, "A", a, updated, discard) == std::optional<std::string>("B"));
  REQUIRE(updated.size() == 1);
  CHECK(updated[0].first == "B");
  CHECK(updated[0].second.backup == kOriginal);
  CHECK(updated[0].second.action == FileAction::kReplaced);
  CHECK(discard == std::vector<std::string>{kOfA});
}

TEST_CASE("A later record that skipped a file the leaving one created now answers for it") {
  InstalledFile a = record(FileAction::kInstalled, std::nullopt, 1, 4096);
  InstalledFile b = record(FileAction::kSkipped, std::nullopt, 2, 7);
  std::vector<FileLayer> layers{{"A", a}, {"B", b}};
  std::vector<FileLayer> updated;
  std::vector<std::string> discard;
  CHECK(hotfix::hand_on(layers, "A", a, updated, discard) == std::optional<std::string>("B"));
  REQUIRE(updated.size() == 1);
  CHECK(updated[0].second.action == FileAction::kInstalled);
  CHECK(updated[0].second.size == 4096);  // A's promise: the file there is A's
  CHECK_FALSE(updated[0].second.backup);
  CHECK(hotfix::answers_for_path(updated[0].second));
}

TEST_CASE("Which records answer for their path") {
  CHECK(hotfix::answers_for_path(record(FileAction::kInstalled, std::nullopt, 1)));
  CHECK(hotfix::answers_for_path(record(FileAction::kReplaced, kOriginal, 1)));
  CHECK(hotfix::answers_for_path(record(FileAction::kKept, kOriginal, 1)));  // kept its backup
  CHECK_FALSE(hotfix::answers_for_path(record(FileAction::kKept, std::nullopt, 1)));
  CHECK_FALSE(hotfix::answers_for_path(record(FileAction::kSkipped, std::nullopt, 1)));
  CHECK(hotfix::answers_for_path(record(FileAction::kSkipped, kOriginal, 1)));  // handed on
}
