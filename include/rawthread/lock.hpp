// SPDX-License-Identifier: MIT
// rawthread/lock.hpp: Lock, Python's LockType, on one 32-bit futex word.
//
// A Lock is a binary semaphore, not an owned mutex: any thread may release it.
// It is also a C++ Lockable and TimedLockable, so std::lock_guard,
// std::unique_lock and std::scoped_lock work (Python's with-statement):
//
//   static rawthread::Lock counter_lock;         // no constructor runs
//   {
//     std::lock_guard guard(counter_lock);
//     ++counter;
//   }
//
// Locks are process-private: the futex calls are FUTEX_PRIVATE_FLAG ones, so
// a Lock in MAP_SHARED memory does not work across processes (a waiter in
// one is never woken by a release in another).
//
// The uncontended paths (acquire with default arguments, acquire(false),
// lock, try_lock, release, unlock) are inline: one atomic instruction and no
// system call. The kernel is entered only to sleep, and release wakes a
// sleeper only when the word says one may be sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include <rawthread/result.hpp>
#include <rawthread/timeout.hpp>  // TIMEOUT_MAX, chrono timeouts as waits
#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

namespace rawthread {

class Lock;

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {
// The futex word: 0 free; 1 held, nobody sleeps; 2 held, a waiter may sleep.
// The comments [lock: step] name the labels of tests/models/lock.pml.
using LockWord = std::atomic<std::uint32_t>;
inline constexpr std::uint32_t kFree = 0, kHeld = 1, kContended = 2;

// Requests made by request_interrupt / interrupt_main not yet consumed, in all
// threads. Nonzero sends a blocking acquire to the slow path, which looks for
// a request addressed to the calling thread. Hidden: reached without a GOT.
[[gnu::visibility("hidden")]] extern std::atomic<unsigned> pending_interrupts;

inline bool try_acquire(LockWord& word) noexcept {
  std::uint32_t expected = kFree;
  return word.compare_exchange_strong(expected, kHeld, std::memory_order_acquire,
                                      std::memory_order_relaxed);  // [lock: fast_take]
}

Result<bool> acquire_slow(LockWord& word, bool blocking, double timeout) noexcept;
void lock_slow(LockWord& word) noexcept;
bool lock_for(LockWord& word, double seconds) noexcept;
void wake_one(LockWord& word) noexcept;
Error release_unlocked() noexcept;
}  // namespace detail

class Lock {
 public:
  // Unlocked. constexpr: a static Lock needs no constructor to run.
  constexpr Lock() noexcept = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // Python's acquire(blocking=True, timeout=-1). Returns true when the lock was
  // taken, false when not (non-blocking and held, or the timeout ran out).
  // Errors, checked in this order:
  //   value_error    "can't specify a timeout for a non-blocking call"
  //   value_error    "timeout value must be a non-negative number"
  //   overflow_error "timeout value is too large"  (timeout > TIMEOUT_MAX)
  //   interrupted    a blocking acquire (timed or not) ended by an interrupt
  //                  requested for this thread (request_interrupt,
  //                  interrupt_main); the lock is not taken
  //   thread_error   "lock wait failed", sys_errno the futex call's errno:
  //                  the kernel refused to sleep on the lock (see below);
  //                  the lock is not taken
  // Timeouts run on CLOCK_MONOTONIC; a timed-out acquire waited >= timeout.
  // A signal handler that requests no interrupt does not end the wait: it
  // resumes until the same deadline.
  //
  // The kernel refuses to wait only on a misused lock or in a confined
  // process: EINVAL for a Lock that is not 4-byte aligned (one reached
  // through a cast of misaligned storage, e.g. a rawthread_lock* built from
  // an odd address in C: x86_64 performs the atomics on it, the futex call
  // does not; aarch64 and riscv64 may fault with SIGBUS before any wait),
  // ENOSYS or EPERM where a seccomp filter denies futex. The wait ends at
  // the first such error, at once: it does not spin.
  Result<bool> acquire(bool blocking = true, double timeout = -1) noexcept {
    if (timeout == -1) {
      if (!blocking) return try_lock();
      if (detail::pending_interrupts.load(std::memory_order_relaxed) == 0 && try_lock())
        return true;
    }
    return detail::acquire_slow(word_, blocking, timeout);
  }

