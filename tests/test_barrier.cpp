// SPDX-License-Identifier: MIT
// Barrier: CPython's Lib/test/lock_tests.py BarrierTests ported (each case
// names its origin), a Barrier of 8 for 10,000 cycles, the errors (each
// changes nothing), timeouts, reset and abort with threads waiting,
// interrupts (pending, arriving: the barrier stays unbroken, one party
// fewer) and the dummy backend.
//
// Thread bodies use only rawthread, std::atomic and the statics below; the
// main thread asserts on what they recorded, and each of its waits has a
// deadline (the barriers' default timeouts included).
#include <cmath>
#include <limits>
#include <type_traits>

#include "support.hpp"

using namespace rawthread;
using rt_test::body_sleep;
using rt_test::expect_error;
using rt_test::kDummy;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

static_assert(!std::is_copy_constructible_v<Barrier>);
static_assert(!std::is_move_constructible_v<Barrier>);
static_assert(!std::is_copy_assignable_v<Barrier>);

constexpr const char* kBrokenMessage = "barrier is broken";
constexpr const char* kNoPartiesMessage = "parties must be > 0";
constexpr const char* kInterruptedMessage = "lock acquire interrupted";

// lock_tests.py BarrierTests: N = 5; its defaultTimeout of 2.0 s is longer
// here, so that QEMU's slowness cannot break a barrier by itself.
constexpr unsigned kN = 5;
constexpr double kDefaultTimeout = 10.0;

// Constant-initialized: constinit refuses to compile otherwise.
std::atomic<int> g_static_actions{0};
void count_static_action() { g_static_actions.fetch_add(1); }
constinit Barrier g_static(1, count_static_action);

// What one test's threads record. Reset by each test.
struct Record {
  static constexpr int kMax = 64;
  std::atomic<int> finished{0};
  std::atomic<int> results1{0}, results2{0}, results3{0};
  std::atomic<int> actions{0};
  std::atomic<int> bad{0};  // a check inside a body failed
  std::atomic<int> index[kMax];
  std::atomic<int> errc[kMax];  // Errc + 1 of an error, 0 for none

  void reset() {
    finished = results1 = results2 = results3 = actions = bad = 0;
    for (int i = 0; i < kMax; ++i) index[i] = errc[i] = -1;
  }
};
Record g;

bool is_broken(const Result<unsigned>& r) noexcept {
  return !r.has_value() && r.error().kind == Errc::broken_barrier;
}
void count_action() { g.actions.fetch_add(1); }

class BarrierTest : public rt_test::InterruptFixture {
 protected:
  void SetUp() override {
    rt_test::InterruptFixture::SetUp();
    g.reset();
  }
};

// lock_tests.py's run_threads: fn on n-1 new threads and on the main
// thread, then waits (with a deadline) for the new ones to finish.
template <class F>
void run_threads(unsigned n, F fn) {
  int started = 0;
  for (unsigned i = 0; i + 1 < n; ++i) {
    if (start_new_thread([fn] {
          fn();
          g.finished.fetch_add(1);
        }).has_value())
      ++started;
  }
  ASSERT_EQ(started, static_cast<int>(n - 1));
  fn();
  EXPECT_TRUE(wait_for([n] { return g.finished.load() == static_cast<int>(n - 1); }));
}

// ---------------------------------------------------------------- lock_tests.py BarrierTests

// lock_tests.py BarrierTests.multipass: each of N threads passes the
// barrier 2 * passes times; between two waits every thread sees all the
// others' appends of the previous phase and none of the next.
void multipass(Barrier& barrier, int passes) {
  for (int i = 0; i < passes; ++i) {
    g.results1.fetch_add(1);
    if (g.results2.load() != i * static_cast<int>(kN)) g.bad.fetch_add(1);
    if (!barrier.wait().has_value()) g.bad.fetch_add(1);
    g.results2.fetch_add(1);
    if (g.results1.load() != (i + 1) * static_cast<int>(kN)) g.bad.fetch_add(1);
    if (!barrier.wait().has_value()) g.bad.fetch_add(1);
  }
}

void barrier_passes(int passes) {
  static Barrier* barrier;
  Barrier local(kN, nullptr, kDefaultTimeout);
  barrier = &local;
  static int n;
  n = passes;
  run_threads(kN, [] { multipass(*barrier, n); });
  EXPECT_EQ(g.bad.load(), 0);
  EXPECT_EQ(local.n_waiting(), 0u);
  EXPECT_FALSE(local.broken());
  local.abort();  // lock_tests.py's tearDown
}

