// SPDX-License-Identifier: MIT
// rawthread/barrier.hpp: Barrier, Python's threading.Barrier: parties
// threads wait until all of them have arrived, then all go on together;
// over and over (cyclic). On a Lock and a Condition of its own, no heap.
//
//   static void merge() { ... }                  // runs once per cycle
//   static rawthread::Barrier step(4, merge);    // no constructor runs
//   // in each of 4 threads:
//   for (;;) {
//     compute_my_part();
//     Result<unsigned> index = step.wait();      // 0 .. 3, each once
//     if (!index) break;                         // broken, interrupted, ...
//   }
//
// wait(timeout) returns this thread's arrival index in the cycle, 0 ..
// parties-1. The last to arrive (index parties-1) runs the action, in its
// own thread, holding the Barrier's lock, before any other party returns;
// the action must not use the same Barrier (it would wait for ever). A
// thread arriving while the previous cycle's parties are still leaving
// waits for them first. timeout -1 means the constructor's timeout (Python's
// None), and that one's -1 waits for ever; otherwise Lock's timeouts, on
// CLOCK_MONOTONIC, for the whole call. Errors, in this order; the first
// four change nothing:
//   value_error    "parties must be > 0"  (constructed with 0 parties)
//   value_error    "timeout value must be a non-negative number" (the
//                  effective timeout negative other than -1, or NaN)
//   overflow_error "timeout value is too large"  (> TIMEOUT_MAX)
//   interrupted    "lock acquire interrupted": a request was pending for
//                  this thread (consumed)
//   broken_barrier "barrier is broken": the barrier is broken (abort(), or
//                  a wait that timed out), or was reset or aborted during
//                  the wait, or this wait timed out, which breaks it (as in
//                  Python: the others waiting get broken_barrier too). A
//                  timeout spent waiting for the previous cycle to leave
//                  breaks it as well (Python waits for that without a
//                  timeout; here the timeout covers the whole call)
//   interrupted    an interrupt requested for this thread during the wait
//                  (request_interrupt, interrupt_main, Thread::interrupt):
//                  the barrier is NOT broken, it has one party fewer waiting
//                  (Python's KeyboardInterrupt); the next thread to arrive
//                  takes the index this one left, so in that cycle an index
//                  may be returned twice
//   thread_error   "lock wait failed": the kernel refused the futex wait (a
//                  seccomp filter), handled as an interrupt
// A wait that is released (or broken) at the moment an interrupt arrives
// reports the release (or broken_barrier) and leaves the request pending,
// for the next blocking call.
//
// reset() returns the barrier to its empty, unbroken state: the threads
// waiting get broken_barrier, and it is usable again once they have left
// (new arrivals wait for that). abort() breaks it: every wait, present and
// future, gets broken_barrier until reset(). n_waiting() is the number of
// threads waiting in the current cycle (0 while one drains or resets, as
// Python); broken() whether it is broken. They never fail.
//
// The dummy backend (-Dthread_backend=dummy): a Barrier of 1 works (index
// 0, the action runs); a wait that needs another party returns, untimed,
// thread_error "acquire would deadlock: no other thread can release the
// lock" with the barrier as before the call; timed, it waits its timeout
// out, breaks the barrier and returns broken_barrier, as with no other
// party in the real backend.
//
// Neither copyable nor movable (its Condition points to its own Lock).
// Not async-signal-safe; process-private, like Lock.
#pragma once

#include <atomic>

#include <rawthread/condition.hpp>
#include <rawthread/lock.hpp>
#include <rawthread/result.hpp>
#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

namespace rawthread {

class Barrier {
 public:
  // Checks nothing: parties == 0 and a bad timeout are wait()'s errors.
  // constexpr: a static Barrier needs no constructor to run.
  constexpr explicit Barrier(unsigned parties, void (*action)() = nullptr,
                             double timeout = -1) noexcept
      : parties_(parties), cond_(lock_), action_(action), timeout_(timeout) {}
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // The arrival index, 0 .. parties-1. Errors: above.
  Result<unsigned> wait(double timeout = -1) noexcept;
  // Breaks the waiting threads' wait (broken_barrier), then usable again.
  void reset() noexcept;
  // Broken until reset(); wakes every waiting thread with broken_barrier.
  void abort() noexcept;

  unsigned parties() const noexcept { return parties_; }
  // Threads waiting in the cycle filling now; 0 while draining or resetting.
  unsigned n_waiting() const noexcept {
    return state_.load(std::memory_order_relaxed) == kFilling
               ? count_.load(std::memory_order_relaxed)
               : 0;
  }
  bool broken() const noexcept { return state_.load(std::memory_order_relaxed) == kBroken; }

 private:
  // CPython's states.
  static constexpr int kFilling = 0, kDraining = 1, kResetting = -1, kBroken = -2;

  Result<unsigned> wait_locked(double timeout) noexcept;
  void break_locked() noexcept;
  void exit_locked() noexcept;
  void notify_all_locked() noexcept;

  Lock lock_;
  unsigned parties_;  // beside lock_: no padding before cond_
  Condition cond_;    // over lock_
  void (*action_)();
  double timeout_;
  // Written under lock_ only; atomic so that the const getters may read
  // them without it (a snapshot, as Python's properties).
  std::atomic<int> state_{kFilling};
  std::atomic<unsigned> count_{0};  // threads inside wait() since filling began
};

}  // namespace rawthread
