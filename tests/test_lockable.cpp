// SPDX-License-Identifier: MIT
// Lock as a C++ Lockable / TimedLockable: lock_guard, unique_lock,
// scoped_lock, try_lock, try_lock_for / try_lock_until (zero, negative, past,
// real timeouts, huge values), and lock() / try_lock_* never ended by an
// interrupt request, which they leave pending.
#include <chrono>
#include <mutex>

#include "support.hpp"

using namespace rawthread;
using namespace std::chrono_literals;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

class LockableTest : public rt_test::RawthreadTest {};

TEST_F(LockableTest, LockGuard) {
  Lock lock;
  {
    std::lock_guard<Lock> guard(lock);
    EXPECT_TRUE(lock.locked());
    EXPECT_FALSE(lock.try_lock());
  }
  EXPECT_FALSE(lock.locked());
  {
    std::lock_guard guard(lock);  // CTAD
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
  // adopt_lock: a lock taken with acquire() is released by the guard
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  {
    std::lock_guard<Lock> guard(lock, std::adopt_lock);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
}

TEST_F(LockableTest, UniqueLock) {
  Lock lock;
  {
    std::unique_lock<Lock> ul(lock);
    EXPECT_TRUE(ul.owns_lock());
    EXPECT_TRUE(lock.locked());
    ul.unlock();
    EXPECT_FALSE(lock.locked());
    EXPECT_TRUE(ul.try_lock());
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
  {
    std::unique_lock<Lock> ul(lock, std::defer_lock);
    EXPECT_FALSE(ul.owns_lock());
    EXPECT_FALSE(lock.locked());
    EXPECT_TRUE(ul.try_lock_for(10ms));
    EXPECT_TRUE(lock.locked());
    ul.unlock();
    EXPECT_TRUE(ul.try_lock_until(std::chrono::steady_clock::now() + 10ms));
    // a second unique_lock on the same (held) lock cannot take it
    std::unique_lock<Lock> other(lock, std::try_to_lock);
    EXPECT_FALSE(other.owns_lock());
    std::unique_lock<Lock> timed(lock, 20ms);
    EXPECT_FALSE(timed.owns_lock());
  }
  EXPECT_FALSE(lock.locked());
}

TEST_F(LockableTest, ScopedLockTwoLocks) {
  Lock a, b;
  {
    std::scoped_lock both(a, b);
    EXPECT_TRUE(a.locked());
    EXPECT_TRUE(b.locked());
  }
  EXPECT_FALSE(a.locked());
  EXPECT_FALSE(b.locked());
}

TEST_F(LockableTest, ScopedLockWaitsForAThreadToRelease) {
  // b is held; a thread releases it after ~0.2 s; std::scoped_lock(a, b)
  // (std::lock's lock / try_lock / unlock dance) ends holding both.
  static Lock a, b;
  static std::atomic<int> released;
  released = 0;
  ASSERT_TRUE(rt_test::is_true(b.acquire()));
  auto r = start_new_thread([] {
    rt_test::body_sleep(0.2);
    released.store(1);
    (void)b.release();
  });
  ASSERT_TRUE(r.has_value());
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(b); });
  {
    std::scoped_lock both(a, b);
    EXPECT_EQ(released.load(), 1) << "scoped_lock returned while b was still held";
    EXPECT_TRUE(a.locked());
    EXPECT_TRUE(b.locked());
  }
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
  EXPECT_FALSE(a.locked());
  EXPECT_FALSE(b.locked());
}

TEST_F(LockableTest, LockUnlockTryLock) {
  Lock lock;
  EXPECT_TRUE(lock.try_lock());
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.try_lock());
  lock.unlock();
  EXPECT_FALSE(lock.locked());
  lock.lock();
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.try_lock());
  EXPECT_TRUE(rt_test::is_false(lock.acquire(false)));
  // unlock and release are interchangeable
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_FALSE(lock.locked());
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  lock.unlock();
  EXPECT_FALSE(lock.locked());
}

TEST_F(LockableTest, LockWaitsForAnotherThread) {
  static Lock lock;
  static std::atomic<int> released;
  released = 0;
  lock.lock();
  auto r = start_new_thread([] {
    rt_test::body_sleep(0.1);
    released.store(1);
    lock.unlock();
  });
  ASSERT_TRUE(r.has_value());
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(lock); });
  lock.lock();
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
  EXPECT_EQ(released.load(), 1);
  EXPECT_TRUE(lock.locked());
  lock.unlock();
}

TEST_F(LockableTest, NonPositiveDurationsBehaveLikeTryLock) {
  Lock lock;
  // free: taken at once
  EXPECT_TRUE(lock.try_lock_for(0s));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_for(-5ms));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_for(std::chrono::duration<double>(-1.0)));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_for(std::chrono::nanoseconds::min()));
  lock.unlock();
  // held: false at once
  lock.lock();
  std::int64_t t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_for(0s));
  EXPECT_FALSE(lock.try_lock_for(-5ms));
  EXPECT_FALSE(lock.try_lock_for(std::chrono::hours(-100)));
  EXPECT_FALSE(lock.try_lock_for(std::chrono::duration<double>(-1.0)));
  EXPECT_FALSE(lock.try_lock_for(std::chrono::nanoseconds::min()));
  EXPECT_LT(seconds_since(t0), 1.0);
  EXPECT_TRUE(lock.locked());
  lock.unlock();
}

