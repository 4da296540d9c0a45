#include "tests/support/small_layered.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <stdexcept>

#include "manifests/manifest_json.h"
#include "tests/support/run.h"

namespace hotfix::test {

namespace {
void must(const RunResult& r) {
  if (r.exit_code != 0) throw std::runtime_error(r.err);
}
}  // namespace

SmallLayered::SmallLayered() : root((dir / "root").string()) {
  write_file(root + "/app/x.txt", "original x\n");
  write_file(root + "/app/y.txt", "original y\n");
  write_file(root + "/app/app.config", "<config administrator='yes'/>\n");
  must(run({packager_path(), "keygen", "--out", (dir / "k").string()}));
  make("KB100001",
       {{"app", "x.txt", "x from KB100001\n", FileKind::kBinary},
        {"app", "y.txt", "y from KB100001\n", FileKind::kBinary},
        {"app/lib", "new.txt", "new from KB100001\n", FileKind::kBinary},
        {"app", "app.config", "<config hotfix='KB100001'/>\n", FileKind::kConfig}},
       1);
  make("KB100002",
       {{"app", "x.txt", "x from KB100002\n", FileKind::kBinary},
        {"app/lib", "new.txt", "new from KB100002\n", FileKind::kBinary},
        {"app", "z.txt", "z from KB100002\n", FileKind::kBinary}},
       1);
  make("KB100001",
       {{"app", "x.txt", "x from KB100001 revision 2\n", FileKind::kBinary},
        {"app", "app.config", "<config hotfix='KB100001' revision='2'/>\n", FileKind::kConfig},
        {"app/extra/deep", "e.txt", "e from KB100001 revision 2\n", FileKind::kBinary}},
       2);
  trust.add_path((dir / "k.pub").string());
}

void SmallLayered::make(const std::string& id, const std::vector<File>& files,
                        std::uint64_t revision) {
  const std::string name = id + "-" + std::to_string(revision);
  std::string drop = (dir / ("drop-" + name)).string();
  Manifest m;
  m.id = id;
  m.revision = revision;
  m.title = id;
  m.languages = {"en-US"};
  m.restart = RestartRequirement::kNone;
  for (const File& file : files) {
    std::string path = drop + "/" + file.destination + "/" + file.name;
    write_file(path, file.content);
    struct timespec times[2] = {{1700000000, 0}, {1700000000, 0}};
    ::utimensat(AT_FDCWD, path.c_str(), times, 0);
    FileEntry f;
    f.name = file.name;
    f.destination = file.destination;
    f.size = file.content.size();
    f.timestamp = Timestamp(1700000000);
    f.platform = Arch::kNeutral;
    f.kind = file.kind;
    m.architectures[Arch::kX64].push_back(f);
  }
  write_file(dir / (name + ".json"), write_manifest(m));
  must(run({packager_path(), "build", (dir / (name + ".json")).string(), "--drop", "x64=" + drop,
            "--key", (dir / "k.key").string(), "--out",
            (dir / ("bundles-" + std::to_string(revision))).string()}));
}

std::string SmallLayered::bundle(const std::string& id, std::uint64_t revision) const {
  return (dir / ("bundles-" + std::to_string(revision) + "/" + id + "-x64.hotfix")).string();
}

}  // namespace hotfix::test
