// Typed errors with context, and the exit codes both programs share.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace hotfix {

// Documented in docs/exit-codes.md. Stable: automation depends on them.
enum class ExitCode : int {
  kSuccess = 0,
  kInternal = 1,          // a bug: never expected
  kBadInput = 2,          // usage, malformed manifest or bundle, unsafe path
  kSignature = 3,         // signature missing, invalid, or made by an untrusted key
  kVerification = 4,      // hash, size, version or timestamp differs from what was promised
  kNotApplicable = 5,     // wrong architecture, prerequisites not met, superseded, downgrade
  kBusy = 6,              // another installer holds the root's lock
  kSystem = 7,            // I/O error, disk full, permission denied
  kStateDamaged = 8,      // not trustworthy: the installer's own journal, database or backups
                          // under the root are not what it wrote (damaged or planted), or a
                          // repository's metadata is expired, rolled back or badly signed
  kUnreachable = 9,       // a repository did not answer (retrying later may help)
  kRestartRequired = 10,  // success; the hotfix needs a restart that has not happened yet
};

// Which family of failure an error belongs to; decides the exit code.
enum class ErrorKind {
  kBadInput,
  kSignature,
  kVerification,
  kNotApplicable,
  kBusy,
  kSystem,
  kStateDamaged,
  kMetadata,     // repository metadata not trusted (exit 8, as damaged state)
  kUnreachable,  // no mirror of a source answered
  kInternal,
};

ExitCode exit_code_for(ErrorKind kind);

// An error with the place it refers to (a file, a JSON path, an archive entry) and why.
// what() is the one line shown to the user: "<where>: <message>" (or just the message).
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string where, std::string message);

  virtual ~Error() = default;

  ErrorKind kind() const { return kind_; }
  const std::string& where() const { return where_; }
  const std::string& message() const { return message_; }
  // What to show the user, one line each: what() alone, or, for errors that collect several
  // problems, one line per problem.
  virtual std::vector<std::string> lines() const;

 private:
  ErrorKind kind_;
  std::string where_;
  std::string message_;
};

// A system call failed: errno is kept so callers can tell ENOSPC from EIO.
class SystemError : public Error {
 public:
  SystemError(std::string where, std::string operation, int error_number);
  int error_number() const { return errno_; }

 private:
  int errno_;
};

}  // namespace hotfix
