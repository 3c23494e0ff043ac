// SPDX-License-Identifier: MIT
// The Semaphore's slow paths, on the wait src/lock_wait.hpp shares with Lock
// and RLock.
//
// The word (rawthread/semaphore.hpp): the value in the low half, the count of
// threads that may sleep in the high half. A waiter that finds the value 0
// counts itself in the same compare-and-swap that sees the 0, and sleeps
// while the value's half still reads 0; a release adds its tokens and reads
// the count in one step, and wakes min(n, count) sleepers. So no release
// misses a sleeper: one that comes after the count sees it, and one that
// comes between the count and the sleep changes the value, which makes the
// kernel return EAGAIN at once. A waiter leaves the count as it takes its
// token (the same compare-and-swap again), or as it gives up.
//
// No wake is swallowed: the kernel reports a woken waiter as woken (0), even
// when its deadline passed or a signal came meanwhile, and the loop then
// tries to take before anything else. A waiter that reports a timeout or an
// interrupt was not woken (ETIMEDOUT, EINTR, or the collapsed deadline's
// EINVAL before it slept), so the release's wake went to another sleeper.
#include <rawthread/semaphore.hpp>

#include <climits>

#include "backend.hpp"
#include "errors.hpp"
#include "kernel.hpp"
#include "lock_wait.hpp"

namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ||
              __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);

// The value's half of the word, for the kernel: futex words are 32-bit. Only
// the kernel reads it through this pointer.
const std::atomic<std::uint32_t>* value_half(SemaphoreWord& word) noexcept {
  constexpr std::size_t offset = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 0 : 4;
  return reinterpret_cast<const std::atomic<std::uint32_t>*>(
      reinterpret_cast<const unsigned char*>(&word) + offset);
}

struct SemaphoreOps {
  static constexpr bool kReentrant = false;
  SemaphoreWord& word;
  bool counted = false;  // whether this waiter is in the word's sleeper count

  explicit SemaphoreOps(SemaphoreWord& semaphore) noexcept : word(semaphore) {}
  // Copied only before a wait counts itself (lock_wait passes the policy by
  // value): the copy that counted is the one that leaves.
  SemaphoreOps(const SemaphoreOps&) = default;
  SemaphoreOps& operator=(const SemaphoreOps&) = delete;
  ~SemaphoreOps() { leave(); }

  // A token is handed over by another thread: no spin (lock_wait.hpp says why).
  static constexpr bool kSpin = false;
  const std::atomic<std::uint32_t>* futex_word() const noexcept { return value_half(word); }

  bool try_take() const noexcept { return semaphore_try_take(word); }
  bool marked(std::uint64_t state) const noexcept { return (state >> 32) != 0; }
  // Takes one (leaving the count if in it), or joins the count; either in one
  // compare-and-swap with the value it read.
  bool take_or_mark(std::uint32_t& sleep_on) noexcept {
    sleep_on = 0;
    std::uint64_t state = word.load(std::memory_order_relaxed);
    for (;;) {
      const bool take = semaphore_value(state) != 0;
      if (!take && counted) return false;
      const std::uint64_t next =
          take ? state - 1 - (counted ? kSemaphoreSleeper : 0) : state + kSemaphoreSleeper;
      if (word.compare_exchange_weak(state, next, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {  // [semaphore: take_or_count]
        counted = !take;
        return take;
      }
    }
  }
  // The wait ended without a token (timed out, interrupted, failed): no
  // longer a sleeper. Tokens a release added meanwhile stay for the others:
  // its wake went to a sleeper still in the kernel (this one reported no
  // wake), or to none.
  void leave() noexcept {
    if (counted) word.fetch_sub(kSemaphoreSleeper, std::memory_order_relaxed);  // [semaphore: leave]
    counted = false;
  }
};

}  // namespace

Result<bool> semaphore_acquire_slow(SemaphoreWord& word, bool blocking, double timeout) noexcept {
  return lock_wait::acquire(SemaphoreOps{word}, blocking, timeout);
}

void semaphore_lock_slow(SemaphoreWord& word) noexcept {
  // The dummy backend: the value is 0 and no other thread exists to release
  // it; the real backend would hang here, and lock() has no error to return.
  if constexpr (backend::kDummy) __builtin_trap();
  lock_wait::take(SemaphoreOps{word});
}

bool semaphore_lock_for(SemaphoreWord& word, double seconds) noexcept {
  return lock_wait::take_within(SemaphoreOps{word}, seconds);
}

void semaphore_wake(SemaphoreWord& word, std::uint32_t tokens, std::uint32_t sleepers) noexcept {
  std::uint32_t wake = tokens < sleepers ? tokens : sleepers;
  if (wake > INT_MAX) wake = INT_MAX;
  kernel::futex_wake(value_half(word), static_cast<int>(wake));
}

Error semaphore_release_none() noexcept { return errors::kReleaseNone; }

Error semaphore_release_past(bool bounded) noexcept {
  return bounded ? errors::kReleasedTooMany : errors::kSemaphoreOverflow;
}

}  // namespace rawthread::detail
