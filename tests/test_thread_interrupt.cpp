// SPDX-License-Identifier: MIT
// Thread::interrupt (issue 15): interrupt_main's rules for a joinable
// thread. A thread blocked in acquire, in join of another thread and in
// sleep, interrupted by the main thread, returns interrupted; a request
// made while it runs ends its next blocking call; an ended thread, a bad
// signal number and a SIG_IGN / SIG_DFL disposition change nothing; the
// call races safely with the thread's end.
//
// Thread bodies record what they saw in atomics; the main thread asserts,
// and each of its waits has a deadline. The handlers (SignalGuard: no
// SA_RESTART) run in the interrupted thread.
#include <climits>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;
using rt_test::kDummy;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

using rt_test::count_only;
using rt_test::g_handler_runs;

class ThreadInterruptTest : public rt_test::InterruptFixture {};

// What a worker saw: kRunning until its blocking call returns.
enum Seen : int { kRunning = 0, kInterrupted, kOk, kOther };

struct Probe {
  std::atomic<long> tid{0};
  std::atomic<int> first{kRunning}, second{kRunning};
  std::atomic<int> go{0};
  void reset() {
    tid = 0;
    first = kRunning;
    second = kRunning;
    go = 0;
  }
};
Probe probe;

int seen_of(const Result<void>& r) noexcept {
  if (r) return kOk;
  return r.error().kind == Errc::interrupted ? kInterrupted : kOther;
}
int seen_of(const Result<bool>& r) noexcept {
  if (r) return kOk;
  return r.error().kind == Errc::interrupted ? kInterrupted : kOther;
}

// Starts `body`, waits until the worker sleeps in the kernel, interrupts it
// with SIGUSR1 and checks that its blocking call returned interrupted.
template <class Body>
void interrupt_a_blocked_worker(Body body) {
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  probe.reset();
  auto started = start_joinable_thread([body] {
    probe.tid.store(get_native_id());
    probe.first.store(body());
  });
  ASSERT_TRUE(started.has_value()) << started.error().message;
  Thread t = std::move(*started);
  ASSERT_TRUE(wait_for([] { return probe.tid.load() != 0; }));
  ASSERT_TRUE(rt_test::wait_until_sleeping(probe.tid.load())) << "the worker never blocked";
  EXPECT_EQ(probe.first.load(), kRunning);
  Result<void> sent = t.interrupt(SIGUSR1);
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  EXPECT_TRUE(wait_for([] { return probe.first.load() != kRunning; }));
  EXPECT_EQ(probe.first.load(), kInterrupted);
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_TRUE(rt_test::is_true(t.join(rt_test::kDeadline)));
}

// ---------------------------------------------------------------- blocked workers