// lock_tests.py BarrierTests.test_barrier.
TEST_F(BarrierTest, CPythonBarrier) {
  RT_REQUIRES_CONCURRENCY();
  barrier_passes(1);
}

// lock_tests.py BarrierTests.test_barrier_10.
TEST_F(BarrierTest, CPythonBarrier10) {
  RT_REQUIRES_CONCURRENCY();
  barrier_passes(10);
}

// lock_tests.py BarrierTests.test_wait_return: the indices are 0 .. N-1.
TEST_F(BarrierTest, CPythonWaitReturn) {
  RT_REQUIRES_CONCURRENCY();
  static Barrier barrier(kN, nullptr, kDefaultTimeout);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  static std::atomic<int> sum, seen_mask;
  sum = 0;
  seen_mask = 0;
  run_threads(kN, [] {
    Result<unsigned> r = barrier.wait();
    if (!r.has_value() || *r >= kN) return (void)g.bad.fetch_add(1);
    sum.fetch_add(static_cast<int>(*r));
    seen_mask.fetch_or(1 << *r);
  });
  EXPECT_EQ(g.bad.load(), 0);
  EXPECT_EQ(sum.load(), static_cast<int>(kN * (kN - 1) / 2));
  EXPECT_EQ(seen_mask.load(), (1 << kN) - 1);
}

// lock_tests.py BarrierTests.test_action: the action ran once, before any
// thread returned.
TEST_F(BarrierTest, CPythonAction) {
  RT_REQUIRES_CONCURRENCY();
  static Barrier barrier(kN, count_action, kDefaultTimeout);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  run_threads(kN, [] {
    if (!barrier.wait().has_value()) g.bad.fetch_add(1);
    if (g.actions.load() != 1) g.bad.fetch_add(1);
  });
  EXPECT_EQ(g.bad.load(), 0);
  EXPECT_EQ(g.actions.load(), 1);
}

// lock_tests.py BarrierTests.test_abort: the thread with index N/2 aborts
// instead of waiting again; every other one gets broken_barrier.
TEST_F(BarrierTest, CPythonAbort) {
  RT_REQUIRES_CONCURRENCY();
  static Barrier barrier(kN, nullptr, kDefaultTimeout);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  run_threads(kN, [] {
    Result<unsigned> i = barrier.wait();
    if (i.has_value() && *i == kN / 2) return barrier.abort();
    if (i.has_value()) i = barrier.wait();
    if (i.has_value()) g.results1.fetch_add(1);
    if (is_broken(i)) g.results2.fetch_add(1);
  });
  EXPECT_EQ(g.results1.load(), 0);
  EXPECT_EQ(g.results2.load(), static_cast<int>(kN - 1));
  EXPECT_TRUE(barrier.broken());
}

// lock_tests.py BarrierTests.test_reset: the thread with index N/2 resets
// the barrier once the N-1 others wait again; they get broken_barrier, and
// then all N pass it once more.
TEST_F(BarrierTest, CPythonReset) {
  RT_REQUIRES_CONCURRENCY();
  static Barrier barrier(kN, nullptr, kDefaultTimeout);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  run_threads(kN, [] {
    Result<unsigned> i = barrier.wait();
    if (!i.has_value()) return (void)g.bad.fetch_add(1);
    if (*i == kN / 2) {
      // Until the others all wait (lock_tests.py polls for ever).
      for (int polls = 0; barrier.n_waiting() < kN - 1 && polls < 5000; ++polls) body_sleep(0.001);
      barrier.reset();
    } else {
      Result<unsigned> again = barrier.wait();
      if (again.has_value()) g.results1.fetch_add(1);
      if (is_broken(again)) g.results2.fetch_add(1);
    }
    if (barrier.wait().has_value()) g.results3.fetch_add(1);
  });
  EXPECT_EQ(g.bad.load(), 0);
  EXPECT_EQ(g.results1.load(), 0);
  EXPECT_EQ(g.results2.load(), static_cast<int>(kN - 1));
  EXPECT_EQ(g.results3.load(), static_cast<int>(kN));
  EXPECT_FALSE(barrier.broken());
}