TEST_F(LockableTest, PastDeadlinesBehaveLikeTryLock) {
  Lock lock;
  auto past_steady = std::chrono::steady_clock::now() - 1h;
  auto epoch_steady = std::chrono::steady_clock::time_point{};
  auto past_system = std::chrono::system_clock::now() - 1h;
  auto epoch_system = std::chrono::system_clock::time_point{};
  EXPECT_TRUE(lock.try_lock_until(past_steady));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_until(epoch_system));
  lock.unlock();
  lock.lock();
  std::int64_t t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_until(past_steady));
  EXPECT_FALSE(lock.try_lock_until(epoch_steady));
  EXPECT_FALSE(lock.try_lock_until(past_system));
  EXPECT_FALSE(lock.try_lock_until(epoch_system));
  EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now()));
  EXPECT_LT(seconds_since(t0), 1.0);
  EXPECT_TRUE(lock.locked());
  lock.unlock();
}

TEST_F(LockableTest, TryLockForTimesOutOnAHeldLock) {
  Lock lock;
  lock.lock();
  std::int64_t t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_for(250ms));
  std::int64_t elapsed = now_ns() - t0;
  EXPECT_GE(elapsed, rt_test::to_ns(0.25));
  EXPECT_LT(elapsed, rt_test::to_ns(0.25 + 5.0));

  t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_for(std::chrono::duration<double>(0.125)));
  elapsed = now_ns() - t0;
  EXPECT_GE(elapsed, rt_test::to_ns(0.125));
  EXPECT_LT(elapsed, rt_test::to_ns(0.125 + 5.0));

  t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_for(std::chrono::microseconds(62500)));
  elapsed = now_ns() - t0;
  EXPECT_GE(elapsed, rt_test::to_ns(0.0625));
  EXPECT_TRUE(lock.locked());
  lock.unlock();
}

TEST_F(LockableTest, TryLockUntilTimesOutOnAHeldLock) {
  Lock lock;
  lock.lock();
  auto deadline = std::chrono::steady_clock::now() + 250ms;
  std::int64_t t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_until(deadline));
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
  EXPECT_LT(seconds_since(t0), 0.25 + 5.0);

  // a system_clock deadline: waited for at least (about) the time left
  t0 = now_ns();
  auto sys_deadline = std::chrono::system_clock::now() + 250ms;
  EXPECT_FALSE(lock.try_lock_until(sys_deadline));
  EXPECT_GE(now_ns() - t0, rt_test::to_ns(0.25) - rt_test::to_ns(0.005));
  EXPECT_LT(seconds_since(t0), 0.25 + 5.0);
  EXPECT_TRUE(lock.locked());
  lock.unlock();
}

TEST_F(LockableTest, TimedTryLockGetsALockReleasedMeanwhile) {
  static Lock lock;
  lock.lock();
  auto r = start_new_thread([] {
    rt_test::body_sleep(0.1);
    lock.unlock();
  });
  ASSERT_TRUE(r.has_value());
  std::int64_t t0 = now_ns();
  EXPECT_TRUE(lock.try_lock_for(20s));
  EXPECT_LT(seconds_since(t0), 10.0);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));

  r = start_new_thread([] {
    rt_test::body_sleep(0.1);
    lock.unlock();
  });
  ASSERT_TRUE(r.has_value());
  t0 = now_ns();
  EXPECT_TRUE(lock.try_lock_until(std::chrono::steady_clock::now() + 20s));
  EXPECT_LT(seconds_since(t0), 10.0);
  lock.unlock();
}

TEST_F(LockableTest, HugeDurationsAreClamped) {
  Lock lock;
  // free lock: taken at once, whatever the size
  EXPECT_TRUE(lock.try_lock_for(std::chrono::hours::max()));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_for(std::chrono::seconds::max()));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_for(std::chrono::nanoseconds::max()));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_for(std::chrono::duration<double>(1e300)));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_for(std::chrono::duration<double>(TIMEOUT_MAX * 4)));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_until(std::chrono::steady_clock::time_point::max()));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_until(std::chrono::system_clock::time_point::max()));
  lock.unlock();
  EXPECT_FALSE(lock.locked());
}

TEST_F(LockableTest, HugeDurationOnAHeldLockWaitsForTheRelease) {
  RT_REQUIRES_CONCURRENCY();  // main waits for the thread to release the lock
  // Clamped, not wrapped around into the past: the wait lasts until the
  // release, and then takes the lock.
  static Lock lock;
  lock.lock();
  auto r = start_new_thread([] {
    rt_test::body_sleep(0.2);
    lock.unlock();
  });
  ASSERT_TRUE(r.has_value());
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(lock); });
  std::int64_t t0 = now_ns();
  bool got = lock.try_lock_for(std::chrono::hours::max());
  double elapsed = seconds_since(t0);
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
  EXPECT_TRUE(got);
  EXPECT_GE(elapsed, 0.1) << "returned before the release: the huge duration wrapped around";
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_TRUE(lock.locked());
  lock.unlock();
}

