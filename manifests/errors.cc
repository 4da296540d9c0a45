#include "manifests/errors.h"

#include <cstring>

namespace hotfix {

ExitCode exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kBadInput:
      return ExitCode::kBadInput;
    case ErrorKind::kSignature:
      return ExitCode::kSignature;
    case ErrorKind::kVerification:
      return ExitCode::kVerification;
    case ErrorKind::kNotApplicable:
      return ExitCode::kNotApplicable;
    case ErrorKind::kBusy:
      return ExitCode::kBusy;
    case ErrorKind::kSystem:
      return ExitCode::kSystem;
    case ErrorKind::kStateDamaged:
    case ErrorKind::kMetadata:
      return ExitCode::kStateDamaged;
    case ErrorKind::kUnreachable:
      return ExitCode::kUnreachable;
    case ErrorKind::kInternal:
      return ExitCode::kInternal;
  }
  return ExitCode::kInternal;
}

static std::string join_where(const std::string& where, const std::string& message) {
  return where.empty() ? message : where + ": " + message;
}

Error::Error(ErrorKind kind, std::string where, std::string message)
    : std::runtime_error(join_where(where, message)),
      kind_(kind),
      where_(std::move(where)),
      message_(std::move(message)) {}

std::vector<std::string> Error::lines() const { return {what()}; }

SystemError::SystemError(std::string where, std::string operation, int error_number)
    : Error(ErrorKind::kSystem, std::move(where), operation + ": " + std::strerror(error_number)),
      errno_(error_number) {}

}  // namespace hotfix