// lock_tests.py BarrierTests.test_abort_and_reset: aborted as in
// test_abort, then reset by one thread between two passes of a second
// barrier, then passed by all N.
TEST_F(BarrierTest, CPythonAbortAndReset) {
  RT_REQUIRES_CONCURRENCY();
  static Barrier barrier(kN, nullptr, kDefaultTimeout);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  static Barrier barrier2(kN, nullptr, kDefaultTimeout);
  barrier2.reset();  // as new when the test repeats (--gtest_repeat)
  run_threads(kN, [] {
    Result<unsigned> i = barrier.wait();
    if (i.has_value() && *i == kN / 2) {
      barrier.abort();
    } else {
      if (i.has_value()) i = barrier.wait();
      if (i.has_value()) g.results1.fetch_add(1);
      if (is_broken(i)) g.results2.fetch_add(1);
    }
    // Everyone has left it before the reset, and nobody enters it before.
    Result<unsigned> j = barrier2.wait();
    if (!j.has_value()) g.bad.fetch_add(1);
    if (j.has_value() && *j == kN / 2) barrier.reset();
    if (!barrier2.wait().has_value()) g.bad.fetch_add(1);
    if (barrier.wait().has_value()) g.results3.fetch_add(1);
  });
  EXPECT_EQ(g.bad.load(), 0);
  EXPECT_EQ(g.results1.load(), 0);
  EXPECT_EQ(g.results2.load(), static_cast<int>(kN - 1));
  EXPECT_EQ(g.results3.load(), static_cast<int>(kN));
}

// lock_tests.py BarrierTests.test_timeout: one thread is late by 1 s; the
// others' wait(0.5) times out, which breaks the barrier for all of them.
TEST_F(BarrierTest, CPythonTimeout) {
  RT_REQUIRES_CONCURRENCY();
  static Barrier barrier(kN, nullptr, kDefaultTimeout);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  run_threads(kN, [] {
    Result<unsigned> i = barrier.wait();
    if (!i.has_value()) return (void)g.bad.fetch_add(1);
    if (*i == kN / 2) body_sleep(1.0);
    if (is_broken(barrier.wait(0.5))) g.results2.fetch_add(1);
  });
  EXPECT_EQ(g.bad.load(), 0);
  EXPECT_EQ(g.results2.load(), static_cast<int>(kN));
  EXPECT_TRUE(barrier.broken());
}

// lock_tests.py BarrierTests.test_default_timeout: as test_timeout, with
// the constructor's timeout (0.3 s) taken by wait().
TEST_F(BarrierTest, CPythonDefaultTimeout) {
  RT_REQUIRES_CONCURRENCY();
  static Barrier barrier(kN, nullptr, 0.3);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  static Barrier start(kN, nullptr, kDefaultTimeout);  // the first pass, untimed in Python
  run_threads(kN, [] {
    Result<unsigned> i = start.wait();
    if (!i.has_value()) return (void)g.bad.fetch_add(1);
    if (*i == kN / 2) body_sleep(1.0);
    if (is_broken(barrier.wait())) g.results2.fetch_add(1);
  });
  EXPECT_EQ(g.bad.load(), 0);
  EXPECT_EQ(g.results2.load(), static_cast<int>(kN));
  EXPECT_TRUE(barrier.broken());
}

// lock_tests.py BarrierTests.test_single_thread: a barrier of 1 passes
// at once, again and again, running its action each time.
TEST_F(BarrierTest, CPythonSingleThread) {
  Barrier barrier(1, count_action);
  for (int pass = 1; pass <= 3; ++pass) {
    Result<unsigned> r = barrier.wait();
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(*r, 0u);
    EXPECT_EQ(g.actions.load(), pass);
  }
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_EQ(barrier.parties(), 1u);
}

// ---------------------------------------------------------------- beyond lock_tests.py

