// SPDX-License-Identifier: MIT
// Condition: CPython's Lib/test/lock_tests.py ConditionTests ported (each
// case names its origin), notify vs notify_all wake counts and FIFO order,
// the errors (each changes nothing), the RLock's depth on every way out,
// interrupts (pending, arriving, arriving with a notify, and a race of the
// two), wait_for, the Lockable forwarding and the dummy backend.
//
// Thread bodies use only rawthread, std::atomic and the static arrays below;
// the main thread asserts on what they recorded, and each of its waits has
// a deadline.
#include <algorithm>
#include <mutex>
#include <random>

#include <sched.h>
#include <type_traits>

#include "support.hpp"

using namespace rawthread;
using rt_test::body_sleep;
using rt_test::expect_error;
using rt_test::is_false;
using rt_test::is_true;
using rt_test::kDummy;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

static_assert(!std::is_copy_constructible_v<Condition>);
static_assert(!std::is_move_constructible_v<Condition>);
static_assert(!std::is_copy_assignable_v<Condition>);

// Constant-initialized, all three ways: constinit refuses to compile otherwise.
constinit Lock g_lock;
constinit RLock g_rlock;
constinit Condition g_own;
constinit Condition g_over_lock(g_lock);
constinit Condition g_over_rlock(g_rlock);

constexpr const char* kWaitUnacquired = "cannot wait on un-acquired lock";
constexpr const char* kNotifyUnacquired = "cannot notify on un-acquired lock";
constexpr const char* kInterruptedMessage = "lock acquire interrupted";

std::int64_t body_now_ns() noexcept { return rawthread::sys::monotonic_ns().value_or(0); }

// What the worker threads of one test record. Reset by each test.
struct Record {
  static constexpr int kMax = 64;
  std::atomic<int> ready{0};     // workers that reached their wait (under the lock)
  std::atomic<int> started{0};   // workers that began
  std::atomic<int> finished{0};  // workers that ended
  std::atomic<int> phase{0};
  std::atomic<int> count1{0}, count2{0};
  std::atomic<int> results1[kMax], results2[kMax];  // (notified ? 100 : 0) + phase, in order
  std::atomic<int> order[kMax];                     // ids in the order they woke
  std::atomic<int> woken{0};
  std::atomic<std::int64_t> elapsed_ns[kMax];
  std::atomic<int> outcome[kMax];  // 1 true, 0 false, -1 error
  std::atomic<int> bad{0};         // a check inside a body failed

  void reset() {
    ready = started = finished = phase = count1 = count2 = woken = bad = 0;
    for (int i = 0; i < kMax; ++i) {
      results1[i] = results2[i] = order[i] = -1;
      elapsed_ns[i] = 0;
      outcome[i] = -2;
    }
  }
};
Record g;

// The depth at which the caller holds a Condition's lock, 0 if not at all:
// released as often as it can be, then taken again as often. Safe in
// thread bodies.
unsigned own_depth(Condition& cond) noexcept {
  unsigned depth = 0;
  while (cond.release().has_value()) ++depth;
  for (unsigned i = 0; i < depth; ++i) cond.lock();
  return depth;
}

// About `turns` turns of an empty loop. Safe in thread bodies.
[[gnu::noinline]] void spin(long turns) noexcept {
  for (long k = 0; k < turns; ++k) asm volatile("" ::: "memory");
}

int encode(const Result<bool>& r, int phase) noexcept {
  if (!r.has_value()) return -100;
  return (*r ? 100 : 0) + phase;
}

class ConditionTest : public rt_test::InterruptFixture {
 protected:
  void SetUp() override {
    rt_test::InterruptFixture::SetUp();
    g.reset();
  }
};

// Starts `n` rawthread threads running fn(i); returns how many started.
template <class F>
int start_workers(int n, F fn) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    if (start_new_thread([fn, i] {
          g.started.fetch_add(1);
          fn(i);
          g.finished.fetch_add(1);
        }).has_value())
      ++ok;
  }
  return ok;
}

// ---------------------------------------------------------------- lock_tests.py ConditionTests

// lock_tests.py ConditionTests.test_acquire.
TEST_F(ConditionTest, CPythonAcquire) {
  // By default an RLock: the condition can be acquired more than once.
  Condition cond;
  ASSERT_TRUE(is_true(cond.acquire()));
  ASSERT_TRUE(is_true(cond.acquire()));
  ASSERT_TRUE(cond.release().has_value());
  ASSERT_TRUE(cond.release().has_value());

  Lock lock;
  Condition over(lock);
  ASSERT_TRUE(is_true(over.acquire()));
  EXPECT_TRUE(is_false(lock.acquire(false)));
  ASSERT_TRUE(over.release().has_value());
  EXPECT_TRUE(is_true(lock.acquire(false)));
  EXPECT_TRUE(is_false(over.acquire(false)));
  ASSERT_TRUE(lock.release().has_value());
  {
    std::lock_guard guard(over);  // Python's `with cond:`
    EXPECT_TRUE(is_false(lock.acquire(false)));
  }
  EXPECT_FALSE(lock.locked());
}

