// SPDX-License-Identifier: MIT
// Lock: acquire / release / locked, contention between threads, release from
// another thread, statics and the type's properties.
#include <type_traits>

#include "support.hpp"

using namespace rawthread;
using rt_test::body_sleep;
using rt_test::wait_for;

namespace {

static_assert(sizeof(Lock) == 4, "a Lock is one 32-bit futex word");
static_assert(alignof(Lock) == 4);
static_assert(!std::is_copy_constructible_v<Lock>);
static_assert(!std::is_move_constructible_v<Lock>);
static_assert(!std::is_copy_assignable_v<Lock>);
static_assert(!std::is_move_assignable_v<Lock>);
static_assert(std::is_nothrow_default_constructible_v<Lock>);
static_assert(std::is_same_v<LockType, Lock>);
static_assert(std::is_same_v<decltype(allocate_lock()), Lock>);

// Constant-initialized: no constructor runs for it (constinit refuses to
// compile otherwise).
constinit Lock g_static_lock;
constinit LockType g_static_lock_type;

class LockTest : public rt_test::RawthreadTest {};

TEST_F(LockTest, NewLockIsUnlocked) {
  Lock lock;
  EXPECT_FALSE(lock.locked());
  Lock allocated = allocate_lock();
  EXPECT_FALSE(allocated.locked());
  auto also = allocate_lock();
  EXPECT_FALSE(also.locked());
  EXPECT_TRUE(rt_test::is_true(also.acquire(false)));
  EXPECT_TRUE(also.locked());
  EXPECT_FALSE(allocated.locked());
  EXPECT_TRUE(also.release().has_value());
}

TEST_F(LockTest, AcquireReleaseLocked) {
  Lock lock;
  Result<bool> r = lock.acquire();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(*r);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_FALSE(lock.locked());

  // again, with every way of spelling a blocking acquire
  EXPECT_TRUE(rt_test::is_true(lock.acquire(true)));
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(rt_test::is_true(lock.acquire(true, -1)));
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(rt_test::is_true(lock.acquire(true, 0)));
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(rt_test::is_true(lock.acquire(true, 0.5)));
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_FALSE(lock.locked());
}

TEST_F(LockTest, NonBlockingAcquire) {
  Lock lock;
  Result<bool> first = lock.acquire(false);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(*first);
  EXPECT_TRUE(lock.locked());
  Result<bool> second = lock.acquire(false);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(*second);
  EXPECT_TRUE(lock.locked());
  Result<bool> third = lock.acquire(false, -1);
  ASSERT_TRUE(third.has_value());
  EXPECT_FALSE(*third);
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_FALSE(lock.locked());
}

TEST_F(LockTest, AcquireTimeoutMaxOnFreeLock) {
  Lock lock;
  Result<bool> r = lock.acquire(true, TIMEOUT_MAX);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(*r);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
  r = lock.acquire(true, 1e9);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(*r);
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(LockTest, NegativeZeroTimeoutIsZero) {
  // -0.0 is not negative: it is a zero timeout, not an error.
  Lock lock;
  Result<bool> r = lock.acquire(true, -0.0);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(*r);
  std::int64_t t0 = rt_test::now_ns();
  r = lock.acquire(true, -0.0);
  double elapsed = rt_test::seconds_since(t0);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(*r);
  EXPECT_LT(elapsed, 2.0);
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(LockTest, StaticLocksWork) {
  EXPECT_FALSE(g_static_lock.locked());
  EXPECT_FALSE(g_static_lock_type.locked());
  static Lock local_static;
  EXPECT_FALSE(local_static.locked());

  ASSERT_TRUE(rt_test::is_true(g_static_lock.acquire()));
  EXPECT_TRUE(g_static_lock.locked());
  EXPECT_FALSE(g_static_lock_type.locked());

  // A thread waits for the static lock and gets it once main releases it.
  static std::atomic<int> got;  // 1: taken, -1: refused as a deadlock
  got = 0;
  auto r = start_new_thread([] {
    Result<bool> a = g_static_lock.acquire();
    if (rt_test::is_true(a)) {
      got.store(1);
      (void)g_static_lock.release();
    } else if (!a.has_value() && a.error().sys_errno == EDEADLK) {
      got.store(-1);
    }
  });
  ASSERT_TRUE(r.has_value());
  if (rt_test::kDummy) {
    // The function ran in main's place, where no other thread could release
    // the lock: its acquire was refused at once, and the lock is still held.
    EXPECT_EQ(got.load(), -1);
    EXPECT_TRUE(g_static_lock.locked());
    EXPECT_TRUE(g_static_lock.release().has_value());
  } else {
    rt_test::sleep_ms(50);
    EXPECT_EQ(got.load(), 0);
    EXPECT_TRUE(g_static_lock.release().has_value());
    EXPECT_TRUE(wait_for([] { return got.load() == 1; }));
  }
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_FALSE(g_static_lock.locked());

  EXPECT_TRUE(rt_test::is_true(local_static.acquire(false)));
  EXPECT_TRUE(local_static.release().has_value());
}

TEST_F(LockTest, ReleasedLockWakesItsWaiter) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits on a lock main releases later
  static Lock lock;
  static std::atomic<int> about_to_wait, acquired, result_ok;
  about_to_wait = 0;
  acquired = 0;
  result_ok = 0;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  auto r = start_new_thread([] {
    about_to_wait.store(1);
    Result<bool> got = lock.acquire();  // untimed: sleeps until main releases
    result_ok.store(got.has_value() && *got ? 1 : -1);
    acquired.store(1);
    (void)lock.release();
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return about_to_wait.load() == 1; }));
  rt_test::sleep_ms(100);
  EXPECT_EQ(acquired.load(), 0) << "the waiter got a lock that was still held";
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(wait_for([] { return acquired.load() == 1; }));
  EXPECT_EQ(result_ok.load(), 1);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_FALSE(lock.locked());
}

TEST_F(LockTest, ThreadAcquiresMainReleases) {
  static Lock lock;
  static std::atomic<int> done;
  done = 0;
  auto r = start_new_thread([] {
    Result<bool> got = lock.acquire();
    done.store(got.has_value() && *got ? 1 : -1);
    // returns still holding the lock
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return done.load() != 0; }));
  EXPECT_EQ(done.load(), 1);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(rt_test::is_false(lock.acquire(false)));
  Result<void> rel = lock.release();
  EXPECT_TRUE(rel.has_value());
  EXPECT_FALSE(lock.locked());
}