TEST_F(BarrierTest, AStaticBarrierWorksWithNoConstructorRun) {
  g_static_actions = 0;
  Result<unsigned> r = g_static.wait(0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(g_static_actions.load(), 1);
}

// Issue 15: a Barrier of 8 for 10,000 cycles. Every cycle hands out each
// index 0..7 exactly once, and its action runs once, after all 8 arrived
// and before any of them returned.
TEST_F(BarrierTest, EightPartiesTenThousandCycles) {
  RT_REQUIRES_CONCURRENCY();
  constexpr unsigned kParties = 8;
  constexpr int kCycles = 10000;
  struct Shared {
    std::atomic<int> arrived{0};        // arrivals in the cycle filling
    std::atomic<int> cycle_actions{0};  // actions run so far
    std::atomic<unsigned> seen[kCycles];  // per cycle, a bit per index
    std::atomic<int> action_early{0}, action_twice{0}, errors{0};
  };
  static Shared s;
  s.arrived = 0;
  s.cycle_actions = 0;
  s.action_early = s.action_twice = s.errors = 0;
  for (auto& bits : s.seen) bits = 0;
  static Barrier barrier(kParties, [] {
    // All 8 have arrived in this cycle, and none of it has returned.
    if (s.arrived.exchange(0) != static_cast<int>(kParties)) s.action_early.fetch_add(1);
    s.cycle_actions.fetch_add(1);
  });
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  run_threads(kParties, [] {
    for (int cycle = 0; cycle < kCycles; ++cycle) {
      s.arrived.fetch_add(1);
      // Timed as a safety net: a lost wake-up breaks the barrier and fails.
      Result<unsigned> r = barrier.wait(rt_test::kDeadline);
      if (!r.has_value() || *r >= kParties) {
        s.errors.fetch_add(1);
        return;
      }
      if (s.cycle_actions.load() != cycle + 1) s.action_twice.fetch_add(1);
      if ((s.seen[cycle].fetch_or(1u << *r) & (1u << *r)) != 0) s.errors.fetch_add(1);
    }
  });
  EXPECT_EQ(s.errors.load(), 0);
  EXPECT_EQ(s.action_early.load(), 0);
  EXPECT_EQ(s.action_twice.load(), 0);
  EXPECT_EQ(s.cycle_actions.load(), kCycles);
  int complete = 0;
  for (auto& bits : s.seen) complete += bits.load() == 0xffu;
  EXPECT_EQ(complete, kCycles);
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

// Every rejected call returns its error and changes nothing: not the
// count of those waiting, not broken(), not a pending request.
TEST_F(BarrierTest, RejectedCallsChangeNothing) {
  Barrier none(0, count_action);
  expect_error(none.wait(), Errc::value_error, kNoPartiesMessage);
  expect_error(none.wait(1.0), Errc::value_error, kNoPartiesMessage);
  expect_error(none.wait(-2), Errc::value_error, kNoPartiesMessage);  // parties first
  EXPECT_EQ(none.parties(), 0u);
  EXPECT_EQ(g.actions.load(), 0);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double too_large = TIMEOUT_MAX * 2;
  // A bad constructor timeout, taken by wait() (-1), and passed to wait().
  for (double bad : {nan, -2.0, -0.5, too_large, std::numeric_limits<double>::infinity()}) {
    const bool large = bad > 0;
    const Errc kind = large ? Errc::overflow_error : Errc::value_error;
    const char* message = large ? rt_test::kTooLargeMessage : rt_test::kNegativeMessage;
    Barrier by_default(1, count_action, bad);
    expect_error(by_default.wait(), kind, message);
    Barrier one(1, count_action);
    expect_error(one.wait(bad), kind, message);
    EXPECT_FALSE(by_default.broken());
    EXPECT_FALSE(one.broken());
    EXPECT_EQ(g.actions.load(), 0) << "a refused wait ran the action";
    // A good timeout overrides a bad default one.
    EXPECT_TRUE(by_default.wait(1.0).has_value());
    g.actions = 0;
  }

  // With a party waiting, and on a broken barrier: the argument error, and
  // nothing else changes.
  Barrier broken(2, count_action);
  broken.abort();
  expect_error(broken.wait(nan), Errc::value_error, rt_test::kNegativeMessage);
  EXPECT_TRUE(broken.broken());
  expect_error(broken.wait(0), Errc::broken_barrier, kBrokenMessage);

  // A refused call leaves a pending request alone.
  request_interrupt();
  expect_error(none.wait(), Errc::value_error, kNoPartiesMessage);
  expect_error(broken.wait(-3), Errc::value_error, rt_test::kNegativeMessage);
  EXPECT_TRUE(rt_test::consume_pending_interrupt());

  if (kDummy) return;
  static Barrier waited(2, count_action);
  waited.reset();  // as new when the test repeats (--gtest_repeat)
  static std::atomic<int> outcome;
  outcome = -1;
  ASSERT_TRUE(start_new_thread([] {
                Result<unsigned> r = waited.wait(rt_test::kDeadline);
                outcome = r.has_value() ? static_cast<int>(*r) : 100;
              }).has_value());
  ASSERT_TRUE(wait_for([] { return waited.n_waiting() == 1; }));
  for (double bad : {nan, -2.0, too_large}) {
    Result<unsigned> r = waited.wait(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, bad > 0 ? Errc::overflow_error : Errc::value_error);
    EXPECT_EQ(waited.n_waiting(), 1u);
    EXPECT_FALSE(waited.broken());
  }
  EXPECT_EQ(outcome.load(), -1);
  Result<unsigned> last = waited.wait(rt_test::kDeadline);  // releases it
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 1u);
  EXPECT_TRUE(wait_for([] { return outcome.load() == 0; }));
  EXPECT_EQ(g.actions.load(), 1);
}

// A timed-out wait breaks the barrier: it returns broken_barrier, after
// its timeout, and so does every wait after it, until reset().
TEST_F(BarrierTest, ATimedOutWaitBreaksTheBarrierUntilReset) {
  Barrier barrier(2, count_action);
  const std::int64_t t0 = now_ns();
  expect_error(barrier.wait(0.2), Errc::broken_barrier, kBrokenMessage);
  EXPECT_GE(seconds_since(t0), 0.2);
  EXPECT_TRUE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
  const std::int64_t t1 = now_ns();
  expect_error(barrier.wait(5.0), Errc::broken_barrier, kBrokenMessage);
  EXPECT_LT(seconds_since(t1), 2.5) << "a wait on a broken barrier waited";
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  // wait(0): a look, and a break, as Python's.
  expect_error(barrier.wait(0), Errc::broken_barrier, kBrokenMessage);
  EXPECT_TRUE(barrier.broken());
  EXPECT_EQ(g.actions.load(), 0);
}

// reset() while two parties wait: both get broken_barrier, and the barrier
// then works for a full cycle.
// Two parties of `barrier` (of three) wait; `end` (a reset or an abort)
// must give both broken_barrier at once, not at their timeout.
Barrier* g_waited;

void two_wait_then(Barrier& barrier, void (*end)(Barrier&)) {
  static std::atomic<int> broken_seen;
  broken_seen = 0;
  g_waited = &barrier;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(start_new_thread([] {
                  if (is_broken(g_waited->wait())) broken_seen.fetch_add(1);
                  g.finished.fetch_add(1);
                }).has_value());
  }
  ASSERT_TRUE(wait_for([&barrier] { return barrier.n_waiting() == 2; }));
  const std::int64_t t0 = now_ns();
  end(barrier);
  ASSERT_TRUE(wait_for([] { return g.finished.load() == 2; }));
  EXPECT_LT(seconds_since(t0), kDefaultTimeout / 2);
  EXPECT_EQ(broken_seen.load(), 2);
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

TEST_F(BarrierTest, AResetWhileOthersWaitBreaksThemAndLeavesItUsable) {
  RT_REQUIRES_CONCURRENCY();
  static Barrier barrier(3, count_action, kDefaultTimeout);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  static std::atomic<int> passed;
  passed = 0;
  ASSERT_NO_FATAL_FAILURE(two_wait_then(barrier, [](Barrier& b) { b.reset(); }));
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(g.actions.load(), 0);

  g.finished = 0;
  run_threads(3, [] {
    if (barrier.wait().has_value()) passed.fetch_add(1);
  });
  EXPECT_EQ(passed.load(), 3);
  EXPECT_EQ(g.actions.load(), 1);
}

// abort() while parties wait: they get broken_barrier at once.
TEST_F(BarrierTest, AnAbortWakesTheWaitersBroken) {
  RT_REQUIRES_CONCURRENCY();
  static Barrier barrier(3, nullptr, kDefaultTimeout);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  ASSERT_NO_FATAL_FAILURE(two_wait_then(barrier, [](Barrier& b) { b.abort(); }));
  EXPECT_TRUE(barrier.broken());
}

// ---------------------------------------------------------------- interrupts

// A request made before the call ends it at once with nothing changed, the
// last arriver's included (its action does not run).
TEST_F(BarrierTest, APendingRequestEndsAWaitWithNothingChanged) {
  Barrier one(1, count_action);
  request_interrupt();
  expect_error(one.wait(), Errc::interrupted, kInterruptedMessage, EINTR);
  EXPECT_EQ(g.actions.load(), 0);
  Barrier two(2, count_action);
  request_interrupt();
  expect_error(two.wait(rt_test::kDeadline), Errc::interrupted, kInterruptedMessage, EINTR);
  EXPECT_FALSE(two.broken());
  EXPECT_EQ(two.n_waiting(), 0u);
  rt_test::expect_no_pending_request();
  EXPECT_TRUE(one.wait().has_value());  // and it works after
  EXPECT_EQ(g.actions.load(), 1);
}

// A request that arrives during the wait ends it: interrupted, the barrier
// not broken, and no longer counting the interrupted party.
TEST_F(BarrierTest, AnInterruptDuringAWaitLeavesTheBarrierUnbroken) {
  rt_test::SignalGuard sig(SIGUSR1, rt_test::count_and_request);
  ASSERT_TRUE(sig.ok());
  static Barrier barrier(2, count_action);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  const long tid = main_tid_;
  rt_test::HelperThread helper = when_main_sleeps([tid] { rt_test::tgkill_main(tid, SIGUSR1); });
  const std::int64_t t0 = now_ns();
  // Timed as a safety net: a lost interrupt breaks it and fails, not hangs.
  Result<unsigned> r = barrier.wait(kDummy ? 3.0 : rt_test::kDeadline);
  helper.join();
  expect_error(r, Errc::interrupted, kInterruptedMessage, EINTR);
  EXPECT_TRUE(sleeping_seen_.load());
  EXPECT_LT(seconds_since(t0), rt_test::kDeadline / 2);
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_EQ(g.actions.load(), 0);
  rt_test::expect_no_pending_request();
}

// The same with another party waiting: it goes on waiting, one party fewer
// is counted, and a cycle completes with the next two arrivals.
TEST_F(BarrierTest, AnInterruptedPartyLeavesTheOthersWaiting) {
  RT_REQUIRES_CONCURRENCY();
  rt_test::SignalGuard sig(SIGUSR1, rt_test::count_only);  // interrupt_main requests
  ASSERT_TRUE(sig.ok());
  static Barrier barrier(3, count_action, kDefaultTimeout);
  barrier.reset();  // as new when the test repeats (--gtest_repeat)
  static std::atomic<int> first_index, second_index;
  first_index = second_index = -1;
  ASSERT_TRUE(start_new_thread([] {
                Result<unsigned> r = barrier.wait();
                first_index = r.has_value() ? static_cast<int>(*r) : 100;
              }).has_value());
  ASSERT_TRUE(wait_for([] { return barrier.n_waiting() == 1; }));
  ASSERT_TRUE(start_new_thread([] {
                rt_test::body_sleep(0.05);
                // Until main is counted, then a little longer, so that it sleeps.
                for (int polls = 0; barrier.n_waiting() < 2 && polls < 5000; ++polls)
                  body_sleep(0.001);
                body_sleep(0.05);
                (void)interrupt_main(SIGUSR1);
              }).has_value());
  Result<unsigned> r = barrier.wait();
  expect_error(r, Errc::interrupted, kInterruptedMessage, EINTR);
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 1u);
  EXPECT_EQ(first_index.load(), -1);

  ASSERT_TRUE(start_new_thread([] {
                Result<unsigned> r2 = barrier.wait();
                second_index = r2.has_value() ? static_cast<int>(*r2) : 100;
              }).has_value());
  ASSERT_TRUE(wait_for([] { return barrier.n_waiting() == 2; }));
  Result<unsigned> last = barrier.wait();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 2u);
  EXPECT_TRUE(wait_for([] { return second_index.load() != -1 && first_index.load() != -1; }));
  EXPECT_EQ(first_index.load(), 0);
  EXPECT_EQ(second_index.load(), 1);
  EXPECT_EQ(g.actions.load(), 1);
  rt_test::expect_no_pending_request();
}

// ---------------------------------------------------------------- the dummy backend

// No other party can arrive: untimed, the dummy's deadlock error with the
// barrier as it was; timed, the wait runs out, breaks it and says so.
TEST_F(BarrierTest, DummyBackendWaitsThatNeedAnotherParty) {
  if (!kDummy) GTEST_SKIP() << "the dummy backend's behaviour";
  Barrier barrier(2, count_action);
  expect_error(barrier.wait(), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
  const std::int64_t t0 = now_ns();
  expect_error(barrier.wait(0.2), Errc::broken_barrier, kBrokenMessage);
  EXPECT_GE(seconds_since(t0), 0.2);
  EXPECT_TRUE(barrier.broken());
  expect_error(barrier.wait(), Errc::broken_barrier, kBrokenMessage);
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(g.actions.load(), 0);
}

}  // namespace
