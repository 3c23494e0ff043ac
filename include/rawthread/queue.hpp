// SPDX-License-Identifier: MIT
// rawthread/queue.hpp: Queue<T, Capacity>, Python's queue.Queue(maxsize =
// Capacity): a bounded FIFO between threads, its storage inline (no heap).
//
//   static rawthread::Queue<Job, 16> jobs;        // no constructor runs
//   // producers                           // consumers
//   if (!jobs.put(make_job())) ...          for (;;) {
//                                             Result<Job> job = jobs.get();
//                                             if (!job) break;   // interrupted
//                                             run(*job);
//                                             (void)jobs.task_done();
//                                           }
//   (void)jobs.join();                      // every job put is task_done
//
// put(item, block, timeout) moves the item in at the tail; get(block,
// timeout) moves the oldest one out. Their arguments follow queue.py, not
// Lock (rawthread/lock.hpp):
//   block == false   never waits, whatever the timeout (which is ignored,
//                    as queue.py does); an interrupt request pending for the
//                    thread stays pending, as for Lock::acquire(false)
//   timeout == -1    waits for ever (Python's None)
//   timeout == 0     one try (blocking: a pending interrupt request ends it)
//   timeout > 0      waits at most that long on CLOCK_MONOTONIC, and never
//                    returns full/empty before it passed
// Errors, checked in this order; each changes nothing (no item added or
// taken, the unfinished count as it was):
//   value_error    "'timeout' must be a non-negative number" (negative other
//                  than -1, or NaN; with block only)
//   overflow_error "timeout value is too large" (> TIMEOUT_MAX; with block)
//   interrupted    "lock acquire interrupted": a blocking put/get ended by an
//                  interrupt requested for this thread (one pending when it
//                  is called included)
//   full / empty   "queue is full" / "queue is empty": no room (no item) at
//                  once (block == false) or within the timeout
//   thread_error   "lock wait failed": the kernel refused the futex wait
//                  (seccomp), as for Lock::acquire
//   thread_error   "acquire would deadlock: ..." (the dummy backend only: an
//                  untimed put to a full queue, get from an empty one; no
//                  other thread exists to make room or put; a timed one
//                  waits its time out and returns full / empty)
// put takes its item by value: the caller's object is moved (or copied)
// into the parameter before anything is checked, so a put that fails has
// consumed it all the same (pass a copy to keep one).
//
// task_done() and join(timeout) count as queue.py does: every successful
// put adds one unfinished task, every task_done removes one; join returns
// once the count is 0. task_done with the count at 0: value_error
// "task_done() called too many times", nothing changed. join's timeout is
// put's (-1 for ever, negative other than -1 or NaN value_error, above
// TIMEOUT_MAX overflow_error); it runs out with thread_error "join timed
// out" (queue.py's join has no timeout: rawthread adds one); an interrupt
// requested for the thread, pending or arriving, ends it with interrupted.
// The dummy backend: join with unfinished tasks and no timeout returns the
// deadlock error, a timed one waits its time out. The count is 63 bits wide:
// a program that never calls task_done (allowed, as in Python) would need
// 2^63 puts to overflow it.
//
// qsize(), empty() and full() are snapshots (as queue.py's, "approximate"):
// another thread may change the queue before the caller acts on them.
//
// Not async-signal-safe (put and get take a Lock). Process-private, as
// Lock. T must be nothrow-move-constructible: the library has no
// exceptions, and an item half-moved into the ring would break it. The
// destructor destroys the items still queued; destroying a Queue that a
// thread still waits on is undefined, as for any object.
//
// How: queue.py's design. A Lock guards the ring and its count; a put
// waits on the Condition not_full while the queue is full, a get on
// not_empty while it is empty (their deadline, interrupt and spurious-wake
// handling are Condition::wait's), and each notifies the other's. A
// notified waiter that times out or is interrupted at that moment counts
// as notified and rechecks the queue, so no item or slot is left with a
// waiter asleep. The unfinished count is one 64-bit word whose low half
// join sleeps on. The protocol is written once, in detail::QueueCore,
// which the C API (rawthread_queue_* in rawthread.h, over a caller's
// buffer) shares.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include <rawthread/condition.hpp>
#include <rawthread/lock.hpp>  // detail::pending_interrupts
#include <rawthread/result.hpp>
#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

