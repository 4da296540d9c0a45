#include "installer/verify.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "manifests/errors.h"
#include "manifests/file_identity.h"
#include "manifests/sha256.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using hotfix::FileAction;
using hotfix::FileCheck;
using hotfix::InstalledFile;
using hotfix::InstalledHotfix;
using hotfix::verify_installed;
using hotfix::VerifyOptions;
using hotfix::VerifyReport;
using hotfix::Version;
using hotfix::test::TempDir;

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMtime = 1229142420;  // 2008-12-13T04:27:00Z
const char* const kZlibDll = "/usr/x86_64-w64-mingw32/lib/zlib1.dll";
const Version kZlibVersion{1, 2, 13, 0};

void set_mtime(const fs::path& path, std::int64_t seconds) {
  struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

void set_mode(const fs::path& path, std::uint32_t mode) {
  REQUIRE(::chmod(path.c_str(), static_cast<mode_t>(mode)) == 0);
}

// A temporary root; put() writes a file and returns the promise that describes it exactly.
class Root {
 public:
  std::string path() const { return dir_.path().string(); }
  fs::path operator/(const std::string& rel) const { return dir_ / rel; }

  InstalledFile put(const std::string& rel, const std::string& bytes,
                    FileAction action = FileAction::kReplaced, std::uint32_t mode = 0644) const {
    fs::path file = dir_ / rel;
    hotfix::test::write_file(file, bytes);
    set_mode(file, mode);
    set_mtime(file, kMtime);
    InstalledFile promise;
    promise.path = rel;
    promise.manifest_path = rel;
    promise.action = action;
    promise.version = hotfix::identify_file(file.string()).version();
    promise.size = bytes.size();
    promise.sha256 = hotfix::Sha256::of(bytes);
    promise.mtime = kMtime;
    promise.mode = mode;
    return promise;
  }

  // Rewrites the file's bytes keeping its mode and mtime.
  void overwrite(const std::string& rel, const std::string& bytes) const {
    fs::path file = dir_ / rel;
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    hotfix::test::write_file(file, bytes);
    set_mode(file, st.st_mode & 07777);
    set_mtime(file, st.st_mtim.tv_sec);
  }

 private:
  TempDir dir_;
};

InstalledHotfix hotfix_with(std::string id, std::vector<InstalledFile> files,
                            std::int64_t layer = 1) {
  InstalledHotfix hotfix;
  hotfix.id = std::move(id);
  for (InstalledFile& file : files) file.layer = layer;
  hotfix.files = std::move(files);
  return hotfix;
}

std::string zlib_bytes() { return hotfix::test::read_file(kZlibDll); }

VerifyReport verify(const Root& root, const std::vector<InstalledHotfix>& hotfixes,
                    int threads = 0) {
  VerifyOptions options;
  options.threads = threads;
  return verify_installed(hotfix::Root::open(root.path()), hotfixes, options);
}

FileCheck only(const VerifyReport& report) {
  REQUIRE(report.files.size() == 1);
  return report.files[0];
}

}  // namespace

TEST_CASE("verify: an intact root passes every check", "[verify]") {
  Root root;
  std::string dll = zlib_bytes();
  std::string config = "<configuration/>\n";
  std::vector<InstalledFile> files = {
      root.put("Windows/System32/zlib1.dll", dll),
      root.put("Windows/System32/inetsrv/config/schema/IIS_schema.xml", config,
               FileAction::kInstalled),
      root.put("usr/bin/tool", "#!/bin/sh\n", FileAction::kReplaced, 0755),
  };
  REQUIRE(files[0].version == kZlibVersion);
  VerifyReport report = verify(root, {hotfix_with("KB967131", files)});

  REQUIRE(report.files.size() == 3);
  CHECK(report.intact());
  CHECK(report.ok == 3);
  CHECK(report.failed == 0);
  CHECK(report.bytes_hashed == dll.size() + config.size() + 10);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const FileCheck& check = report.files[i];
    CHECK(check.ok());
    CHECK(check.codes() == ".....");
    CHECK(check.detail.empty());
    CHECK(check.hotfix_id == "KB967131");
    CHECK(check.path == files[i].path);
    CHECK(check.action == files[i].action);
  }
  CHECK(report.files[0].found_version == kZlibVersion);
  CHECK_FALSE(report.files[1].found_version);
}