// The constant-initialized ones work as they are, with no constructor run.
TEST_F(ConditionTest, StaticConditionsWork) {
  for (Condition* cond : {&g_own, &g_over_lock, &g_over_rlock}) {
    cond->lock();
    EXPECT_TRUE(is_false(cond->wait(0)));
    EXPECT_TRUE(cond->notify_all().has_value());
    EXPECT_EQ(own_depth(*cond), 1u);
    cond->unlock();
  }
  EXPECT_FALSE(g_lock.locked());
  EXPECT_FALSE(g_rlock.is_owned());
}

// lock_tests.py ConditionTests.test_unacquired_wait and
// test_unacquired_notify, for the three kinds of Condition.
TEST_F(ConditionTest, CPythonUnacquiredWaitAndNotify) {
  Lock lock;
  RLock rlock;
  Condition own, over_lock(lock), over_rlock(rlock);
  for (Condition* cond : {&own, &over_lock, &over_rlock}) {
    expect_error(cond->wait(), Errc::thread_error, kWaitUnacquired);
    expect_error(cond->wait(0), Errc::thread_error, kWaitUnacquired);
    expect_error(cond->wait(0.01), Errc::thread_error, kWaitUnacquired);
    expect_error(cond->wait_for([] { return true; }), Errc::thread_error, kWaitUnacquired);
    expect_error(cond->notify(), Errc::thread_error, kNotifyUnacquired);
    expect_error(cond->notify(5), Errc::thread_error, kNotifyUnacquired);
    expect_error(cond->notify_all(), Errc::thread_error, kNotifyUnacquired);
  }
  EXPECT_FALSE(lock.locked());
  EXPECT_FALSE(rlock.is_owned());
}

// lock_tests.py ConditionTests._check_notify: five workers wait twice; notify(3),
// notify(5), notify_all, each result tagged with the phase it saw.
void check_notify(Condition& cond) {
  g.reset();
  constexpr int kN = 5;
  Condition* c = &cond;
  auto body = [c](int) {
    c->lock();
    g.ready.fetch_add(1);
    Result<bool> r = c->wait(rt_test::kDeadline);
    int at = g.count1.fetch_add(1);
    g.results1[at] = encode(r, g.phase.load());
    c->unlock();
    c->lock();
    g.ready.fetch_add(1);
    r = c->wait(rt_test::kDeadline);
    at = g.count2.fetch_add(1);
    g.results2[at] = encode(r, g.phase.load());
    c->unlock();
  };
  ASSERT_EQ(start_workers(kN, body), kN);
  // Every worker that counted itself ready is in wait() once main holds the
  // lock: it held the lock from the count until wait gave it up.
  ASSERT_TRUE(wait_for([] { return g.ready.load() >= kN; }));
  g.ready = 0;
  EXPECT_EQ(g.count1.load(), 0);

  constexpr int kCount1 = 3;
  cond.lock();
  ASSERT_TRUE(cond.notify(kCount1).has_value());
  g.phase = 1;
  cond.unlock();
  ASSERT_TRUE(wait_for([] { return g.count1.load() >= kCount1; }));
  for (int i = 0; i < kCount1; ++i) EXPECT_EQ(g.results1[i].load(), 101) << i;
  EXPECT_EQ(g.count2.load(), 0);

  // The three woken wait again; notify(5) wakes the two still in their first
  // wait (the oldest) and three in their second.
  ASSERT_TRUE(wait_for([] { return g.ready.load() >= kCount1; }));
  cond.lock();
  ASSERT_TRUE(cond.notify(5).has_value());
  g.phase = 2;
  cond.unlock();
  ASSERT_TRUE(wait_for([] { return g.count1.load() + g.count2.load() >= kN + kCount1; }));
  for (int i = 0; i < kCount1; ++i) EXPECT_EQ(g.results1[i].load(), 101) << i;
  for (int i = kCount1; i < kN; ++i) EXPECT_EQ(g.results1[i].load(), 102) << i;
  for (int i = 0; i < kCount1; ++i) EXPECT_EQ(g.results2[i].load(), 102) << i;

  ASSERT_TRUE(wait_for([] { return g.ready.load() >= kN; }));
  cond.lock();
  ASSERT_TRUE(cond.notify_all().has_value());
  g.phase = 3;
  cond.unlock();
  ASSERT_TRUE(wait_for([] { return g.count2.load() >= kN; }));
  for (int i = 0; i < kCount1; ++i) EXPECT_EQ(g.results2[i].load(), 102) << i;
  for (int i = kCount1; i < kN; ++i) EXPECT_EQ(g.results2[i].load(), 103) << i;
  ASSERT_TRUE(wait_for([] { return g.finished.load() == kN; }));
}

// lock_tests.py ConditionTests.test_notify: twice, to check the state left
// behind; over each kind of lock.
TEST_F(ConditionTest, CPythonNotify) {
  RT_REQUIRES_CONCURRENCY();
  static Condition own;
  check_notify(own);
  check_notify(own);
  static Lock lock;
  static Condition over_lock(lock);
  check_notify(over_lock);
  check_notify(over_lock);
  static RLock rlock;
  static Condition over_rlock(rlock);
  check_notify(over_rlock);
}

