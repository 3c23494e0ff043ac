// SPDX-License-Identifier: MIT
// rawthread/interrupt.hpp: ending a blocking acquire from a signal handler.
//
// A blocking Lock::acquire sleeps in the kernel. When a signal handler runs in
// that thread, the sleep is cut short; acquire then returns Errc::interrupted
// if an interrupt was requested for the thread, and otherwise sleeps on until
// the same deadline. This is how Python's lock acquires are interruptible
// (Python's handler raises; here the handler calls request_interrupt).
//
// A request that finds no acquire in progress stays pending and ends the
// thread's next blocking acquire (blocking == true, timed or not) at once.
// The other interruptible waits, Thread::join (rawthread/joinable.hpp) and
// rawthread::sleep (rawthread/sleep.hpp), consume it in the same way; the
// rest leave it pending: acquire(false), lock(), try_lock(), try_lock_for()
// and try_lock_until().
//
// Interrupts are kept for the main thread and for threads rawthread started;
// in a thread started by some other library, request_interrupt does nothing.
// Thread::interrupt (rawthread/joinable.hpp) is interrupt_main for a thread
// rawthread started.
#pragma once

#include <rawthread/result.hpp>

namespace rawthread {

// Requests an interrupt for the calling thread. Async-signal-safe (atomics on
// the caller's own request flag, and at most getpid and gettid): meant to be
// called from a signal handler, to make the acquire it cut short return
// Errc::interrupted.
void request_interrupt() noexcept;

// Python's interrupt_main(): simulates `signum` arriving in the main thread.
// It requests an interrupt for the main thread and sends it `signum` (tgkill),
// so its handler runs and a blocking acquire there returns Errc::interrupted.
// If the signal's disposition is SIG_DFL or SIG_IGN it does nothing.
// Async-signal-safe: rt_sigaction to read the disposition, atomics, getpid and
// tgkill; a handler running in any thread may call it.
//   signum outside 1..64: value_error "signal number out of range"
// The default, 2, is SIGINT on every Linux architecture.
Result<void> interrupt_main(int signum = 2) noexcept;

}  // namespace rawthread
