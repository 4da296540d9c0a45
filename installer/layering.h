// The layering of hotfixes over one path (docs/state-database.md, "Layering"), as pure
// functions over the database's records: which record answers for the file, and how a
// record's place and backup are handed on when its hotfix leaves the layering (uninstall, or
// an upgrade that replaces it from under a later hotfix). Unit tests: tests/unit/layering_test.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "installer/installed_state.h"
#include "installer/state_db.h"

namespace hotfix {

// The record an installed hotfix has of `path`, if any (paths compared exactly).
const InstalledFile* record_of(const std::optional<InstalledHotfix>& hotfix,
                               const std::string& path);

// Whether a record answers for what is at its path when its hotfix goes: it put the file there,
// or it holds the backup of what was there before (handed on to it, or kept by an upgrade).
bool answers_for_path(const InstalledFile& f);

// Takes `id`'s record `f` out of the layering over its path (`layers`, ordered by layer), as
// uninstall does: the next later record (another hotfix's) takes over the backup of what `f`
// displaced, and its own backup (of `id`'s file) goes into `discard_after_commit`; a later
// record that had skipped the file now answers for it. The changed record is appended to
// `updated`. Returns the hotfix that took over, or nothing when `id` is the top layer.
std::optional<std::string> hand_on(const std::vector<FileLayer>& layers, const std::string& id,
                                   const InstalledFile& f, std::vector<FileLayer>& updated,
                                   std::vector<std::string>& discard_after_commit);

}  // namespace hotfix