// ---- interrupts and the Lockable interface

using rt_test::consume_pending_interrupt;

TEST_F(LockableTest, LockableCallsLeaveAPendingRequestPending) {
  Lock lock;
  request_interrupt();
  // none of these consume the request
  EXPECT_TRUE(lock.try_lock());
  EXPECT_FALSE(lock.try_lock());
  std::int64_t t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_for(50ms)) << "try_lock_for cut short by an interrupt";
  EXPECT_GE(now_ns() - t0, rt_test::to_ns(0.05));
  t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() + 50ms));
  EXPECT_GE(now_ns() - t0, rt_test::to_ns(0.05) - rt_test::to_ns(0.001));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_for(50ms));
  lock.unlock();
  {
    std::lock_guard guard(lock);
    EXPECT_TRUE(lock.locked());
  }
  Result<bool> nb = lock.acquire(false);
  ASSERT_TRUE(nb.has_value()) << "a non-blocking acquire was interrupted";
  EXPECT_TRUE(*nb);
  lock.unlock();
  // ... so the next blocking acquire still finds it
  EXPECT_TRUE(consume_pending_interrupt()) << "the pending request was consumed";
  EXPECT_FALSE(consume_pending_interrupt()) << "the request was not consumed by the acquire";
}

TEST_F(LockableTest, LockIsNotEndedByAPendingRequest) {
  RT_REQUIRES_CONCURRENCY();  // main waits in lock() for the thread to release it
  // A pending request; lock() on a held lock waits for the release anyway.
  static Lock lock;
  static std::atomic<int> released;
  released = 0;
  lock.lock();
  request_interrupt();
  auto r = start_new_thread([] {
    rt_test::body_sleep(0.2);
    released.store(1);
    lock.unlock();
  });
  ASSERT_TRUE(r.has_value());
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(lock); });
  lock.lock();
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
  EXPECT_EQ(released.load(), 1) << "lock() returned before the lock was released";
  EXPECT_TRUE(lock.locked());
  lock.unlock();
  EXPECT_TRUE(consume_pending_interrupt()) << "lock() consumed the pending request";
}

TEST_F(LockableTest, LockIsNotEndedByInterruptMain) {
  RT_REQUIRES_CONCURRENCY();  // the thread interrupts main while main waits
  // main waits in lock(); a thread calls interrupt_main() (SIGINT with a
  // handler) during the wait and releases the lock ~0.3 s later. lock()
  // returns only with the lock held; the request stays pending.
  rt_test::SignalGuard sig(SIGINT, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  rt_test::g_handler_runs = 0;
  static Lock lock;
  static std::atomic<int> interrupt_result, released;
  interrupt_result = 0;
  released = 0;
  lock.lock();
  auto r = start_new_thread([] {
    rt_test::body_sleep(0.3);
    interrupt_result.store(interrupt_main().has_value() ? 1 : -1);
    rt_test::body_sleep(0.3);
    released.store(1);
    lock.unlock();
  });
  ASSERT_TRUE(r.has_value());
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(lock); });
  lock.lock();
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
  EXPECT_EQ(released.load(), 1) << "lock() ended before the release";
  EXPECT_TRUE(lock.locked());
  lock.unlock();
  EXPECT_EQ(interrupt_result.load(), 1);
  EXPECT_TRUE(wait_for([] { return rt_test::g_handler_runs.load() == 1; }));
  EXPECT_TRUE(consume_pending_interrupt()) << "lock() consumed the request";
  EXPECT_FALSE(consume_pending_interrupt());
}

TEST_F(LockableTest, TryLockForIsNotEndedByInterruptMain) {
  RT_REQUIRES_CONCURRENCY();  // the thread interrupts main while main waits
  rt_test::SignalGuard sig(SIGINT, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  rt_test::g_handler_runs = 0;
  static std::atomic<int> interrupt_result;
  interrupt_result = 0;
  Lock lock;
  lock.lock();
  auto r = start_new_thread([] {
    rt_test::body_sleep(0.2);
    interrupt_result.store(interrupt_main().has_value() ? 1 : -1);
  });
  ASSERT_TRUE(r.has_value());
  std::int64_t t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_for(1s));
  std::int64_t elapsed = now_ns() - t0;
  EXPECT_GE(elapsed, rt_test::to_ns(1.0)) << "try_lock_for was cut short by the interrupt";
  EXPECT_LT(elapsed, rt_test::to_ns(1.0 + 5.0));
  EXPECT_TRUE(wait_for([] { return interrupt_result.load() != 0; }));
  EXPECT_EQ(interrupt_result.load(), 1);
  EXPECT_EQ(rt_test::g_handler_runs.load(), 1);
  lock.unlock();
  EXPECT_TRUE(consume_pending_interrupt()) << "try_lock_for consumed the request";
}

}  // namespace