// lock_tests.py ConditionTests.test_timeout: five threads wait(0.5) with
// nobody notifying: each returns false, and not early.
TEST_F(ConditionTest, CPythonTimeout) {
  RT_REQUIRES_CONCURRENCY();
  static Condition cond;
  constexpr int kN = 5;
  constexpr double kTimeout = 0.5;
  ASSERT_EQ(start_workers(kN,
                          [](int i) {
                            cond.lock();
                            std::int64_t t0 = body_now_ns();
                            Result<bool> r = cond.wait(kTimeout);
                            g.elapsed_ns[i] = body_now_ns() - t0;
                            g.outcome[i] = r.has_value() ? (*r ? 1 : 0) : -1;
                            if (own_depth(cond) != 1) g.bad.fetch_add(1);
                            cond.unlock();
                          }),
            kN);
  ASSERT_TRUE(wait_for([] { return g.finished.load() == kN; }));
  for (int i = 0; i < kN; ++i) {
    EXPECT_EQ(g.outcome[i].load(), 0) << i;
    EXPECT_GE(g.elapsed_ns[i].load(), rt_test::to_ns(kTimeout)) << i;
  }
  EXPECT_EQ(g.bad.load(), 0);
}

// lock_tests.py ConditionTests.test_waitfor.
TEST_F(ConditionTest, CPythonWaitFor) {
  RT_REQUIRES_CONCURRENCY();
  static Condition cond;
  static int state;  // under cond's lock
  state = 0;
  ASSERT_EQ(start_workers(1,
                          [](int) {
                            cond.lock();
                            Result<bool> r = cond.wait_for([] { return state == 4; });
                            g.outcome[0] = r.has_value() ? (*r ? 1 : 0) : -1;
                            if (state != 4) g.bad.fetch_add(1);
                            cond.unlock();
                          }),
            1);
  for (int i = 0; i < 4; ++i) {
    rt_test::sleep_ms(10);
    std::lock_guard guard(cond);
    ++state;
    ASSERT_TRUE(cond.notify().has_value());
  }
  ASSERT_TRUE(wait_for([] { return g.finished.load() == 1; }));
  EXPECT_EQ(g.outcome[0].load(), 1);
  EXPECT_EQ(g.bad.load(), 0);
}

// lock_tests.py ConditionTests.test_waitfor_timeout.
TEST_F(ConditionTest, CPythonWaitForTimeout) {
  RT_REQUIRES_CONCURRENCY();
  static Condition cond;
  static int state;
  state = 0;
  ASSERT_EQ(start_workers(1,
                          [](int) {
                            cond.lock();
                            std::int64_t t0 = body_now_ns();
                            Result<bool> r = cond.wait_for([] { return state == 4; }, 0.1);
                            g.elapsed_ns[0] = body_now_ns() - t0;
                            g.outcome[0] = r.has_value() ? (*r ? 1 : 0) : -1;
                            cond.unlock();
                          }),
            1);
  for (int i = 0; i < 3; ++i) {  // state never reaches 4
    rt_test::sleep_ms(10);
    std::lock_guard guard(cond);
    ++state;
    ASSERT_TRUE(cond.notify().has_value());
  }
  ASSERT_TRUE(wait_for([] { return g.finished.load() == 1; }));
  EXPECT_EQ(g.outcome[0].load(), 0);
  EXPECT_GE(g.elapsed_ns[0].load(), rt_test::to_ns(0.1));
}

// ---------------------------------------------------------------- wake counts and order

// Starts waiters one at a time, each in wait() before the next starts, so
// that the list's order is known: waiter i is the i-th oldest.
void start_waiters_in_order(Condition& cond, int n) {
  static Condition* c;
  c = &cond;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(start_new_thread([i] {
                  c->lock();
                  g.ready.fetch_add(1);
                  Result<bool> r = c->wait(rt_test::kDeadline);
                  g.order[g.woken.fetch_add(1)] = i;
                  g.outcome[i] = r.has_value() ? (*r ? 1 : 0) : -1;
                  c->unlock();
                  g.finished.fetch_add(1);
                }).has_value());
    ASSERT_TRUE(wait_for([i] { return g.ready.load() == i + 1; }));
    // In wait() for sure once main can take the lock.
    cond.lock();
    cond.unlock();
  }
}

TEST_F(ConditionTest, NotifyWakesExactlyNAndNotifyAllTheRest) {
  RT_REQUIRES_CONCURRENCY();
  static Lock lock;
  static Condition cond(lock);
  constexpr int kN = 6;
  start_waiters_in_order(cond, kN);
  {
    std::lock_guard guard(cond);
    ASSERT_TRUE(cond.notify(0).has_value());  // wakes nobody
  }
  rt_test::sleep_ms(50);
  EXPECT_EQ(g.woken.load(), 0);
  {
    std::lock_guard guard(cond);
    ASSERT_TRUE(cond.notify(2).has_value());
  }
  ASSERT_TRUE(wait_for([] { return g.woken.load() >= 2; }));
  rt_test::sleep_ms(100);  // a third would show by now
  EXPECT_EQ(g.woken.load(), 2);
  {
    std::lock_guard guard(cond);
    ASSERT_TRUE(cond.notify().has_value());  // n = 1
  }
  ASSERT_TRUE(wait_for([] { return g.woken.load() >= 3; }));
  rt_test::sleep_ms(100);
  EXPECT_EQ(g.woken.load(), 3);
  {
    std::lock_guard guard(cond);
    ASSERT_TRUE(cond.notify_all().has_value());
  }
  ASSERT_TRUE(wait_for([] { return g.finished.load() == kN; }));
  EXPECT_EQ(g.woken.load(), kN);
  for (int i = 0; i < kN; ++i) EXPECT_EQ(g.outcome[i].load(), 1) << i;
  // Nobody left: a notify with no waiter is no error and wakes nothing.
  std::lock_guard guard(cond);
  EXPECT_TRUE(cond.notify(3).has_value());
  EXPECT_TRUE(cond.notify_all().has_value());
}

