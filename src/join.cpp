// SPDX-License-Identifier: MIT
// Thread: joining a thread, or letting it go.
//
// A joinable thread's tid word lies in its own mapping, which the thread
// cannot give back as it exits (the kernel clears the word after the thread's
// last instruction). So the handle reclaims the mapping (into the cache of
// mappings, or unmapped): the first joiner to see the word cleared, or the
// destructor if no one joined. Other joiners may still be reading the word
// then, so Thread::state_ counts them, and the reclaimer gives the mapping
// back only once the count is back to zero:
//
//   state_ = kJoined | kReclaiming | kSleepers | readers (the low 29 bits)
//
// A reader enters only while neither of the first two flags is set; the one
// that leaves having seen the thread ended, with no reclaimer yet, becomes
// the reclaimer. A joiner that finds a reclaimer at work sleeps on state_
// until kJoined, having set kSleepers: only then does the reclaimer wake
// anyone, so a lone join makes no futex wake at all.
#include <rawthread/joinable.hpp>

#include "clock.hpp"
#include "control.hpp"
#include "errors.hpp"
#include "interrupt.hpp"
#include "kernel.hpp"

namespace rawthread {
namespace {

constexpr std::uint32_t kJoined = 1u << 31;
constexpr std::uint32_t kReclaiming = 1u << 30;
constexpr std::uint32_t kSleepers = 1u << 29;
constexpr std::uint32_t kReaders = kSleepers - 1;
constexpr int kAll = 0x7fffffff;

using State = std::atomic<std::uint32_t>;

Control* control_of(void* control) { return static_cast<Control*>(control); }

// A thread is over once the kernel cleared its tid.
bool ended(const Control* self) { return self->tid.load(std::memory_order_acquire) == 0; }

// Whether the calling process is a child of fork() (or a later descendant)
// of the process that made the handle: a system call, as nothing in memory
// tells a child from its parent.
bool in_fork_child(std::int32_t pid) { return pid != kernel::getpid(); }

// A handle that crossed a fork(): its thread is over here from the start
// (CPython marks such handles done too), whatever state the copy of the
// handle was in. The readers and sleepers it counts, and any reclaimer,
// were threads of the parent's that the child does not have, so nothing
// here waits for them. The first thread of the child to turn the state to
// kJoined gives back the child's copy of the mapping, unless a reclaimer of
// the parent's had begun to (kReclaiming): the mapping may be gone, or in
// the cache, already, and is left alone. reclaim_mapping counts the thread
// out of no count the child keeps: the child's own, once it has started a
// thread, never counted it, and before that thread_count() reads 0.
void settle_in_fork_child(State& state, Control* self) noexcept {
  std::uint32_t s = state.load(std::memory_order_acquire);
  while ((s & kJoined) == 0) {
    if (state.compare_exchange_weak(s, kJoined, std::memory_order_acq_rel)) {
      if ((s & kReclaiming) == 0) detail::reclaim_mapping(self);
      return;
    }
  }
}

// Counts the caller in as a reader of the mapping; false once it is joined
// or being reclaimed (and so no longer safe to read).
bool enter(State& state) noexcept {
  std::uint32_t s = state.load(std::memory_order_acquire);
  do {
    if ((s & (kJoined | kReclaiming)) != 0) return false;
  } while (!state.compare_exchange_weak(s, s + 1, std::memory_order_acquire));
  return true;
}

// Counts the caller out. With `thread_ended` and no reclaimer yet it becomes
// the reclaimer, in the same exchange: returns true.
bool leave(State& state, bool thread_ended) noexcept {
  std::uint32_t s = state.load(std::memory_order_relaxed);
  for (;;) {
    const bool take = thread_ended && (s & kReclaiming) == 0;
    const std::uint32_t next = (s - 1) | (take ? kReclaiming : 0);
    if (state.compare_exchange_weak(s, next, std::memory_order_acq_rel)) {
      // The last reader out lets a waiting reclaimer go on.
      if (!take && (next & kReclaiming) != 0 && (next & kReaders) == 0)
        kernel::futex_wake(&state, kAll);
      return take;
    }
  }
}

void reclaim(State& state, Control* self) noexcept {
  std::uint32_t s = state.load(std::memory_order_acquire);
  // Other readers: the kernel woke one sleeper on the tid word; wake the
  // rest, so that they count themselves out and stop reading it. With none
  // (kReclaiming keeps new ones out), nobody can sleep there.
  if ((s & kReaders) != 0) kernel::futex_wake_tid(&self->tid, kAll);
  for (; (s & kReaders) != 0; s = state.load(std::memory_order_acquire))
    kernel::futex_wait(&state, s, nullptr);
  detail::reclaim_mapping(self);
  // One exchange against a sleeper's mark (join): it marked before this, and
  // is woken, or it finds kJoined.
  if ((state.exchange(kJoined, std::memory_order_acq_rel) & kSleepers) != 0)
    kernel::futex_wake(&state, kAll);
}

}  // namespace

Thread::Thread(detail::Started started) noexcept
    : ident_(started.ident),
      control_(started.control),
      pid_(static_cast<std::int32_t>(control_of(started.control)->pid)) {}

Thread::Thread(Thread&& other) noexcept
    : ident_(std::exchange(other.ident_, 0)),
      control_(std::exchange(other.control_, nullptr)),
      pid_(std::exchange(other.pid_, 0)),
      state_(other.state_.exchange(0, std::memory_order_relaxed)) {}

Thread& Thread::operator=(Thread&& other) noexcept {
  if (this != &other) {
    detach();
    ident_ = std::exchange(other.ident_, 0);
    control_ = std::exchange(other.control_, nullptr);
    pid_ = std::exchange(other.pid_, 0);
    state_.store(other.state_.exchange(0, std::memory_order_relaxed), std::memory_order_relaxed);
  }
  return *this;
}

Thread::~Thread() { detach(); }

void Thread::detach() noexcept {
  Control* self = control_of(control_);
  if (self == nullptr || (state_.load(std::memory_order_acquire) & kJoined) != 0) return;
  if (in_fork_child(pid_)) {
    // The child has only the copy of the mapping, and no thread to give it
    // back.
    settle_in_fork_child(state_, self);
  } else {
    // One exchange against the thread's own at its end (thread.cpp, finish):
    // if the thread has not ended, it will give back its mapping itself.
    std::uint32_t attached = kAttached;
    if (!self->reclaim.compare_exchange_strong(attached, kDetached, std::memory_order_acq_rel)) {
      // It ended first and left the mapping to the handle. It is past its
      // last instruction but for the exit itself: wait for the kernel to let
      // go.
      for (std::int32_t tid; (tid = self->tid.load(std::memory_order_acquire)) != 0;)
        kernel::futex_wait_tid(&self->tid, tid, nullptr);
      detail::reclaim_mapping(self);
    }
  }
  control_ = nullptr;
  ident_ = 0;
  pid_ = 0;
  state_.store(0, std::memory_order_relaxed);
}

bool Thread::is_done() const noexcept {
  Control* self = control_of(control_);
  if (self == nullptr) return false;
  if (in_fork_child(pid_)) return true;
  if (!enter(state_)) return true;  // joined, or a joiner saw it end
  const bool done = ended(self);
  leave(state_, false);  // a query leaves reclaiming to join or the destructor
  return done;
}

Result<bool> Thread::join(double timeout) noexcept {
  Control* self = control_of(control_);
  if (self == nullptr) return errors::kJoinEmpty;
  if (const Error* bad = errors::bad_timeout(timeout)) return *bad;
  if ((state_.load(std::memory_order_acquire) & kJoined) != 0) return true;
  if (ident_ == get_ident()) return errors::kJoinSelf;
  if (in_fork_child(pid_)) {
    settle_in_fork_child(state_, self);
    return true;
  }
  // A request made while nothing waited ends this join at once, as it ends
  // a blocking acquire.
  if (interrupt::consume_own()) return errors::kJoinInterrupted;

  // Timed waits end with EINTR when a handler runs; the loop resumes them to
  // the same deadline. kNever keeps an untimed join the same shape.
  const kernel::Timespec deadline =
      timeout == -1 ? clock::kNever : clock::deadline_after(timeout);
  // The sleep on the tid word is interruptible as a blocking acquire's is
  // (src/interrupt.hpp): armed in the joiner's Target, checked after the
  // arm, collapsed by a request that the check misses.
  interrupt::Target* target = interrupt::own_target();
  interrupt::Armed armed(target);
  // No sched_yield before the sleep, though on one CPU a thread just started
  // has often not run yet and a yield would let it end first, a little
  // cheaper than the futex sleep and wake: with any other process runnable
  // on that CPU, the yield hands it a whole time slice, every join
  // (docs/performance.md, "No sched_yield before a join's sleep").
  for (;;) {
    if (enter(state_)) {
      long ret = 0;
      bool interrupted = false;
      if (std::int32_t tid = self->tid.load(std::memory_order_acquire); tid != 0) {
        const kernel::Timespec* sleep_until = &deadline;
        if (target != nullptr) {
          sleep_until = armed.arm(deadline);
          interrupted = interrupt::consume(*target);
        }
        if (!interrupted) {
          ret = kernel::futex_wait_tid(&self->tid, tid, sleep_until);
          // A handler ran (EINTR), a request collapsed the deadline (EINVAL,
          // while it still reads collapsed), or the deadline passed: a
          // request for this thread is what ended the sleep, or is consumed
          // now rather than left for the next blocking call.
          if (target != nullptr &&
              (ret == -EINTR || ret == -ETIMEDOUT || (ret == -EINVAL && armed.collapsed())))
            interrupted = interrupt::consume(*target);
        }
      }
      // Interrupted: out as a reader that reclaims nothing, so the thread
      // (ended or not) stays for the next join or the destructor.
      if (interrupted) {
        leave(state_, false);
        return errors::kJoinInterrupted;
      }
      const bool done = ended(self);
      if (leave(state_, done)) {
        reclaim(state_, self);
        return true;
      }
      // A collapse by a stale request, or a handler without one, is no
      // timeout: the clock says whether the time is up.
      if (!done && (ret == -ETIMEDOUT || ret == -EINVAL) && clock::reached(deadline))
        return false;
      continue;
    }
    // Another joiner reclaims: wait for it to finish, marked as a sleeper so
    // that it wakes this one. Not interruptible: the thread has ended, and
    // the reclaimer is only waiting for readers to count themselves out.
    std::uint32_t s = state_.load(std::memory_order_acquire);
    if ((s & kJoined) != 0) return true;
    if ((s & kSleepers) == 0 &&
        !state_.compare_exchange_weak(s, s | kSleepers, std::memory_order_relaxed))
      continue;  // it changed: look again
    if (kernel::futex_wait(&state_, s | kSleepers, &deadline) == -ETIMEDOUT &&
        (state_.load(std::memory_order_acquire) & kJoined) == 0)
      return false;
  }
}

// Thread::interrupt. Two things must outlive the call, and two protocols
// keep them:
//  - the control block, where the request goes and the tid is read: the
//    call is a reader of the mapping (enter/leave, as is_done), so no joiner
//    or destructor gives it back meanwhile, the stack cache included. A
//    handle already joined or being reclaimed has a thread that ended: the
//    call does nothing, as API.md says of an ended thread.
//  - the tid: once the kernel cleared it the number is free, and another
//    thread of this process may get it, whose handler the signal would run.
//    Reading tid != 0 proves nothing a moment later. So the thread itself
//    waits for the call: Control::signallers counts the calls between their
//    request and their tgkill, and the thread at its end (thread.cpp,
//    finish) sets kEnding, after which none enters, and waits for the count
//    to drain before it goes on to its exit. A call counted in before
//    kEnding sends to a thread that has not exited yet (its tid is its own);
//    a call that finds kEnding does nothing: the thread is ending, and the
//    request would die with it anyway (finish consumes it after the drain,
//    which is also why a request can never be left raised by a thread gone).
// [signal: *] name the labels of tests/models/signal.pml.
namespace {

Result<void> signal_thread(Control* self, std::int32_t pid, int signum) noexcept {
  std::uint32_t s = self->signallers.load(std::memory_order_relaxed);
  do {
    if ((s & control::kEnding) != 0) return {};  // [signal: too_late]
  } while (!self->signallers.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                                   std::memory_order_relaxed));  // [signal: enter]
  // As interrupt_main: the request is in place before the signal leaves.
  const bool raised = interrupt::raise(self->interrupt);  // [signal: raise]
  const std::int32_t tid = self->tid.load(std::memory_order_relaxed);  // its own while counted
  const long ret = kernel::tgkill(pid, tid, signum);                  // [signal: kill]
  if (ret < 0 && raised) interrupt::clear(self->interrupt);  // leave things as they were
  // Release: the thread's drain sees the request (and its clear) before it
  // consumes. The last one out wakes a thread that waits to end.
  if (self->signallers.fetch_sub(1, std::memory_order_release) ==  // [signal: leave]
      (control::kEnding | 1))
    kernel::futex_wake(&self->signallers, 1);
  if (ret < 0) return errors::cant_signal_thread(ret);
  return {};
}

}  // namespace

Result<void> Thread::interrupt(int signum) noexcept {
  Control* self = control_of(control_);
  if (self == nullptr) return errors::kInterruptEmpty;
  if (signum < 1 || signum > kernel::kMaxSignal) return errors::kSignalOutOfRange;
  if ((state_.load(std::memory_order_acquire) & kJoined) != 0) return {};  // ended
  if (in_fork_child(pid_)) return {};  // its thread is not in this process
  // Python's rule, as interrupt_main: a signal nobody handles is not
  // simulated.
  kernel::Sigaction action{};
  if (long ret = kernel::rt_sigaction(signum, nullptr, &action); ret < 0)
    return errors::cant_signal_thread(ret);
  if (action.handler == kernel::kSigDfl || action.handler == kernel::kSigIgn) return {};
  if (!enter(state_)) return {};  // joined, or a joiner saw it end
  Result<void> sent = signal_thread(self, pid_, signum);
  leave(state_, false);  // reclaiming is join's or the destructor's
  return sent;
}

}  // namespace rawthread
