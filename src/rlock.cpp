// SPDX-License-Identifier: MIT
// The RLock's slow paths, on the wait src/lock_wait.hpp shares with Lock.
//
// The word is 0 when free, else the owner's tid, with kWaiters set once a
// waiter may sleep. It is Lock's three states with the owner written in:
// a thread that may have slept takes the lock as tid | kWaiters, so that its
// release wakes the next sleeper, and a waiter sleeps on the word's value
// with kWaiters set, so that any release or change of owner since makes the
// kernel return EAGAIN instead of sleeping through it.
#include <rawthread/rlock.hpp>

#include "backend.hpp"
#include "errors.hpp"
#include "lock_wait.hpp"

namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE {
namespace {

struct RLockOps {
  static constexpr bool kReentrant = true;
  LockWord& word;
  std::uint32_t& count;
  std::uint32_t me;

  bool owned() const noexcept { return (word.load(std::memory_order_relaxed) & ~kWaiters) == me; }
  Result<bool> reenter() const noexcept {
    if (count == UINT32_MAX) return errors::kCountOverflow;
    ++count;
    return true;
  }

  // The count is written only once the word is ours: it belongs to the owner.
  bool try_take() const noexcept {
    std::uint32_t expected = kFree;
    if (!word.compare_exchange_strong(expected, me, std::memory_order_acquire,
                                      std::memory_order_relaxed))
      return false;
    count = 1;
    return true;
  }
  bool marked(std::uint32_t state) const noexcept { return (state & kWaiters) != 0; }
  // A CAS loop where Lock needs one exchange: the marked value depends on who
  // holds the lock, so it is read first and written only if still current.
  bool take_or_mark(std::uint32_t& sleep_on) const noexcept {
    std::uint32_t state = word.load(std::memory_order_relaxed);
    for (;;) {
      if (state == kFree) {
        if (word.compare_exchange_weak(state, me | kWaiters, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
          count = 1;
          return true;
        }
        continue;  // state reloaded by the failed CAS
      }
      sleep_on = state | kWaiters;
      // Relaxed: the mark orders nothing; the owner's release exchange reads
      // it, or this CAS fails and we look again.
      if (state == sleep_on || word.compare_exchange_weak(state, sleep_on,
                                                          std::memory_order_relaxed,
                                                          std::memory_order_relaxed))
        return false;
    }
  }
};

RLockOps ops_for(LockWord& word, std::uint32_t& count) noexcept {
  return {word, count, owner_id()};
}

}  // namespace

Result<bool> rlock_acquire_slow(LockWord& word, std::uint32_t& count, bool blocking,
                                double timeout) noexcept {
  return lock_wait::acquire(ops_for(word, count), blocking, timeout);
}

void rlock_lock_slow(LockWord& word, std::uint32_t& count) noexcept {
  RLockOps ops = ops_for(word, count);
  // lock() failed its try_lock: as the owner only at depth UINT32_MAX, where
  // waiting would be for itself and there is no error to return.
  if (ops.owned()) __builtin_trap();
  // The dummy backend: held by a thread that is not this one, so no one can
  // release it.
  if constexpr (backend::kDummy) __builtin_trap();
  lock_wait::take(ops);
}

bool rlock_lock_for(LockWord& word, std::uint32_t& count, double seconds) noexcept {
  RLockOps ops = ops_for(word, count);
  if (ops.owned()) return ops.reenter().has_value();
  return lock_wait::take_within(ops, seconds);
}

Error release_unowned() noexcept { return errors::kReleaseUnowned; }

}  // namespace rawthread::detail