TEST_F(ConditionTest, NotifyOneWakesTheOldestFirst) {
  RT_REQUIRES_CONCURRENCY();
  static Condition cond;
  constexpr int kN = 5;
  start_waiters_in_order(cond, kN);
  for (int i = 0; i < kN; ++i) {
    {
      std::lock_guard guard(cond);
      ASSERT_TRUE(cond.notify(1).has_value());
    }
    ASSERT_TRUE(wait_for([i] { return g.woken.load() == i + 1; }));
    EXPECT_EQ(g.order[i].load(), i) << "notify(1) number " << i << " woke the wrong waiter";
  }
  ASSERT_TRUE(wait_for([] { return g.finished.load() == kN; }));
}

// A waiter that timed out has left the list: the next notify goes to one
// that still waits, and is not spent on the one gone.
TEST_F(ConditionTest, ATimedOutWaiterDoesNotTakeANotify) {
  RT_REQUIRES_CONCURRENCY();
  static Condition cond;
  ASSERT_EQ(start_workers(1,
                          [](int) {
                            cond.lock();
                            g.outcome[0] = encode(cond.wait(0.05), 0);
                            cond.unlock();
                          }),
            1);
  ASSERT_TRUE(wait_for([] { return g.finished.load() == 1; }));
  EXPECT_EQ(g.outcome[0].load(), 0);
  g.reset();
  start_waiters_in_order(cond, 1);
  {
    std::lock_guard guard(cond);
    ASSERT_TRUE(cond.notify(1).has_value());
  }
  ASSERT_TRUE(wait_for([] { return g.finished.load() == 1; }));
  EXPECT_EQ(g.outcome[0].load(), 1);
}

// Python's rule for a Lock: "held" means locked, by any thread. A thread
// may notify while another holds the Lock.
TEST_F(ConditionTest, OverALockHeldByAnotherThreadNotifyIsAllowed) {
  RT_REQUIRES_CONCURRENCY();
  static Lock lock;
  static Condition cond(lock);
  start_waiters_in_order(cond, 1);
  static Lock gate;
  ASSERT_TRUE(gate.try_lock());
  // Another thread takes the lock and notifies; main then releases it
  // (a Lock has no owner).
  ASSERT_TRUE(start_new_thread([] {
                lock.lock();
                (void)gate.acquire();  // main notifies while this one holds it
                lock.unlock();
              }).has_value());
  ASSERT_TRUE(wait_for([] { return lock.locked(); }));
  ASSERT_TRUE(cond.notify().has_value());  // main does not hold it; it is locked
  gate.unlock();
  ASSERT_TRUE(wait_for([] { return g.finished.load() == 1; }));
  EXPECT_EQ(g.outcome[0].load(), 1);
}

// notify moves its waiter onto the lock's queue (the notifier holds the
// lock): the waiter sleeps on until the lock is released, instead of waking
// to find it held and sleeping again on it (its voluntary context switches
// do not move while the notifier holds the lock), then the release wakes
// it and it returns notified.
template <class L>
void notified_sleeps_until_release(L& lock, Condition& cond) {
  static Condition* c;
  static std::atomic<long> tid;
  c = &cond;
  tid = 0;
  ASSERT_TRUE(start_new_thread([] {
                c->lock();
                tid = get_native_id();
                g.ready.fetch_add(1);
                Result<bool> r = c->wait(rt_test::kDeadline);
                g.outcome[0] = r.has_value() ? (*r ? 1 : 0) : -1;
                c->unlock();
                g.finished.fetch_add(1);
              }).has_value());
  ASSERT_TRUE(wait_for([] { return g.ready.load() == 1; }));
  ASSERT_TRUE(rt_test::wait_until_sleeping(tid.load()));
  lock.lock();
  const long before = rt_test::voluntary_switches(tid.load());
  ASSERT_TRUE(cond.notify().has_value());
  rt_test::sleep_ms(100);  // a waiter woken by the notify would be asleep on the lock by now
  const long during = rt_test::voluntary_switches(tid.load());
  const std::int64_t released = now_ns();
  lock.unlock();
  ASSERT_TRUE(wait_for([] { return g.finished.load() == 1; }));
  // Well before its wait's deadline: a waiter moved onto a lock left
  // unmarked would sleep through the release until then.
  EXPECT_LT(seconds_since(released), rt_test::kDeadline / 3)
      << "the release did not wake the notified waiter";
  EXPECT_EQ(g.outcome[0].load(), 1);
  EXPECT_NE(before, -1);
  EXPECT_EQ(during, before) << "the notified waiter woke while the notifier held the lock";
}

