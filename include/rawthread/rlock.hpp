// SPDX-License-Identifier: MIT
// rawthread/rlock.hpp: RLock, Python's re-entrant lock, on one 32-bit futex
// word and a recursion count.
//
// An RLock has an owner, the thread that acquired it. The owner may acquire it
// again, with no wait and no system call, and must release it as many times
// before another thread can take it; only the owner may release it. Like Lock
// it is Lockable and TimedLockable, so std::lock_guard, std::unique_lock and
// std::scoped_lock work, nested too:
//
//   static rawthread::RLock table_lock;            // no constructor runs
//   void add(Row row) { std::lock_guard guard(table_lock); ... }
//   void add_all(Rows rows) {
//     std::lock_guard guard(table_lock);
//     for (Row row : rows) add(row);               // takes it again: depth 2
//   }
//
// States, as (word, count):
//   free                        (0, 0)
//   held by thread T, depth n   (T, n), T its kernel tid (get_native_id()), n >= 1
//   the same, a waiter may sleep  (T | kWaiters, n)
//
// acquire's errors, in this order:
//   value_error    "can't specify a timeout for a non-blocking call"
//   value_error    "timeout value must be a non-negative number"
//   overflow_error "timeout value is too large"  (timeout > TIMEOUT_MAX)
//   interrupted    a blocking acquire (timed or not, the owner's too) ended by
//                  an interrupt requested for this thread; nothing taken
//   overflow_error "Internal lock count overflowed"  (the owner, at depth
//                  UINT32_MAX)
//   thread_error   "lock wait failed", sys_errno the futex call's errno: the
//                  kernel refused to sleep on the lock, as for Lock
//                  (rawthread/lock.hpp: a misaligned RLock, a seccomp
//                  filter); nothing taken
// release by any thread but the owner: thread_error "cannot release
// un-acquired lock". Every error leaves the lock as it was.
//
// Interrupts work as for Lock (rawthread/interrupt.hpp): a request ends a
// blocking acquire, pending or while it sleeps; acquire(false), lock(),
// try_lock(), try_lock_for() and try_lock_until() are never ended by one and
// leave it pending.
//
// Which thread may call what: acquire, the Lockable calls, is_owned and
// recursion_count from any thread; release and unlock from the owner. unlock()
// by a thread that does not own the lock is a precondition violation, as for
// std::recursive_mutex; here it does nothing, as Lock::unlock() does on an
// unlocked Lock. lock() by the owner at depth UINT32_MAX cannot wait for
// itself nor report an error: it traps. lock(), try_lock_for() and
// try_lock_until() trap too where acquire() would return "lock wait failed",
// as Lock's do. A thread that ends while owning an
// RLock leaves it held forever, as in Python; and since the owner is known by
// its tid, a thread the kernel later gives the same tid finds itself owning
// it.
//
// Not async-signal-safe (unlike Lock::release and Lock::locked): a handler
// that runs in the owner in the middle of its acquire or release would see,
// and change, a half-updated recursion count.
//
// The caller's tid costs no system call in the main thread and in threads
// rawthread started; in a thread some other library started, it costs a few.
// Uncontended acquire (default arguments), acquire(false), try_lock, lock,
// release and unlock are inline: a load and one compare-and-swap to take it,
// a load and one exchange to free it, and for the owner's re-entry and inner
// releases no atomic read-modify-write at all.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include <rawthread/lock.hpp>
#include <rawthread/result.hpp>
#include <rawthread/thread.hpp>
#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

namespace rawthread {

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {
// Set in the word while a waiter may sleep. Tids stay below 2^22
// (PID_MAX_LIMIT), so the bit is never part of one.
inline constexpr std::uint32_t kWaiters = 1u << 31;

// The caller's tid as an RLock records its owner. In the main thread and
// rawthread's own, the tid it had when it first asked, with no system call,
// so that after fork() the child's copy of the thread still owns what it
// held. A thread another library started asks the kernel each time: an RLock
// it held across fork() is not its own in the child (at_fork_reinit it).
std::uint32_t owner_id() noexcept;

Result<bool> rlock_acquire_slow(LockWord& word, std::uint32_t& count, bool blocking,
                                double timeout) noexcept;
void rlock_lock_slow(LockWord& word, std::uint32_t& count) noexcept;
bool rlock_lock_for(LockWord& word, std::uint32_t& count, double seconds) noexcept;
Error release_unowned() noexcept;
}  // namespace detail

class RLock {
 public:
  // Free. constexpr: a static RLock needs no constructor to run.
  constexpr RLock() noexcept = default;
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;