namespace rawthread {

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {
// The unfinished count: bit 0 "a joiner may sleep", the count above it
// (kQueueTask per task). join sleeps on the word's low 32 bits with the bit
// set; the task_done that brings the count to 0 clears the bit in the same
// compare-and-swap, so the low half then reads 0 and no joiner about to
// sleep misses it (the kernel returns EAGAIN), and wakes the joiners only
// when the bit was set. 64 bits, not 32, so that a program that never calls
// task_done cannot overflow it.
using QueueTasksWord = std::atomic<std::uint64_t>;
inline constexpr std::uint64_t kQueueJoiner = 1, kQueueTask = 2;

// A blocking put or get's checks before it takes the lock, in queue.py's
// order, then Lock's: a negative timeout (other than -1), one above
// TIMEOUT_MAX, an interrupt request pending for this thread (consumed).
Result<void> queue_check(double timeout) noexcept;
// A put to a full queue or a get from an empty one, the lock held: waits on
// `cond` while `size` reads `blocked_at`, with queue.py's arguments (block
// false or timeout 0: full or empty at once). Returns with the lock held,
// whatever the outcome; {} once the queue has room (an item).
Result<void> queue_wait(Condition& cond, const std::atomic<std::uint32_t>& size,
                        std::uint32_t blocked_at, bool block, double timeout, bool put) noexcept;
Result<void> queue_task_done(QueueTasksWord& tasks) noexcept;
Result<void> queue_join(QueueTasksWord& tasks, double timeout) noexcept;

// The synchronisation of a queue of `capacity` slots, for any storage: put
// and get take the function that moves an item into or out of slot i,
// called under the lock. Queue<T, Capacity> stores T in place; the C API
// copies bytes into a caller's buffer.
class QueueCore {
 public:
  constexpr explicit QueueCore(std::uint32_t capacity) noexcept : capacity_(capacity) {}
  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;

  template <class Fill>
  Result<void> put(bool block, double timeout, Fill&& fill) noexcept {
    if (Result<void> ok = enter(block, timeout); !ok) return ok;
    lock_.lock();
    if (size_.load(std::memory_order_relaxed) == capacity_) {
      Result<void> room = queue_wait(not_full_, size_, capacity_, block, timeout, /*put=*/true);
      if (!room) {
        lock_.unlock();
        return room;
      }
    }
    fill(tail_);
    tail_ = next(tail_);
    size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    // Counted before the item can be got: a get + task_done that follows
    // never finds the count below the items it has.
    tasks_.fetch_add(kQueueTask, std::memory_order_relaxed);
    (void)not_empty_.notify();  // we hold the lock: cannot fail
    lock_.unlock();  // release: the item's bytes before the getter's lock
    return {};
  }

  template <class Take>
  Result<void> get(bool block, double timeout, Take&& take_out) noexcept {
    if (Result<void> ok = enter(block, timeout); !ok) return ok;
    lock_.lock();
    if (size_.load(std::memory_order_relaxed) == 0) {
      Result<void> item = queue_wait(not_empty_, size_, 0, block, timeout, /*put=*/false);
      if (!item) {
        lock_.unlock();
        return item;
      }
    }
    take_out(head_);
    head_ = next(head_);
    size_.store(size_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    (void)not_full_.notify();
    lock_.unlock();
    return {};
  }

  std::size_t qsize() const noexcept { return size_.load(std::memory_order_relaxed); }
  std::uint32_t capacity() const noexcept { return capacity_; }
  std::uint64_t unfinished_tasks() const noexcept {
    return tasks_.load(std::memory_order_relaxed) / kQueueTask;
  }
  Result<void> task_done() noexcept { return queue_task_done(tasks_); }
  Result<void> join(double timeout) noexcept { return queue_join(tasks_, timeout); }

  // For a destructor (no other thread uses the queue): calls f(i) for each
  // slot that holds an item, oldest first.
  template <class F>
  void for_each_queued(F&& f) const noexcept {
    std::uint32_t i = head_;
    for (std::size_t n = qsize(); n != 0; --n, i = next(i)) f(i);
  }

 private:
  std::uint32_t next(std::uint32_t i) const noexcept { return i + 1 == capacity_ ? 0 : i + 1; }

  // The common call inline: a non-blocking one has nothing to check (its
  // timeout is ignored), nor has an untimed blocking one with no interrupt
  // request pending in any thread.
  static Result<void> enter(bool block, double timeout) noexcept {
    if (!block || (timeout == -1 && pending_interrupts.load(std::memory_order_relaxed) == 0))
      return {};
    return queue_check(timeout);
  }

  Lock lock_;  // head_, tail_, size_'s writes and the slots' contents
  Condition not_empty_{lock_};  // a get waits here for an item
  Condition not_full_{lock_};   // a put waits here for a free slot
  QueueTasksWord tasks_{0};
  std::uint32_t head_ = 0, tail_ = 0;
  std::atomic<std::uint32_t> size_{0};  // written under lock_; read anywhere
  std::uint32_t capacity_;
};
}  // namespace detail

template <class T, std::size_t Capacity>
class Queue {
  static_assert(Capacity > 0, "Queue: Capacity must be > 0 (queue.py's maxsize 0, unbounded, "
                              "needs a heap)");
  static_assert(Capacity <= UINT32_MAX, "Queue: Capacity must fit the ring's 32-bit "
                                        "indices (<= UINT32_MAX)");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "Queue: T must be nothrow-move-constructible (no exceptions: a throwing move "
                "would leave the ring half-written)");
  static_assert(std::is_nothrow_destructible_v<T>, "Queue: T must be nothrow-destructible");

 public:
  // Empty. constexpr: a static Queue needs no constructor to run (the slots
  // are raw storage until a put fills one).
  constexpr Queue() noexcept : core_(static_cast<std::uint32_t>(Capacity)) {}
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;
  ~Queue() {
    if constexpr (!std::is_trivially_destructible_v<T>)
      core_.for_each_queued([this](std::uint32_t i) noexcept { slot(i)->~T(); });
  }

  Result<void> put(T item, bool block = true, double timeout = -1) noexcept {
    return core_.put(block, timeout, [&](std::uint32_t i) noexcept {
      ::new (static_cast<void*>(slot(i))) T(std::move(item));
    });
  }
  Result<T> get(bool block = true, double timeout = -1) noexcept {
    Holder out;
    Result<void> got = core_.get(block, timeout, [&](std::uint32_t i) noexcept {
      T* item = slot(i);
      ::new (static_cast<void*>(&out.value)) T(std::move(*item));
      item->~T();
    });
    if (!got) return got.error();
    Result<T> result(std::move(out.value));
    out.value.~T();
    return result;
  }
  Result<void> put_nowait(T item) noexcept { return put(std::move(item), false); }
  Result<T> get_nowait() noexcept { return get(false); }

  std::size_t qsize() const noexcept { return core_.qsize(); }
  bool empty() const noexcept { return qsize() == 0; }
  bool full() const noexcept { return qsize() >= Capacity; }

  Result<void> task_done() noexcept { return core_.task_done(); }
  Result<void> join(double timeout = -1) noexcept { return core_.join(timeout); }
  // Puts not yet matched by a task_done (queue.py's unfinished_tasks), a
  // snapshot.
  std::uint64_t unfinished_tasks() const noexcept { return core_.unfinished_tasks(); }

 private:
  // Raw storage for a T that get moves into; never constructed otherwise.
  union Holder {
    Holder() noexcept {}
    ~Holder() {}
    T value;
  };
  // The ring. A union, so that the constexpr constructor leaves it raw and
  // a constant-initialised Queue still has every member initialised (none_
  // is the active member until a put constructs a T in a slot).
  union Slots {
    constexpr Slots() noexcept : none_() {}
    ~Slots() {}
    char none_;
    T items[Capacity];
  };

  T* slot(std::uint32_t i) noexcept { return &slots_.items[i]; }

  detail::QueueCore core_;
  Slots slots_;
};

}  // namespace rawthread