TEST_F(ConditionTest, ANotifiedWaiterSleepsUntilTheLockIsReleased) {
  RT_REQUIRES_CONCURRENCY();
  static Lock lock;
  static Condition over_lock(lock);
  notified_sleeps_until_release(lock, over_lock);
  g.reset();
  static RLock rlock;
  static Condition over_rlock(rlock);
  notified_sleeps_until_release(rlock, over_rlock);
}

// notify and notify_all move their waiters onto the lock's queue: each
// release must hand the lock to the next of them, also while a third
// thread keeps taking the lock on the fast path (as uncontended) between
// them. A waiter left asleep on the lock would hold up the round until the
// deadline. `all`: notify_all, else notify(n) for the n waiters.
template <class L>
void notify_rounds(L& lock, Condition& cond, bool all) {
  static constexpr int kWaiters = 4;
  static Condition* c;
  static L* l;
  static std::uint64_t generation;
  static int arrived;
  static std::atomic<bool> stop;
  c = &cond;
  l = &lock;
  generation = 0;
  arrived = 0;
  stop = false;
  const long rounds = rt_test::iterations(2000, 200);
  for (int i = 0; i < kWaiters; ++i) {
    ASSERT_TRUE(start_new_thread([] {
                  l->lock();
                  std::uint64_t seen = 0;
                  for (;;) {
                    while (generation == seen && !stop.load()) {
                      Result<bool> r = c->wait(rt_test::kDeadline);
                      if (!r.has_value() || !*r) g.bad.fetch_add(1);
                    }
                    if (stop.load()) break;
                    seen = generation;
                    ++arrived;
                  }
                  l->unlock();
                  g.finished.fetch_add(1);
                }).has_value());
  }
  ASSERT_TRUE(start_new_thread([] {  // the fast-path locker
                while (!stop.load()) {
                  if (l->try_lock()) l->unlock();
                }
                g.finished.fetch_add(1);
              }).has_value());
  const std::int64_t start = now_ns();
  for (long round = 0; round < rounds; ++round) {
    lock.lock();
    arrived = 0;
    ++generation;
    ASSERT_TRUE((all ? cond.notify_all() : cond.notify(kWaiters)).has_value());
    lock.unlock();
    // Every waiter counts itself once it has the lock back.
    for (;;) {
      lock.lock();
      const int seen = arrived;
      lock.unlock();
      if (seen == kWaiters) break;
      ASSERT_LT(seconds_since(start), 120.0) << "round " << round << ": " << seen << " arrived";
      sched_yield();
    }
  }
  lock.lock();
  stop = true;
  ASSERT_TRUE(cond.notify_all().has_value());
  lock.unlock();
  ASSERT_TRUE(wait_for([] { return g.finished.load() == kWaiters + 1; }));
  EXPECT_EQ(g.bad.load(), 0);
}

TEST_F(ConditionTest, NotifyAllHandsTheLockToEveryWaiterInTurn) {
  RT_REQUIRES_CONCURRENCY();
  static Lock lock;
  static Condition over_lock(lock);
  notify_rounds(lock, over_lock, /*all=*/true);
  g.reset();
  static RLock rlock;
  static Condition over_rlock(rlock);
  notify_rounds(rlock, over_rlock, /*all=*/true);
}

TEST_F(ConditionTest, NotifyNHandsTheLockToEveryWaiterInTurn) {
  RT_REQUIRES_CONCURRENCY();
  static Lock lock;
  static Condition over_lock(lock);
  notify_rounds(lock, over_lock, /*all=*/false);
  g.reset();
  static RLock rlock;
  static Condition over_rlock(rlock);
  notify_rounds(rlock, over_rlock, /*all=*/false);
}

// ---------------------------------------------------------------- errors change nothing

TEST_F(ConditionTest, BadTimeoutsAreRefusedWithTheLockStillHeld) {
  Lock lock;
  RLock rlock;
  Condition own, over_lock(lock), over_rlock(rlock);
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  struct Bad {
    double timeout;
    Errc kind;
    const char* message;
  };
  const Bad bads[] = {
      {-5.0, Errc::value_error, rt_test::kNegativeMessage},
      {-0.5, Errc::value_error, rt_test::kNegativeMessage},
      {-inf, Errc::value_error, rt_test::kNegativeMessage},
      {nan, Errc::value_error, rt_test::kNegativeMessage},
      {TIMEOUT_MAX * 2, Errc::overflow_error, rt_test::kTooLargeMessage},
      {inf, Errc::overflow_error, rt_test::kTooLargeMessage},
  };
  for (Condition* cond : {&own, &over_lock, &over_rlock}) {
    cond->lock();
    for (const Bad& bad : bads) {
      SCOPED_TRACE(bad.timeout);
      expect_error(cond->wait(bad.timeout), bad.kind, bad.message);
      expect_error(cond->wait_for([] { return false; }, bad.timeout), bad.kind, bad.message);
    }
    EXPECT_EQ(own_depth(*cond), 1u);
    cond->unlock();
  }
  EXPECT_FALSE(lock.locked());
  EXPECT_FALSE(rlock.is_owned());
}

