// SPDX-License-Identifier: MIT
// rawthread: Python's _thread module for Linux on clone() and futex(), with no
// pthread underneath. This umbrella header is the whole public API:
//
//   Result, Error, Errc      errors as values          <rawthread/result.hpp>
//   Lock, allocate_lock      futex locks               <rawthread/lock.hpp>
//   TIMEOUT_MAX              chrono timeouts as waits  <rawthread/timeout.hpp>
//   RLock                    re-entrant lock           <rawthread/rlock.hpp>
//   Semaphore, BoundedSemaphore  counting semaphores   <rawthread/semaphore.hpp>
//   Event                    a flag to wait for        <rawthread/event.hpp>
//   Condition                wait for a notify         <rawthread/condition.hpp>
//   Queue                    bounded FIFO, inline      <rawthread/queue.hpp>
//   Barrier                  wait for each other       <rawthread/barrier.hpp>
//   start_new_thread, ...    threads, stack_size       <rawthread/thread.hpp>
//   interrupt_main, ...      interruptible acquires    <rawthread/interrupt.hpp>
//   Thread, start_joinable_thread  joinable threads    <rawthread/joinable.hpp>
//   sleep                    interruptible sleep       <rawthread/sleep.hpp>
//   sys::sleep, ...          signals, clock, fds       <rawthread/sys.hpp>
//   RAWTHREAD_VERSION_MAJOR, ... the version (macros)  <rawthread/version.h>
//
// Async-signal-safe: a signal handler, in any thread, may call
//   Lock::release / Lock::unlock   one atomic exchange, at most one futex wake
//   Lock::locked                   one atomic load
//   Semaphore::release, BoundedSemaphore::release, their unlock
//                                  a compare-and-swap loop, at most one futex wake
//   Event::set, clear, is_set      atomics, at most one futex wake
//   get_ident                      reads the thread pointer, no system call
//   request_interrupt              atomics on the caller's request flag (and
//                                  getpid, gettid to tell the main thread)
//   interrupt_main                 rt_sigaction (reads the disposition),
//                                  atomics, getpid, tgkill
// They take no lock and allocate nothing, so they are safe whatever the code
// the handler interrupted was doing, the same calls on the same object
// included. Nothing else of the locks and threads is promised to be: not
// acquire, not RLock's calls (a handler in the owner could see its count
// half-updated), not starting or joining threads. The calls of
// rawthread/sys.hpp are async-signal-safe too, as that header says.
#pragma once

#include <rawthread/barrier.hpp>
#include <rawthread/condition.hpp>
#include <rawthread/event.hpp>
#include <rawthread/interrupt.hpp>
#include <rawthread/joinable.hpp>
#include <rawthread/lock.hpp>
#include <rawthread/queue.hpp>
#include <rawthread/result.hpp>
#include <rawthread/rlock.hpp>
#include <rawthread/sleep.hpp>
#include <rawthread/semaphore.hpp>
#include <rawthread/sys.hpp>
#include <rawthread/thread.hpp>
#include <rawthread/timeout.hpp>
#include <rawthread/version.h>
