// SPDX-License-Identifier: MIT
// Barrier: CPython's threading.Barrier state machine (filling, draining,
// resetting, broken) under a Lock, with a Condition over that Lock for every
// wait. Why not a futex word of its own: the waits must be timed and
// interruptible without a window, and a waiter must tell "released" from
// "reset" from "broken"; Condition already gives all of that, and the
// Barrier's own work (a count, a state) is a few stores under the lock.
//
// CPython's shape: wait() = _enter (wait while the previous cycle drains or
// a reset completes), take an index, then either release the others (the
// last arriver) or wait for the state to leave filling; and on every way
// out, its `finally`: the count drops, and the last one out of a draining
// or resetting barrier sets it filling again and wakes those in _enter.
#include <rawthread/barrier.hpp>

#include <cstdint>

#include <rawthread/interrupt.hpp>

#include "clock.hpp"
#include "errors.hpp"
#include "interrupt.hpp"

namespace rawthread {

namespace {

// What is left of the wait ending at end_ns (-1: none), as a Condition
// timeout: -1 for ever, else >= 0 (0 once passed: one last look).
double left(std::int64_t end_ns) noexcept {
  if (end_ns == -1) return -1;
  const std::int64_t left_ns = end_ns - clock::now_ns();
  return left_ns <= 0 ? 0 : static_cast<double>(left_ns) / static_cast<double>(clock::kNanosPerSecond);
}

}  // namespace

Result<unsigned> Barrier::wait(double timeout) noexcept {
  if (parties_ == 0) return errors::kBarrierNoParties;
  if (timeout == -1) timeout = timeout_;
  if (const Error* bad = errors::bad_timeout(timeout)) return *bad;
  // A request made while no wait was running ends this one at once, with
  // nothing changed (as Lock::acquire), the last arriver's included.
  if (interrupt::consume_own()) return errors::kInterrupted;
  lock_.lock();
  Result<unsigned> index = wait_locked(timeout);
  lock_.unlock();
  return index;
}

Result<unsigned> Barrier::wait_locked(double timeout) noexcept {
  // One deadline for the whole call, _enter's wait included.
  const std::int64_t end_ns = timeout == -1 ? -1 : clock::now_ns() + clock::ceil_ns(timeout);
  // The predicates run under lock_, inside the Condition's waits.
  auto leaving = [this] {
    const int state = state_.load(std::memory_order_relaxed);
    return state != kDraining && state != kResetting;
  };
  auto released = [this] { return state_.load(std::memory_order_relaxed) != kFilling; };

  // _enter: not counted yet, so an error here needs no `finally`.
  Result<bool> entered = cond_.wait_for(leaving, left(end_ns));
  if (!entered) return entered.error();  // interrupted, wait failed
  if (!*entered) {
    break_locked();
    return errors::kBarrierBroken;
  }
  if (state_.load(std::memory_order_relaxed) == kBroken) return errors::kBarrierBroken;

  const unsigned arrived = count_.load(std::memory_order_relaxed);
  count_.store(arrived + 1, std::memory_order_relaxed);
  Result<unsigned> out = arrived;
  if (arrived + 1 == parties_) {
    // The last arriver: the action, then release the others (CPython's
    // _release; an action cannot fail here, it has no exceptions).
    if (action_ != nullptr) action_();
    state_.store(kDraining, std::memory_order_relaxed);
    notify_all_locked();
  } else {
    Result<bool> filled = cond_.wait_for(released, left(end_ns));
    if (!filled) {
      // Interrupted (or the kernel refused the wait; in the dummy backend,
      // an untimed wait no other party could end): CPython's
      // KeyboardInterrupt, which only leaves; the barrier is not broken.
      out = filled.error();
    } else if (!*filled) {
      break_locked();  // timed out
      out = errors::kBarrierBroken;
    } else if (state_.load(std::memory_order_relaxed) < 0) {
      out = errors::kBarrierBroken;  // reset or aborted
    }
  }
  // CPython's `finally`, on every way out once counted.
  count_.store(count_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  exit_locked();
  return out;
}

// CPython's _exit: the last one out of a draining or resetting barrier
// lets the next cycle in.
void Barrier::exit_locked() noexcept {
  if (count_.load(std::memory_order_relaxed) != 0) return;
  const int state = state_.load(std::memory_order_relaxed);
  if (state != kDraining && state != kResetting) return;
  state_.store(kFilling, std::memory_order_relaxed);
  notify_all_locked();
}

void Barrier::break_locked() noexcept {
  state_.store(kBroken, std::memory_order_relaxed);
  notify_all_locked();
}

// notify_all fails only when the caller does not hold the lock; every caller
// here holds lock_, which only this Barrier takes. An error is then a
// corrupted or misused Barrier (overwritten, or copied bitwise in C while in
// use), and reset()/abort() have no way to report it: trap, rather than go
// on with waiters that nobody will wake. (No assert: the core has no libc.)
void Barrier::notify_all_locked() noexcept {
  if (!cond_.notify_all()) __builtin_trap();
}

void Barrier::reset() noexcept {
  lock_.lock();
  if (count_.load(std::memory_order_relaxed) > 0) {
    // Those waiting leave with broken_barrier; the last out sets it filling.
    const int state = state_.load(std::memory_order_relaxed);
    if (state == kFilling || state == kBroken) state_.store(kResetting, std::memory_order_relaxed);
  } else {
    state_.store(kFilling, std::memory_order_relaxed);
  }
  notify_all_locked();
  lock_.unlock();
}

void Barrier::abort() noexcept {
  lock_.lock();
  break_locked();
  lock_.unlock();
}

}  // namespace rawthread
