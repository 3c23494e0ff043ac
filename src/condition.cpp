// SPDX-License-Identifier: MIT
// Condition: a FIFO list of waiter records on the waiters' stacks, each with
// a futex word of its own (CPython's design, one pre-acquired lock per
// waiter in a deque, with the lock made a word and the deque a list).
//
// A waiter's word: kWaiting, kSleeping once it may sleep on the word, and
// kRequeued (or kNotified, when the lock was found free) once a notify
// unlinked it.
// The changes out of the waiting states happen under list_lock_ together
// with the unlink, so "unlinked" and "notified" are one fact: a waiter that gives up (timeout, interrupt)
// takes list_lock_ and either finds itself notified, and reports it, or
// unlinks itself, and no notify can pick it after that. No notification is
// lost and none is counted twice.
//
// The sleep is src/lock_wait.hpp's, over a policy in which "taking the lock"
// is "finding the word notified": the same deadline, the same interrupt
// scheme with its window closed, the same handling of spurious returns.
//
// notify and notify_all do not wake their waiters: they move each sleeping
// one onto the lock word's futex queue (FUTEX_REQUEUE), the lock marked
// contended first, so that each release wakes one of them and the rest
// sleep on, instead of all waking at once to find the lock held by the
// notifier (the herd; for notify, one waiter that wakes only to sleep again
// on the lock: the caller holds it, as Python requires). A
// waiter the requeue reached takes the lock back as one that slept (the
// contended mark kept), so that its own release wakes the next: taken as
// uncontended, the lock's release would wake nobody and strand the rest.
// docs/performance.md has the measurements that decided it (notify_all_4,
// cond_pingpong).
//
// The comments [condition: step] name the labels of tests/models/condition.pml.
#include <rawthread/condition.hpp>

#include <cstdint>

#include <rawthread/interrupt.hpp>

#include "backend.hpp"
#include "clock.hpp"
#include "errors.hpp"
#include "interrupt.hpp"
#include "kernel.hpp"
#include "lock_wait.hpp"

namespace rawthread {

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {

// kNotified is 0, the value lock_wait reads as "free": its spin then sees a
// notify as a lock it may take.
inline constexpr std::uint32_t kNotified = 0, kWaiting = 1, kSleeping = 2, kRequeued = 3;

struct CondWaiter {
  LockWord word{kWaiting};
  CondWaiter* next = nullptr;
  CondWaiter* prev = nullptr;
};

std::int64_t monotonic_now_ns() noexcept { return clock::now_ns(); }

}  // namespace detail

namespace {

using detail::CondWaiter;
using detail::kNotified;
using detail::kSleeping;
using detail::kRequeued;
using detail::kWaiting;

bool picked(std::uint32_t word) noexcept { return word == kNotified || word == kRequeued; }

// lock_wait's policy over a waiter's word: "taken" means notified.
struct WaiterOps {
  // No spin: the notify comes from a thread that must take the lock this
  // waiter just gave up, and the waiter must then take it back (lock_wait.hpp).
  static constexpr bool kSpin = false;
  detail::LockWord& word;