TEST_CASE("verify: an empty state is intact", "[verify]") {
  Root root;
  VerifyReport report = verify(root, {});
  CHECK(report.files.empty());
  CHECK(report.intact());
}

TEST_CASE("verify: files are reached through the root opened once, not its path", "[verify]") {
  Root root;
  InstalledFile f = root.put("sys/zlib1.dll", zlib_bytes());
  hotfix::Root opened = hotfix::Root::open(root.path());
  // The root's path now names another tree, without the file.
  std::filesystem::rename(root.path(), root.path() + ".moved");
  std::filesystem::create_directories(root.path());
  VerifyReport report = verify_installed(opened, {hotfix_with("KB1", {f})}, VerifyOptions{});
  std::filesystem::remove_all(root.path());
  std::filesystem::rename(root.path() + ".moved", root.path());
  REQUIRE(report.files.size() == 1);
  CHECK(report.intact());
}

TEST_CASE("verify: a missing file", "[verify]") {
  Root root;
  InstalledFile kept = root.put("a/one", "one");
  InstalledFile gone = root.put("a/two", "two");
  InstalledFile gone_dir = root.put("b/three", "three");
  fs::remove(root / "a/two");
  fs::remove_all(root / "b");
  VerifyReport report = verify(root, {hotfix_with("KB1", {kept, gone, gone_dir})});
  CHECK_FALSE(report.intact());
  CHECK(report.ok == 1);
  CHECK(report.failed == 2);
  CHECK(report.files[0].ok());
  CHECK(report.files[1].missing);
  CHECK(report.files[1].codes() == "missing");
  CHECK(report.files[1].detail == "missing");
  CHECK(report.files[2].missing);
  CHECK(report.files[2].codes() == "missing");
  CHECK(report.files[2].detail == "b does not exist");
}

TEST_CASE("verify: a different size", "[verify]") {
  Root root;
  InstalledFile file = root.put("etc/app.conf", "setting=1\n");
  root.overwrite("etc/app.conf", "setting=10\n");
  FileCheck check = only(verify(root, {hotfix_with("KB1", {file})}));
  CHECK(check.size_differs);
  CHECK(check.digest_differs);
  CHECK_FALSE(check.version_differs);
  CHECK_FALSE(check.mtime_differs);
  CHECK_FALSE(check.mode_differs);
  CHECK(check.codes() == "S5...");
  CHECK_THAT(check.detail, Contains("size 11, expected 10"));
  CHECK_THAT(check.detail, Contains("sha256 " + hotfix::to_hex(hotfix::Sha256::of("setting=10\n")) +
                                    ", expected " + hotfix::to_hex(file.sha256)));
}

TEST_CASE("verify: different content of the same size", "[verify]") {
  Root root;
  InstalledFile file = root.put("etc/app.conf", "setting=1\n");
  root.overwrite("etc/app.conf", "setting=2\n");
  FileCheck check = only(verify(root, {hotfix_with("KB1", {file})}));
  CHECK_FALSE(check.size_differs);
  CHECK(check.digest_differs);
  CHECK(check.codes() == ".5...");
  CHECK_FALSE(check.ok());
}

TEST_CASE("verify: a different file version read from the PE image", "[verify]") {
  Root root;
  InstalledFile file = root.put("Windows/System32/zlib1.dll", zlib_bytes());
  file.version = Version{1, 2, 13, 1};
  FileCheck check = only(verify(root, {hotfix_with("KB1", {file})}));
  CHECK(check.version_differs);
  CHECK_FALSE(check.size_differs);
  CHECK_FALSE(check.digest_differs);
  CHECK(check.found_version == kZlibVersion);
  CHECK(check.codes() == "..V..");
  CHECK(check.detail == "version 1.2.13.0, expected 1.2.13.1");
}

