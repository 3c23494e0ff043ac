// SPDX-License-Identifier: MIT
// Every error rawthread returns, with its message, in one place: those with
// a C code from <rawthread/error_list.h>, then rawthread/sys.hpp's.
#pragma once

#include <asm/errno.h>

#include <rawthread/error_list.h>
#include <rawthread/lock.hpp>  // TIMEOUT_MAX
#include <rawthread/result.hpp>

namespace rawthread::errors {

// The catalogue's messages, one object each. Every Error of the catalogue
// holds the very pointer, so the C API finds an Error's code by comparing
// addresses (c_api.cpp): an inline variable has one address in the whole
// program, where a string literal may have one per translation unit.
namespace message {
#define RAWTHREAD_MESSAGE_(CODE, name, kind, err, text) inline constexpr char name[] = text;
RAWTHREAD_ERRORS(RAWTHREAD_MESSAGE_)
#undef RAWTHREAD_MESSAGE_
}  // namespace message

// The catalogue's Errors: a constant with its fixed errno (err NONE, EINTR,
// EDEADLK), or for an error a system call causes (err CALL) a function of
// that call's -errno.
#define RAWTHREAD_CONSTANT_(name, kind, sys_errno) \
  inline constexpr Error name{Errc::kind, sys_errno, message::name};
#define RAWTHREAD_ERROR_NONE_(name, kind) RAWTHREAD_CONSTANT_(name, kind, 0)
#define RAWTHREAD_ERROR_EINTR_(name, kind) RAWTHREAD_CONSTANT_(name, kind, EINTR)
#define RAWTHREAD_ERROR_EDEADLK_(name, kind) RAWTHREAD_CONSTANT_(name, kind, EDEADLK)
#define RAWTHREAD_ERROR_CALL_(name, kind)                               \
  inline constexpr Error name(long neg_errno) {                         \
    return {Errc::kind, static_cast<int>(-neg_errno), message::name}; \
  }
#define RAWTHREAD_ERROR_(CODE, name, kind, err, text) RAWTHREAD_ERROR_##err##_(name, kind)
RAWTHREAD_ERRORS(RAWTHREAD_ERROR_)
#undef RAWTHREAD_ERROR_
#undef RAWTHREAD_ERROR_CALL_
#undef RAWTHREAD_ERROR_EDEADLK_
#undef RAWTHREAD_ERROR_EINTR_
#undef RAWTHREAD_ERROR_NONE_
#undef RAWTHREAD_CONSTANT_

// rawthread/sys.hpp's argument errors: C++ only, no C code.
inline constexpr Error kReservedSignal{Errc::value_error, 0, "signal reserved by the C library"};
inline constexpr Error kNullSignalHandler{Errc::value_error, 0, "signal handler must not be null"};
inline constexpr Error kUnsupportedSignalFlags{Errc::value_error, 0, "unsupported signal flags"};
inline constexpr Error kInvalidMaskHow{Errc::value_error, 0, "invalid signal mask operation"};
inline constexpr Error kNegativeSleep{Errc::value_error, 0, "sleep length must be non-negative"};
inline constexpr Error kSleepNaN{Errc::value_error, 0, "Invalid value NaN (not a number)"};
inline constexpr Error kSleepTooLarge{Errc::overflow_error, 0, "sleep length is too large"};

// Python's checks of a timeout argument, -1 meaning none: the error, or null.
inline const Error* bad_timeout(double timeout) noexcept {
  if (timeout == -1) return nullptr;
  if (!(timeout >= 0)) return &kNegativeTimeout;  // NaN fails this too
  if (timeout > TIMEOUT_MAX) return &kTimeoutTooLarge;
  return nullptr;
}

// rawthread/sys.hpp's system calls fail as OSError does: the errno, and what
// was being done.
inline constexpr Error os_error(long neg_errno, const char* what) {
  return {Errc::os_error, static_cast<int>(-neg_errno), what};
}
inline constexpr Error read_failed(long neg_errno) { return os_error(neg_errno, "read failed"); }
inline constexpr Error write_failed(long neg_errno) { return os_error(neg_errno, "write failed"); }
inline constexpr Error sigaction_failed(long neg_errno) {
  return os_error(neg_errno, "sigaction failed");
}
inline constexpr Error sigprocmask_failed(long neg_errno) {
  return os_error(neg_errno, "sigprocmask failed");
}
inline constexpr Error clock_gettime_failed(long neg_errno) {
  return os_error(neg_errno, "clock_gettime failed");
}
inline constexpr Error clock_nanosleep_failed(long neg_errno) {
  return os_error(neg_errno, "clock_nanosleep failed");
}

}  // namespace rawthread::errors