  // Releases the lock; any thread may. On an unlocked lock: thread_error
  // "release unlocked lock", and the lock stays unlocked. Async-signal-safe:
  // one atomic exchange and at most one futex wake, so a signal handler may
  // call it, whatever the code it interrupted does with this lock.
  Result<void> release() noexcept {
    // One exchange decides: a concurrent acquire either took the lock before
    // it (we release that hold) or finds it free after it.
    std::uint32_t old =
        word_.exchange(detail::kFree, std::memory_order_release);  // [lock: release]
    if (old == detail::kFree) return detail::release_unlocked();
    if (old == detail::kContended) detail::wake_one(word_);  // [lock: wake]
    return {};
  }

  // Whether some thread holds the lock (a snapshot). Async-signal-safe: one
  // atomic load.
  bool locked() const noexcept { return word_.load(std::memory_order_relaxed) != detail::kFree; }

  // CPython's _at_fork_reinit(): makes the lock free again, whoever held it
  // and whoever waited. For the child of fork(), where the holder and the
  // waiters were threads that the child does not have. Anywhere else it
  // would strand them: call it only while no other thread can use the lock.
  void at_fork_reinit() noexcept { word_.store(detail::kFree, std::memory_order_relaxed); }

  // Lockable / TimedLockable. These never end for an interrupt and leave a
  // pending interrupt request pending. unlock() is release() without the
  // error, and async-signal-safe as it is.
  //
  // lock(), try_lock_for() and try_lock_until() have no error to return:
  // where acquire() returns "lock wait failed" (the kernel refuses to sleep
  // on the lock, above), they trap (__builtin_trap: SIGILL on x86_64,
  // SIGTRAP on aarch64 and riscv64), at the call that met the misuse.
  // Returning would pass for the lock taken, or for the time run out, and
  // falling back to spinning would burn a CPU for as long as the holder
  // keeps the lock. Use acquire() where the error must be a value.
  void lock() noexcept {
    if (!try_lock()) detail::lock_slow(word_);
  }
  bool try_lock() noexcept { return detail::try_acquire(word_); }
  void unlock() noexcept {
    if (word_.exchange(detail::kFree, std::memory_order_release) ==  // [lock: release]
        detail::kContended)
      detail::wake_one(word_);  // [lock: wake]
  }
  // Timed, for any clock and any arithmetic representation (integer or
  // floating point, any period), by rawthread/timeout.hpp's rules: a
  // duration that is zero, negative or NaN, and a deadline already reached
  // (time_point::min() too) or NaN, is try_lock(); a positive duration waits
  // at least that long, and one beyond TIMEOUT_MAX (+infinity,
  // duration::max(), time_point<steady_clock, hours>::max()) waits
  // TIMEOUT_MAX. No value overflows on the way. The wait runs on
  // CLOCK_MONOTONIC; the time left until a deadline is measured again on its
  // own clock after each wait, so a deadline on any clock is honoured.
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& duration) noexcept {
    const double seconds = detail::wait_seconds(duration);
    return seconds > 0 ? detail::lock_for(word_, seconds) : try_lock();
  }
  template <class Clock, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) noexcept {
    for (;;) {
      const double left = detail::wait_seconds_until(deadline);
      if (left <= 0) return try_lock();
      if (detail::lock_for(word_, left)) return true;
    }
  }

 private:
  // Condition::notify_all moves its waiters onto this word's futex queue
  // (FUTEX_REQUEUE), marking it contended first.
  friend class Condition;

  detail::LockWord word_{detail::kFree};
};

using LockType = Lock;

// Python's allocate_lock(): a new, unlocked Lock (guaranteed copy elision).
inline Lock allocate_lock() noexcept { return Lock{}; }

static_assert(sizeof(Lock) == 4 && alignof(Lock) == 4, "a Lock is one aligned futex word");
static_assert(detail::LockWord::is_always_lock_free);

}  // namespace rawthread
