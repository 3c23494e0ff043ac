// SPDX-License-Identifier: MIT
// The slow path Lock and RLock share: Python's argument checks, the pending
// interrupt, the spin, the futex sleep and the deadline, written once over a
// policy that says what the futex word means. src/lock.cpp and src/rlock.cpp
// each instantiate it with their own, so neither pays for the other.
//
// A policy (Ops) has, over a word whose 0 means free:
//   word                      the futex word
//   kReentrant                whether the lock has an owner who may take it again
//   try_take()                takes a free lock as a thread that has not slept
//   marked(state)             whether `state` says someone may sleep
//   take_or_mark(sleep_on)    takes a free lock as a thread that may have slept
//                             (so that its release wakes the next sleeper), or
//                             marks the held lock as having a sleeper; returns
//                             whether it took it, else sets the value to sleep on
//   owned(), reenter()        only when kReentrant: whether the caller owns it,
//                             and the owner's acquire (no wait)
// A lock that may be taken by a thread that slept always gets the mark: that
// is the rule (Drepper, "Futexes Are Tricky") that no release forgets a
// sleeper behind it.
//
// The Semaphore's and the Event's policies (src/semaphore.cpp, src/event.cpp)
// use the same loop over words where 0 does not mean free. A policy may say
// so with (each optional; a lock's policy has none, and its code stays what
// it was):
//   kSpin                     false: sleeps without spinning first (default:
//                             true); for waits that end by a hand-off from
//                             another thread (a token, a notify), not by a
//                             short critical section ending: a spin catches
//                             the hand-off only if that thread already runs
//                             on another CPU, and on one CPU only delays it
//   takeable(state)           whether the spin may try_take (default: == 0)
//   futex_word()              the 32-bit word to sleep on (default: &word),
//                             and load() the spin reads (default: word.load)
// A policy whose mark must be undone when a wait ends without taking (the
// Semaphore's count of sleepers) undoes it in its destructor: wait() owns its
// copy of the policy, which take_or_mark may change.
#pragma once

#include <cstdint>

#include <rawthread/lock.hpp>

#include "arch.hpp"
#include "backend.hpp"
#include "clock.hpp"
#include "errors.hpp"
#include "interrupt.hpp"
#include "kernel.hpp"