TEST_F(ConditionTest, AnRLockHeldByAnotherThreadIsNotHeld) {
  RT_REQUIRES_CONCURRENCY();
  static RLock rlock;
  static Condition cond(rlock);
  static Lock gate;
  ASSERT_TRUE(gate.try_lock());
  static std::atomic<int> holding;
  holding = 0;
  ASSERT_TRUE(start_new_thread([] {
                rlock.lock();
                holding = 1;
                (void)gate.acquire();
                rlock.unlock();
                holding = 2;
              }).has_value());
  ASSERT_TRUE(wait_for([] { return holding.load() == 1; }));
  expect_error(cond.wait(0), Errc::thread_error, kWaitUnacquired);
  expect_error(cond.notify(), Errc::thread_error, kNotifyUnacquired);
  expect_error(cond.notify_all(), Errc::thread_error, kNotifyUnacquired);
  gate.unlock();
  ASSERT_TRUE(wait_for([] { return holding.load() == 2; }));
}

// ---------------------------------------------------------------- wait(0), depth, wait_for

TEST_F(ConditionTest, WaitZeroGivesTheLockUpAndTakesItBack) {
  Lock lock;
  Condition over_lock(lock);
  over_lock.lock();
  EXPECT_TRUE(is_false(over_lock.wait(0)));
  EXPECT_TRUE(lock.locked());
  over_lock.unlock();

  RLock rlock;
  Condition over_rlock(rlock);
  for (int i = 0; i < 3; ++i) rlock.lock();
  EXPECT_TRUE(is_false(over_rlock.wait(0)));
  EXPECT_EQ(rlock.recursion_count(), 3u);
  EXPECT_TRUE(is_false(over_rlock.wait_for([] { return false; }, 0)));
  EXPECT_EQ(rlock.recursion_count(), 3u);
  for (int i = 0; i < 3; ++i) rlock.unlock();
  EXPECT_FALSE(rlock.is_owned());
}

TEST_F(ConditionTest, TheRLockDepthIsRestoredWhenNotifiedAndOnTimeout) {
  RT_REQUIRES_CONCURRENCY();
  static RLock rlock;
  static Condition cond(rlock);
  ASSERT_EQ(start_workers(1,
                          [](int) {
                            for (int i = 0; i < 3; ++i) rlock.lock();
                            g.ready = 1;
                            Result<bool> r = cond.wait(rt_test::kDeadline);
                            g.outcome[0] = r.has_value() ? (*r ? 1 : 0) : -1;
                            g.results1[0] = static_cast<int>(rlock.recursion_count());
                            r = cond.wait(0.02);
                            g.outcome[1] = r.has_value() ? (*r ? 1 : 0) : -1;
                            g.results1[1] = static_cast<int>(rlock.recursion_count());
                            for (int i = 0; i < 3; ++i) rlock.unlock();
                            g.results1[2] = rlock.is_owned() ? 1 : 0;
                          }),
            1);
  ASSERT_TRUE(wait_for([] { return g.ready.load() == 1; }));
  {
    std::lock_guard guard(cond);  // in wait() once this is taken
    EXPECT_EQ(rlock.recursion_count(), 1u);
    ASSERT_TRUE(cond.notify().has_value());
  }
  ASSERT_TRUE(wait_for([] { return g.finished.load() == 1; }));
  EXPECT_EQ(g.outcome[0].load(), 1);
  EXPECT_EQ(g.results1[0].load(), 3);
  EXPECT_EQ(g.outcome[1].load(), 0);
  EXPECT_EQ(g.results1[1].load(), 3);
  EXPECT_EQ(g.results1[2].load(), 0);
}

TEST_F(ConditionTest, WaitForATruePredicateDoesNotWait) {
  Condition cond;
  cond.lock();
  int calls = 0;
  std::int64_t t0 = now_ns();
  Result<bool> r = cond.wait_for([&] { return ++calls > 0; }, 5.0);
  EXPECT_TRUE(is_true(r));
  EXPECT_EQ(calls, 1);
  EXPECT_LT(seconds_since(t0), 4.0);
  // A value other than bool is converted; the last value is returned.
  EXPECT_TRUE(is_false(cond.wait_for([] { return 0; }, 0.01)));
  cond.unlock();
}

TEST_F(ConditionTest, WaitForTimesOutOnOneDeadlineAcrossNotifies) {
  RT_REQUIRES_CONCURRENCY();
  // Notified again and again with the predicate still false: the deadline
  // is fixed at the first wait, not restarted by each notify.
  static Condition cond;
  ASSERT_EQ(start_workers(1,
                          [](int) {
                            cond.lock();
                            std::int64_t t0 = body_now_ns();
                            Result<bool> r = cond.wait_for([] { return false; }, 0.3);
                            g.elapsed_ns[0] = body_now_ns() - t0;
                            g.outcome[0] = r.has_value() ? (*r ? 1 : 0) : -1;
                            cond.unlock();
                          }),
            1);
  const std::int64_t start = now_ns();
  while (g.finished.load() == 0) {
    ASSERT_LT(seconds_since(start), rt_test::kDeadline);
    {
      std::lock_guard guard(cond);
      ASSERT_TRUE(cond.notify().has_value());
    }
    rt_test::sleep_ms(5);
  }
  EXPECT_EQ(g.outcome[0].load(), 0);
  EXPECT_GE(g.elapsed_ns[0].load(), rt_test::to_ns(0.3));
}

// ---------------------------------------------------------------- interrupts

