// SPDX-License-Identifier: MIT
// Semaphore and BoundedSemaphore: CPython's Lib/test/lock_tests.py
// BaseSemaphoreTests, SemaphoreTests and BoundedSemaphoreTests ported (each
// case names its origin), then rawthread's own: the argument and release
// errors (nothing changes), release(n) waking at most n, the Lockable calls,
// interrupts, and the dummy backend.
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
using rt_test::voluntary_switches;
using rt_test::wait_for;

namespace {

static_assert(!std::is_copy_constructible_v<Semaphore>);
static_assert(!std::is_copy_assignable_v<Semaphore>);
static_assert(!std::is_copy_constructible_v<BoundedSemaphore>);
static_assert(std::is_nothrow_default_constructible_v<Semaphore>);

// Constant-initialized: no constructor runs for them.
constinit Semaphore g_static_semaphore(3);
constinit BoundedSemaphore g_static_bounded(2);

// How many acquire(false) succeed, the value; released back after.
template <class S>
unsigned value_of(S& sem) {
  unsigned n = 0;
  while (n < 1000 && is_true(sem.acquire(false))) ++n;
  if (n != 0) {
    EXPECT_TRUE(sem.release(n).has_value());
  }
  return n;
}

// Wakes every sleeper on a semaphore's value word so that a main thread
// stuck after a lost wake-up fails instead of hanging.
template <class S>
void rescue(S& sem) {
  (void)sem.release();
  rt_test::wake_all(static_cast<void*>(&sem));
}

class SemaphoreTest : public rt_test::RawthreadTest {};

// ------------------------------------------------------------ lock_tests.py, BaseSemaphoreTests

// test_constructor: a negative initial value is a ValueError in Python; the
// value is unsigned here. What is left: the value a semaphore starts with.
TEST_F(SemaphoreTest, Constructor) {
  Semaphore zero(0), one, two(2);
  EXPECT_EQ(value_of(zero), 0u);
  EXPECT_EQ(value_of(one), 1u);
  EXPECT_EQ(value_of(two), 2u);
  EXPECT_EQ(value_of(g_static_semaphore), 3u);
  EXPECT_EQ(value_of(g_static_bounded), 2u);
  BoundedSemaphore bounded_zero(0);
  EXPECT_EQ(value_of(bounded_zero), 0u);
}

// test_acquire
TEST_F(SemaphoreTest, Acquire) {
  Semaphore sem(1);
  EXPECT_TRUE(is_true(sem.acquire()));
  EXPECT_TRUE(sem.release().has_value());
  Semaphore sem2(2);
  EXPECT_TRUE(is_true(sem2.acquire()));
  EXPECT_TRUE(is_true(sem2.acquire()));
  EXPECT_TRUE(sem2.release().has_value());
  EXPECT_TRUE(sem2.release().has_value());
  EXPECT_EQ(value_of(sem2), 2u);
}

// test_acquire_destroy
TEST_F(SemaphoreTest, AcquireDestroy) {
  auto* sem = new Semaphore();
  EXPECT_TRUE(is_true(sem->acquire()));
  delete sem;
}

// The body of test_acquire_contended and test_multirelease: 10 threads
// acquire twice each, recording the phase they got through in.
struct Contended {
  static constexpr int kThreads = 10;
  Semaphore sem{7};
  std::atomic<int> phase{0};
  std::atomic<int> got[3] = {};  // acquires that got through in each phase
  std::atomic<int> done{0};