TEST_CASE("verify: a version promised for a file that has none", "[verify]") {
  Root root;
  // A DOS program: "MZ" and a DOS header, but no PE header where e_lfanew points.
  InstalledFile file = root.put("data.bin", "MZ" + std::string(126, '\0'));
  file.version = Version{7, 0, 6001, 22329};
  FileCheck check = only(verify(root, {hotfix_with("KB1", {file})}));
  CHECK(check.codes() == "..V..");
  CHECK(check.detail == "version Not Applicable, expected 7.0.6001.22329");
}

TEST_CASE("verify: the version of a PE image larger than one read buffer", "[verify]") {
  Root root;
  // An overlay after the image: the version resource is still read, across buffers.
  std::string dll = zlib_bytes() + std::string(3 * 1024 * 1024 + 17, 'x');
  InstalledFile file = root.put("big/zlib1.dll", dll);
  REQUIRE(file.version == kZlibVersion);
  VerifyReport report = verify(root, {hotfix_with("KB1", {file})});
  CHECK(only(report).ok());
  CHECK(only(report).found_version == kZlibVersion);
  CHECK(report.bytes_hashed == dll.size());

  dll.back() = 'y';
  root.overwrite("big/zlib1.dll", dll);
  CHECK(only(verify(root, {hotfix_with("KB1", {file})})).codes() == ".5...");
}

TEST_CASE("verify: files around the read buffer's size are hashed whole", "[verify]") {
  Root root;
  constexpr std::size_t kMiB = 1024 * 1024;
  std::vector<InstalledFile> files;
  std::uint64_t total = 0;
  constexpr std::size_t kKiB = 1024;
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, 64 * kKiB - 1, 64 * kKiB, 64 * kKiB + 1, 128 * kKiB - 1,
        128 * kKiB, 128 * kKiB + 1, kMiB - 1, kMiB, kMiB + 1, 2 * kMiB}) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131) % 251);
    files.push_back(root.put("sizes/" + std::to_string(size), bytes));
    total += size;
  }
  VerifyReport report = verify(root, {hotfix_with("KB1", files)});
  CHECK(report.intact());
  CHECK(report.bytes_hashed == total);

  // The last byte of each multi-chunk file counts.
  const std::vector<std::string> changed = {"sizes/65537", "sizes/131073", "sizes/1048577",
                                            "sizes/2097152"};
  for (const std::string& rel : changed) {
    std::string bytes = hotfix::test::read_file(root / rel);
    bytes.back() = static_cast<char>(bytes.back() ^ 1);
    root.overwrite(rel, bytes);
  }
  report = verify(root, {hotfix_with("KB1", files)});
  CHECK(report.failed == changed.size());
  for (const FileCheck& check : report.files) {
    bool was_changed = std::find(changed.begin(), changed.end(), check.path) != changed.end();
    CHECK(check.codes() == (was_changed ? ".5..." : "....."));
  }
}

TEST_CASE("verify: a different modification time", "[verify]") {
  Root root;
  InstalledFile file = root.put("bin/tool", "tool");
  set_mtime(root / "bin/tool", kMtime + 60);
  FileCheck check = only(verify(root, {hotfix_with("KB1", {file})}));
  CHECK(check.mtime_differs);
  CHECK(check.codes() == "...T.");
  CHECK(check.detail == "mtime 2008-12-13T04:28:00Z, expected 2008-12-13T04:27:00Z");
}

TEST_CASE("verify: different permission bits", "[verify]") {
  Root root;
  InstalledFile file = root.put("bin/tool", "tool", FileAction::kReplaced, 0755);
  set_mode(root / "bin/tool", 04755);
  FileCheck check = only(verify(root, {hotfix_with("KB1", {file})}));
  CHECK(check.mode_differs);
  CHECK(check.codes() == "....M");
  CHECK(check.detail == "mode 4755, expected 0755");
}

TEST_CASE("verify: several differences in one file", "[verify]") {
  Root root;
  InstalledFile file = root.put("Windows/System32/zlib1.dll", zlib_bytes());
  file.version = Version{1, 2, 14, 0};
  file.size += 512;
  set_mtime(root / "Windows/System32/zlib1.dll", kMtime - 3600);
  set_mode(root / "Windows/System32/zlib1.dll", 0600);
  FileCheck check = only(verify(root, {hotfix_with("KB1", {file})}));
  CHECK(check.codes() == "S.VTM");
  std::string size = std::to_string(file.size - 512);
  CHECK(check.detail == "size " + size + ", expected " + std::to_string(file.size) +
                            "; version 1.2.13.0, expected 1.2.14.0; mtime 2008-12-13T03:27:00Z, "
                            "expected 2008-12-13T04:27:00Z; mode 0600, expected 0644");
}

