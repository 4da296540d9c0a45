// hotfix-installer: applies, verifies and removes signed hotfix bundles on a server or an
// offline image mounted under a root directory.
#include "installer/cli.h"

int main(int argc, char** argv) { return hotfix::installer_main(argc, argv); }