  int total() const { return got[0] + got[1] + got[2]; }
};

void run_contended(bool multirelease) {
  static Contended c;
  c.phase = 0;
  for (auto& g : c.got) g = 0;
  c.done = 0;
  while (is_true(c.sem.acquire(false))) {
  }
  ASSERT_TRUE(c.sem.release(7).has_value());
  ASSERT_TRUE(is_true(c.sem.acquire()));  // 6 left
  for (int i = 0; i < Contended::kThreads; ++i) {
    auto r = start_new_thread([] {
      for (int k = 0; k < 2; ++k) {
        if (!is_true(c.sem.acquire())) break;
        c.got[c.phase.load()].fetch_add(1);
      }
      c.done.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value());
  }
  rt_test::Watchdog dog(60.0, [] {
    (void)c.sem.release(100);
    rt_test::wake_all(&c.sem);
  });
  EXPECT_TRUE(wait_for([] { return c.total() >= 6; }));
  rt_test::sleep_ms(50);
  EXPECT_EQ(c.got[0].load(), 6);
  c.phase = 1;
  if (multirelease) {
    EXPECT_TRUE(c.sem.release(7).has_value());
  } else {
    for (int i = 0; i < 7; ++i) EXPECT_TRUE(c.sem.release().has_value());
  }
  EXPECT_TRUE(wait_for([] { return c.total() >= 13; }));
  rt_test::sleep_ms(50);
  EXPECT_EQ(c.got[1].load(), 7);
  EXPECT_TRUE(is_false(c.sem.acquire(false)));
  c.phase = 2;
  // 6 more: 19 of the 20 acquires through; the last still waits
  if (multirelease) {
    EXPECT_TRUE(c.sem.release(6).has_value());
  } else {
    for (int i = 0; i < 6; ++i) EXPECT_TRUE(c.sem.release().has_value());
  }
  EXPECT_TRUE(wait_for([] { return c.total() >= 19; }));
  rt_test::sleep_ms(50);
  EXPECT_EQ(c.total(), 19);
  EXPECT_EQ(c.done.load(), Contended::kThreads - 1);
  EXPECT_TRUE(c.sem.release().has_value());
  EXPECT_TRUE(wait_for([] { return c.done.load() == Contended::kThreads; }));
  dog.dismiss();
  EXPECT_FALSE(dog.fired()) << "a waiter missed a release";
  EXPECT_EQ(c.total(), 20);
  EXPECT_TRUE(is_false(c.sem.acquire(false)));
}

// test_acquire_contended
TEST_F(SemaphoreTest, AcquireContended) {
  RT_REQUIRES_CONCURRENCY();
  run_contended(false);
}

// test_multirelease
TEST_F(SemaphoreTest, MultiRelease) {
  RT_REQUIRES_CONCURRENCY();
  run_contended(true);
}

// test_try_acquire
TEST_F(SemaphoreTest, TryAcquire) {
  Semaphore sem(2);
  EXPECT_TRUE(is_true(sem.acquire(false)));
  EXPECT_TRUE(is_true(sem.acquire(false)));
  EXPECT_TRUE(is_false(sem.acquire(false)));
  EXPECT_TRUE(sem.release().has_value());
  EXPECT_TRUE(is_true(sem.acquire(false)));
  EXPECT_TRUE(sem.try_lock() == false);
}

// test_try_acquire_contended: 5 threads each try 3 times on a value of 4
// that main took one of: 3 succeed in all, 12 fail.
TEST_F(SemaphoreTest, TryAcquireContended) {
  static Semaphore sem(4);
  static std::atomic<int> yes, no, done;
  yes = no = done = 0;
  ASSERT_TRUE(is_true(sem.acquire()));
  for (int i = 0; i < 5; ++i) {
    auto r = start_new_thread([] {
      for (int k = 0; k < 3; ++k) (is_true(sem.acquire(false)) ? yes : no).fetch_add(1);
      done.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value());
  }
  EXPECT_TRUE(wait_for([] { return done.load() == 5; }));
  EXPECT_EQ(yes.load(), 3);
  EXPECT_EQ(no.load(), 12);
}

// test_acquire_timeout
TEST_F(SemaphoreTest, AcquireTimeout) {
  Semaphore sem(2);
  EXPECT_TRUE(is_true(sem.acquire()));
  EXPECT_TRUE(is_true(sem.acquire(true, 0)));
  EXPECT_TRUE(is_false(sem.acquire(true, 0)));
  EXPECT_TRUE(is_false(sem.acquire(true, 0.005)));
  EXPECT_TRUE(sem.release().has_value());
  EXPECT_TRUE(is_true(sem.acquire(true, 0.005)));
  const std::int64_t t0 = now_ns();
  EXPECT_TRUE(is_false(sem.acquire(true, 0.5)));
  EXPECT_GE(seconds_since(t0), 0.5) << "a timed-out acquire returned early";
}

// test_default_value: Semaphore() is 1; a second acquire waits for a release.
TEST_F(SemaphoreTest, DefaultValue) {
  RT_REQUIRES_CONCURRENCY();
  static Semaphore sem;
  static std::atomic<int> started, got;
  started = got = 0;
  ASSERT_TRUE(is_true(sem.acquire()));
  auto r = start_new_thread([] {
    started = 1;
    got = is_true(sem.acquire()) ? 1 : -1;
    (void)sem.release();
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return started.load() == 1; }));
  rt_test::sleep_ms(100);
  EXPECT_EQ(got.load(), 0) << "the acquire got through a semaphore at 0";
  rt_test::Watchdog dog(20.0, [] { rescue(sem); });
  EXPECT_TRUE(sem.release().has_value());
  EXPECT_TRUE(wait_for([] { return got.load() != 0; }));
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
  EXPECT_EQ(got.load(), 1);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(value_of(sem), 1u);
}

// test_with: the with-statement is std::lock_guard over lock()/unlock().
TEST_F(SemaphoreTest, With) {
  Semaphore sem(2);
  {
    std::lock_guard guard(sem);
    EXPECT_TRUE(is_true(sem.acquire(false)));
    EXPECT_TRUE(is_false(sem.acquire(false)));
    EXPECT_TRUE(sem.release().has_value());
  }
  EXPECT_EQ(value_of(sem), 2u);
  BoundedSemaphore bounded(1);
  {
    std::unique_lock guard(bounded);
    EXPECT_TRUE(is_false(bounded.acquire(false)));
  }
  EXPECT_EQ(value_of(bounded), 1u);
}

// ------------------------------------------------------------ lock_tests.py, SemaphoreTests

// test_release_unacquired: an unbounded semaphore may be released past its
// initial value.
TEST_F(SemaphoreTest, ReleaseUnacquired) {
  Semaphore sem;
  EXPECT_TRUE(sem.release().has_value());
  EXPECT_TRUE(is_true(sem.acquire()));
  EXPECT_TRUE(is_true(sem.acquire()));
  EXPECT_TRUE(sem.release().has_value());
  EXPECT_TRUE(sem.release().has_value());
  EXPECT_EQ(value_of(sem), 2u);
}

// ------------------------------------------------------------ lock_tests.py, BoundedSemaphoreTests

// test_release_unacquired
TEST_F(SemaphoreTest, BoundedReleaseUnacquired) {
  BoundedSemaphore sem;
  expect_error(sem.release(), Errc::value_error, "Semaphore released too many times");
  EXPECT_TRUE(is_true(sem.acquire()));
  EXPECT_TRUE(sem.release().has_value());
  expect_error(sem.release(), Errc::value_error, "Semaphore released too many times");
  EXPECT_EQ(value_of(sem), 1u);
}

// test_multirelease (BoundedSemaphoreTests): release(n) above the initial
// value fails whole, before anything changes.
TEST_F(SemaphoreTest, BoundedMultiRelease) {
  BoundedSemaphore sem(5);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(is_true(sem.acquire()));
  expect_error(sem.release(4), Errc::value_error, "Semaphore released too many times");
  EXPECT_EQ(value_of(sem), 2u) << "a rejected release changed the value";
  EXPECT_TRUE(sem.release(3).has_value());
  EXPECT_EQ(value_of(sem), 5u);
  expect_error(sem.release(1), Errc::value_error, "Semaphore released too many times");
}

// ------------------------------------------------------------ rawthread's own

// Lock's argument checks, in Lock's order; nothing is taken.
TEST_F(SemaphoreTest, AcquireArgumentErrors) {
  Semaphore sem(1);
  BoundedSemaphore bounded(1);
  for (const rt_test::BadAcquire& c : rt_test::bad_acquires()) {
    SCOPED_TRACE(rt_test::describe(c));
    expect_error(sem.acquire(c.blocking, c.timeout), c.kind, c.message);
    expect_error(bounded.acquire(c.blocking, c.timeout), c.kind, c.message);
  }
  EXPECT_EQ(value_of(sem), 1u);
  EXPECT_EQ(value_of(bounded), 1u);
}

TEST_F(SemaphoreTest, ReleaseZeroIsAnError) {
  Semaphore sem(1);
  BoundedSemaphore bounded(1);
  EXPECT_TRUE(is_true(bounded.acquire()));
  expect_error(sem.release(0), Errc::value_error, "n must be one or more");
  expect_error(bounded.release(0), Errc::value_error, "n must be one or more");
  EXPECT_EQ(value_of(sem), 1u);
  EXPECT_EQ(value_of(bounded), 0u);
}

// The value is 32 bits: a release past UINT32_MAX fails and changes nothing.
TEST_F(SemaphoreTest, ReleasePastUint32MaxOverflows) {
  Semaphore sem(UINT32_MAX - 2);
  expect_error(sem.release(3), Errc::overflow_error, "semaphore value would exceed UINT32_MAX");
  EXPECT_TRUE(sem.release(2).has_value());
  expect_error(sem.release(), Errc::overflow_error, "semaphore value would exceed UINT32_MAX");
  expect_error(sem.release(UINT32_MAX), Errc::overflow_error,
               "semaphore value would exceed UINT32_MAX");
  EXPECT_TRUE(is_true(sem.acquire(false)));
  EXPECT_TRUE(sem.release().has_value());
  Semaphore zero(0);
  EXPECT_TRUE(zero.release(UINT32_MAX).has_value());
  expect_error(zero.release(), Errc::overflow_error, "semaphore value would exceed UINT32_MAX");
  BoundedSemaphore full(UINT32_MAX);
  expect_error(full.release(), Errc::value_error, "Semaphore released too many times");
  EXPECT_TRUE(is_true(full.acquire(false)));
  EXPECT_TRUE(full.release().has_value());
}

// release(n) wakes at most n of the waiters (no herd): with 4 asleep,
// release(2) lets exactly 2 through, and the other 2 never leave their
// sleep (their context switch counts do not move).
TEST_F(SemaphoreTest, ReleaseNWakesAtMostN) {
  RT_REQUIRES_CONCURRENCY();
  static Semaphore sem(0);
  static std::atomic<int> started, got, done;
  static std::atomic<long> tid_of[4];
  static std::atomic<bool> got_one[4];
  started = got = done = 0;
  for (int i = 0; i < 4; ++i) {
    tid_of[i] = 0;
    got_one[i] = false;
    auto r = start_new_thread(
        [](int me) {
          tid_of[me] = get_native_id();
          started.fetch_add(1);
          if (is_true(sem.acquire())) {
            got_one[me] = true;
            got.fetch_add(1);
          }
          done.fetch_add(1);
        },
        i);
    ASSERT_TRUE(r.has_value());
  }
  ASSERT_TRUE(wait_for([] { return started.load() == 4; }));
  for (auto& t : tid_of) EXPECT_TRUE(rt_test::wait_until_sleeping(t.load()));
  long before[4];
  for (int i = 0; i < 4; ++i) before[i] = voluntary_switches(tid_of[i].load());
  rt_test::Watchdog dog(60.0, [] {
    (void)sem.release(10);
    rt_test::wake_all(&sem);
  });
  EXPECT_TRUE(sem.release(2).has_value());
  EXPECT_TRUE(wait_for([] { return got.load() == 2; }));
  rt_test::sleep_ms(100);
  EXPECT_EQ(got.load(), 2);
  int still_asleep = 0;
  for (int i = 0; i < 4; ++i) {
    if (got_one[i].load()) continue;
    ++still_asleep;
    EXPECT_EQ(voluntary_switches(tid_of[i].load()), before[i])
        << "a waiter release(2) did not let through was woken";
  }
  EXPECT_EQ(still_asleep, 2);
  EXPECT_TRUE(sem.release(2).has_value());
  EXPECT_TRUE(wait_for([] { return done.load() == 4; }));
  dog.dismiss();
  EXPECT_FALSE(dog.fired()) << "a waiter missed a release";
  EXPECT_EQ(got.load(), 4);
  EXPECT_EQ(value_of(sem), 0u);
}

// Many threads through a semaphore of 3: never more than 3 inside, every
// acquire and release matched, the value back at 3.
TEST_F(SemaphoreTest, AtMostValueInside) {
  static Semaphore sem(3);
  static std::atomic<int> inside, most, done, errors;
  inside = most = done = errors = 0;
  constexpr int kThreads = 6;
  const long rounds = rt_test::iterations(20000, 2000);
  static long s_rounds;
  s_rounds = rounds;
  for (int i = 0; i < kThreads; ++i) {
    auto r = start_new_thread([] {
      for (long k = 0; k < s_rounds; ++k) {
        if (k % 3 == 2) {
          if (!is_true(sem.acquire(true, 30.0))) errors.fetch_add(1);
        } else {
          sem.lock();
        }
        int now = inside.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        inside.fetch_sub(1);
        if (k % 2 == 0) {
          if (!sem.release().has_value()) errors.fetch_add(1);
        } else {
          sem.unlock();
        }
      }
      done.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value());
  }
  rt_test::Watchdog dog(120.0, [] {
    (void)sem.release(100);
    rt_test::wake_all(&sem);
  });
  EXPECT_TRUE(wait_for([] { return done.load() == kThreads; }, 120.0));
  dog.dismiss();
  EXPECT_FALSE(dog.fired()) << "a waiter missed a release";
  EXPECT_EQ(errors.load(), 0);
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(value_of(sem), 3u);
}

// Lockable / TimedLockable
TEST_F(SemaphoreTest, TimedLockable) {
  Semaphore sem(1);
  EXPECT_TRUE(sem.try_lock());
  EXPECT_FALSE(sem.try_lock());
  EXPECT_FALSE(sem.try_lock_for(std::chrono::milliseconds(0)));
  EXPECT_FALSE(sem.try_lock_for(std::chrono::milliseconds(-5)));
  std::int64_t t0 = now_ns();
  EXPECT_FALSE(sem.try_lock_for(std::chrono::milliseconds(50)));
  EXPECT_GE(seconds_since(t0), 0.05);
  t0 = now_ns();
  EXPECT_FALSE(sem.try_lock_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
  EXPECT_GE(seconds_since(t0), 0.05);
  sem.unlock();
  EXPECT_TRUE(sem.try_lock_for(std::chrono::seconds(1)));
  sem.unlock();
  EXPECT_TRUE(sem.try_lock_until(std::chrono::system_clock::now() + std::chrono::seconds(1)));
  sem.unlock();
  BoundedSemaphore bounded(1);
  bounded.unlock();  // above the bound: ignored, nothing changes
  EXPECT_EQ(value_of(bounded), 1u);
}

// A timed acquire ends when a release comes, not at its deadline.
TEST_F(SemaphoreTest, TimedAcquireWokenByRelease) {
  RT_REQUIRES_CONCURRENCY();
  static Semaphore sem(0);
  auto r = start_new_thread([] {
    body_sleep(0.1);
    (void)sem.release();
  });
  ASSERT_TRUE(r.has_value());
  const std::int64_t t0 = now_ns();
  EXPECT_TRUE(is_true(sem.acquire(true, 20.0)));
  EXPECT_LT(seconds_since(t0), 10.0);
}

// ------------------------------------------------------------ interrupts

class SemaphoreInterruptTest : public rt_test::InterruptFixture {};

// A pending request ends the next blocking acquire at once, even with a
// token there; nothing is taken. A non-blocking one leaves it pending.
TEST_F(SemaphoreInterruptTest, PendingRequestEndsTheNextAcquire) {
  Semaphore sem(1), empty(0);
  request_interrupt();
  EXPECT_TRUE(is_true(sem.acquire(false)));  // leaves it pending
  EXPECT_TRUE(sem.release().has_value());
  rt_test::expect_interrupted(sem.acquire());
  EXPECT_EQ(value_of(sem), 1u);
  request_interrupt();
  rt_test::expect_interrupted(sem.acquire(true, 5.0));
  request_interrupt();
  rt_test::Watchdog dog(20.0, [&] { rescue(empty); });
  rt_test::expect_interrupted(empty.acquire());
  request_interrupt();
  rt_test::expect_interrupted(empty.acquire(true, TIMEOUT_MAX));
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
  EXPECT_EQ(value_of(sem), 1u);
  EXPECT_EQ(value_of(empty), 0u);
  rt_test::expect_no_pending_request();
}

// A request that comes while the acquire sleeps ends it, untimed or timed.
TEST_F(SemaphoreInterruptTest, InterruptMainEndsASleepingAcquire) {
  RT_REQUIRES_CONCURRENCY();  // the interrupter is a libc thread, but the wait needs it running
  rt_test::SignalGuard sig(SIGINT, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  static Semaphore sem(0);
  for (double timeout : {-1.0, 20.0}) {
    SCOPED_TRACE(timeout);
    rt_test::g_handler_runs = 0;
    rt_test::HelperThread interrupter = when_main_sleeps([] { (void)interrupt_main(); });
    rt_test::Watchdog dog(20.0, [] { rescue(sem); });
    const std::int64_t t0 = now_ns();
    Result<bool> r = sem.acquire(true, timeout);
    const double elapsed = seconds_since(t0);
    dog.dismiss();
    interrupter.join();
    EXPECT_FALSE(dog.fired()) << "the acquire was not interrupted";
    EXPECT_TRUE(sleeping_seen_.load());
    rt_test::expect_interrupted(r);
    EXPECT_LT(elapsed, 10.0);
    EXPECT_EQ(rt_test::g_handler_runs.load(), 1);
    // the interrupted waiter left the sleeper count: a release then an
    // acquire work as on a fresh semaphore
    EXPECT_TRUE(sem.release().has_value());
    EXPECT_TRUE(is_true(sem.acquire(false)));
  }
  rt_test::expect_no_pending_request();
}

// ------------------------------------------------------------ the dummy backend

// No other thread exists to release: an untimed blocking acquire of 0 is the
// deadlock error; a timed one waits its time out; a token there is taken.
TEST_F(SemaphoreTest, DummyBackend) {
  Semaphore sem(0);
  if (kDummy) {
    expect_error(sem.acquire(), Errc::thread_error,
                 rt_test::kWouldDeadlockMessage, EDEADLK);
  }
  EXPECT_TRUE(is_false(sem.acquire(false)));
  const std::int64_t t0 = now_ns();
  EXPECT_TRUE(is_false(sem.acquire(true, 0.1)));
  EXPECT_GE(seconds_since(t0), 0.1);
  EXPECT_TRUE(sem.release().has_value());
  EXPECT_TRUE(is_true(sem.acquire()));
  EXPECT_EQ(value_of(sem), 0u);
}

}  // namespace
