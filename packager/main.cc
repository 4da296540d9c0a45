// hotfix-packager: builds signed per-architecture hotfix bundles from a manifest.
#include "packager/cli.h"

int main(int argc, char** argv) { return hotfix::packager_main(argc, argv); }
