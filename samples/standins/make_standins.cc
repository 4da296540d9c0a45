// make-standins: writes stand-in build drops and pre-hotfix server roots for a manifest,
// because the real files are Microsoft's and may not be redistributed.
#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "manifests/errors.h"
#include "manifests/manifest_json.h"
#include "samples/standins/standin_generator.h"

int main(int argc, char** argv) {
  CLI::App app{"Write stand-in build drops and sample server roots for a hotfix manifest"};
  std::string manifest_path;
  std::string out;
  std::vector<std::string> arch_names;
  bool force = false;
  app.add_option("--manifest", manifest_path, "Source manifest (JSON)")->required();
  app.add_option("--out", out, "Output directory: writes drops/<arch>/ and roots/<arch>/")
      ->required();
  app.add_option("--arch", arch_names,
                 "Only this architecture (repeatable): x86, x64, ia64, arm64");
  app.add_flag("--force", force, "Replace existing non-empty drops/<arch> and roots/<arch>");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(hotfix::ExitCode::kBadInput);
  }

  try {
    hotfix::standins::StandinOptions options;
    options.out = out;
    options.force = force;
    for (const std::string& name : arch_names) {
      auto arch = hotfix::parse_arch(name);
      if (!arch || *arch == hotfix::Arch::kNeutral) {
        throw hotfix::Error(
            hotfix::ErrorKind::kBadInput, "--arch",
            "unknown architecture \"" + name + "\"; expected x86, x64, ia64 or arm64");
      }
      options.arches.push_back(*arch);
    }
    const hotfix::Manifest manifest = hotfix::read_manifest_file(manifest_path);
    for (const auto& tree : hotfix::standins::generate_standins(manifest, options)) {
      std::cout << tree.path.string() << ": " << tree.files << " files, " << tree.bytes
                << " bytes\n";
    }
    return 0;
  } catch (const hotfix::ManifestError& e) {
    for (const auto& issue : e.issues()) {
      std::cerr << "make-standins: " << manifest_path << ": " << issue.path << ": " << issue.message
                << "\n";
    }
    return static_cast<int>(hotfix::exit_code_for(e.kind()));
  } catch (const hotfix::Error& e) {
    std::cerr << "make-standins: " << e.what() << "\n";
    return static_cast<int>(hotfix::exit_code_for(e.kind()));
  } catch (const std::exception& e) {
    std::cerr << "make-standins: internal error: " << e.what() << "\n";
    return static_cast<int>(hotfix::ExitCode::kInternal);
  }
}
