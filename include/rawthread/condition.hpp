// SPDX-License-Identifier: MIT
// rawthread/condition.hpp: Condition, Python's threading.Condition, over a
// Lock, an RLock, or an RLock of its own; on futexes, no heap.
//
//   static rawthread::Lock lock;
//   static rawthread::Condition ready(lock);     // no constructor runs
//   static bool done = false;
//
//   // waiter                                  // notifier
//   lock.lock();                               lock.lock();
//   Result<bool> ok = ready.wait_for(          done = true;
//       [] { return done; }, 5.0);             (void)ready.notify();
//   lock.unlock();                             lock.unlock();
//
// wait(timeout) gives the lock up fully (an RLock at any depth), sleeps until
// a notify picks this waiter, the timeout runs out or an interrupt is
// requested for this thread, then takes the lock back, at the same depth,
// whatever the outcome (an error included, once the lock was given up). It
// returns true when notified, false on timeout. Nothing else ends it: the
// kernel's spurious wake-ups are absorbed, so a wait that returns true was
// notified (as in CPython). Timeouts are Lock's: -1 waits for ever, 0 gives
// the lock up, takes it back and reports whether a notify came meanwhile,
// positive ones wait at least that long on CLOCK_MONOTONIC.
//
// notify(n) wakes the n longest-waiting threads (FIFO, as CPython);
// notify_all() wakes every thread waiting at the call. A notified thread
// that sleeps is moved onto the lock's own queue (it must take the lock
// back, and the notifier holds it): it runs once the lock is released, one
// waiter per release. A notification is never lost: a waiter that times
// out or is interrupted at the moment it is notified returns true (and
// leaves the interrupt request pending, for the next blocking call).
// A notify or notify_all that finds nobody waiting costs one atomic read.
// Taking the lock back is neither timed nor interruptible.
//
// wait's errors, in this order; each leaves the lock held as it was and
// changes nothing:
//   thread_error   "cannot wait on un-acquired lock": the caller does not
//                  hold the lock (for a Lock, "held" means locked, by any
//                  thread, as in Python; an RLock must be the caller's)
//   value_error    "timeout value must be a non-negative number" (negative
//                  other than -1, NaN; CPython treats these as 0)
//   overflow_error "timeout value is too large" (> TIMEOUT_MAX)
//   interrupted    "lock acquire interrupted": a request was pending for this
//                  thread (consumed)
//   thread_error   "acquire would deadlock: ..." (the dummy backend only: an
//                  untimed wait that no other thread could ever notify)
// and, once the lock was given up (it is held again when they return):
//   interrupted    a request for this thread arrived during the wait
//   thread_error   "lock wait failed": the kernel refused the futex wait
//                  (a seccomp filter), as for Lock::acquire
// notify / notify_all by a thread that does not hold the lock: thread_error
// "cannot notify on un-acquired lock", nothing woken.
//
// Interrupts work as for Lock::acquire (rawthread/interrupt.hpp): a request
// made just before the wait sleeps still ends it.
//
// The dummy backend (-Dthread_backend=dummy): no other thread exists to
// notify, so an untimed wait returns the dummy's deadlock error at once, the
// lock held as before; a timed wait gives the lock up, waits out its time,
// takes the lock back and returns false.
//
// Each waiter's record lives on its own stack, linked into the Condition's
// FIFO list; nothing is allocated. Not async-signal-safe: a handler must not
// wait or notify. Like Lock, process-private.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include <rawthread/lock.hpp>
#include <rawthread/result.hpp>
#include <rawthread/rlock.hpp>
#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