TEST_F(ConditionTest, APendingRequestEndsWaitWithNothingGivenUp) {
  for (int depth : {1, 3}) {
    RLock rlock;
    Condition cond(rlock);
    for (int i = 0; i < depth; ++i) rlock.lock();
    request_interrupt();
    expect_error(cond.wait(), Errc::interrupted, kInterruptedMessage, EINTR);
    EXPECT_EQ(rlock.recursion_count(), static_cast<unsigned>(depth));
    request_interrupt();
    expect_error(cond.wait(0), Errc::interrupted, kInterruptedMessage, EINTR);
    request_interrupt();
    expect_error(cond.wait_for([] { return false; }, 1.0), Errc::interrupted,
                 kInterruptedMessage, EINTR);
    EXPECT_EQ(rlock.recursion_count(), static_cast<unsigned>(depth));
    for (int i = 0; i < depth; ++i) rlock.unlock();
  }
  rt_test::expect_no_pending_request();
}

TEST_F(ConditionTest, AnErrorDoesNotConsumeAPendingRequest) {
  Condition cond;
  request_interrupt();
  expect_error(cond.wait(), Errc::thread_error, kWaitUnacquired);
  cond.lock();
  expect_error(cond.wait(-2), Errc::value_error, rt_test::kNegativeMessage);
  cond.unlock();
  EXPECT_TRUE(rt_test::consume_pending_interrupt());
}

TEST_F(ConditionTest, ARequestDuringAWaitEndsItWithTheLockHeld) {
  rt_test::SignalGuard sig(SIGUSR1, rt_test::count_and_request);
  ASSERT_TRUE(sig.ok());
  static Condition cond;
  for (int i = 0; i < 2; ++i) cond.lock();
  const long tid = main_tid_;
  rt_test::HelperThread helper = when_main_sleeps([tid] { rt_test::tgkill_main(tid, SIGUSR1); });
  std::int64_t t0 = now_ns();
  // A timed wait as a safety net: a lost interrupt fails, it does not hang.
  Result<bool> r = kDummy ? cond.wait(3.0) : cond.wait(rt_test::kDeadline);
  helper.join();
  rt_test::expect_interrupted(r);
  EXPECT_TRUE(sleeping_seen_.load());
  EXPECT_LT(seconds_since(t0), rt_test::kDeadline / 2);
  EXPECT_EQ(own_depth(cond), 2u);
  for (int i = 0; i < 2; ++i) cond.unlock();
  rt_test::expect_no_pending_request();
}