TEST_CASE("verify: a skipped file needs only to exist at the promised version or newer",
          "[verify]") {
  Root root;
  InstalledFile base = root.put("Windows/System32/zlib1.dll", zlib_bytes(), FileAction::kSkipped);
  set_mode(root / "Windows/System32/zlib1.dll", 0600);
  set_mtime(root / "Windows/System32/zlib1.dll", kMtime + 999);

  auto with_version = [&](Version version) {
    InstalledFile promise = base;
    promise.version = version;
    // The hotfix's own content never arrived: size and hash are not held against the file.
    promise.size = 1;
    promise.sha256 = hotfix::Sha256::of("the hotfix's copy");
    return promise;
  };
  VerifyReport report = verify(root, {hotfix_with("KB1", {with_version({1, 2, 12, 0})}),
                                      hotfix_with("KB2", {with_version({1, 2, 13, 0})}),
                                      hotfix_with("KB3", {with_version({1, 2, 14, 0})})});
  // Three promises for one path on the same layer: the last is the one held.
  CHECK(report.files[0].detail == "superseded by KB3");
  CHECK(report.files[2].codes() == "..V..");
  CHECK(report.files[2].detail == "version 1.2.13.0, expected at least 1.2.14.0");

  for (Version version : {Version{1, 2, 12, 0}, Version{1, 2, 13, 0}}) {
    FileCheck check = only(verify(root, {hotfix_with("KB1", {with_version(version)})}));
    CHECK(check.ok());
    CHECK(check.codes() == ".....");
    CHECK(check.found_version == kZlibVersion);
  }
  VerifyReport older = verify(root, {hotfix_with("KB1", {with_version({1, 2, 14, 0})})});
  CHECK_FALSE(older.intact());
  CHECK(only(older).version_differs);
  CHECK(older.bytes_hashed == 0);

  SECTION("an unversioned file does not meet a version") {
    root.put("Windows/System32/zlib1.dll", "plain data");
    FileCheck check = only(verify(root, {hotfix_with("KB1", {with_version({1, 0, 0, 0})})}));
    CHECK(check.codes() == "..V..");
    CHECK(check.detail == "version Not Applicable, expected at least 1.0.0.0");
  }
  SECTION("a missing skipped file") {
    fs::remove(root / "Windows/System32/zlib1.dll");
    CHECK(only(verify(root, {hotfix_with("KB1", {with_version({1, 0, 0, 0})})})).codes() ==
          "missing");
  }
}

TEST_CASE("verify: a kept config file and its .hotfix-new", "[verify]") {
  Root root;
  const std::string rel = "Windows/System32/inetsrv/config/applicationHost.config";
  InstalledFile promise = root.put(rel + ".hotfix-new", "<new/>\n", FileAction::kKept);
  promise.path = rel;
  root.put(rel, "<changed by the administrator/>\n");

  SECTION("both there: intact, whatever the kept file holds") {
    FileCheck check = only(verify(root, {hotfix_with("KB1", {promise})}));
    CHECK(check.ok());
    CHECK(check.path == rel);
    CHECK(check.action == FileAction::kKept);
  }
  SECTION("the .hotfix-new changed") {
    root.overwrite(rel + ".hotfix-new", "<newer/>\n");
    FileCheck check = only(verify(root, {hotfix_with("KB1", {promise})}));
    CHECK(check.codes() == "S5...");
    CHECK_THAT(check.detail, Contains("applicationHost.config.hotfix-new: size 9, expected 7"));
  }
  SECTION("the .hotfix-new is missing") {
    fs::remove(root / (rel + ".hotfix-new"));
    FileCheck check = only(verify(root, {hotfix_with("KB1", {promise})}));
    CHECK(check.codes() == "missing");
    CHECK(check.detail == "applicationHost.config.hotfix-new: missing");
  }
  SECTION("the kept file is missing") {
    fs::remove(root / rel);
    FileCheck check = only(verify(root, {hotfix_with("KB1", {promise})}));
    CHECK(check.codes() == "missing");
    CHECK(check.detail == "kept file: missing");
  }
}

