// SPDX-License-Identifier: MIT
// Interrupt requests, as the lock's wait loop and the control block see them.
//
// The race this closes. A waiter checks for a request and then enters the
// kernel to sleep; a request whose signal handler runs between the two would
// otherwise be seen only once the sleep ends, which for an untimed acquire on
// a lock nobody releases is never. (CPython has this hole.)
//
// The closure needs no handler of ours, no arch code and no futex_waitv: an
// interruptible wait sleeps until a deadline that lives in its Target, and the
// kernel reads that deadline when the futex call begins, after the last user
// instruction before it. A request raises the flag and then sets the
// deadline's seconds to kCollapsed, which the kernel refuses. So for a waiter
// that checked before the flag was raised:
//   - the request came before the futex call: the call returns EINVAL at
//     once, without sleeping; the waiter then finds the flag;
//   - the call began first: the waiter is in the kernel, where the signal
//     interrupt_main sends (or the one whose handler made the request) ends
//     the wait with EINTR; the waiter then finds the flag.
// Both orders are model-checked in tests/models/interrupt.pml. Seconds only,
// never the nanoseconds: whatever mix of old and new words the kernel reads
// is the armed deadline or a collapsed one, and a request made before the
// wait armed it is one the waiter's check finds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "kernel.hpp"

namespace rawthread::interrupt {

// A Timespec that a request may change while a wait is using it.
struct Deadline {
  std::atomic<long> tv_sec;
  std::atomic<long> tv_nsec;
};
static_assert(sizeof(Deadline) == sizeof(kernel::Timespec) &&
              offsetof(Deadline, tv_nsec) == offsetof(kernel::Timespec, tv_nsec) &&
              std::atomic<long>::is_always_lock_free,
              "the kernel reads a Deadline as a struct __kernel_timespec");

// The seconds of a collapsed deadline. Negative: the kernel refuses the
// deadline with EINVAL before it reads the lock word, whatever nanoseconds it
// reads with them. (0 would do only once the clock is past {0, ns}: not in
// the first second after boot, when firmware may well be running.)
inline constexpr long kCollapsed = -1;

// What an interruptible thread has: the main thread, and each thread rawthread
// started (in its control block).
struct Target {
  std::atomic<std::uint32_t> request;  // 1 while a request awaits its acquire
  Deadline deadline;                   // of the interruptible wait in progress
};

// The calling thread's Target, or null in a thread another library started.
Target* own_target() noexcept;

// Raises the request flag of `target` and collapses its armed deadline;
// returns whether the flag was clear. clear() takes a request back (a signal
// that could not be sent): whether it was set.
bool raise(Target& target) noexcept;
bool clear(Target& target) noexcept;

// Consumes the request addressed to `target`, if there is one. Costs one load
// while no request is pending anywhere.
bool consume(Target& target) noexcept;
bool consume_own() noexcept;

// One interruptible wait's use of its thread's deadline. A signal handler may
// run a wait of its own between another wait's arm and its futex call; as it
// leaves, it puts the interrupted wait's deadline back (else that one would
// sleep until the handler's), unless a request collapsed it meanwhile.
// A wait with no target (not interruptible) never arms.
class Armed {
 public:
  explicit Armed(Target* target) noexcept : target_(target) {}
  Armed(const Armed&) = delete;
  Armed& operator=(const Armed&) = delete;
  ~Armed() {
    if (!armed_) return;
    target_->deadline.tv_nsec.store(outer_nsec_, std::memory_order_relaxed);
    long mine = armed_sec_;  // a collapse since makes this fail: it stays
    target_->deadline.tv_sec.compare_exchange_strong(mine, outer_sec_, std::memory_order_seq_cst,
                                                     std::memory_order_relaxed);
  }

  // Publishes `deadline` as the one the next futex wait sleeps until, and
  // returns the address to hand the kernel. Call it before the last check for
  // a request: seq_cst, so that a request either is seen by that check or
  // collapses the deadline after this store.
  const kernel::Timespec* arm(const kernel::Timespec& deadline) noexcept {
    if (!armed_) {  // the first time: what to put back
      outer_sec_ = target_->deadline.tv_sec.load(std::memory_order_relaxed);
      outer_nsec_ = target_->deadline.tv_nsec.load(std::memory_order_relaxed);
      armed_ = true;
    }
    armed_sec_ = deadline.tv_sec;
    target_->deadline.tv_nsec.store(deadline.tv_nsec, std::memory_order_relaxed);
    target_->deadline.tv_sec.store(deadline.tv_sec, std::memory_order_seq_cst);
    return reinterpret_cast<const kernel::Timespec*>(&target_->deadline);
  }

  // After a system call that writes into the deadline it was handed (ppoll
  // writes back the time left): the kernel's store may have overwritten a
  // request's collapse, which an outer wait this one is nested in (a handler
  // that polls while the thread was between its arm and its futex call)
  // still needs. So: what the kernel wrote becomes this wait's own value, and
  // a pending request collapses it again. A request whose flag this load
  // misses raised it later, and collapses after the kernel's store.
  void rewritten() noexcept {
    long now = target_->deadline.tv_sec.load(std::memory_order_relaxed);
    if (now == kCollapsed) return;
    armed_sec_ = now;
    if (target_->request.load(std::memory_order_seq_cst) != 0)
      target_->deadline.tv_sec.store(kCollapsed, std::memory_order_seq_cst);
  }

  // Whether a request collapsed the deadline since the last arm(). Relaxed:
  // read after the futex call in which the kernel, in this thread, read it.
  bool collapsed() const noexcept {
    return target_->deadline.tv_sec.load(std::memory_order_relaxed) == kCollapsed;
  }

 private:
  Target* target_;
  bool armed_ = false;
  long outer_sec_ = 0, outer_nsec_ = 0, armed_sec_ = 0;
};

}  // namespace rawthread::interrupt
