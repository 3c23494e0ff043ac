// SPDX-License-Identifier: MIT
// The Lock's slow paths, on the wait src/lock_wait.hpp shares with RLock.
//
// The word follows Drepper's three-state mutex ("Futexes Are Tricky", 2011):
//   0 free, 1 held with nobody asleep, 2 held and someone may be asleep.
// A thread that may sleep always takes the lock as 2, never 1, so that the
// release after it wakes whoever slept behind it: release sees 2 and wakes one
// waiter, which takes the word as 2 again. No wake-up is lost because
// futex_wait(word, 2) sleeps only while the word still reads 2: a release
// between the exchange and the sleep makes the kernel return EAGAIN at once.
#include <rawthread/lock.hpp>

#include "backend.hpp"
#include "errors.hpp"
#include "kernel.hpp"
#include "lock_wait.hpp"

namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE {
namespace {

struct LockOps {
  static constexpr bool kReentrant = false;
  LockWord& word;

  bool try_take() const noexcept { return try_acquire(word); }
  bool marked(std::uint32_t state) const noexcept { return state == kContended; }
  // One exchange does both: 2 is "held, someone may sleep" whoever holds it.
  bool take_or_mark(std::uint32_t& sleep_on) const noexcept {
    sleep_on = kContended;
    return word.exchange(kContended, std::memory_order_acquire) == kFree;
  }
};

}  // namespace

Result<bool> acquire_slow(LockWord& word, bool blocking, double timeout) noexcept {
  return lock_wait::acquire(LockOps{word}, blocking, timeout);
}

void lock_slow(LockWord& word) noexcept {
  // The dummy backend: the lock is held and no other thread exists to release
  // it. The real backend would hang here for good, and lock() has no error to
  // return.
  if constexpr (backend::kDummy) __builtin_trap();
  lock_wait::take(LockOps{word});
}

bool lock_for(LockWord& word, double seconds) noexcept {
  return lock_wait::take_within(LockOps{word}, seconds);
}

void wake_one(LockWord& word) noexcept { kernel::futex_wake(&word, 1); }

Error release_unlocked() noexcept { return errors::kReleaseUnlocked; }

}  // namespace rawthread::detail
