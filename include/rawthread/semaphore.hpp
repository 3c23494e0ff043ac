// SPDX-License-Identifier: MIT
// rawthread/semaphore.hpp: Semaphore and BoundedSemaphore, Python's
// threading.Semaphore and threading.BoundedSemaphore, on one 64-bit word.
//
//   static rawthread::Semaphore slots(4);        // no constructor runs
//   if (auto r = slots.acquire(); r && *r) {
//     ...                                        // at most 4 threads here
//     (void)slots.release();
//   }
//
// The value is a 32-bit count, 0 .. UINT32_MAX. The uncontended paths
// (acquire with default arguments, acquire(false), release when nobody
// sleeps, try_lock, unlock) are inline: one compare-and-swap and no system
// call. The kernel is entered only to sleep, and release wakes sleepers only
// when the word says some may be sleeping, and at most n of them: no herd.
//
// Both are process-private (FUTEX_PRIVATE_FLAG), like Lock. No order among
// the waiters is promised (CPython promises none either).
//
// acquire() takes Lock's arguments, with Lock's checks, errors, clock and
// interrupts (rawthread/lock.hpp):
//   value_error    "can't specify a timeout for a non-blocking call"
//   value_error    "timeout value must be a non-negative number"
//   overflow_error "timeout value is too large"  (timeout > TIMEOUT_MAX)
//   interrupted    a blocking acquire ended by an interrupt requested for
//                  this thread (one pending when it is called included);
//                  nothing is taken
//   thread_error   "lock wait failed": the kernel refused to sleep on the
//                  word (misaligned, or futex denied by seccomp)
// It returns true when it took one, false when not (non-blocking and the
// value 0, or the timeout ran out: a timed-out acquire waited >= timeout on
// CLOCK_MONOTONIC). The dummy backend (-Dthread_backend=dummy): a blocking
// acquire of a 0 semaphore without a timeout returns thread_error "acquire
// would deadlock: no other thread can release the lock" (no other thread
// exists to release it); a timed one waits its timeout out and returns false.
//
// release(n) adds n and wakes at most n waiters. Errors (nothing changes):
//   value_error    "n must be one or more"                   (n == 0)
//   overflow_error "semaphore value would exceed UINT32_MAX"  (Semaphore)
//   value_error    "Semaphore released too many times"  (BoundedSemaphore:
//                  the value would exceed the initial value)
// release is async-signal-safe: a compare-and-swap loop and at most one
// futex wake.
//
// Lockable / TimedLockable (std::lock_guard, std::counting_semaphore-like
// use): lock() = acquire one, unlock() = release one (errors ignored),
// try_lock(), and try_lock_for / try_lock_until by rawthread/timeout.hpp's
// rules, as Lock's. These never end for an interrupt; where acquire would
// return "lock wait failed" they trap, as Lock's do. In the dummy backend,
// lock() of a 0 semaphore traps (it would wait for ever).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include <rawthread/lock.hpp>  // detail::pending_interrupts
#include <rawthread/result.hpp>
#include <rawthread/timeout.hpp>
#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

