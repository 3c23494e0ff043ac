// SPDX-License-Identifier: MIT
// rawthread/joinable.hpp: threads that can be joined.
//
// start_joinable_thread starts a thread as start_new_thread does and returns
// a Thread handle to it. join() waits until the thread has ended completely:
// its function returned and its stored copies are destroyed (or it called
// exit_thread, which destroys nothing), and the kernel has cleared its tid
// word (CLONE_CHILD_CLEARTID).
// The joiner then reclaims the thread's stack (into the cache of stacks a
// later start reuses, or unmapped: thread.hpp); a handle that is destroyed or
// moved over without a join detaches the thread, which then gives back its
// own. Exactly one of them reclaims the stack, decided by one atomic exchange.
//
// Joining waits on the tid word the kernel clears, so it costs no polling,
// and any number of threads may join the same handle at once.
//
// fork(): in the child, a handle made in the parent is done (is_done() is
// true, join returns true at once), whatever the parent's threads were doing
// with it at the fork (joining, reclaiming, sleeping): they do not exist in
// the child. The first join or the destructor gives back the child's copy of
// the thread's mapping, unless a joiner of the parent's had begun to. One
// exception: a handle to the thread that called fork() itself, which runs on
// in the child on that copy. Do not join or destroy such a handle in the
// child from another thread: its stack would be given back under it.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include <rawthread/result.hpp>
#include <rawthread/thread.hpp>

namespace rawthread {

class Thread {
 public:
  // An empty handle: no thread. ident() is 0; join() is a thread_error.
  constexpr Thread() noexcept = default;
  Thread(Thread&& other) noexcept;
  // Detaches the thread this handle had, then takes other's.
  Thread& operator=(Thread&& other) noexcept;
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  // Detaches a thread not joined: it runs on and gives back its own stack.
  ~Thread();

  // The thread's ident, as get_ident() returns in it; 0 for an empty handle.
  Ident ident() const noexcept { return ident_; }

  // Whether the thread has ended completely (join would not wait).
  bool is_done() const noexcept;

  // Waits until the thread has ended, at most `timeout` seconds (-1: no
  // limit), and reclaims its stack. true: joined, now or before (joining
  // twice is harmless); false: the timeout ran out first. Errors, in order:
  //   thread_error   "cannot join thread before it is started"  (empty handle)
  //   value_error    "timeout value must be a non-negative number"
  //   overflow_error "timeout value is too large"  (timeout > TIMEOUT_MAX)
  //   thread_error   "cannot join current thread"
  //   interrupted    "join interrupted"
  // The wait is interruptible as a blocking Lock::acquire is
  // (rawthread/interrupt.hpp): an interrupt request for the joining thread,
  // pending when join is called or arriving during the wait, is consumed and
  // ends it with Errc::interrupted; the thread is then neither joined nor
  // detached, and a later join or the destructor deals with it. A signal
  // handler that runs meanwhile without requesting an interrupt does not end
  // the wait. A pending request ends even a join that would not wait (the
  // thread has ended), unless the handle was joined already.
  Result<bool> join(double timeout = -1) noexcept;

  // interrupt_main's rules, for this thread: requests an interrupt for it
  // and sends it `signum` (tgkill), so that its handler runs and its blocking
  // call in progress (Lock::acquire, RLock::acquire, join, sleep) returns
  // Errc::interrupted; with none in progress the request stays pending for
  // its next one. Does nothing, successfully, when the signal's disposition
  // is SIG_DFL or SIG_IGN, or when the thread has ended (or is ending: past
  // its function, it has no blocking call left to interrupt). Safe against
  // the thread ending meanwhile: the signal never reaches another thread
  // that was given the same tid. Any number of threads may interrupt, join
  // and query one handle at once. Errors, in order:
  //   thread_error   "cannot interrupt thread before it is started"  (empty
  //                  handle)
  //   value_error    "signal number out of range"  (signum outside 1..64)
  //   thread_error   "can't signal the thread"  (rt_sigaction or tgkill
  //                  failed, e.g. EAGAIN for a real-time signal whose queue
  //                  is full; sys_errno is the errno; no request is left)
  // In a child of fork(), the handle's thread is not there: it does nothing.
  // The dummy backend: the thread has ended by the time the handle exists,
  // so it does nothing (after the same argument checks). Not
  // async-signal-safe. The default, 2, is SIGINT on every Linux architecture.
  Result<void> interrupt(int signum = 2) noexcept;

 private:
  template <class F, class... Args>
  friend Result<Thread> start_joinable_thread(F&& fn, Args&&... args);
  explicit Thread(detail::Started started) noexcept;
  void detach() noexcept;

  Ident ident_ = 0;
  void* control_ = nullptr;  // the thread's control block, in its mapping
  std::int32_t pid_ = 0;  // the process that started the thread: a fork's child has a copy
  // kJoined, kReclaiming, kSleepers (a joiner sleeps until kJoined), and
  // how many joiners are reading the thread's mapping right now (which must
  // stay mapped until they are out).
  mutable std::atomic<std::uint32_t> state_{0};
};

// start_new_thread with a handle: the same copies, the same errors.
template <class F, class... Args>
Result<Thread> start_joinable_thread(F&& fn, Args&&... args) {
  Result<detail::Started> started =
      detail::start_thread(true, std::forward<F>(fn), std::forward<Args>(args)...);
  if (!started) return started.error();
  return Thread(*started);
}

}  // namespace rawthread
