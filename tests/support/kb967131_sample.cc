#include "tests/support/kb967131_sample.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "tests/support/run.h"

namespace hotfix::test {

namespace fs = std::filesystem;

namespace {

void must(const RunResult& r) {
  if (r.exit_code != 0) throw std::runtime_error(r.err);
}

}  // namespace

Kb967131Sample::Kb967131Sample(std::vector<std::string> archs, std::uint64_t max_file_size) {
  std::string manifest = source_path("samples/KB967131/hotfix.json");
  if (max_file_size) {
    auto m = nlohmann::json::parse(read_file(manifest));
    for (auto& [arch, files] : m["architectures"].items()) {
      for (auto& f : files["files"]) {
        f["size"] = std::min<std::uint64_t>(f["size"].get<std::uint64_t>(), max_file_size);
      }
    }
    manifest = (dir / "hotfix.json").string();
    write_file(manifest, m.dump(2));
  }
  std::vector<std::string> standins{make_standins_path(), "--manifest", manifest, "--out",
                                    dir.path().string()};
  std::vector<std::string> build{packager_path(),
                                 "build",
                                 manifest,
                                 "--key",
                                 pub().substr(0, pub().size() - 4) + ".key",
                                 "--out",
                                 (dir / "bundles").string()};
  for (const std::string& arch : archs) {
    standins.insert(standins.end(), {"--arch", arch});
    build.insert(build.end(),
                 {"--drop", arch + "=" + (dir / ("drops/" + arch)).string(), "--arch", arch});
  }
  must(run(standins));
  must(run({packager_path(), "keygen", "--out", (dir / "k").string()}));
  must(run(build));
}

std::string Kb967131Sample::bundle(const std::string& arch) const {
  return (dir / ("bundles/KB967131-" + arch + ".hotfix")).string();
}

std::string Kb967131Sample::pub() const { return (dir / "k.pub").string(); }

std::string Kb967131Sample::image(const std::string& arch) const {
  return (dir / ("roots/" + arch)).string();
}

std::string Kb967131Sample::root(const TempDir& into, const std::string& arch) const {
  fs::copy(image(arch), into / "root", fs::copy_options::recursive);
  return (into / "root").string();
}

}  // namespace hotfix::test