TEST_CASE("verify: only the newest layer of a path is held to its content", "[verify]") {
  Root root;
  const std::string rel = "Windows/System32/inetsrv/appcmd.exe";
  InstalledFile older = root.put(rel, "appcmd 7.0.6001.18000");
  InstalledFile newer = root.put(rel, "appcmd 7.0.6001.22329");
  older.layer = 1;
  newer.layer = 2;
  InstalledHotfix first = hotfix_with("KB1", {older}, 1);
  InstalledHotfix second = hotfix_with("KB2", {newer}, 2);

  SECTION("the newer content is on disk") {
    for (const auto& hotfixes : {std::vector{first, second}, std::vector{second, first}}) {
      VerifyReport report = verify(root, hotfixes);
      CHECK(report.intact());
      REQUIRE(report.files.size() == 2);
      const FileCheck& lower = report.files[hotfixes[0].id == "KB1" ? 0 : 1];
      CHECK(lower.hotfix_id == "KB1");
      CHECK(lower.ok());
      CHECK(lower.detail == "superseded by KB2");
    }
  }
  SECTION("the older content is on disk: the newer hotfix fails, the older is not held") {
    root.overwrite(rel, "appcmd 7.0.6001.18000");
    VerifyReport report = verify(root, {first, second});
    CHECK(report.ok == 1);
    CHECK(report.failed == 1);
    CHECK(report.files[0].ok());
    CHECK(report.files[0].detail == "superseded by KB2");
    CHECK(report.files[1].codes() == ".5...");
  }
}

TEST_CASE("verify: never follows a symbolic link out of the root", "[verify]") {
  Root root;
  TempDir outside;
  std::string bytes = "the promised content";
  InstalledFile promise = root.put("Windows/System32/inetsrv/appcmd.exe", bytes);
  hotfix::test::write_file(outside / "inetsrv/appcmd.exe", bytes);
  set_mtime(outside / "inetsrv/appcmd.exe", kMtime);
  set_mode(outside / "inetsrv/appcmd.exe", 0644);

  SECTION("a parent directory is a symbolic link") {
    fs::remove_all(root / "Windows/System32");
    fs::create_directory_symlink(outside.path(), root / "Windows/System32");
    VerifyReport report = verify(root, {hotfix_with("KB1", {promise})});
    FileCheck check = only(report);
    CHECK(check.not_regular);
    CHECK(check.codes() == "not-regular");
    CHECK(check.detail == "not a regular file: Windows/System32 is a symbolic link, not followed");
    CHECK(report.bytes_hashed == 0);
    CHECK_FALSE(report.intact());
  }
  SECTION("a symbolic link beside a directory already walked") {
    InstalledFile sibling = root.put("Windows/System32/drivers/http.sys", "driver");
    fs::remove_all(root / "Windows/System32/inetsrv");
    fs::create_directory_symlink(outside / "inetsrv", root / "Windows/System32/inetsrv");
    VerifyReport report = verify(root, {hotfix_with("KB1", {sibling, promise})}, 1);
    CHECK(report.files[0].ok());
    CHECK(report.files[1].detail ==
          "not a regular file: Windows/System32/inetsrv is a symbolic link, not followed");
    CHECK(report.bytes_hashed == 6);
  }
  SECTION("the file itself is a symbolic link") {
    fs::remove(root / "Windows/System32/inetsrv/appcmd.exe");
    fs::create_symlink(outside / "inetsrv/appcmd.exe",
                       root / "Windows/System32/inetsrv/appcmd.exe");
    VerifyReport report = verify(root, {hotfix_with("KB1", {promise})});
    CHECK(only(report).codes() == "not-regular");
    CHECK(only(report).detail == "not a regular file: a symbolic link, not followed");
    CHECK(report.bytes_hashed == 0);
  }
  SECTION("a directory where the file should be") {
    fs::remove(root / "Windows/System32/inetsrv/appcmd.exe");
    fs::create_directory(root / "Windows/System32/inetsrv/appcmd.exe");
    CHECK(only(verify(root, {hotfix_with("KB1", {promise})})).detail ==
          "not a regular file: a directory");
  }
  SECTION("a path that climbs out of the root") {
    promise.path = "Windows/../../etc/passwd";
    FileCheck check = only(verify(root, {hotfix_with("KB1", {promise})}));
    CHECK(check.codes() == "not-regular");
    CHECK_THAT(check.detail, Contains("unsafe path"));
  }
}