namespace rawthread::lock_wait {

// Spins before sleeping: a short critical section ends sooner than a futex
// round trip. Bounded, so a preempted holder costs little; and not at all
// once a sleeper is marked, where spinning would only race the woken waiter.
//
// The probes of the word back off exponentially: 1, 2, 4, ... 64 pauses
// before each, 127 in all. Each probe pulls the lock's cache line away from
// the holder, whose next acquire or release must then fetch it back; 7
// probes instead of 100 leave a holder that takes the lock again and again
// almost undisturbed. What that buys against evenly spaced probes, and
// against pthread_mutex_t, which does not spin, is measured in
// docs/performance.md ("what each part of the design buys").
inline constexpr int kSpinProbes = 7;

enum class Outcome { acquired, timed_out, interrupted, failed };

// How a wait ended; with Outcome::failed, the futex call's -errno.
struct Waited {
  Outcome outcome;
  long ret = 0;
};

// The policy's optional parts, or the lock's defaults.
template <class Ops>
auto probe_state(Ops& ops) noexcept {
  if constexpr (requires { ops.load(); }) {
    return ops.load();
  } else {
    return ops.word.load(std::memory_order_relaxed);
  }
}

template <class Ops, class State>
bool takeable(Ops& ops, State state) noexcept {
  if constexpr (requires { ops.takeable(state); }) {
    return ops.takeable(state);
  } else {
    return state == detail::kFree;
  }
}

template <class Ops>
constexpr bool spins() noexcept {
  if constexpr (requires { Ops::kSpin; }) {
    return Ops::kSpin;
  } else {
    return true;
  }
}

template <class Ops>
auto* futex_word(Ops& ops) noexcept {
  if constexpr (requires { ops.futex_word(); }) {
    return ops.futex_word();
  } else {
    return &ops.word;
  }
}

// Waits for the lock until `deadline` (null: for ever). With a `target`, the
// calling thread's, a request for it ends the wait; the deadline is then
// never null. The comments [lock: step] and [interrupt: step] name the label
// of tests/models/lock.pml or interrupt.pml that models the line.
//
// A futex error the protocol does not produce ends the wait as failed rather
// than going round again, which would spin at full speed, for ever when
// untimed: EINVAL for a word that is not 4-byte aligned (a misaligned lock
// reached through a cast; x86_64 performs the atomics on it, the kernel will
// not sleep on it), ENOSYS or EPERM from a seccomp filter that denies futex.
template <class Ops>
Waited wait(Ops ops, const kernel::Timespec* deadline, interrupt::Target* target) noexcept {
  if constexpr (spins<Ops>()) {
    for (int probe = 0; probe < kSpinProbes; ++probe) {
      for (int pause = 0; pause < (1 << probe); ++pause) arch::cpu_relax();
      auto state = probe_state(ops);
      if (takeable(ops, state) && ops.try_take()) return {Outcome::acquired};  // [lock: spin_take]
      if (ops.marked(state)) break;                                       // [lock: spin_stop]
    }
  }
  interrupt::Armed armed(target);
  for (;;) {
    std::uint32_t sleep_on;
    if (ops.take_or_mark(sleep_on)) return {Outcome::acquired};  // [lock: take_or_mark]
    // Leaving with the mark set is safe: it costs the holder's release one
    // needless wake, and loses no one's.
    const kernel::Timespec* sleep_until = deadline;
    if (target != nullptr) {
      sleep_until = armed.arm(*deadline);                                  // [interrupt: arm]
      if (interrupt::consume(*target)) return {Outcome::interrupted};     // [interrupt: check]
    }
    // Sleeps only while the word still reads sleep_on: a release since the
    // mark makes the kernel return EAGAIN at once, so no wake-up is lost.
    long ret = kernel::futex_wait(futex_word(ops), sleep_on, sleep_until);  // [lock: sleep]
    // Woken, or the word changed: try again, same deadline.
    if (ret == 0 || ret == -EAGAIN) continue;
    if (ret == -ETIMEDOUT && target == nullptr) return {Outcome::timed_out};
    // EINVAL is a collapse (a request refused the deadline) only while the
    // deadline still reads collapsed: once the kernel read it so, nothing
    // but this wait's next arm writes anything else there (a handler's
    // nested wait puts back the collapsed value it found). Otherwise the
    // kernel refused the word.
    if (target != nullptr &&
        (ret == -ETIMEDOUT || (ret == -EINVAL && armed.collapsed()))) {  // [interrupt: collapsed]
      // Passed (ETIMEDOUT), or collapsed by a request (EINVAL): it is this
      // wait's request, or a stale one's collapse, which must not end the
      // wait early.
      if (interrupt::consume(*target)) return {Outcome::interrupted};   // [interrupt: timedout]
      if (clock::reached(*deadline)) return {Outcome::timed_out};       // [interrupt: recheck]
      continue;
    }
    if (ret == -EINTR) {
      // A handler ran: its request beats a lock that may have come free
      // meanwhile; without one, try again, same deadline.
      if (target != nullptr && interrupt::consume(*target))  // [interrupt: eintr]
        return {Outcome::interrupted};
      continue;
    }
    return {Outcome::failed, ret};
  }
}

// Python's acquire(blocking, timeout) once the inline fast path has given up.
template <class Ops>
Result<bool> acquire(Ops ops, bool blocking, double timeout) noexcept {
  // Python's checks, in Python's order, before anything else (the owner's
  // re-entry included, as in CPython's RLock).
  if (!blocking) {
    if (timeout != -1) return errors::kNonBlockingTimeout;
  } else if (const Error* bad = errors::bad_timeout(timeout)) {
    return *bad;
  }

  // A request made while no acquire was waiting ends this one at once; a
  // non-blocking acquire leaves it pending.
  if (blocking && interrupt::consume_own())  // [interrupt: consume_own]
    return errors::kInterrupted;
  if constexpr (Ops::kReentrant) {
    if (ops.owned()) return ops.reenter();
  }
  if (ops.try_take()) return true;  // [lock: fast_take]
  if (!blocking || timeout == 0) return false;
  // The dummy backend: no other thread exists to release it, and the real
  // backend would wait forever here. A timed acquire waits out its timeout,
  // as the real one.
  if constexpr (backend::kDummy) {
    if (timeout == -1) return errors::kWouldDeadlock;
  }

  kernel::Timespec deadline = timeout == -1 ? clock::kNever : clock::deadline_after(timeout);
  const Waited waited = wait(ops, &deadline, interrupt::own_target());
  switch (waited.outcome) {
    case Outcome::acquired: return true;
    case Outcome::timed_out: return false;
    case Outcome::interrupted: return errors::kInterrupted;
    case Outcome::failed: break;
  }
  return errors::lock_wait_failed(waited.ret);
}

// The Lockable calls' waits have no error to return: a wait the kernel
// refuses traps (include/rawthread/lock.hpp says why). Returning would pass
// for the lock taken (lock) or the time run out (try_lock_for).
inline bool taken_or_trap(const Waited& waited) noexcept {
  if (waited.outcome == Outcome::failed) __builtin_trap();
  return waited.outcome == Outcome::acquired;
}

// lock()'s wait: for ever, never interrupted.
template <class Ops>
void take(Ops ops) noexcept {
  (void)taken_or_trap(wait(ops, /*deadline=*/nullptr, /*target=*/nullptr));
}

// try_lock_for's wait: `seconds` in (0, TIMEOUT_MAX], as rawthread/timeout.hpp
// gives it; never interrupted.
template <class Ops>
bool take_within(Ops ops, double seconds) noexcept {
  if (ops.try_take()) return true;
  kernel::Timespec deadline = clock::deadline_after(seconds);
  return taken_or_trap(wait(ops, &deadline, /*target=*/nullptr));
}

}  // namespace rawthread::lock_wait
