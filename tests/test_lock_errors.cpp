// SPDX-License-Identifier: MIT
// Lock errors: every acquire argument error and "release unlocked lock", with
// kind, exact message, sys_errno 0, the order of the checks, and the lock's
// state unchanged by each error (free stays free, held stays held).
#include <limits>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;

namespace {

using rt_test::bad_acquires;
using rt_test::BadAcquire;
using rt_test::describe;

class LockErrorTest : public rt_test::RawthreadTest {};

TEST_F(LockErrorTest, AcquireArgumentErrorsOnFreeLock) {
  for (const BadAcquire& c : bad_acquires()) {
    SCOPED_TRACE(describe(c));
    Lock lock;
    std::int64_t t0 = rt_test::now_ns();
    Result<bool> r = lock.acquire(c.blocking, c.timeout);
    EXPECT_LT(rt_test::seconds_since(t0), 2.0) << "an argument error must not wait";
    expect_error(r, c.kind, c.message);
    EXPECT_FALSE(lock.locked()) << "an error took the lock";
    // still usable, still free
    EXPECT_TRUE(rt_test::is_true(lock.acquire(false)));
    EXPECT_TRUE(lock.release().has_value());
  }
}

TEST_F(LockErrorTest, AcquireArgumentErrorsOnHeldLock) {
  for (const BadAcquire& c : bad_acquires()) {
    SCOPED_TRACE(describe(c));
    Lock lock;
    ASSERT_TRUE(rt_test::is_true(lock.acquire()));
    std::int64_t t0 = rt_test::now_ns();
    Result<bool> r = lock.acquire(c.blocking, c.timeout);
    EXPECT_LT(rt_test::seconds_since(t0), 2.0) << "an argument error must not wait";
    expect_error(r, c.kind, c.message);
    EXPECT_TRUE(lock.locked()) << "an error released the lock";
    EXPECT_TRUE(rt_test::is_false(lock.acquire(false)));
    EXPECT_TRUE(lock.release().has_value());
    EXPECT_FALSE(lock.locked());
  }
}

TEST_F(LockErrorTest, ValidEdgeArguments) {
  // The values just inside each check are accepted.
  Lock lock;
  Result<bool> r = lock.acquire(false, -1);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(*r);
  EXPECT_TRUE(lock.release().has_value());
  for (double t : {-1.0, 0.0, -0.0, std::numeric_limits<double>::denorm_min(), 1e-9, 1e9,
                   TIMEOUT_MAX}) {
    SCOPED_TRACE(t);
    r = lock.acquire(true, t);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_TRUE(*r);
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(lock.release().has_value());
  }
}

TEST_F(LockErrorTest, ReleaseUnlockedLock) {
  Lock lock;
  Result<void> r = lock.release();
  expect_error(r, Errc::thread_error, "release unlocked lock");
  EXPECT_FALSE(lock.locked());
  // a second time, and after a real acquire/release cycle
  expect_error(lock.release(), Errc::thread_error, "release unlocked lock");
  EXPECT_FALSE(lock.locked());
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  EXPECT_TRUE(lock.release().has_value());
  expect_error(lock.release(), Errc::thread_error, "release unlocked lock");
  EXPECT_FALSE(lock.locked());
  // the error left it usable and unlocked: a non-blocking acquire takes it
  EXPECT_TRUE(rt_test::is_true(lock.acquire(false)));
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(LockErrorTest, ReleaseUnlockedLockInAThread) {
  static Lock lock;
  static std::atomic<int> kind, sys_errno, done;
  static std::atomic<const char*> message;
  kind = -1;
  sys_errno = -1;
  done = 0;
  message = nullptr;
  auto r = start_new_thread([] {
    Result<void> rel = lock.release();
    if (!rel.has_value()) {
      kind.store(static_cast<int>(rel.error().kind));
      sys_errno.store(rel.error().sys_errno);
      message.store(rel.error().message);
    }
    done.store(1);
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(rt_test::wait_for([] { return done.load() == 1; }));
  EXPECT_EQ(kind.load(), static_cast<int>(Errc::thread_error));
  EXPECT_EQ(sys_errno.load(), 0);
  ASSERT_NE(message.load(), nullptr);
  EXPECT_STREQ(message.load(), "release unlocked lock");
  EXPECT_FALSE(lock.locked());
}

TEST_F(LockErrorTest, ErrorsDoNotDisturbAWaiter) {
  RT_REQUIRES_CONCURRENCY();  // a thread waits on the lock while main makes the errors
  // A thread waits on a held lock; argument errors on the same lock from main
  // neither release it nor wake the waiter into taking it.
  static Lock lock;
  static std::atomic<int> waiting, got;
  waiting = 0;
  got = 0;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  auto r = start_new_thread([] {
    waiting.store(1);
    Result<bool> a = lock.acquire();
    got.store(a.has_value() && *a ? 1 : -1);
    (void)lock.release();
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(rt_test::wait_for([] { return waiting.load() == 1; }));
  rt_test::sleep_ms(50);
  for (const BadAcquire& c : bad_acquires()) {
    SCOPED_TRACE(describe(c));
    expect_error(lock.acquire(c.blocking, c.timeout), c.kind, c.message);
  }
  rt_test::sleep_ms(50);
  EXPECT_EQ(got.load(), 0);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(rt_test::wait_for([] { return got.load() != 0; }));
  EXPECT_EQ(got.load(), 1);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_FALSE(lock.locked());
}

}  // namespace