TEST_F(ConditionTest, AHandlerWithoutARequestDoesNotEndTheWait) {
  // The kernel's EINTR (and any spurious return) is absorbed: the wait
  // goes on to its deadline and returns false.
  rt_test::SignalGuard sig(SIGUSR1, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  static Condition cond;
  cond.lock();
  const long tid = main_tid_;
  rt_test::HelperThread helper = when_main_sleeps([tid] {
    for (int i = 0; i < 5; ++i) {
      rt_test::tgkill_main(tid, SIGUSR1);
      rt_test::sleep_ms(20);
    }
  });
  std::int64_t t0 = now_ns();
  Result<bool> r = cond.wait(0.5);
  double took = seconds_since(t0);
  helper.join();
  EXPECT_TRUE(is_false(r));
  EXPECT_GE(took, 0.5);
  EXPECT_GE(rt_test::g_handler_runs.load(), 1);
  EXPECT_TRUE(own_depth(cond) == 1u);
  cond.unlock();
}

// A request and a notify both land while the waiter sleeps (the notifier
// holds the lock for both): the wait reports the notify, and the request
// stays pending for the next blocking call.
TEST_F(ConditionTest, ANotifyWithARequestIsReportedAndTheRequestKept) {
  RT_REQUIRES_CONCURRENCY();
  rt_test::SignalGuard sig(SIGUSR1, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  static Condition cond;
  static std::atomic<int> step;
  step = 0;
  cond.lock();
  ASSERT_TRUE(start_new_thread([] {
                cond.lock();  // main is in wait() once this returns
                (void)cond.notify();
                step = 1;
                (void)interrupt_main(SIGUSR1);
                body_sleep(0.05);  // the handler runs, main wakes, and waits for the lock
                cond.unlock();
              }).has_value());
  Result<bool> r = cond.wait(rt_test::kDeadline);
  EXPECT_TRUE(is_true(r));
  EXPECT_EQ(step.load(), 1);
  EXPECT_TRUE(wait_for([] { return rt_test::g_handler_runs.load() == 1; }));
  // Still pending: the next blocking call ends interrupted at once.
  expect_error(cond.wait(rt_test::kDeadline), Errc::interrupted, kInterruptedMessage, EINTR);
  cond.unlock();
  rt_test::expect_no_pending_request();
}

// The race: a notify and an interrupt_main sent, in random order and at
// random moments, to a waiter, while the notifier holds the lock. Every
// wait ends either notified, with the request left pending, or interrupted,
// with nothing pending (its notify then found the list empty); never
// timed out, never both lost. When the notify went first it picked the
// waiter, which must then report it, however the interrupt lands.
TEST_F(ConditionTest, NotifyAgainstInterruptRaces) {
  RT_REQUIRES_CONCURRENCY();
  rt_test::SignalGuard sig(SIGUSR1, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  static Condition cond;
  static std::atomic<long> go, done_round;
  static std::atomic<bool> stop;
  static long spins_before[10000], spins_between[10000];
  static bool interrupt_first[10000];
  const long n = rt_test::iterations(10000, 1000);
  std::mt19937_64 rng(4242);
  for (long i = 0; i < n; ++i) {
    spins_before[i] = static_cast<long>(rng() % 4000);
    spins_between[i] = static_cast<long>(rng() % 4000);
    interrupt_first[i] = (rng() & 1) != 0;
  }
  go = 0;
  done_round = 0;
  stop = false;
  ASSERT_TRUE(start_new_thread([n] {
                for (long i = 0; i < n; ++i) {
                  while (go.load() != i + 1) {
                    if (stop.load()) return;
                  }
                  cond.lock();  // main is in wait() i once this returns
                  spin(spins_before[i]);
                  if (interrupt_first[i]) (void)interrupt_main(SIGUSR1);
                  spin(spins_between[i]);
                  (void)cond.notify();
                  if (!interrupt_first[i]) (void)interrupt_main(SIGUSR1);
                  cond.unlock();
                  done_round = i + 1;
                }
              }).has_value());
  long notified = 0, interrupted = 0;
  cond.lock();
  for (long i = 0; i < n; ++i) {
    go = i + 1;
    Result<bool> r = cond.wait(rt_test::kDeadline);
    // Wait until the sender is done with this round and its handler ran.
    std::int64_t deadline = now_ns() + rt_test::to_ns(rt_test::kDeadline);
    while ((done_round.load() != i + 1 || rt_test::g_handler_runs.load() != i + 1) &&
           now_ns() < deadline)
      sched_yield();  // a system call: the signal on its way is taken
    ASSERT_EQ(done_round.load(), i + 1) << "round " << i;
    Result<bool> pending = cond.wait(0);  // interrupted iff a request was pending
    bool was_pending = !pending.has_value() && pending.error().kind == Errc::interrupted;
    if (!interrupt_first[i]) {
      // The notify came first, while main was linked (nothing else ends
      // its wait before it): it picked main, which must report it.
      ASSERT_TRUE(r.has_value() && *r) << "round " << i << ": notified first, but returned "
                                       << (r.has_value() ? "false" : rawthread::name(r.error().kind));
    }
    if (r.has_value() && *r) {
      ++notified;
      ASSERT_TRUE(was_pending) << "round " << i << ": notified, but the request was lost";
    } else {
      ASSERT_FALSE(r.has_value()) << "round " << i << ": the wait timed out";
      ASSERT_EQ(r.error().kind, Errc::interrupted) << "round " << i;
      ++interrupted;
      ASSERT_TRUE(pending.has_value() && !*pending) << "round " << i << ": a second request";
    }
  }
  cond.unlock();
  stop = true;
  std::printf("notify against interrupt: %ld rounds: %ld notified (request kept), %ld interrupted\n",
              n, notified, interrupted);
  EXPECT_EQ(notified + interrupted, n);
  rt_test::expect_no_pending_request();
}

// ---------------------------------------------------------------- Lockable, dummy

TEST_F(ConditionTest, LockableForwardsToTheLock) {
  Lock lock;
  Condition cond(lock);
  {
    std::unique_lock guard(cond);
    EXPECT_TRUE(lock.locked());
    EXPECT_FALSE(cond.try_lock());
    EXPECT_FALSE(cond.try_lock_for(std::chrono::milliseconds(1)));
    EXPECT_FALSE(cond.try_lock_until(std::chrono::steady_clock::now()));
  }
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(cond.try_lock_for(std::chrono::milliseconds(1)));
  expect_error(cond.acquire(false, 1.0), Errc::value_error, rt_test::kNonBlockingMessage);
  cond.unlock();
  expect_error(cond.release(), Errc::thread_error, "release unlocked lock");

  Condition own;
  {
    std::scoped_lock guard(own);
    std::lock_guard again(own);  // its RLock: re-entrant
    EXPECT_TRUE(own.notify().has_value());
  }
  expect_error(own.release(), Errc::thread_error, "cannot release un-acquired lock");
}

TEST_F(ConditionTest, DummyBackendUntimedWaitIsADeadlockTimedWaitsOut) {
  if (!kDummy) GTEST_SKIP() << "the dummy backend's behaviour";
  for (int depth : {1, 2}) {
    Condition cond;
    for (int i = 0; i < depth; ++i) cond.lock();
    expect_error(cond.wait(), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
    expect_error(cond.wait_for([] { return false; }), Errc::thread_error,
                 rt_test::kWouldDeadlockMessage, EDEADLK);
    EXPECT_EQ(own_depth(cond), static_cast<unsigned>(depth));
    std::int64_t t0 = now_ns();
    EXPECT_TRUE(is_false(cond.wait(0.05)));
    EXPECT_GE(seconds_since(t0), 0.05);
    EXPECT_EQ(own_depth(cond), static_cast<unsigned>(depth));
    EXPECT_TRUE(is_true(cond.wait_for([] { return true; })));
    for (int i = 0; i < depth; ++i) cond.unlock();
  }
  Lock lock;
  Condition over(lock);
  over.lock();
  expect_error(over.wait(), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(is_false(over.wait(0.01)));
  EXPECT_TRUE(lock.locked());
  over.unlock();
}

}  // namespace