TEST_CASE("verify: many files give the same results with one thread or several", "[verify]") {
  Root root;
  std::vector<InstalledFile> files;
  for (int i = 0; i < 500; ++i) {
    std::string rel = "d" + std::to_string(i % 7) + "/f" + std::to_string(i);
    files.push_back(root.put(rel, "content of file " + std::to_string(i) + std::string(i, 'z')));
  }
  // Damage some, each in its own way.
  for (int i = 8; i < 500; i += 17) set_mode(root / files[i].path, 0600);
  for (int i = 3; i < 500; i += 11) root.overwrite(files[i].path, "changed " + std::to_string(i));
  for (int i = 5; i < 500; i += 13) fs::remove(root / files[i].path);
  std::vector<InstalledHotfix> hotfixes = {
      hotfix_with("KB1", {files.begin(), files.begin() + 250}),
      hotfix_with("KB2", {files.begin() + 250, files.end()}),
  };

  VerifyReport one = verify(root, hotfixes, 1);
  REQUIRE(one.files.size() == 500);
  CHECK(one.failed > 50);
  CHECK(one.ok + one.failed == 500);
  for (std::size_t i = 0; i < 500; ++i) {
    CHECK(one.files[i].path == files[i].path);
    CHECK(one.files[i].hotfix_id == (i < 250 ? "KB1" : "KB2"));
  }
  for (int threads : {2, 0, 8}) {
    VerifyReport many = verify(root, hotfixes, threads);
    CHECK(many.ok == one.ok);
    CHECK(many.failed == one.failed);
    CHECK(many.bytes_hashed == one.bytes_hashed);
    REQUIRE(many.files.size() == one.files.size());
    for (std::size_t i = 0; i < one.files.size(); ++i) {
      CHECK(many.files[i].path == one.files[i].path);
      CHECK(many.files[i].codes() == one.files[i].codes());
      CHECK(many.files[i].detail == one.files[i].detail);
    }
  }
}

TEST_CASE("verify: codes() layout", "[verify]") {
  FileCheck check;
  CHECK(check.ok());
  CHECK(check.codes() == ".....");
  check.size_differs = true;
  CHECK(check.codes() == "S....");
  check.digest_differs = true;
  CHECK(check.codes() == "S5...");
  check.version_differs = true;
  CHECK(check.codes() == "S5V..");
  check.mtime_differs = true;
  CHECK(check.codes() == "S5VT.");
  check.mode_differs = true;
  CHECK(check.codes() == "S5VTM");
  CHECK_FALSE(check.ok());

  FileCheck each;
  each.mode_differs = true;
  CHECK(each.codes() == "....M");
  each = FileCheck{};
  each.mtime_differs = true;
  CHECK(each.codes() == "...T.");
  each = FileCheck{};
  each.version_differs = true;
  CHECK(each.codes() == "..V..");

  check.unreadable = true;
  CHECK(check.codes() == "unreadable");
  check.not_regular = true;
  CHECK(check.codes() == "not-regular");
  check.missing = true;
  CHECK(check.codes() == "missing");
}

