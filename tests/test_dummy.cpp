// SPDX-License-Identifier: MIT
// The dummy backend's own promises (-Dthread_backend=dummy, and built only
// there): Python's _dummy_thread on rawthread's API. No thread ever starts:
// start_new_thread runs the function to its end on the caller's stack before
// it returns, as the one thread there is. The other suites check what both
// backends share, with the dummy's differences as separate expectations; this
// one checks each difference on its own:
//   - the start, nesting, thread_count and the one ident;
//   - exit_thread inside a started function, and outside any;
//   - interrupt_main inside a started function, and outside any;
//   - stack_size's errors;
//   - what a lock no other thread could release does instead of waiting;
//   - joinable threads, done when they are started;
//   - RLock ownership, which a started function shares with its caller.
//
// Thread bodies keep to the suite's rule (rawthread, atomics, memory made
// before the start) though here they run on the main thread: they record,
// and the test asserts after the start returns, with no wait in between.
#include <sys/resource.h>
#include <sys/wait.h>

#include <climits>
#include <limits>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;
using rt_test::is_false;
using rt_test::is_true;
using rt_test::now_ns;
using rt_test::seconds_since;

static_assert(rt_test::kDummy, "tests/meson.build builds test_dummy with the dummy backend only");

namespace {

class DummyTest : public rt_test::RawthreadTest {};

// Counts destructions of live (not moved-from) instances, and how many had
// happened when the function ran.
struct Counted {
  std::atomic<int>* destroyed;
  bool live = true;
  explicit Counted(std::atomic<int>* d) : destroyed(d) {}
  Counted(Counted&& other) noexcept : destroyed(other.destroyed), live(other.live) {
    other.live = false;
  }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  ~Counted() {
    if (live) destroyed->fetch_add(1);
  }
};

// Move-only, no heap.
struct MoveOnly {
  int value;
  explicit MoveOnly(int v) : value(v) {}
  MoveOnly(MoveOnly&& other) noexcept : value(other.value) { other.value = -1; }
  MoveOnly(const MoveOnly&) = delete;
  MoveOnly& operator=(const MoveOnly&) = delete;
};

// In a forked child, so a trap takes only the child: no core file.
void no_core_dump() {
  struct rlimit none = {0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

// ---------------------------------------------------------------- starting

TEST_F(DummyTest, StartRunsTheFunctionBeforeItReturns) {
  static std::atomic<int> ran;
  static int written;  // plain: no other thread, so no ordering needed
  static std::atomic<std::size_t> count_inside;
  static std::atomic<long> native_inside;
  ran = 0;
  written = 0;
  count_inside = 99;
  native_inside = 0;
  long maps_before = rt_test::maps_lines();
  Result<Ident> r = start_new_thread(
      [](int value) {
        written = value;
        count_inside.store(thread_count());
        native_inside.store(get_native_id());
        ran.store(1);
      },
      42);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  // No wait: it is all there as the start returns.
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(written, 42);
  EXPECT_EQ(count_inside.load(), 1u) << "a running started function counts itself";
  EXPECT_EQ(native_inside.load(), rt_test::gettid_now()) << "it ran on the caller's thread";
  EXPECT_EQ(thread_count(), 0u);
  EXPECT_EQ(rt_test::maps_lines(), maps_before) << "the stored call's mapping was left behind";
}

TEST_F(DummyTest, StoredCopiesAreDestroyedBeforeStartReturns) {
  static std::atomic<int> callable_destroyed, arg_destroyed, seen_at_call;
  callable_destroyed = 0;
  arg_destroyed = 0;
  seen_at_call = -1;
  Result<Ident> r = start_new_thread(
      [held = Counted(&callable_destroyed)](Counted&&) {
        (void)held;
        seen_at_call.store(callable_destroyed.load() + arg_destroyed.load());
      },
      Counted(&arg_destroyed));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(seen_at_call.load(), 0) << "a stored copy was destroyed before the call";
  EXPECT_EQ(callable_destroyed.load(), 1) << "the stored callable, destroyed once";
  EXPECT_EQ(arg_destroyed.load(), 1) << "the stored argument, destroyed once";
}

TEST_F(DummyTest, MoveOnlyArgumentsAreMovedIn) {
  static std::atomic<int> seen;
  seen = 0;
  MoveOnly first(40);
  Result<Ident> r = start_new_thread(
      [base = MoveOnly(1000)](MoveOnly&& a, MoveOnly&& b) {
        seen.store(base.value + a.value + b.value);
      },
      std::move(first), MoveOnly(2));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(first.value, -1) << "the argument was copied, not moved, into the stored call";
  EXPECT_EQ(seen.load(), 1042);
}

TEST_F(DummyTest, NestedStartsRunInsideTheirCaller) {
  // The order of events, and thread_count() at each: the inner function runs
  // to its end inside the outer one's start_new_thread.
  static std::atomic<int> step;
  static std::atomic<int> outer_begin, inner_ran, outer_end;
  static std::atomic<std::size_t> count_outer, count_inner, count_after_inner;
  static std::atomic<Ident> inner_returned;
  step = 0;
  outer_begin = inner_ran = outer_end = 0;
  count_outer = count_inner = count_after_inner = 99;
  inner_returned = 0;
  Result<Ident> r = start_new_thread([] {
    outer_begin.store(step.fetch_add(1) + 1);
    count_outer.store(thread_count());
    Result<Ident> inner = start_new_thread([] {
      inner_ran.store(step.fetch_add(1) + 1);
      count_inner.store(thread_count());
    });
    if (inner.has_value()) inner_returned.store(*inner);
    count_after_inner.store(thread_count());
    outer_end.store(step.fetch_add(1) + 1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(outer_begin.load(), 1);
  EXPECT_EQ(inner_ran.load(), 2);
  EXPECT_EQ(outer_end.load(), 3);
  EXPECT_EQ(count_outer.load(), 1u);
  EXPECT_EQ(count_inner.load(), 2u) << "both started functions run: the count is the nesting";
  EXPECT_EQ(count_after_inner.load(), 1u);
  EXPECT_EQ(inner_returned.load(), 1u);
  EXPECT_EQ(thread_count(), 0u);
}

TEST_F(DummyTest, GetIdentIsOneEverywhere) {
  static std::atomic<Ident> in_outer, in_inner, inner_returned;
  in_outer = in_inner = inner_returned = 0;
  EXPECT_EQ(get_ident(), 1u);
  Result<Ident> r = start_new_thread([] {
    in_outer.store(get_ident());
    Result<Ident> inner = start_new_thread([] { in_inner.store(get_ident()); });
    if (inner.has_value()) inner_returned.store(*inner);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, 1u);
  EXPECT_EQ(in_outer.load(), 1u);
  EXPECT_EQ(in_inner.load(), 1u);
  EXPECT_EQ(inner_returned.load(), 1u);
  Result<Thread> t = start_joinable_thread([] {});
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ(t->ident(), 1u);
  EXPECT_EQ(get_ident(), 1u);
  // The native id stays the kernel's.
  EXPECT_EQ(get_native_id(), rt_test::gettid_now());
}

// ---------------------------------------------------------------- exit_thread

std::atomic<int> g_before, g_after, g_local_destroyed;

struct NoteDestruction {
  std::atomic<int>* counter;
  ~NoteDestruction() { counter->fetch_add(1); }
};

// GCC sees every path recurse or end in a [[noreturn]] call.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
[[gnu::noinline]] void exit_from_depth(int depth) {
  if (depth > 0) {
    exit_from_depth(depth - 1);
    g_after.fetch_add(1);  // must never run
    return;
  }
  exit_thread();
}
#pragma GCC diagnostic pop

TEST_F(DummyTest, ExitThreadReturnsToStartNewThread) {
  static std::atomic<int> arg_destroyed;
  g_before = 0;
  g_after = 0;
  g_local_destroyed = 0;
  arg_destroyed = 0;
  long maps_before = rt_test::maps_lines();
  Result<Ident> r = start_new_thread(
      [](Counted&&) {
        NoteDestruction local{&g_local_destroyed};
        g_before.store(1);
        exit_from_depth(3);
        g_after.fetch_add(1);  // must never run
      },
      Counted(&arg_destroyed));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, 1u);
  EXPECT_EQ(g_before.load(), 1);
  EXPECT_EQ(g_after.load(), 0) << "code after exit_thread() ran";
  // As when a real thread exits: nothing on its stack, and none of the
  // stored copies, is destroyed; the mapping is gone all the same.
  EXPECT_EQ(g_local_destroyed.load(), 0);
  EXPECT_EQ(arg_destroyed.load(), 0);
  EXPECT_EQ(thread_count(), 0u);
  EXPECT_EQ(rt_test::maps_lines(), maps_before);
  // And the caller goes on: another start works as usual.
  static std::atomic<int> ran;
  ran = 0;
  ASSERT_TRUE(start_new_thread([] { ran.store(1); }).has_value());
  EXPECT_EQ(ran.load(), 1);
}

TEST_F(DummyTest, ExitThreadInANestedStartEndsOnlyTheInnerFunction) {
  static std::atomic<int> inner_before, inner_after, outer_after;
  static std::atomic<std::size_t> count_after_inner;
  inner_before = inner_after = outer_after = 0;
  count_after_inner = 99;
  Result<Ident> r = start_new_thread([] {
    Result<Ident> inner = start_new_thread([] {
      inner_before.store(1);
      exit_thread();
      inner_after.store(1);  // must never run
    });
    count_after_inner.store(thread_count());
    outer_after.store(inner.has_value() ? 1 : -1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(inner_before.load(), 1);
  EXPECT_EQ(inner_after.load(), 0);
  EXPECT_EQ(outer_after.load(), 1) << "the outer function did not go on after the inner exit";
  EXPECT_EQ(count_after_inner.load(), 1u);
  EXPECT_EQ(thread_count(), 0u);
}

TEST_F(DummyTest, ExitThreadInAJoinableFunction) {
  g_before = 0;
  g_after = 0;
  Result<Thread> r = start_joinable_thread([] {
    g_before.store(1);
    exit_thread();
    g_after.store(1);  // must never run
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(g_before.load(), 1);
  EXPECT_EQ(g_after.load(), 0);
  EXPECT_TRUE(r->is_done());
  EXPECT_TRUE(is_true(r->join()));
}

TEST_F(DummyTest, ExitThreadOutsideAStartedFunctionEndsTheCallingThread) {
  // As in the real backend: in a forked child, main's exit_thread() ends
  // main, the only thread, so the process exits with status 0. A started
  // function's exit_thread() before that returned to its start.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    static std::atomic<int> after;
    after = 0;
    Result<Ident> r = start_new_thread([] {
      exit_thread();
      after.store(1);
    });
    if (!r || after.load() != 0) ::_exit(2);
    exit_thread();
    ::_exit(3);  // unreachable
  }
  int status = rt_test::wait_child(pid, rt_test::kDeadline);
  ASSERT_GE(status, 0) << "the child did not end (killed)";
  ASSERT_TRUE(WIFEXITED(status)) << "the child ended by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: the started function's exit_thread; 3: main's";
}

// ---------------------------------------------------------------- interrupt_main

class DummyInterruptTest : public rt_test::InterruptFixture {};

TEST_F(DummyInterruptTest, InterruptMainInAStartedFunctionIsReportedByItsStart) {
  // No signal (the handler would count it), and no request left for main:
  // start_new_thread returns interrupted once the function has run to its end.
  rt_test::SignalGuard sig(SIGINT, rt_test::count_and_request);
  ASSERT_TRUE(sig.ok());
  static std::atomic<int> result, after, arg_destroyed;
  result = 0;
  after = 0;
  arg_destroyed = 0;
  Result<Ident> r = start_new_thread(
      [](Counted&&) {
        result.store(interrupt_main().has_value() ? 1 : -1);
        after.store(1);
      },
      Counted(&arg_destroyed));
  expect_error(r, Errc::interrupted, rt_test::kStartedInterruptedMessage, EINTR);
  EXPECT_EQ(result.load(), 1) << "interrupt_main() failed in the started function";
  EXPECT_EQ(after.load(), 1) << "the function did not run to its end";
  EXPECT_EQ(arg_destroyed.load(), 1) << "the stored copies, destroyed as after any return";
  EXPECT_EQ(thread_count(), 0u);
  rt_test::sleep_ms(20);
  EXPECT_EQ(rt_test::g_handler_runs.load(), 0) << "a signal was sent";
  rt_test::expect_no_pending_request();

  // The same for a joinable one: no handle, the error instead.
  result = 0;
  Result<Thread> t = start_joinable_thread([] {
    result.store(interrupt_main(SIGINT).has_value() ? 1 : -1);
  });
  expect_error(t, Errc::interrupted, rt_test::kStartedInterruptedMessage, EINTR);
  EXPECT_EQ(result.load(), 1);
  EXPECT_EQ(rt_test::g_handler_runs.load(), 0);

  // A start after that is not interrupted: the report went with its start.
  Result<Ident> again = start_new_thread([] {});
  EXPECT_TRUE(again.has_value());
  rt_test::expect_no_pending_request();
}

TEST_F(DummyInterruptTest, InterruptMainInANestedFunctionIsReportedByTheInnerStart) {
  rt_test::SignalGuard sig(SIGINT, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  static std::atomic<int> inner_kind, outer_after;
  inner_kind = -1;
  outer_after = 0;
  Result<Ident> r = start_new_thread([] {
    Result<Ident> inner = start_new_thread([] { (void)interrupt_main(); });
    inner_kind.store(inner.has_value() ? -2 : static_cast<int>(inner.error().kind));
    outer_after.store(1);
  });
  ASSERT_TRUE(r.has_value()) << "the outer start was interrupted too: " << r.error().message;
  EXPECT_EQ(static_cast<Errc>(inner_kind.load()), Errc::interrupted);
  EXPECT_EQ(outer_after.load(), 1);
  EXPECT_EQ(rt_test::g_handler_runs.load(), 0);
}

TEST_F(DummyInterruptTest, InterruptMainInAStartedFunctionChecksItsArgument) {
  // The signal number is checked first, as in the real backend; a refused
  // call interrupts nothing.
  static std::atomic<int> kind;
  kind = -1;
  Result<Ident> r = start_new_thread([] {
    Result<void> bad = interrupt_main(0);
    kind.store(bad.has_value() ? -2 : static_cast<int>(bad.error().kind));
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(static_cast<Errc>(kind.load()), Errc::value_error);
}

TEST_F(DummyInterruptTest, InterruptMainOutsideAStartedFunctionSignalsMain) {
  // As in the real backend: the handler runs, and its request ends main's
  // next blocking acquire. Also after a started function was interrupted.
  rt_test::SignalGuard sig(SIGINT, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  EXPECT_FALSE(start_new_thread([] { (void)interrupt_main(); }).has_value());
  EXPECT_EQ(rt_test::g_handler_runs.load(), 0);
  Result<void> sent = interrupt_main();
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  EXPECT_TRUE(rt_test::wait_for([] { return rt_test::g_handler_runs.load() == 1; }));
  Lock held;
  ASSERT_TRUE(held.try_lock());
  std::int64_t t0 = now_ns();
  rt_test::expect_interrupted(held.acquire(true, 20.0));
  EXPECT_LT(seconds_since(t0), 10.0);
  rt_test::expect_no_pending_request();
}

// ---------------------------------------------------------------- stack_size

TEST_F(DummyTest, StackSizeErrors) {
  // The real backend's value errors first; then every size it would take is
  // refused, since no thread gets a stack of its own. The setting stays 0.
  for (long size : {-1L, -32768L, LONG_MIN}) {
    SCOPED_TRACE(size);
    expect_error(stack_size(size), Errc::value_error, "size must be 0 or a positive value");
    EXPECT_EQ(stack_size(), 0u);
  }
  for (long size : {1L, 4096L, 32767L}) {
    SCOPED_TRACE(size);
    expect_error(stack_size(size), Errc::value_error,
                 "size not valid: must be 0 or at least 32768 bytes");
    EXPECT_EQ(stack_size(), 0u);
  }
  for (long size : {32768L, 65536L, 100001L, 1L << 20, 1L << 60, LONG_MAX}) {
    SCOPED_TRACE(size);
    expect_error(stack_size(size), Errc::thread_error, rt_test::kStackSizeNotSupportedMessage);
    EXPECT_EQ(stack_size(), 0u);
  }
  Result<std::size_t> zero = stack_size(0L);
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(*zero, 0u);
  EXPECT_EQ(stack_size(), 0u);
}

// ---------------------------------------------------------------- locks no one else can release

TEST_F(DummyTest, UntimedAcquireOfAHeldLockWouldDeadlock) {
  Lock lock;
  ASSERT_TRUE(lock.try_lock());
  std::int64_t t0 = now_ns();
  expect_error(lock.acquire(), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
  expect_error(lock.acquire(true), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
  expect_error(lock.acquire(true, -1), Errc::thread_error, rt_test::kWouldDeadlockMessage,
               EDEADLK);
  EXPECT_LT(seconds_since(t0), 1.0) << "the refusal waited";
  // The lock is as it was: held, and free once released.
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(is_false(lock.acquire(false)));
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(is_true(lock.acquire()));  // free: taken, no error
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(DummyTest, UntimedAcquireInAStartedFunctionWouldDeadlock) {
  // Main holds the lock; the started function, running in main's place,
  // cannot wait for it either.
  static Lock lock;
  static std::atomic<int> kind, sys_errno;
  kind = -1;
  sys_errno = -1;
  ASSERT_TRUE(lock.try_lock());
  Result<Ident> r = start_new_thread([] {
    Result<bool> got = lock.acquire();
    kind.store(got.has_value() ? -2 : static_cast<int>(got.error().kind));
    sys_errno.store(got.has_value() ? -2 : got.error().sys_errno);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(static_cast<Errc>(kind.load()), Errc::thread_error);
  EXPECT_EQ(sys_errno.load(), EDEADLK);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(DummyTest, ChecksBeforeTheDeadlock) {
  // Argument errors and a pending interrupt request come first, as in the
  // real backend's order.
  Lock lock;
  ASSERT_TRUE(lock.try_lock());
  expect_error(lock.acquire(true, -5.0), Errc::value_error, rt_test::kNegativeMessage);
  expect_error(lock.acquire(false, 1.0), Errc::value_error, rt_test::kNonBlockingMessage);
  request_interrupt();
  rt_test::expect_interrupted(lock.acquire());
  expect_error(lock.acquire(), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(DummyTest, TimedAcquireOfAHeldLockWaitsItsTimeout) {
  Lock lock;
  ASSERT_TRUE(lock.try_lock());
  for (double timeout : {0.0625, 0.25}) {
    SCOPED_TRACE(timeout);
    std::int64_t t0 = now_ns();
    Result<bool> r = lock.acquire(true, timeout);
    std::int64_t elapsed = now_ns() - t0;
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_FALSE(*r);
    EXPECT_GE(elapsed, rt_test::to_ns(timeout));
  }
  std::int64_t t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_for(std::chrono::milliseconds(100)));
  EXPECT_GE(now_ns() - t0, rt_test::to_ns(0.1));
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(DummyTest, NonBlockingAcquireOfAHeldLockIsFalse) {
  Lock lock;
  ASSERT_TRUE(lock.try_lock());
  std::int64_t t0 = now_ns();
  EXPECT_TRUE(is_false(lock.acquire(false)));
  EXPECT_TRUE(is_false(lock.acquire(false, -1)));
  EXPECT_TRUE(is_false(lock.acquire(true, 0)));
  EXPECT_FALSE(lock.try_lock());
  EXPECT_LT(seconds_since(t0), 1.0);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(DummyTest, LockOfAHeldLockTraps) {
  // lock() has no error to return and would wait for good: it traps. In a
  // forked child, which must die of a signal.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    no_core_dump();
    Lock lock;
    lock.lock();
    lock.lock();
    ::_exit(0);
  }
  int status = rt_test::wait_child(pid, rt_test::kDeadline);
  ASSERT_GE(status, 0) << "lock() of a held lock hung (killed)";
  EXPECT_TRUE(WIFSIGNALED(status)) << "the child exited with " << WEXITSTATUS(status);
}

// An RLock held by a thread the library did not start (the only kind there
// is here): a HelperThread owns `lock` until `release` is set.
struct ForeignOwner {
  RLock& lock;
  std::atomic<int> state{0};  // 1: owns it, 2: released, -1: failed
  std::atomic<bool> release{false};
  rt_test::HelperThread helper;

  explicit ForeignOwner(RLock& l) : lock(l) {
    helper = rt_test::HelperThread([this] {
      if (!is_true(lock.acquire())) {
        state = -1;
        return;
      }
      state = 1;
      rt_test::wait_for([this] { return release.load(); });
      state = lock.release().has_value() ? 2 : -1;
    });
    rt_test::wait_for([this] { return state.load() != 0; });
  }
  ~ForeignOwner() { finish(); }
  void finish() {
    release = true;
    helper.join();
  }
};

TEST_F(DummyTest, RLockHeldByAnotherThread) {
  RLock lock;
  ForeignOwner owner(lock);
  ASSERT_EQ(owner.state.load(), 1);
  std::int64_t t0 = now_ns();
  expect_error(lock.acquire(), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
  EXPECT_LT(seconds_since(t0), 1.0);
  EXPECT_TRUE(is_false(lock.acquire(false)));
  EXPECT_FALSE(lock.try_lock());
  t0 = now_ns();
  Result<bool> timed = lock.acquire(true, 0.25);
  ASSERT_TRUE(timed.has_value()) << timed.error().message;
  EXPECT_FALSE(*timed);
  EXPECT_GE(now_ns() - t0, rt_test::to_ns(0.25));
  EXPECT_FALSE(lock.is_owned());
  owner.finish();
  EXPECT_EQ(owner.state.load(), 2) << "the errors disturbed the owner's hold";
  EXPECT_TRUE(is_true(lock.acquire()));
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(DummyTest, RLockLockHeldByAnotherThreadTraps) {
  // The child inherits the lock held by a thread it does not have.
  static RLock lock;
  ForeignOwner owner(lock);
  ASSERT_EQ(owner.state.load(), 1);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    no_core_dump();
    lock.lock();
    ::_exit(0);
  }
  int status = rt_test::wait_child(pid, rt_test::kDeadline);
  ASSERT_GE(status, 0) << "lock() of an RLock another thread holds hung (killed)";
  EXPECT_TRUE(WIFSIGNALED(status)) << "the child exited with " << WEXITSTATUS(status);
}

TEST_F(DummyTest, RLockReentryByTheOneThread) {
  // A started function runs as the thread that started it, so it owns what
  // that thread owns: every way of acquiring re-enters, none waits.
  static RLock lock;
  static std::atomic<int> owned, depth_seen, ok;
  owned = depth_seen = ok = 0;
  ASSERT_TRUE(is_true(lock.acquire()));
  Result<Ident> r = start_new_thread([] {
    owned.store(lock.is_owned() ? 1 : 0);
    bool good = is_true(lock.acquire()) && is_true(lock.acquire(true, 5.0)) &&
                is_true(lock.acquire(false)) && lock.try_lock() &&
                lock.try_lock_for(std::chrono::seconds(5));
    lock.lock();
    depth_seen.store(static_cast<int>(lock.recursion_count()));
    for (int i = 0; i < 6; ++i) good = lock.release().has_value() && good;
    ok.store(good ? 1 : -1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(owned.load(), 1);
  EXPECT_EQ(depth_seen.load(), 7);
  EXPECT_EQ(ok.load(), 1);
  EXPECT_TRUE(lock.is_owned());
  EXPECT_EQ(lock.recursion_count(), 1u);
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_FALSE(lock.is_owned());
}

// ---------------------------------------------------------------- joinable threads

TEST_F(DummyTest, JoinableThreadIsDoneWhenStarted) {
  static std::atomic<int> ran, destroyed;
  ran = 0;
  destroyed = 0;
  Result<Thread> r = start_joinable_thread([](Counted&&) { ran.store(1); }, Counted(&destroyed));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(destroyed.load(), 1);
  EXPECT_EQ(t.ident(), 1u);
  EXPECT_TRUE(t.is_done()) << "no wait: done as the start returned";
  EXPECT_EQ(thread_count(), 0u);
  const double inf = std::numeric_limits<double>::infinity();
  std::int64_t t0 = now_ns();
  EXPECT_TRUE(is_true(t.join()));
  EXPECT_TRUE(is_true(t.join(0)));
  EXPECT_TRUE(is_true(t.join(-1)));
  EXPECT_TRUE(is_true(t.join(TIMEOUT_MAX)));
  EXPECT_LT(seconds_since(t0), 1.0) << "a join waited";
  // The timeout's checks still come first.
  expect_error(t.join(-2), Errc::value_error, rt_test::kNegativeMessage);
  expect_error(t.join(std::nan("")), Errc::value_error, rt_test::kNegativeMessage);
  expect_error(t.join(inf), Errc::overflow_error, rt_test::kTooLargeMessage);
  EXPECT_TRUE(t.is_done());
  EXPECT_TRUE(is_true(t.join()));
}

TEST_F(DummyTest, EmptyHandleCannotBeJoined) {
  const char* kNotStarted = "cannot join thread before it is started";
  Thread empty;
  EXPECT_FALSE(empty.is_done());
  expect_error(empty.join(), Errc::thread_error, kNotStarted);
  expect_error(empty.join(-2), Errc::thread_error, kNotStarted);  // before the timeout's checks
  Result<Thread> r = start_joinable_thread([] {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread moved(std::move(*r));
  EXPECT_EQ(r->ident(), 0u);
  EXPECT_FALSE(r->is_done());
  expect_error(r->join(0), Errc::thread_error, kNotStarted);
  EXPECT_TRUE(is_true(moved.join()));
}

TEST_F(DummyTest, JoinInAStartedFunctionIsNoSelfJoin) {
  // Every ident is 1 here, so an ident can't tell a self-join; and a handle
  // is only made once its function has ended. A started function joins
  // another's handle without error.
  static Thread handle;
  static std::atomic<int> outcome;
  outcome = 0;
  Result<Thread> r = start_joinable_thread([] {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  handle = std::move(*r);
  ASSERT_TRUE(start_new_thread([] {
                Result<bool> j = handle.join();
                outcome.store(is_true(j) ? 1 : j.has_value() ? 2 : 3);
              }).has_value());
  EXPECT_EQ(outcome.load(), 1) << "2: false, 3: an error";
  handle = Thread();
}

}  // namespace