  // Python's acquire(blocking=True, timeout=-1), with Lock's arguments and
  // checks. The owner takes it again at once (depth + 1) and gets true, even
  // non-blocking. Returns false when another thread holds it and the call was
  // non-blocking or its timeout ran out.
  Result<bool> acquire(bool blocking = true, double timeout = -1) noexcept {
    if (timeout == -1 &&
        (!blocking || detail::pending_interrupts.load(std::memory_order_relaxed) == 0) &&
        try_lock())
      return true;
    return detail::rlock_acquire_slow(word_, count_, blocking, timeout);
  }

  // Undoes one acquire of the owner; the last one frees the lock. Any other
  // thread: thread_error "cannot release un-acquired lock", nothing changed.
  Result<void> release() noexcept {
    std::uint32_t state = word_.load(std::memory_order_relaxed);
    if ((state & ~detail::kWaiters) != detail::owner_id()) return detail::release_unowned();
    if (--count_ != 0) return {};
    // An exchange, not a store: a waiter may have set kWaiters since the load.
    if (word_.exchange(detail::kFree, std::memory_order_release) & detail::kWaiters)
      detail::wake_one(word_);
    return {};
  }

  // Whether the calling thread owns the lock. Exact, not a snapshot: only
  // this thread puts its own tid in the word or takes it out.
  bool is_owned() const noexcept {
    return (word_.load(std::memory_order_relaxed) & ~detail::kWaiters) == detail::owner_id();
  }

  // The owner's depth; 0 in any other thread (count_ is the owner's alone).
  unsigned recursion_count() const noexcept { return is_owned() ? count_ : 0; }

  // CPython's _at_fork_reinit(): free, depth 0, whoever owned it. For the
  // child of fork() only, as Lock::at_fork_reinit().
  void at_fork_reinit() noexcept {
    count_ = 0;
    word_.store(detail::kFree, std::memory_order_relaxed);
  }

  // Lockable / TimedLockable. These never end for an interrupt and leave a
  // pending interrupt request pending. The owner takes the lock again at once.
  void lock() noexcept {
    if (!try_lock()) detail::rlock_lock_slow(word_, count_);
  }
  // false when another thread holds it, or the owner is at depth UINT32_MAX.
  bool try_lock() noexcept {
    const std::uint32_t me = detail::owner_id();
    // The owner first: re-entry needs no read-modify-write, and a lock held
    // by another thread is not written either. Relaxed is exact for "mine":
    // only this thread ever stores its tid.
    std::uint32_t seen = word_.load(std::memory_order_relaxed);
    if ((seen & ~detail::kWaiters) == me) {
      if (count_ == UINT32_MAX) return false;
      ++count_;
      return true;
    }
    if (seen != detail::kFree ||
        !word_.compare_exchange_strong(seen, me, std::memory_order_acquire,
                                       std::memory_order_relaxed))
      return false;
    count_ = 1;
    return true;
  }
  void unlock() noexcept { (void)release(); }
  // Timed as Lock's, by rawthread/timeout.hpp's rules, for any clock and
  // representation: zero, negative, NaN and a deadline already reached
  // (time_point::min() too) are try_lock(); beyond TIMEOUT_MAX (+infinity,
  // duration::max()) waits TIMEOUT_MAX; no value overflows; the time left
  // until a deadline is measured again on its clock after each wait.
  template <class Rep, class Period>
  bool try_lock_for(const std::chrono::duration<Rep, Period>& duration) noexcept {
    const double seconds = detail::wait_seconds(duration);
    return seconds > 0 ? detail::rlock_lock_for(word_, count_, seconds) : try_lock();
  }
  template <class Clock, class Duration>
  bool try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) noexcept {
    // The owner never waits: at depth UINT32_MAX waiting would change nothing.
    if (is_owned()) return try_lock();
    for (;;) {
      const double left = detail::wait_seconds_until(deadline);
      if (left <= 0) return try_lock();
      if (detail::rlock_lock_for(word_, count_, left)) return true;
    }
  }

 private:
  // Condition::wait gives the lock up at any depth and takes it back at the
  // same one (CPython's _release_save / _acquire_restore); notify_all moves
  // its waiters onto this word's futex queue (FUTEX_REQUEUE).
  friend class Condition;

  detail::LockWord word_{detail::kFree};
  std::uint32_t count_ = 0;  // read and written by the owner only
};

static_assert(sizeof(RLock) == 8 && alignof(RLock) == 4, "an RLock is two 32-bit words");

}  // namespace rawthread
