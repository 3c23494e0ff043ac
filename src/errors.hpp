// Every error rawthread returns, with its message, in one place.
#pragma once

#include <asm/errno.h>

#include <rawthread/lock.hpp>  // TIMEOUT_MAX
#include <rawthread/result.hpp>

namespace rawthread::errors {

inline constexpr Error kNonBlockingTimeout{Errc::value_error, 0,
                                           "can't specify a timeout for a non-blocking call"};
inline constexpr Error kNegativeTimeout{Errc::value_error, 0,
                                        "timeout value must be a non-negative number"};
inline constexpr Error kTimeoutTooLarge{Errc::overflow_error, 0, "timeout value is too large"};
inline constexpr Error kReleaseUnlocked{Errc::thread_error, 0, "release unlocked lock"};
inline constexpr Error kReleaseUnowned{Errc::thread_error, 0, "cannot release un-acquired lock"};
inline constexpr Error kCountOverflow{Errc::overflow_error, 0, "Internal lock count overflowed"};
inline constexpr Error kNegativeStackSize{Errc::value_error, 0,
                                          "size must be 0 or a positive value"};
inline constexpr Error kStackSizeTooSmall{
    Errc::value_error, 0, "size not valid: must be 0 or at least 32768 bytes"};
inline constexpr Error kSignalOutOfRange{Errc::value_error, 0, "signal number out of range"};
inline constexpr Error kReservedSignal{Errc::value_error, 0, "signal reserved by the C library"};
inline constexpr Error kJoinSelf{Errc::thread_error, 0, "cannot join current thread"};
inline constexpr Error kJoinEmpty{Errc::thread_error, 0,
                                  "cannot join thread before it is started"};
// The C API: a rawthread_thread used away from where it was filled.
inline constexpr Error kHandleCopied{Errc::thread_error, 0,
                                     "thread handle is a copy: use the one start filled"};
inline constexpr Error kNullSignalHandler{Errc::value_error, 0, "signal handler must not be null"};
inline constexpr Error kUnsupportedSignalFlags{Errc::value_error, 0, "unsupported signal flags"};
inline constexpr Error kInvalidMaskHow{Errc::value_error, 0, "invalid signal mask operation"};
inline constexpr Error kNegativeSleep{Errc::value_error, 0, "sleep length must be non-negative"};
inline constexpr Error kSleepNaN{Errc::value_error, 0, "Invalid value NaN (not a number)"};
inline constexpr Error kSleepTooLarge{Errc::overflow_error, 0, "sleep length is too large"};

// The C API (rawthread.h): a pointer it needs was null.
inline constexpr Error kNullArgument{Errc::value_error, 0, "argument must not be null"};

// Python's checks of a timeout argument, -1 meaning none: the error, or null.
inline const Error* bad_timeout(double timeout) noexcept {
  if (timeout == -1) return nullptr;
  if (!(timeout >= 0)) return &kNegativeTimeout;  // NaN fails this too
  if (timeout > TIMEOUT_MAX) return &kTimeoutTooLarge;
  return nullptr;
}

// The acquire was cut short by a signal whose handler requested an interrupt.
inline constexpr Error kInterrupted{Errc::interrupted, EINTR, "lock acquire interrupted"};

// The dummy backend: what the real one would do is wait forever, or start a
// thread with the stack size asked for.
inline constexpr Error kStartedFunctionInterrupted{
    Errc::interrupted, EINTR, "interrupt_main() was called in the started function"};
inline constexpr Error kWouldDeadlock{
    Errc::thread_error, EDEADLK, "acquire would deadlock: no other thread can release the lock"};
inline constexpr Error kStackSizeNotSupported{Errc::thread_error, 0,
                                              "setting thread stack size not supported"};

// Errors a system call caused carry its errno.
inline constexpr Error cant_start_thread(long neg_errno) {
  return {Errc::thread_error, static_cast<int>(-neg_errno), "can't start new thread"};
}
inline constexpr Error cant_signal_main(long neg_errno) {
  return {Errc::thread_error, static_cast<int>(-neg_errno), "can't signal the main thread"};
}

// A futex wait the kernel refused with an error the lock protocol never
// causes: EINVAL for a lock word that is not 4-byte aligned, ENOSYS or EPERM
// where a seccomp filter denies futex.
inline constexpr Error lock_wait_failed(long neg_errno) {
  return {Errc::thread_error, static_cast<int>(-neg_errno), "lock wait failed"};
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
