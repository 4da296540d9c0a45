// How names compare and which names Windows can hold (manifests/case_fold.h,
// manifests/windows_names.h): the rules the manifest reader and the installer's resolution share.
#include <catch2/catch.hpp>

#include "manifests/case_fold.h"
#include "manifests/windows_names.h"

using hotfix::fold_name;
using hotfix::windows_name_problem;
using hotfix::windows_path_problem;

TEST_CASE("fold_name gives one key to names equal in case or normalization") {
  CHECK(fold_name("Admwprox.DLL") == "admwprox.dll");
  CHECK(fold_name("\xc3\x89.dll") == fold_name("\xc3\xa9.dll"));   // É é
  CHECK(fold_name("\xc3\xa9.dll") == fold_name("e\xcc\x81.dll"));  // NFC, NFD
  CHECK(fold_name("E\xcc\x81.DLL") == "\xc3\xa9.dll");             // folded, then composed
  CHECK(fold_name("\xce\xa3") == fold_name("\xcf\x83"));           // Σ σ
  CHECK(fold_name("\xe2\x84\xaa") == "k");                         // KELVIN SIGN is K canonically
  CHECK(fold_name("\xc3\x9f") != "ss");      // simple folding, as NTFS: ß stays one letter
  CHECK(fold_name("\xef\xac\x81") != "fi");  // no compatibility mapping: the ligature stays
  CHECK(fold_name("a") != fold_name("b"));
}

TEST_CASE("fold_name keeps bytes that are not UTF-8, lowering ASCII only") {
  const std::string latin1 = "Caf\xe9.DLL";  // é in Latin-1: not UTF-8
  CHECK(fold_name(latin1) == "caf\xe9.dll");
  CHECK(fold_name("Caf\xe9") != fold_name("Caf\xc9"));  // no guess at what it meant
  CHECK(fold_name(std::string("a\0B", 3)) == std::string("a\0b", 3));
}

TEST_CASE("Windows cannot hold device names, trailing dots and spaces, or reserved characters") {
  for (const char* name :
       {"CON", "con", "PRN.txt", "AUX.tar.gz", "NUL", "nul.dll", "COM0", "com9.log", "LPT1",
        "lpt0.x", "CONIN$", "conout$.txt", "NUL .txt", "COM\xc2\xb2", "LPT\xc2\xb3.dll"}) {
    INFO(name);
    auto problem = windows_name_problem(name);
    REQUIRE(problem);
    CHECK_THAT(*problem, Catch::Contains("reserved device name"));
  }
  CHECK_THAT(*windows_name_problem("a."), Catch::Contains("ends with a dot"));
  CHECK_THAT(*windows_name_problem("a "), Catch::Contains("ends with a space"));
  for (char c : std::string("<>:\"|?*")) {
    CHECK_THAT(*windows_name_problem(std::string("a") + c + "b"),
               Catch::Contains(std::string("contains '") + c + "'"));
  }
  CHECK_THAT(*windows_name_problem("a\x01"), Catch::Contains("control character 0x01"));
  CHECK_FALSE(windows_name_problem("a\x7f"));  // DEL is not among the characters Windows refuses
  for (const char* name : {"CONSOLE", "COM10", "LPT", "nul_", "a.con", ".x", "caf\xc3\xa9.dll",
                           "a b.dll", "COM\xc2\xb4"}) {
    INFO(name);
    CHECK_FALSE(windows_name_problem(name));
  }
}

TEST_CASE("A Windows path is checked component by component") {
  CHECK_FALSE(windows_path_problem("Windows/System32/inetsrv/Admwprox.dll"));
  CHECK_THAT(*windows_path_problem("Windows/AUX/x.dll"),
             Catch::Contains("has the component \"AUX\", which is the reserved device name aux"));
  CHECK_THAT(*windows_path_problem("Windows./x.dll"), Catch::Contains("\"Windows.\""));
  CHECK_THAT(*windows_path_problem("a/b/c:d"), Catch::Contains("\"c:d\""));
}
