//===- Failure.h - errors on their way to the C API -------------*- C++ -*-===//
//
// Inside libssmrt, errors are exceptions carrying the status the C API will
// return; the C entry points catch them and store the message as the thread's
// last error. No exception crosses the C API.
//
//===----------------------------------------------------------------------===//

#ifndef SSMRT_LIB_FAILURE_H
#define SSMRT_LIB_FAILURE_H

#include "ssmrt/ssmrt.h"

#include <stdexcept>
#include <string>

namespace ssmrt::detail {

/// An error with the status that reports it.
class Failure : public std::runtime_error {
public:
  Failure(ssmrt_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}

  ssmrt_status status() const noexcept { return status_; }

private:
  ssmrt_status status_;
};

/// Throws Failure(status, message).
[[noreturn]] inline void fail(ssmrt_status status, const std::string &message) {
  throw Failure(status, message);
}

} // namespace ssmrt::detail

#endif // SSMRT_LIB_FAILURE_H
