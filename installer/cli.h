// The hotfix-installer command line: parses arguments, runs one command, prints a table (or
// JSON with --json), and turns every error into one message and an exit code.
#pragma once

namespace hotfix {

int installer_main(int argc, char** argv);

}  // namespace hotfix
