#include "samples/standins/standin_generator.h"

#include <algorithm>
#include <string>

#include "manifests/errors.h"
#include "samples/standins/standin_output.h"

namespace hotfix::standins {

namespace fs = std::filesystem;

namespace {

std::vector<Arch> selected_arches(const Manifest& manifest, const std::vector<Arch>& wanted) {
  std::vector<Arch> arches;
  if (wanted.empty()) {
    for (const auto& [arch, files] : manifest.architectures) arches.push_back(arch);
    return arches;
  }
  for (Arch arch : wanted) {
    if (!manifest.architectures.contains(arch)) {
      throw Error(
          ErrorKind::kBadInput, "--arch",
          "the manifest " + manifest.id + " has no architecture " + std::string(arch_token(arch)));
    }
    if (std::find(arches.begin(), arches.end(), arch) == arches.end()) arches.push_back(arch);
  }
  std::sort(arches.begin(), arches.end());
  return arches;
}

std::string entry_where(Arch arch, std::size_t index, const FileEntry& entry) {
  return "architectures." + std::string(arch_token(arch)) + ".files[" + std::to_string(index) +
         "] (" + entry.name + ")";
}

void add(TreeSummary& summary, const fs::path& tree, const StandinFile& file) {
  write_standin(tree, file);
  ++summary.files;
  summary.bytes += file.content.size();
}

}  // namespace

std::vector<TreeSummary> generate_standins(const Manifest& manifest,
                                           const StandinOptions& options) {
  const std::vector<Arch> arches = selected_arches(manifest, options.arches);

  // A manifest whose sizes cannot hold their stand-ins leaves the output untouched.
  for (Arch arch : arches) {
    const auto& files = manifest.architectures.at(arch);
    for (std::size_t i = 0; i < files.size(); ++i) {
      check_drop_standin(files[i], entry_where(arch, i, files[i]));
    }
  }

  std::vector<fs::path> trees;
  for (Arch arch : arches) {
    trees.push_back(options.out / "drops" / arch_token(arch));
    trees.push_back(options.out / "roots" / arch_token(arch));
  }
  prepare_trees(trees, options.force);

  std::vector<TreeSummary> summaries;
  for (Arch arch : arches) {
    const auto& files = manifest.architectures.at(arch);
    TreeSummary drop{options.out / "drops" / arch_token(arch)};
    TreeSummary root{options.out / "roots" / arch_token(arch)};
    for (std::size_t i = 0; i < files.size(); ++i) {
      const std::string where = entry_where(arch, i, files[i]);
      add(drop, drop.path, drop_standin(files[i], where));
      add(root, root.path, root_standin(files[i], where));
    }
    add(root, root.path, system_facts_standin(arch));
    summaries.push_back(drop);
    summaries.push_back(root);
  }
  return summaries;
}

}  // namespace hotfix::standins
