// SPDX-License-Identifier: MIT
// The Queue's out-of-line parts (rawthread/queue.hpp): put and get's
// argument checks and waits on their Conditions, as queue.py's, and the
// unfinished-task count's task_done and join. join sleeps in the loop
// src/lock_wait.hpp shares with every other wait, so it gets the same
// deadline, interrupt window and spurious-wake handling.
#include <rawthread/queue.hpp>

#include <climits>

#include "errors.hpp"
#include "interrupt.hpp"
#include "kernel.hpp"
#include "lock_wait.hpp"

namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ||
              __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);

// The count word's low half, which holds the joiner bit: what join sleeps
// on. Only the kernel reads it through this pointer.
const std::atomic<std::uint32_t>* low_half(QueueTasksWord& word) noexcept {
  constexpr std::size_t offset = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 0 : 4;
  return reinterpret_cast<const std::atomic<std::uint32_t>*>(
      reinterpret_cast<const unsigned char*>(&word) + offset);
}

// "Taking" is finding the count at 0; the mark is the joiner bit.
struct JoinOps {
  static constexpr bool kReentrant = false;
  QueueTasksWord& word;

  std::uint64_t load() const noexcept { return word.load(std::memory_order_relaxed); }
  bool takeable(std::uint64_t state) const noexcept { return state < kQueueTask; }
  const std::atomic<std::uint32_t>* futex_word() const noexcept { return low_half(word); }

  // Acquire: what the threads wrote before their task_done is visible once
  // join returns (each task_done is a release in one read-modify-write chain).
  bool try_take() const noexcept { return word.load(std::memory_order_acquire) < kQueueTask; }
  bool marked(std::uint64_t state) const noexcept { return (state & kQueueJoiner) != 0; }
  bool take_or_mark(std::uint32_t& sleep_on) const noexcept {
    std::uint64_t state = word.load(std::memory_order_acquire);
    for (;;) {
      if (state < kQueueTask) return true;
      const std::uint64_t marked_state = state | kQueueJoiner;
      sleep_on = static_cast<std::uint32_t>(marked_state);
      // The task_done that reaches 0 reads the bit in its compare-and-swap,
      // or this one fails and we look again. Any change of the low half
      // since (a put, a task_done) makes the kernel return EAGAIN: the loop
      // looks again, so a count that reached 0 is never slept through.
      if (state == marked_state ||
          word.compare_exchange_weak(state, marked_state, std::memory_order_acquire,
                                     std::memory_order_acquire))
        return false;
    }
  }
  // The bit stays when a joiner gives up (timeout, interrupt): it costs the
  // task_done that reaches 0 one needless wake, and another joiner may
  // still sleep behind it.
};

}  // namespace

Result<void> queue_check(double timeout) noexcept {
  // queue.py rejects negatives other than -1 (None) with its own message;
  // the rest is Lock's (TIMEOUT_MAX, then a pending request, which ends a
  // blocking call even one that could go ahead).
  if (timeout != -1 && !(timeout >= 0)) return errors::kQueueNegativeTimeout;
  if (timeout > TIMEOUT_MAX) return errors::kTimeoutTooLarge;
  if (interrupt::consume_own()) return errors::kInterrupted;
  return {};
}

// queue.py's loop: `while full: not_full.wait(remaining)`, its end time on
// CLOCK_MONOTONIC fixed once. No wake-up is lost to a waiter that gives up:
// Condition::wait reports a notify that races its timeout or interrupt as
// notified (true), and the loop then rechecks the queue before anything
// else, so a notified getter takes the item it was told of (or finds that
// another thread took it), never leaves it stranded with a getter asleep.
Result<void> queue_wait(Condition& cond, const std::atomic<std::uint32_t>& size,
                        std::uint32_t blocked_at, bool block, double timeout, bool put) noexcept {
  const Error blocked = put ? errors::kQueueFull : errors::kQueueEmpty;
  if (!block || timeout == 0) return blocked;
  std::int64_t end_ns = 0;
  if (timeout != -1) end_ns = monotonic_now_ns() + static_cast<std::int64_t>(timeout * 1e9) + 1;
  while (size.load(std::memory_order_relaxed) == blocked_at) {
    double wait_time = -1;
    if (timeout != -1) {
      const std::int64_t left_ns = end_ns - monotonic_now_ns();
      if (left_ns <= 0) return blocked;
      wait_time = static_cast<double>(left_ns) / 1e9;
    }
    // An error (interrupted, the kernel's refusal, the dummy's deadlock)
    // leaves the lock held and nothing of the queue changed.
    const Result<bool> waited = cond.wait(wait_time);
    if (!waited) return waited.error();
  }
  return {};
}

Result<void> queue_task_done(QueueTasksWord& tasks) noexcept {
  std::uint64_t state = tasks.load(std::memory_order_relaxed);
  std::uint64_t next;
  do {
    if (state < kQueueTask) return errors::kTaskDoneTooMany;
    next = state - kQueueTask;
    if (next < kQueueTask) next = 0;  // the last: the joiner bit goes with it
  } while (!tasks.compare_exchange_weak(state, next, std::memory_order_release,
                                        std::memory_order_relaxed));
  // Every joiner sleeps on a low half with the bit set, which now reads 0:
  // wake them all (join's condition holds for each). Nothing of the queue is
  // touched after the compare-and-swap but this wake: a joiner that saw 0
  // may destroy the queue at once, and a wake on freed memory is harmless.
  if (next == 0 && (state & kQueueJoiner) != 0) kernel::futex_wake(low_half(tasks), INT_MAX);
  return {};
}

Result<void> queue_join(QueueTasksWord& tasks, double timeout) noexcept {
  if (timeout != -1 && !(timeout >= 0)) return errors::kQueueNegativeTimeout;
  // lock_wait's blocking acquire: TIMEOUT_MAX, a pending interrupt, the
  // dummy backend's deadlock error for an untimed wait, the deadline.
  const Result<bool> done = lock_wait::acquire(JoinOps{tasks}, /*blocking=*/true, timeout);
  if (!done) return done.error();
  if (*done) return {};
  return errors::kQueueJoinTimeout;
}

}  // namespace rawthread::detail
