// SPDX-License-Identifier: MIT
// rawthread/event.hpp: Event, Python's threading.Event, on one 32-bit futex
// word.
//
//   static rawthread::Event ready;               // no constructor runs
//   // one thread:                     // others:
//   publish();                         if (auto r = ready.wait(); r && *r) use();
//   ready.set();
//
// set(), clear() and is_set() never block and never fail; set() is
// async-signal-safe (one compare-and-swap loop and at most one futex wake,
// only when a waiter may sleep), so a signal handler may set an Event that
// threads, the interrupted one included, wait on. Process-private, like Lock.
//
// wait(timeout) returns true once the flag is set: at once if it is set, or
// when a set() comes, even if a clear() follows that set() before the waiter
// runs again (Python's guarantee, CPython issue #13502). false when the
// timeout ran out first (timed out: it waited >= timeout on
// CLOCK_MONOTONIC). wait(0) only looks. Errors, those of Lock::acquire with
// blocking = true (rawthread/lock.hpp):
//   value_error    "timeout value must be a non-negative number"
//   overflow_error "timeout value is too large"  (timeout > TIMEOUT_MAX)
//   interrupted    an interrupt requested for this thread (one pending
//                  when wait is called included, even if the flag is set)
//   thread_error   "lock wait failed": the kernel refused to sleep on the
//                  word (misaligned, or futex denied by seccomp)
// The dummy backend (-Dthread_backend=dummy): wait() without a timeout on a
// clear Event returns thread_error "acquire would deadlock: no other thread
// can release the lock" (no other thread exists to set it, a signal
// handler aside); a timed one waits its timeout out; a set() before the wait
// makes it return true.
#pragma once

#include <atomic>
#include <cstdint>

#include <rawthread/lock.hpp>  // detail::pending_interrupts
#include <rawthread/result.hpp>
#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

namespace rawthread {

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {
// The word: bit 0 the flag, bit 1 "a waiter may sleep", the rest a
// generation that each set() of a clear Event advances. A waiter sleeps on
// the word's value, so any set() since it looked makes the kernel return
// EAGAIN; and it returns true when the flag is set or the generation moved,
// so a set() then clear() while it was asleep still counts. The generation
// has 30 bits: a waiter misses a set only if exactly 2^30 set/clear pairs
// pass between its look at the word and its futex call.
using EventWord = std::atomic<std::uint32_t>;
inline constexpr std::uint32_t kEventSet = 1, kEventSleepers = 2, kEventGeneration = 4;

Result<bool> event_wait_slow(EventWord& word, double timeout) noexcept;
void event_wake_all(EventWord& word) noexcept;
}  // namespace detail

class Event {
 public:
  // Clear. constexpr: a static Event needs no constructor to run.
  constexpr Event() noexcept = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Whether the flag is set (a snapshot). Async-signal-safe.
  bool is_set() const noexcept {
    return (word_.load(std::memory_order_acquire) & detail::kEventSet) != 0;
  }

  // Sets the flag and wakes every waiter. Async-signal-safe. What the caller
  // wrote before set() is visible to a waiter that returns true for it.
  void set() noexcept {
    std::uint32_t state = word_.load(std::memory_order_relaxed);
    std::uint32_t next;
    do {
      if ((state & detail::kEventSet) != 0) return;
      next = ((state + detail::kEventGeneration) | detail::kEventSet) & ~detail::kEventSleepers;
    } while (!word_.compare_exchange_weak(state, next, std::memory_order_release,
                                          std::memory_order_relaxed));
    if ((state & detail::kEventSleepers) != 0) detail::event_wake_all(word_);
  }

  // Clears the flag; wakes no one. Async-signal-safe.
  void clear() noexcept { word_.fetch_and(~detail::kEventSet, std::memory_order_relaxed); }

  Result<bool> wait(double timeout = -1) noexcept {
    if (timeout == -1 && detail::pending_interrupts.load(std::memory_order_relaxed) == 0 &&
        is_set())
      return true;
    return detail::event_wait_slow(word_, timeout);
  }

 private:
  detail::EventWord word_{0};
};

static_assert(sizeof(Event) == 4 && alignof(Event) == 4, "an Event is one aligned futex word");

}  // namespace rawthread