TEST_CASE("verify: only the hotfix asked for is checked, the others still tell superseded ones",
          "[verify]") {
  Root root;
  const std::string shared = "inetsrv/appcmd.exe";
  InstalledFile older = root.put(shared, "appcmd 7.0.6001.18000");
  InstalledFile newer = root.put(shared, "appcmd 7.0.6001.22329");
  InstalledFile own = root.put("inetsrv/own.dll", "only KB1 has this");
  InstalledFile other = root.put("inetsrv/other.dll", "only KB2 has this");
  older.layer = own.layer = 1;
  newer.layer = other.layer = 2;
  InstalledHotfix first;
  first.id = "KB1";
  first.files = {older, own};
  InstalledHotfix second;
  second.id = "KB2";
  second.files = {newer, other};
  fs::remove(root / "inetsrv/other.dll");  // KB2 is damaged, KB1 is not

  VerifyOptions options;
  options.only_hotfix = "KB1";
  VerifyReport report = verify_installed(hotfix::Root::open(root.path()), {first, second}, options);
  REQUIRE(report.files.size() == 2);
  CHECK(report.intact());
  CHECK(report.files[0].hotfix_id == "KB1");
  CHECK(report.files[0].path == shared);
  CHECK(report.files[0].detail == "superseded by KB2");
  CHECK(report.files[1].path == "inetsrv/own.dll");
  CHECK(report.files[1].codes() == ".....");
  CHECK(report.bytes_hashed == own.size);  // the superseded one is not read

  options.only_hotfix = "KB2";
  report = verify_installed(hotfix::Root::open(root.path()), {first, second}, options);
  REQUIRE(report.files.size() == 2);
  CHECK(report.failed == 1);
  CHECK(report.files[0].ok());
  CHECK(report.files[1].codes() == "missing");

  options.only_hotfix = "KB3";
  CHECK(verify_installed(hotfix::Root::open(root.path()), {first, second}, options).files.empty());
}

TEST_CASE("verify: records fed one by one give the report of the whole list", "[verify]") {
  Root root;
  std::vector<InstalledFile> files;
  for (int i = 0; i < 40; ++i) {
    files.push_back(root.put("fed/f" + std::to_string(i), std::string(100 + i, 'a')));
  }
  root.overwrite("fed/f7", std::string(107, 'b'));
  InstalledFile newer = files[3];
  newer.layer = 2;
  std::vector<InstalledHotfix> hotfixes = {hotfix_with("KB1", files),
                                           hotfix_with("KB2", {newer}, 2)};
  VerifyReport whole = verify(root, hotfixes, 2);

  for (int threads : {1, 2, 4}) {
    VerifyOptions options;
    options.threads = threads;
    // Slow records: the workers must wait for more instead of taking the list as complete.
    VerifyReport fed = verify_installed(
        hotfix::Root::open(root.path()),
        [&](const hotfix::FileSink& sink) {
          for (const InstalledHotfix& hotfix : hotfixes) {
            for (InstalledFile file : hotfix.files) {
              std::this_thread::sleep_for(std::chrono::milliseconds(1));
              sink(hotfix.id, std::move(file));
            }
          }
        },
        options);
    REQUIRE(fed.files.size() == 41);
    CHECK(fed.failed == 1);
    CHECK(fed.ok == whole.ok);
    CHECK(fed.bytes_hashed == whole.bytes_hashed);
    for (std::size_t i = 0; i < fed.files.size(); ++i) {
      CHECK(fed.files[i].path == whole.files[i].path);
      CHECK(fed.files[i].codes() == whole.files[i].codes());
      CHECK(fed.files[i].detail == whole.files[i].detail);
    }
    CHECK(fed.files[3].detail == "superseded by KB2");
    CHECK(fed.files[7].codes() == ".5...");
  }
}

TEST_CASE("verify: a feed that fails stops the checks and its error comes out", "[verify]") {
  Root root;
  std::vector<InstalledFile> files;
  for (int i = 0; i < 20; ++i) files.push_back(root.put("f" + std::to_string(i), "x"));
  for (int threads : {1, 2}) {
    VerifyOptions options;
    options.threads = threads;
    auto feed = [&](const hotfix::FileSink& sink) {
      for (int i = 0; i < 10; ++i) sink("KB1", InstalledFile(files[static_cast<std::size_t>(i)]));
      throw hotfix::Error(hotfix::ErrorKind::kSystem, "state.db", "disk I/O error");
    };
    CHECK_THROWS_WITH(verify_installed(hotfix::Root::open(root.path()), feed, options),
                      Contains("disk I/O error"));
  }
}
