// The hotfix-packager command line: parses arguments, runs one command, prints its result as
// a table (or JSON with --json), and turns every error into one message and an exit code.
#pragma once

namespace hotfix {

int packager_main(int argc, char** argv);

}  // namespace hotfix