TEST_F(ThreadInterruptTest, EndsAnUntimedAcquire) {
  RT_REQUIRES_CONCURRENCY();  // the worker waits for a lock main holds
  static Lock lock;
  ASSERT_TRUE(lock.try_lock());
  interrupt_a_blocked_worker([] { return seen_of(lock.acquire()); });
  EXPECT_TRUE(lock.locked()) << "the interrupted acquire took or freed the lock";
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(ThreadInterruptTest, EndsATimedRLockAcquire) {
  RT_REQUIRES_CONCURRENCY();
  static RLock lock;
  ASSERT_TRUE(lock.try_lock());
  interrupt_a_blocked_worker([] { return seen_of(lock.acquire(true, rt_test::kDeadline)); });
  EXPECT_TRUE(lock.is_owned());
  EXPECT_TRUE(lock.release().has_value());
}

// The thread a worker's join blocks on: it waits at g_gate, which main
// holds, until end_gated_thread lets it go and joins it.
Lock g_gate;
Thread g_gated;

void start_gated_thread() {
  ASSERT_TRUE(g_gate.try_lock());
  auto started = start_joinable_thread([] {
    (void)g_gate.acquire(true, rt_test::kDeadline);
    (void)g_gate.release();
  });
  ASSERT_TRUE(started.has_value()) << started.error().message;
  g_gated = std::move(*started);
}

void end_gated_thread() {
  EXPECT_TRUE(g_gate.release().has_value());
  EXPECT_TRUE(rt_test::is_true(g_gated.join(rt_test::kDeadline)));
}

TEST_F(ThreadInterruptTest, EndsAJoinOfAnotherThread) {
  RT_REQUIRES_CONCURRENCY();
  // Interrupted, the worker leaves the other thread alone: main joins it
  // once it is let go.
  ASSERT_NO_FATAL_FAILURE(start_gated_thread());
  interrupt_a_blocked_worker([] { return seen_of(g_gated.join()); });
  EXPECT_FALSE(g_gated.is_done());
  end_gated_thread();
}

TEST_F(ThreadInterruptTest, EndsATimedJoin) {
  RT_REQUIRES_CONCURRENCY();
  ASSERT_NO_FATAL_FAILURE(start_gated_thread());
  interrupt_a_blocked_worker([] { return seen_of(g_gated.join(rt_test::kDeadline)); });
  EXPECT_FALSE(g_gated.is_done());
  end_gated_thread();
}

TEST_F(ThreadInterruptTest, EndsAnEndlessSleep) {
  RT_REQUIRES_CONCURRENCY();
  interrupt_a_blocked_worker([] { return seen_of(rawthread::sleep(-1)); });
}

TEST_F(ThreadInterruptTest, EndsATimedSleep) {
  RT_REQUIRES_CONCURRENCY();
  interrupt_a_blocked_worker([] { return seen_of(rawthread::sleep(rt_test::kDeadline)); });
}

TEST_F(ThreadInterruptTest, ARequestMadeWhileItRunsEndsItsNextBlockingCall) {
  RT_REQUIRES_CONCURRENCY();
  // The worker spins (no blocking call) while main interrupts it: the
  // handler runs there, and the request waits for its next sleep, which
  // ends at once; the one after runs its time out.
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  probe.reset();
  auto started = start_joinable_thread([] {
    probe.tid.store(get_native_id());
    while (probe.go.load() == 0) {
    }
    probe.first.store(seen_of(rawthread::sleep(rt_test::kDeadline)));
    probe.second.store(seen_of(rawthread::sleep(0.05)));
  });
  ASSERT_TRUE(started.has_value()) << started.error().message;
  Thread t = std::move(*started);
  ASSERT_TRUE(wait_for([] { return probe.tid.load() != 0; }));
  ASSERT_TRUE(t.interrupt(SIGUSR1).has_value());
  ASSERT_TRUE(wait_for([] { return g_handler_runs.load() == 1; }));
  const std::int64_t t0 = now_ns();
  probe.go = 1;
  EXPECT_TRUE(wait_for([] { return probe.second.load() != kRunning; }));
  EXPECT_LT(seconds_since(t0), rt_test::kDeadline / 2);
  EXPECT_EQ(probe.first.load(), kInterrupted);
  EXPECT_EQ(probe.second.load(), kOk) << "the request was not consumed";
  EXPECT_TRUE(rt_test::is_true(t.join(rt_test::kDeadline)));
}

TEST_F(ThreadInterruptTest, APendingRequestEndsAJoinOnceEvenOfAnEndedThread) {
  // As a blocking acquire of a free lock: the join consumes the request and
  // leaves the thread for the next join. Both backends (the dummy's threads
  // have always ended).
  auto started = start_joinable_thread([] {});
  ASSERT_TRUE(started.has_value()) << started.error().message;
  Thread t = std::move(*started);
  ASSERT_TRUE(wait_for([&t] { return t.is_done(); }));
  request_interrupt();
  Result<bool> first = t.join(rt_test::kDeadline);
  ASSERT_FALSE(first.has_value()) << "join returned " << *first << " with a request pending";
  EXPECT_EQ(first.error().kind, Errc::interrupted);
  EXPECT_STREQ(first.error().message, "join interrupted");
  EXPECT_TRUE(rt_test::is_true(t.join(rt_test::kDeadline)));
  rt_test::expect_no_pending_request();
}

// ---------------------------------------------------------------- nothing to do

TEST_F(ThreadInterruptTest, EmptyHandleIsAThreadError) {
  Thread empty;
  expect_error(empty.interrupt(SIGUSR1), Errc::thread_error,
               "cannot interrupt thread before it is started");
  expect_error(empty.interrupt(0), Errc::thread_error,
               "cannot interrupt thread before it is started");
}

TEST_F(ThreadInterruptTest, AnEndedThreadIsLeftAlone) {
  // Ended, then joined: both succeed and send nothing. The dummy backend's
  // handles are all of this kind.
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  auto started = start_joinable_thread([] {});
  ASSERT_TRUE(started.has_value()) << started.error().message;
  Thread t = std::move(*started);
  ASSERT_TRUE(wait_for([&t] { return t.is_done(); }));
  Result<void> r = t.interrupt(SIGUSR1);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(rt_test::is_true(t.join(rt_test::kDeadline)));
  r = t.interrupt(SIGUSR1);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  rt_test::sleep_ms(20);
  EXPECT_EQ(g_handler_runs.load(), 0) << "a signal went out for an ended thread";
  // Moved from: empty.
  Thread moved = std::move(t);
  expect_error(t.interrupt(SIGUSR1), Errc::thread_error,
               "cannot interrupt thread before it is started");
  EXPECT_TRUE(moved.interrupt(SIGUSR1).has_value());
}

// The worker sleeps 0.3 s, then 0.05 s: both run their time out when main's
// calls change nothing (no signal, no request left pending).
template <class Calls>
void expect_nothing_changes(Calls calls) {
  probe.reset();
  auto started = start_joinable_thread([] {
    probe.tid.store(get_native_id());
    probe.first.store(seen_of(rawthread::sleep(0.3)));
    probe.second.store(seen_of(rawthread::sleep(0.05)));
  });
  ASSERT_TRUE(started.has_value()) << started.error().message;
  Thread t = std::move(*started);
  ASSERT_TRUE(wait_for([] { return probe.tid.load() != 0; }));
  calls(t);
  EXPECT_TRUE(wait_for([] { return probe.second.load() != kRunning; }));
  EXPECT_EQ(probe.first.load(), kOk);
  EXPECT_EQ(probe.second.load(), kOk);
  EXPECT_TRUE(rt_test::is_true(t.join(rt_test::kDeadline)));
  EXPECT_EQ(g_handler_runs.load(), 0);
}

TEST_F(ThreadInterruptTest, BadSignalNumbersChangeNothing) {
  RT_REQUIRES_CONCURRENCY();  // the worker must be running meanwhile
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  expect_nothing_changes([](Thread& t) {
    for (int signum : {0, 65, -1, 66, 128, INT_MIN, INT_MAX}) {
      SCOPED_TRACE(signum);
      expect_error(t.interrupt(signum), Errc::value_error, "signal number out of range");
    }
  });
}

TEST_F(ThreadInterruptTest, IgnoredAndDefaultDispositionsDoNothing) {
  RT_REQUIRES_CONCURRENCY();
  // SIGUSR2's default action would end the process: it must not be sent.
  rt_test::SignalGuard ignored(SIGUSR1, SIG_IGN), by_default(SIGUSR2, SIG_DFL);
  ASSERT_TRUE(ignored.ok() && by_default.ok());
  expect_nothing_changes([](Thread& t) {
    EXPECT_TRUE(t.interrupt(SIGUSR1).has_value());
    EXPECT_TRUE(t.interrupt(SIGUSR2).has_value());
  });
}

TEST_F(ThreadInterruptTest, DummyBackendChecksArgumentsAndDoesNothing) {
  if (!kDummy) GTEST_SKIP() << "the dummy backend's rule";
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  static std::atomic<int> ran{0};
  ran = 0;
  auto started = start_joinable_thread([] { ran.store(1); });
  ASSERT_TRUE(started.has_value()) << started.error().message;
  EXPECT_EQ(ran.load(), 1);
  EXPECT_TRUE(started->interrupt(SIGUSR1).has_value());
  expect_error(started->interrupt(65), Errc::value_error, "signal number out of range");
  rt_test::sleep_ms(20);
  EXPECT_EQ(g_handler_runs.load(), 0);
  rt_test::expect_no_pending_request();
  EXPECT_TRUE(rt_test::is_true(started->join()));
}

// ---------------------------------------------------------------- the thread's end

TEST_F(ThreadInterruptTest, RacesWithTheThreadsEnd) {
  // Interrupts sent as the thread returns, exits and is joined: each call
  // succeeds, none waits for long, the handler runs at most once per call
  // (in the thread, while it has not exited), and every thread ends and is
  // joined (a drain that missed a wake would hang the thread's end).
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  const long n = rt_test::iterations(2000, 200);
  long failures = 0;
  for (long i = 0; i < n; ++i) {
    auto started = start_joinable_thread([] {});
    ASSERT_TRUE(started.has_value()) << started.error().message;
    Thread t = std::move(*started);
    for (int k = 0; k < 3; ++k) failures += t.interrupt(SIGUSR1).has_value() ? 0 : 1;
    ASSERT_TRUE(rt_test::is_true(t.join(rt_test::kDeadline))) << "iteration " << i;
  }
  EXPECT_EQ(failures, 0);
  EXPECT_LE(g_handler_runs.load(), 3 * n);
}

}  // namespace