TEST_F(LockTest, MainAcquiresThreadReleases) {
  static Lock lock;
  static std::atomic<int> done;
  done = 0;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  auto r = start_new_thread([] {
    Result<void> rel = lock.release();
    done.store(rel.has_value() ? 1 : -1);
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return done.load() != 0; }));
  EXPECT_EQ(done.load(), 1);
  EXPECT_FALSE(lock.locked());
  // main can take it again: it really is free
  EXPECT_TRUE(rt_test::is_true(lock.acquire(false)));
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(LockTest, ThreadReleasesForWaitingMain) {
  // Main blocks (untimed) on a lock it holds itself; a thread releases it.
  static Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  auto r = start_new_thread([] {
    body_sleep(0.1);
    (void)lock.release();
  });
  ASSERT_TRUE(r.has_value());
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(lock); });
  Result<bool> got = lock.acquire();
  dog.dismiss();
  EXPECT_FALSE(dog.fired()) << "the waiter was not woken by the thread's release";
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(*got);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(LockTest, FiveThreadsContendOneLock) {
  constexpr int kThreads = 5;
  constexpr int kRounds = 2000;
  static Lock lock;
  static std::atomic<int> inside, overlaps, failures, finished;
  static long counter;  // plain: only the lock protects it
  inside = 0;
  overlaps = 0;
  failures = 0;
  finished = 0;
  counter = 0;
  for (int t = 0; t < kThreads; ++t) {
    auto r = start_new_thread([] {
      for (int i = 0; i < kRounds; ++i) {
        Result<bool> got = lock.acquire();
        if (!got.has_value() || !*got) {
          failures.fetch_add(1);
          continue;
        }
        if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
        long c = counter;
        if ((i & 63) == 0) body_sleep(0.0001);  // widen the window now and then
        counter = c + 1;
        inside.fetch_sub(1);
        if (!lock.release().has_value()) failures.fetch_add(1);
      }
      finished.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  EXPECT_TRUE(wait_for([] { return finished.load() == kThreads; }, 120.0));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(counter, static_cast<long>(kThreads) * kRounds);
  EXPECT_FALSE(lock.locked());
}

// 4 threads x 20000 increments of a plain counter under the lock.
template <class Body>
void run_counter_test(Body body, std::size_t base) {
  constexpr int kThreads = 4;
  static std::atomic<int> finished;
  finished = 0;
  for (int t = 0; t < kThreads; ++t) {
    auto r = start_new_thread([body] {
      body();
      finished.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  EXPECT_TRUE(wait_for([] { return finished.load() == kThreads; }, 120.0));
  EXPECT_TRUE(rt_test::wait_thread_count(base));
}

constexpr int kIncrements = 20000;
Lock g_counter_lock;
long g_counter;
std::atomic<int> g_counter_failures;

// One increment of g_counter under g_counter_lock, taken with
// acquire(true, timeout) (-1: untimed) and given back with release(); an
// acquire that does not take the lock, or a failed release, counts in
// g_counter_failures. Safe in thread bodies: rawthread and atomics only.
void increment_with_acquire(double timeout) {
  Result<bool> got = g_counter_lock.acquire(true, timeout);
  if (!got.has_value() || !*got) {
    g_counter_failures.fetch_add(1);
    return;
  }
  g_counter = g_counter + 1;
  if (!g_counter_lock.release().has_value()) g_counter_failures.fetch_add(1);
}

TEST_F(LockTest, CounterWithLockUnlock) {
  g_counter = 0;
  run_counter_test(
      [] {
        for (int i = 0; i < kIncrements; ++i) {
          g_counter_lock.lock();
          g_counter = g_counter + 1;
          g_counter_lock.unlock();
        }
      },
      base_count_);
  EXPECT_EQ(g_counter, 4L * kIncrements);
  EXPECT_FALSE(g_counter_lock.locked());
}

TEST_F(LockTest, CounterWithAcquireRelease) {
  g_counter = 0;
  g_counter_failures = 0;
  run_counter_test(
      [] {
        for (int i = 0; i < kIncrements; ++i) increment_with_acquire(-1);
      },
      base_count_);
  EXPECT_EQ(g_counter_failures.load(), 0);
  EXPECT_EQ(g_counter, 4L * kIncrements);
  EXPECT_FALSE(g_counter_lock.locked());
}

TEST_F(LockTest, CounterWithTimedAcquireAndMainContending) {
  // The same with timed acquires, and the main thread contending too.
  g_counter = 0;
  g_counter_failures = 0;
  static std::atomic<int> finished;
  finished = 0;
  for (int t = 0; t < 3; ++t) {
    auto r = start_new_thread([] {
      for (int i = 0; i < kIncrements; ++i) increment_with_acquire(60.0);
      finished.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  for (int i = 0; i < kIncrements; ++i) increment_with_acquire(60.0);
  EXPECT_TRUE(wait_for([] { return finished.load() == 3; }, 120.0));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(g_counter_failures.load(), 0);
  EXPECT_EQ(g_counter, 4L * kIncrements);
}

TEST_F(LockTest, LockedIsASnapshotSeenByOtherThreads) {
  static Lock lock;
  static std::atomic<int> seen;
  seen = 0;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  auto r = start_new_thread([] { seen.store(lock.locked() ? 1 : 2); });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return seen.load() != 0; }));
  EXPECT_EQ(seen.load(), 1);
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  seen = 0;
  r = start_new_thread([] { seen.store(lock.locked() ? 1 : 2); });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return seen.load() != 0; }));
  EXPECT_EQ(seen.load(), 2);
}

}  // namespace