namespace rawthread {

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {
// The word: the value in the low 32 bits, the number of threads that may be
// asleep waiting for it in the high 32. One word, so that a release adds its
// tokens and learns whether to wake in the same atomic step, and touches the
// semaphore no more after it (a waiter it satisfied may destroy it at once);
// the futex call sleeps on the value's half. The comments [semaphore: step]
// name the labels of tests/models/semaphore.pml.
using SemaphoreWord = std::atomic<std::uint64_t>;
inline constexpr std::uint64_t kSemaphoreSleeper = std::uint64_t{1} << 32;

inline std::uint32_t semaphore_value(std::uint64_t state) noexcept {
  return static_cast<std::uint32_t>(state);
}

// Takes one if the value is not 0.
inline bool semaphore_try_take(SemaphoreWord& word) noexcept {
  std::uint64_t state = word.load(std::memory_order_relaxed);
  while (semaphore_value(state) != 0) {
    if (word.compare_exchange_weak(state, state - 1, std::memory_order_acquire,
                                   std::memory_order_relaxed))  // [semaphore: fast_take]
      return true;
  }
  return false;
}

Result<bool> semaphore_acquire_slow(SemaphoreWord& word, bool blocking, double timeout) noexcept;
void semaphore_lock_slow(SemaphoreWord& word) noexcept;
bool semaphore_lock_for(SemaphoreWord& word, double seconds) noexcept;
void semaphore_wake(SemaphoreWord& word, std::uint32_t tokens, std::uint32_t sleepers) noexcept;
Error semaphore_release_none() noexcept;
Error semaphore_release_past(bool bounded) noexcept;

// Adds n unless the value would pass `limit`. Returns whether it added.
inline bool semaphore_add(SemaphoreWord& word, std::uint32_t n, std::uint32_t limit) noexcept {
  std::uint64_t state = word.load(std::memory_order_relaxed);
  do {
    if (n > limit - semaphore_value(state)) return false;  // the value never exceeds limit
  } while (!word.compare_exchange_weak(state, state + n, std::memory_order_release,
                                       std::memory_order_relaxed));  // [semaphore: release]
  // The state before the add: its sleepers are those who may need a token.
  if (const std::uint32_t sleepers = static_cast<std::uint32_t>(state >> 32); sleepers != 0)
    semaphore_wake(word, n, sleepers);  // [semaphore: wake]
  return true;
}

inline Result<void> semaphore_release(SemaphoreWord& word, unsigned n, std::uint32_t limit,
                                      bool bounded) noexcept {
  if (n == 0) return semaphore_release_none();
  if (!semaphore_add(word, n, limit)) return semaphore_release_past(bounded);
  return {};
}

// The part both classes share.
class SemaphoreBase {
 public:
  SemaphoreBase(const SemaphoreBase&) = delete;
  SemaphoreBase& operator=(const SemaphoreBase&) = delete;

  Result<bool> acquire(bool blocking = true, double timeout = -1) noexcept {
    if (timeout == -1) {
      if (!blocking) return try_lock();
      if (pending_interrupts.load(std::memory_order_relaxed) == 0 && try_lock()) return true;
    }
    return semaphore_acquire_slow(word_, blocking, timeout);
  }

  void lock() noexcept {
    if (!try_lock()) semaphore_lock_slow(word_);
  }
  bool try_lock() noexcept { return semaphore_try_take(word_); }
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& duration) noexcept {
    const double seconds = wait_seconds(duration);
    return seconds > 0 ? semaphore_lock_for(word_, seconds) : try_lock();
  }
  template <class Clock, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) noexcept {
    for (;;) {
      const double left = wait_seconds_until(deadline);
      if (left <= 0) return try_lock();
      if (semaphore_lock_for(word_, left)) return true;
    }
  }

 protected:
  constexpr explicit SemaphoreBase(unsigned value) noexcept : word_{value} {}
  SemaphoreWord word_;
};
}  // namespace detail

class Semaphore : public detail::SemaphoreBase {
 public:
  // constexpr: a static Semaphore needs no constructor to run.
  constexpr explicit Semaphore(unsigned value = 1) noexcept : SemaphoreBase(value) {}

  Result<void> release(unsigned n = 1) noexcept {
    return detail::semaphore_release(word_, n, UINT32_MAX, /*bounded=*/false);
  }
  void unlock() noexcept { (void)release(); }
};

class BoundedSemaphore : public detail::SemaphoreBase {
 public:
  constexpr explicit BoundedSemaphore(unsigned value = 1) noexcept
      : SemaphoreBase(value), initial_(value) {}

  // The value may not exceed the initial value: "Semaphore released too
  // many times", checked before anything changes.
  Result<void> release(unsigned n = 1) noexcept {
    return detail::semaphore_release(word_, n, initial_, /*bounded=*/true);
  }
  void unlock() noexcept { (void)release(); }

 private:
  std::uint32_t initial_;
};

static_assert(sizeof(Semaphore) == 8 && alignof(Semaphore) == 8);
static_assert(sizeof(BoundedSemaphore) == 16);
static_assert(detail::SemaphoreWord::is_always_lock_free);

}  // namespace rawthread