namespace rawthread {

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {
// One waiting thread's record, on its stack (src/condition.cpp).
struct CondWaiter;
// CLOCK_MONOTONIC in nanoseconds, for wait_for's deadline.
std::int64_t monotonic_now_ns() noexcept;
}  // namespace detail

class Condition {
 public:
  // Over an RLock of its own, like threading.Condition().
  constexpr Condition() noexcept : rlock_(&own_) {}
  // Over the caller's lock, which must outlive the Condition.
  constexpr explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
  constexpr explicit Condition(RLock& lock) noexcept : rlock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // The lock's own calls, forwarded (Python's acquire/release, Lockable,
  // TimedLockable), with the lock's semantics and errors.
  Result<bool> acquire(bool blocking = true, double timeout = -1) noexcept {
    return lock_ != nullptr ? lock_->acquire(blocking, timeout)
                            : rlock_->acquire(blocking, timeout);
  }
  Result<void> release() noexcept {
    return lock_ != nullptr ? lock_->release() : rlock_->release();
  }
  void lock() noexcept {
    if (lock_ != nullptr)
      lock_->lock();
    else
      rlock_->lock();
  }
  bool try_lock() noexcept { return lock_ != nullptr ? lock_->try_lock() : rlock_->try_lock(); }
  void unlock() noexcept {
    if (lock_ != nullptr)
      lock_->unlock();
    else
      rlock_->unlock();
  }
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& duration) noexcept {
    return lock_ != nullptr ? lock_->try_lock_for(duration) : rlock_->try_lock_for(duration);
  }
  template <class Clock, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) noexcept {
    return lock_ != nullptr ? lock_->try_lock_until(deadline) : rlock_->try_lock_until(deadline);
  }

  // true: notified; false: the timeout ran out. Errors: above.
  Result<bool> wait(double timeout = -1) noexcept;

  // Python's wait_for: waits until pred() is true, or the timeout (one
  // deadline, fixed at the first wait, for all of them) runs out; returns
  // pred()'s last value. pred runs with the lock held, first before any
  // wait. wait's argument errors come first, before pred runs; an error of
  // a wait ends wait_for with it.
  template <class Pred>
  Result<bool> wait_for(Pred pred, double timeout = -1) {
    if (Result<void> ok = check_wait(timeout); !ok) return ok.error();
    bool result = static_cast<bool>(pred());
    std::int64_t end_ns = 0;
    bool first = true;
    while (!result) {
      double wait_time = timeout;
      if (timeout != -1) {
        if (first) {
          end_ns = detail::monotonic_now_ns() + static_cast<std::int64_t>(timeout * 1e9) + 1;
        } else {
          const std::int64_t left_ns = end_ns - detail::monotonic_now_ns();
          if (left_ns <= 0) break;
          wait_time = static_cast<double>(left_ns) / 1e9;
        }
      }
      first = false;
      Result<bool> waited = wait(wait_time);
      if (!waited) return waited.error();
      result = static_cast<bool>(pred());
    }
    return result;
  }

  // Wakes the n longest-waiting threads (fewer if fewer wait). Error: above.
  Result<void> notify(std::size_t n = 1) noexcept;
  // Wakes every thread waiting now. Error: above.
  Result<void> notify_all() noexcept;

 private:
  bool held() const noexcept { return lock_ != nullptr ? lock_->locked() : rlock_->is_owned(); }
  // wait's argument checks (held, timeout), nothing else.
  Result<void> check_wait(double timeout) const noexcept;
  void link(detail::CondWaiter& waiter) noexcept;
  void unlink(detail::CondWaiter& waiter) noexcept;
  bool leave(detail::CondWaiter& waiter) noexcept;
  void wake(std::size_t n) noexcept;
  bool mark_contended() noexcept;
  detail::LockWord& lock_word() noexcept;
  void retake_contended() noexcept;

  RLock own_;               // the lock of Condition(), unused otherwise
  Lock* lock_ = nullptr;    // the lock, when a Lock
  RLock* rlock_ = nullptr;  // the lock, when an RLock (own_ or the caller's)
  // Guards the waiter list. The user's lock cannot: for a Lock, "held" is
  // "locked by someone", so two threads may pass the check at once.
  Lock list_lock_;
  // The longest waiting. Atomic only for notify's empty check, made
  // without list_lock_ (relaxed everywhere: written under list_lock_).
  std::atomic<detail::CondWaiter*> head_{nullptr};
  detail::CondWaiter* tail_ = nullptr;
};

}  // namespace rawthread
