// Every error rawthread returns, with its message, in one place.
#pragma once

#include <asm/errno.h>

#include <rawthread/result.hpp>

namespace rawthread::errors {

inline constexpr Error kNonBlockingTimeout{Errc::value_error, 0,
                                           "can't specify a timeout for a non-blocking call"};
inline constexpr Error kNegativeTimeout{Errc::value_error, 0,
                                        "timeout value must be a non-negative number"};
inline constexpr Error kTimeoutTooLarge{Errc::overflow_error, 0, "timeout value is too large"};
inline constexpr Error kReleaseUnlocked{Errc::thread_error, 0, "release unlocked lock"};
inline constexpr Error kNegativeStackSize{Errc::value_error, 0,
                                          "size must be 0 or a positive value"};
inline constexpr Error kStackSizeTooSmall{
    Errc::value_error, 0, "size not valid: must be 0 or at least 32768 bytes"};
inline constexpr Error kSignalOutOfRange{Errc::value_error, 0, "signal number out of range"};

// The acquire was cut short by a signal whose handler requested an interrupt.
inline constexpr Error kInterrupted{Errc::interrupted, EINTR, "lock acquire interrupted"};

// Errors a system call caused carry its errno.
inline constexpr Error cant_start_thread(long neg_errno) {
  return {Errc::thread_error, static_cast<int>(-neg_errno), "can't start new thread"};
}
inline constexpr Error cant_signal_main(long neg_errno) {
  return {Errc::thread_error, static_cast<int>(-neg_errno), "can't signal the main thread"};
}

}  // namespace rawthread::errors
