// The Lock's slow paths: argument checks, spinning, sleeping on the futex.
//
// The word follows Drepper's three-state mutex ("Futexes Are Tricky", 2011):
//   0 free, 1 held with nobody asleep, 2 held and someone may be asleep.
// A thread that may sleep always takes the lock as 2, never 1, so that the
// release after it wakes whoever slept behind it: release sees 2 and wakes one
// waiter, which takes the word as 2 again. No wake-up is lost because
// futex_wait(word, 2) sleeps only while the word still reads 2: a release
// between the exchange and the sleep makes the kernel return EAGAIN at once.
#include <rawthread/lock.hpp>

#include "clock.hpp"
#include "errors.hpp"
#include "interrupt.hpp"
#include "kernel.hpp"
#include "thread_pointer.hpp"  // arch/<arch>/: cpu_relax

namespace rawthread::detail {
namespace {

// Spins before sleeping: a short critical section ends sooner than a futex
// round trip. Bounded, so a preempted holder costs little; and not at all
// once a sleeper is marked, where spinning would only race the woken waiter.
constexpr int kSpinLimit = 100;

enum class Outcome { acquired, timed_out, interrupted };

Outcome wait_for_lock(LockWord& word, const kernel::Timespec* deadline, bool interruptible) {
  for (int spin = 0; spin < kSpinLimit; ++spin) {
    std::uint32_t state = word.load(std::memory_order_relaxed);
    if (state == kFree && try_acquire(word)) return Outcome::acquired;
    if (state == kContended) break;
    arch::cpu_relax();
  }
  for (;;) {
    if (word.exchange(kContended, std::memory_order_acquire) == kFree) return Outcome::acquired;
    // Leaving with the word at 2 is safe: it costs the holder's release one
    // needless wake, and loses no one's.
    if (interruptible && interrupt::consume_own()) return Outcome::interrupted;
    long ret = kernel::futex_wait(&word, kContended, deadline);
    if (ret == -ETIMEDOUT) return Outcome::timed_out;
    // A handler ran: its request beats a lock that may have come free meanwhile.
    if (ret == -EINTR && interruptible && interrupt::consume_own()) return Outcome::interrupted;
    // Woken, EAGAIN or a handler without a request: try again, same deadline.
  }
}

}  // namespace

Result<bool> acquire_slow(LockWord& word, bool blocking, double timeout) noexcept {
  // Python's checks, in Python's order.
  if (!blocking) {
    if (timeout != -1) return errors::kNonBlockingTimeout;
    return try_acquire(word);
  }
  if (timeout != -1) {
    if (!(timeout >= 0)) return errors::kNegativeTimeout;  // NaN fails this too
    if (timeout > TIMEOUT_MAX) return errors::kTimeoutTooLarge;
  }

  // A request made while no acquire was waiting ends this one at once.
  if (interrupt::consume_own()) return errors::kInterrupted;
  if (try_acquire(word)) return true;
  if (timeout == 0) return false;

  kernel::Timespec deadline = timeout == -1 ? clock::kNever : clock::deadline_after(timeout);
  switch (wait_for_lock(word, &deadline, /*interruptible=*/true)) {
    case Outcome::acquired: return true;
    case Outcome::timed_out: return false;
    case Outcome::interrupted: break;
  }
  return errors::kInterrupted;
}

void lock_slow(LockWord& word) noexcept {
  wait_for_lock(word, /*deadline=*/nullptr, /*interruptible=*/false);
}

bool lock_for(LockWord& word, double seconds) noexcept {
  if (try_acquire(word)) return true;
  kernel::Timespec deadline = clock::deadline_after(seconds);
  return wait_for_lock(word, &deadline, /*interruptible=*/false) == Outcome::acquired;
}

void wake_one(LockWord& word) noexcept { kernel::futex_wake(&word, 1); }

Error release_unlocked() noexcept { return errors::kReleaseUnlocked; }

}  // namespace rawthread::detail
