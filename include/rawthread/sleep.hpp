// SPDX-License-Identifier: MIT
// rawthread/sleep.hpp: Python's time.sleep, interruptible like a blocking
// acquire.
//
// sleep(seconds) waits `seconds` on CLOCK_MONOTONIC, to an absolute deadline:
// setting the wall clock neither shortens nor stretches it, a signal handler
// that runs meanwhile does not end it early (the wait resumes to the same
// deadline), and it never returns before the time is up. An interrupt
// request for the calling thread (request_interrupt from a handler,
// interrupt_main for the main thread, Thread::interrupt for a thread
// rawthread started) ends it at once with Errc::interrupted, whether the
// request was pending when sleep was called or arrives during it; the
// request is consumed, as a blocking acquire consumes it.
//
// The argument follows Lock::acquire's timeout, not time.sleep: -1 means for
// ever (sleep(-1) returns only when interrupted: pause(), with the request
// telling which signal is meant); 0 returns at once, but still consumes a
// pending request. Errors, in order:
//   value_error    "timeout value must be a non-negative number" (negative
//                  but -1, or NaN)
//   overflow_error "timeout value is too large"  (seconds > TIMEOUT_MAX)
//   interrupted    "sleep interrupted"  (a request, consumed)
//   thread_error   "sleep failed"  (the kernel refused the futex wait, a
//                  seccomp filter; sys_errno is its errno)
// In a thread some other library started there are no requests: sleep waits
// out its time.
//
// rawthread::sys::sleep (rawthread/sys.hpp) stays the plain, uninterruptible
// one with time.sleep's own argument checks. The dummy backend sleeps as the
// real one does.
#pragma once

#include <rawthread/result.hpp>

namespace rawthread {

Result<void> sleep(double seconds) noexcept;

}  // namespace rawthread
