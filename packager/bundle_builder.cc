#include "packager/bundle_builder.h"

#include <filesystem>

#include "manifests/bundle_format.h"
#include "manifests/errors.h"
#include "manifests/manifest_json.h"
#include "manifests/signature.h"

namespace hotfix {

Manifest bundle_slice(const Manifest& manifest, Arch arch,
                      const std::optional<std::string>& language) {
  Manifest slice = manifest;
  slice.architectures.clear();
  std::vector<FileEntry>& files = slice.architectures[arch];
  for (const FileEntry& f : manifest.architectures.at(arch)) {
    if (!f.language || !language || *f.language == *language) files.push_back(f);
  }
  slice.bundle = BundleScope{arch, language, ""};
  return slice;
}

BuildReport build_bundles(const BuildRequest& request) {
  Manifest manifest = read_manifest_file(request.manifest_path);

  std::vector<Arch> arches;
  for (Arch a : request.only) {
    if (!manifest.architectures.count(a)) {
      throw Error(ErrorKind::kBadInput, request.manifest_path,
                  "has no files for architecture " + std::string(arch_token(a)) + " (--arch " +
                      std::string(arch_token(a)) + ")");
    }
    arches.push_back(a);
  }
  if (arches.empty()) {
    for (const auto& [a, files] : manifest.architectures) arches.push_back(a);
  }
  for (Arch a : arches) {
    if (!request.drops.count(a)) {
      throw Error(ErrorKind::kBadInput, "--drop",
                  "no drop given for architecture " + std::string(arch_token(a)) +
                      ": pass --drop " + std::string(arch_token(a)) + "=DIR");
    }
  }

  // Check everything before writing anything.
  BuildReport report;
  std::vector<DropIssue> errors;
  for (Arch a : arches) {
    DropCheckResult check = check_drop(a, manifest.architectures.at(a), request.drops.at(a));
    errors.insert(errors.end(), check.errors.begin(), check.errors.end());
    report.warnings.insert(report.warnings.end(), check.warnings.begin(), check.warnings.end());
  }
  if (!errors.empty()) throw DropMismatchError(std::move(errors));

  PrivateKey key = PrivateKey::load_pem_file(request.key_path);
  std::error_code ec;
  std::filesystem::create_directories(request.out_dir, ec);
  if (ec) throw SystemError(request.out_dir, "create output directory", ec.value());

  std::vector<std::optional<std::string>> languages;
  if (manifest.languages.size() > 1) {
    for (const std::string& l : manifest.languages) languages.emplace_back(l);
  } else {
    languages.emplace_back(std::nullopt);
  }
  if (request.write.progress) {
    for (Arch a : arches) {
      for (const auto& language : languages) {
        for (const auto& [arch, files] : bundle_slice(manifest, a, language).architectures) {
          std::uint64_t bytes = 0;
          for (const FileEntry& f : files) bytes += f.size;
          request.write.progress->add_totals(files.size(), bytes);
        }
      }
    }
  }
  for (Arch a : arches) {
    for (const auto& language : languages) {
      std::string path = request.out_dir + "/" + bundle_file_name(manifest.id, a, language);
      BundleWriteResult result = write_bundle(bundle_slice(manifest, a, language),
                                              request.drops.at(a), key, path, request.write);
      report.bundles.push_back({path, std::move(result)});
    }
  }
  return report;
}

}  // namespace hotfix