  // Marks the word kSleeping (so that the notify wakes it), unless notified.
  // Acquire: pairs with the notifier's release exchange, so that what the
  // notifier wrote before notify is visible once the lock is taken back
  // (the lock orders it too; this keeps the word's own reads exact).
  bool take_or_mark(std::uint32_t& sleep_on) const noexcept {
    sleep_on = kSleeping;
    std::uint32_t seen = kWaiting;
    if (word.compare_exchange_strong(seen, kSleeping, std::memory_order_acquire,
                                     std::memory_order_acquire))  // [condition: mark]
      return false;
    return picked(seen);  // else kSleeping already: sleep again
  }
};

// What wait gave up of the lock, to take back.
struct Held {
  std::uint32_t depth;  // an RLock's; 1 for a Lock
};

}  // namespace

Result<void> Condition::check_wait(double timeout) const noexcept {
  if (!held()) return errors::kWaitUnacquired;
  if (const Error* bad = errors::bad_timeout(timeout)) return *bad;
  return {};
}

void Condition::link(CondWaiter& waiter) noexcept {
  list_lock_.lock();
  waiter.prev = tail_;
  if (tail_ != nullptr)
    tail_->next = &waiter;
  else
    head_.store(&waiter, std::memory_order_relaxed);
  tail_ = &waiter;
  list_lock_.unlock();
}

// Under list_lock_.
void Condition::unlink(CondWaiter& waiter) noexcept {
  if (waiter.prev != nullptr)
    waiter.prev->next = waiter.next;
  else
    head_.store(waiter.next, std::memory_order_relaxed);
  if (waiter.next != nullptr)
    waiter.next->prev = waiter.prev;
  else
    tail_ = waiter.prev;
}

// A waiter gives up: returns true if a notify picked it first (it reports
// the notification), else unlinks it, so that none can.
bool Condition::leave(CondWaiter& waiter) noexcept {
  list_lock_.lock();
  // Relaxed would do under list_lock_; acquire for the same reason as try_take.
  const bool notified = picked(waiter.word.load(std::memory_order_acquire));
  if (!notified) unlink(waiter);  // [condition: leave]
  list_lock_.unlock();
  return notified;
}

// Marks the lock contended, so that its release wakes a waiter requeued
// onto it; false if it is free (a Lock "held" by a thread that released it
// since the check), where a requeued waiter would sleep with nobody to wake it.
bool Condition::mark_contended() noexcept {
  if (rlock_ != nullptr) {
    // The caller owns it: only kWaiters may change under it.
    rlock_->word_.fetch_or(detail::kWaiters, std::memory_order_relaxed);
    return true;
  }
  std::uint32_t state = lock_->word_.load(std::memory_order_relaxed);
  while (state != detail::kContended) {
    if (state == detail::kFree) return false;
    if (lock_->word_.compare_exchange_weak(state, detail::kContended, std::memory_order_relaxed,
                                           std::memory_order_relaxed))
      break;
  }
  return true;
}

detail::LockWord& Condition::lock_word() noexcept {
  return lock_ != nullptr ? lock_->word_ : rlock_->word_;
}

// Unlinks up to n waiters from the head and moves those that may sleep
// onto the lock's futex queue (FUTEX_REQUEUE), the lock marked contended
// first, so that each release of the lock wakes one of them. Found free (a
// Lock "held" by a thread that released it since the check), the lock
// cannot be marked: they are woken instead.
void Condition::wake(std::size_t n) noexcept {
  list_lock_.lock();
  // Marked before any waiter is moved, and only if one may be: a notify
  // that picks nobody leaves the lock's release free of a needless wake.
  CondWaiter* waiter = head_.load(std::memory_order_relaxed);
  const bool requeue = n != 0 && waiter != nullptr && mark_contended();
  bool moved = false;
  for (; n != 0 && waiter != nullptr; waiter = head_.load(std::memory_order_relaxed)) {
    // Read before the exchange: once notified, the waiter may return and
    // its record go out of scope (a Lock "held" by another thread), so
    // after it only the word's address is used, for the wake.
    CondWaiter* const after = waiter->next;
    head_.store(after, std::memory_order_relaxed);
    if (after != nullptr)
      after->prev = nullptr;
    else
      tail_ = nullptr;
    --n;
    const std::uint32_t was = waiter->word.exchange(requeue ? kRequeued : kNotified,
                                                    std::memory_order_release);  // [condition: notify]
    // A waiter not yet asleep (kWaiting) sees the word without a wake. The
    // wake may reach an address whose waiter has returned: a private
    // futex's key is the address, the kernel reads nothing there, and at
    // worst a later wait at that address returns spuriously, which every
    // wait absorbs. A requeue of a waiter not yet in the kernel moves
    // nobody: its futex call then finds the word changed.
    if (was != kSleeping) continue;
    if (requeue) {
      kernel::futex_requeue(&waiter->word, &lock_word());  // [condition: requeue]
      moved = true;
    } else {
      kernel::futex_wake(&waiter->word, 1);  // [condition: wake]
    }
  }
  list_lock_.unlock();
  // A Lock is "held" when locked by anyone: its holder may have released it
  // since the mark, its release waking nobody yet queued, and another
  // thread may have taken it as uncontended since. Marked again, the next
  // release wakes a requeued waiter; found free, one is woken here. (The
  // caller owns an RLock: nothing changed it.)
  if (moved && !mark_contended()) kernel::futex_wake(&lock_word(), 1);  // [condition: remark]
}

Result<bool> Condition::wait(double timeout) noexcept {
  if (Result<void> ok = check_wait(timeout); !ok) return ok.error();
  // A request made while no wait was running ends this one at once, with
  // nothing given up (as Lock::acquire).
  if (interrupt::consume_own()) return errors::kInterrupted;
  // The dummy backend: no other thread exists to notify; the real backend
  // would wait for ever.
  if constexpr (backend::kDummy) {
    if (timeout == -1) return errors::kWouldDeadlock;
  }

  CondWaiter waiter;
  link(waiter);  // [condition: link]
  // Gives the lock up, fully; linked first, so that a notify after this
  // finds the waiter.
  Held held{1};
  if (lock_ != nullptr) {
    // A Lock may be released by any thread: if another one released it
    // since the check, the caller holds nothing; leave as if never called.
    if (!lock_->release()) {  // [condition: release]
      list_lock_.lock();
      unlink(waiter);
      list_lock_.unlock();
      return errors::kWaitUnacquired;
    }
  } else {
    held.depth = rlock_->count_;
    rlock_->count_ = 1;
    (void)rlock_->release();  // the owner's: cannot fail
  }

  lock_wait::Waited waited{lock_wait::Outcome::timed_out};
  if (timeout != 0) {
    kernel::Timespec deadline = timeout == -1 ? clock::kNever : clock::deadline_after(timeout);
    waited = lock_wait::wait(WaiterOps{waiter.word}, &deadline,
                             interrupt::own_target());  // [condition: sleep]
  }
  const bool notified = waited.outcome == lock_wait::Outcome::acquired || leave(waiter);

  // Taken back at the same depth, for ever and not interruptibly: the
  // caller holds the lock on every way out.
  if (waiter.word.load(std::memory_order_relaxed) == kRequeued) {
    retake_contended();  // [condition: retake]
  } else if (lock_ != nullptr) {
    lock_->lock();  // [condition: retake]
  } else {
    rlock_->lock();  // [condition: retake]
  }
  if (rlock_ != nullptr) rlock_->count_ = held.depth;

  if (notified) {
    // The request that ended the wait came with a notify: the notify is
    // reported, the request left pending for the next blocking call.
    if (waited.outcome == lock_wait::Outcome::interrupted) request_interrupt();
    return true;
  }
  switch (waited.outcome) {
    case lock_wait::Outcome::interrupted: return errors::kInterrupted;
    case lock_wait::Outcome::failed: return errors::lock_wait_failed(waited.ret);
    default: return false;
  }
}

Result<void> Condition::notify(std::size_t n) noexcept {
  if (!held()) return errors::kNotifyUnacquired;
  // Nobody waiting: done without list_lock_'s two atomics (a Queue notifies
  // on every put and get). No waiter is missed: a waiter links itself
  // before it releases the lock, and the caller took the lock after that
  // release (acquire), so the link happens before this read. A waiter that
  // links later waits for a later notify, as if this one came first; one
  // that is unlinking (timeout) is seen or not, and either is right.
  if (head_.load(std::memory_order_relaxed) == nullptr) return {};
  wake(n);
  return {};
}

Result<void> Condition::notify_all() noexcept {
  if (!held()) return errors::kNotifyUnacquired;
  if (head_.load(std::memory_order_relaxed) == nullptr) return {};  // as in notify
  wake(SIZE_MAX);
  return {};
}

// The lock taken back by a waiter that may sleep on its word (requeued
// there), as one that slept takes it: with the contended mark, whoever
// holds it, so that the release after it wakes the next. Untimed, not
// interruptible, as lock().
void Condition::retake_contended() noexcept {
  detail::LockWord& word = lock_word();
  if (lock_ != nullptr) {
    while (word.exchange(detail::kContended, std::memory_order_acquire) != detail::kFree)
      (void)kernel::futex_wait(&word, detail::kContended, nullptr);
    return;
  }
  const std::uint32_t me = detail::owner_id() | detail::kWaiters;
  std::uint32_t state = word.load(std::memory_order_relaxed);
  for (;;) {
    if (state == detail::kFree) {
      if (word.compare_exchange_weak(state, me, std::memory_order_acquire,
                                     std::memory_order_relaxed))
        return;
      continue;
    }
    if ((state & detail::kWaiters) == 0 &&
        !word.compare_exchange_weak(state, state | detail::kWaiters, std::memory_order_relaxed,
                                    std::memory_order_relaxed))
      continue;
    (void)kernel::futex_wait(&word, state | detail::kWaiters, nullptr);
    state = word.load(std::memory_order_relaxed);
  }
}

}  // namespace rawthread
