// SPDX-License-Identifier: MIT
// RLock: ownership and depth seen from the owner and from other threads, the
// release rules, acquire's errors (Lock's, in Lock's order, and the count's
// overflow), timed and contended acquires, interrupts, and the Lockable
// interface.
#include <chrono>
#include <cstring>
#include <limits>
#include <mutex>
#include <type_traits>

#include "support.hpp"

using namespace rawthread;
using namespace std::chrono_literals;
using rt_test::body_sleep;
using rt_test::expect_error;
using rt_test::is_false;
using rt_test::is_true;
using rt_test::kDummy;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

static_assert(sizeof(RLock) <= 8);
static_assert(!std::is_copy_constructible_v<RLock>);
static_assert(!std::is_move_constructible_v<RLock>);
static_assert(!std::is_copy_assignable_v<RLock>);
static_assert(!std::is_move_assignable_v<RLock>);
static_assert(std::is_nothrow_default_constructible_v<RLock>);

// Constant-initialized: constinit refuses to compile otherwise.
constinit RLock g_static_rlock;

constexpr const char* kNotOwner = "cannot release un-acquired lock";
constexpr const char* kOverflow = "Internal lock count overflowed";

// White box: the owner's count is the second 32-bit word (CountIsTheSecondWord
// checks that first). Lets a test reach depth UINT32_MAX without 4e9 acquires.
std::uint32_t peek_count(const RLock& lock) {
  std::uint32_t count;
  std::memcpy(&count, reinterpret_cast<const char*>(&lock) + 4, sizeof count);
  return count;
}
void poke_count(RLock& lock, std::uint32_t count) {
  std::memcpy(reinterpret_cast<char*>(&lock) + 4, &count, sizeof count);
}

// A rawthread thread that owns `lock`, `depth` deep, until open() (or 20 s),
// then releases it as often. Its body checks what the owner sees; ok() says
// whether every check and release succeeded. The destructor opens the gate
// and waits for the thread, so no test leaves it behind.
class Owner {
 public:
  Owner(RLock& lock, unsigned depth) : lock_(lock), depth_(depth) {
    (void)gate_.acquire(false);
    started_ = start_new_thread([this] { run(); }).has_value();
    if (started_) wait_for([this] { return holding_.load() != 0; });
  }
  ~Owner() { finish(); }
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;

  // Whether the thread owns the lock as it should, and is waiting.
  bool holding() const { return started_ && holding_.load() == 1; }
  // Lets the thread release; safe from any thread, more than once.
  void open() {
    if (!opened_.exchange(true)) (void)gate_.release();
  }
  // Opens and waits for the thread; true if all its checks and releases passed.
  bool finish() {
    if (!started_) return false;
    open();
    wait_for([this] { return done_.load() != 0; }, 60.0);
    return done_.load() == 1;
  }

 private:
  void run() {  // the thread body: rawthread and atomics only
    bool ok = true;
    for (unsigned i = 0; i < depth_; ++i) ok = is_true(lock_.acquire()) && ok;
    ok = ok && lock_.is_owned() && lock_.recursion_count() == depth_;
    holding_.store(ok ? 1 : -1);
    (void)gate_.acquire(true, 20.0);
    for (unsigned i = 0; i < depth_; ++i) ok = lock_.release().has_value() && ok;
    ok = ok && !lock_.is_owned() && lock_.recursion_count() == 0;
    done_.store(ok ? 1 : -1);
  }

  RLock& lock_;
  unsigned depth_;
  Lock gate_;
  bool started_ = false;
  std::atomic<bool> opened_{false};
  std::atomic<int> holding_{0}, done_{0};
};

// Whether the calling thread can take `lock` now (and gives it back): free.
bool is_free(RLock& lock) {
  if (lock.is_owned() || !lock.try_lock()) return false;
  lock.unlock();
  return true;
}

class RLockTest : public rt_test::RawthreadTest {};

// ---------------------------------------------------------------- owner and depth

TEST_F(RLockTest, NewRLockIsFree) {
  RLock lock;
  EXPECT_FALSE(lock.is_owned());
  EXPECT_EQ(lock.recursion_count(), 0u);
  EXPECT_FALSE(g_static_rlock.is_owned());
  EXPECT_EQ(g_static_rlock.recursion_count(), 0u);
  EXPECT_TRUE(is_free(lock));
  EXPECT_TRUE(is_free(g_static_rlock));
}

TEST_F(RLockTest, ReentryCountsEveryWayOfAcquiring) {
  RLock lock;
  ASSERT_TRUE(is_true(lock.acquire()));
  EXPECT_TRUE(lock.is_owned());
  EXPECT_EQ(lock.recursion_count(), 1u);
  EXPECT_TRUE(is_true(lock.acquire(true)));
  EXPECT_TRUE(is_true(lock.acquire(true, -1)));
  EXPECT_TRUE(is_true(lock.acquire(false)));
  EXPECT_TRUE(is_true(lock.acquire(false, -1)));
  EXPECT_TRUE(is_true(lock.acquire(true, 0)));
  EXPECT_TRUE(is_true(lock.acquire(true, 0.5)));
  EXPECT_TRUE(is_true(lock.acquire(true, TIMEOUT_MAX)));
  lock.lock();
  EXPECT_TRUE(lock.try_lock());
  EXPECT_TRUE(lock.try_lock_for(10ms));
  EXPECT_TRUE(lock.try_lock_for(0s));
  EXPECT_TRUE(lock.try_lock_until(std::chrono::steady_clock::now() + 10ms));
  EXPECT_TRUE(lock.try_lock_until(std::chrono::steady_clock::now() - 1h));
  EXPECT_EQ(lock.recursion_count(), 14u);
  // each release undoes one; the lock stays ours until the last
  for (unsigned depth = 14; depth > 1; --depth) {
    ASSERT_TRUE(lock.release().has_value());
    EXPECT_EQ(lock.recursion_count(), depth - 1);
    EXPECT_TRUE(lock.is_owned());
  }
  lock.unlock();
  EXPECT_FALSE(lock.is_owned());
  EXPECT_EQ(lock.recursion_count(), 0u);
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, CountIsTheSecondWord) {
  // Checks the layout peek_count / poke_count rely on.
  RLock lock;
  EXPECT_EQ(peek_count(lock), 0u);
  for (unsigned n = 1; n <= 3; ++n) {
    ASSERT_TRUE(is_true(lock.acquire()));
    EXPECT_EQ(peek_count(lock), n);
  }
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(lock.release().has_value());
  EXPECT_EQ(peek_count(lock), 0u);
}

TEST_F(RLockTest, OtherThreadsSeeNoOwnershipAndCannotRelease) {
  // main owns it 3 deep; a rawthread thread looks, tries and fails.
  static RLock lock;
  static std::atomic<int> owned, count, try_result, timed_result, kind, sys_errno, done;
  static std::atomic<const char*> message;
  done = 0;
  kind = -1;
  message = nullptr;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(is_true(lock.acquire()));
  auto r = start_new_thread([] {
    owned.store(lock.is_owned() ? 1 : 0);
    count.store(static_cast<int>(lock.recursion_count()));
    Result<bool> nb = lock.acquire(false);
    try_result.store(nb.has_value() ? (*nb ? 1 : 0) : -1);
    Result<bool> timed = lock.acquire(true, 0.05);
    timed_result.store(timed.has_value() ? (*timed ? 1 : 0) : -1);
    Result<void> rel = lock.release();
    if (!rel.has_value()) {
      kind.store(static_cast<int>(rel.error().kind));
      sys_errno.store(rel.error().sys_errno);
      message.store(rel.error().message);
    }
    lock.unlock();  // a precondition violation: does nothing
    done.store(1);
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return done.load() == 1; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  if (kDummy) {
    // The function ran as the thread that started it, the owner: it saw
    // main's hold, took the lock twice more, and gave both back (release()
    // and unlock()).
    EXPECT_EQ(owned.load(), 1);
    EXPECT_EQ(count.load(), 3);
    EXPECT_EQ(try_result.load(), 1);
    EXPECT_EQ(timed_result.load(), 1);
    EXPECT_EQ(kind.load(), -1) << "its release failed";
  } else {
    EXPECT_EQ(owned.load(), 0);
    EXPECT_EQ(count.load(), 0);
    EXPECT_EQ(try_result.load(), 0);
    EXPECT_EQ(timed_result.load(), 0);
    EXPECT_EQ(kind.load(), static_cast<int>(Errc::thread_error));
    EXPECT_EQ(sys_errno.load(), 0);
    ASSERT_NE(message.load(), nullptr);
    EXPECT_STREQ(message.load(), kNotOwner);
  }
  // main's hold is untouched
  EXPECT_TRUE(lock.is_owned());
  EXPECT_EQ(lock.recursion_count(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(lock.release().has_value());
  EXPECT_FALSE(lock.is_owned());
}

TEST_F(RLockTest, MainSeesAnotherThreadsOwnership) {
  RT_REQUIRES_CONCURRENCY();  // the owner thread holds the lock until main lets it go
  RLock lock;
  Owner owner(lock, 2);
  ASSERT_TRUE(owner.holding());
  EXPECT_FALSE(lock.is_owned());
  EXPECT_EQ(lock.recursion_count(), 0u);
  EXPECT_TRUE(is_false(lock.acquire(false)));
  EXPECT_TRUE(is_false(lock.acquire(true, 0)));
  EXPECT_FALSE(lock.try_lock());
  EXPECT_FALSE(lock.try_lock_for(0s));
  expect_error(lock.release(), Errc::thread_error, kNotOwner);
  lock.unlock();  // does nothing
  EXPECT_FALSE(lock.is_owned());
  EXPECT_TRUE(owner.finish()) << "the owner's count or its releases went wrong";
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, ReleaseOfAnUnheldLock) {
  RLock lock;
  expect_error(lock.release(), Errc::thread_error, kNotOwner);
  EXPECT_TRUE(is_free(lock));
  ASSERT_TRUE(is_true(lock.acquire()));
  ASSERT_TRUE(is_true(lock.acquire()));
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(lock.release().has_value());
  expect_error(lock.release(), Errc::thread_error, kNotOwner);
  EXPECT_EQ(lock.recursion_count(), 0u);
  lock.unlock();  // does nothing either
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, ForeignThreadOwnsByItsTid) {
  // A thread libc started: its tid comes from gettid, and ownership works the same.
  RLock lock;
  std::atomic<int> seen{0};
  std::atomic<bool> go{false};
  rt_test::HelperThread helper([&] {
    bool ok = is_true(lock.acquire()) && is_true(lock.acquire(false)) && lock.try_lock();
    ok = ok && lock.is_owned() && lock.recursion_count() == 3;
    seen = ok ? 1 : -1;
    wait_for([&] { return go.load(); });
    for (int i = 0; i < 3; ++i) ok = lock.release().has_value() && ok;
    seen = ok && !lock.is_owned() ? 2 : -2;
  });
  ASSERT_TRUE(wait_for([&] { return seen.load() != 0; }));
  EXPECT_EQ(seen.load(), 1);
  EXPECT_FALSE(lock.is_owned());
  EXPECT_EQ(lock.recursion_count(), 0u);
  EXPECT_FALSE(lock.try_lock());
  go = true;
  helper.join();
  EXPECT_EQ(seen.load(), 2);
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, AThreadThatEndsOwningItLeavesItHeld) {
  RLock lock;  // held for good, by a tid that is gone: a new one each run
  auto r = start_new_thread([&lock] {
    (void)lock.acquire();
    (void)lock.acquire();
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(rt_test::wait_thread_count(base_count_));
  if (kDummy) {
    // It ended owning it as the thread that started it: main owns it, 2 deep.
    EXPECT_TRUE(lock.is_owned());
    EXPECT_EQ(lock.recursion_count(), 2u);
    EXPECT_TRUE(lock.release().has_value());
    EXPECT_TRUE(lock.release().has_value());
    EXPECT_TRUE(is_free(lock));
  } else {
    EXPECT_FALSE(lock.is_owned());
    EXPECT_EQ(lock.recursion_count(), 0u);
    EXPECT_TRUE(is_false(lock.acquire(false)));
    EXPECT_TRUE(is_false(lock.acquire(true, 0.05)));
    expect_error(lock.release(), Errc::thread_error, kNotOwner);
  }
}

TEST_F(RLockTest, StaticRLockWorksAcrossThreads) {
  static std::atomic<int> got;  // the depth the thread held it at
  got = 0;
  ASSERT_TRUE(is_true(g_static_rlock.acquire()));
  auto r = start_new_thread([] {
    if (is_true(g_static_rlock.acquire()))
      got.store(static_cast<int>(g_static_rlock.recursion_count()));
    (void)g_static_rlock.release();
  });
  ASSERT_TRUE(r.has_value());
  if (kDummy) {
    // The function ran as main, the owner: it took the lock again, 2 deep,
    // and gave that back before start_new_thread returned.
    EXPECT_EQ(got.load(), 2);
    EXPECT_EQ(g_static_rlock.recursion_count(), 1u);
    EXPECT_TRUE(g_static_rlock.release().has_value());
  } else {
    rt_test::sleep_ms(50);
    EXPECT_EQ(got.load(), 0);
    EXPECT_TRUE(g_static_rlock.release().has_value());
    EXPECT_TRUE(wait_for([] { return got.load() == 1; }));
  }
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_TRUE(is_free(g_static_rlock));
}

// ---------------------------------------------------------------- errors

TEST_F(RLockTest, ArgumentErrorsOnAFreeLock) {
  for (const rt_test::BadAcquire& c : rt_test::bad_acquires()) {
    SCOPED_TRACE(rt_test::describe(c));
    RLock lock;
    std::int64_t t0 = now_ns();
    Result<bool> r = lock.acquire(c.blocking, c.timeout);
    EXPECT_LT(seconds_since(t0), 2.0) << "an argument error must not wait";
    expect_error(r, c.kind, c.message);
    EXPECT_FALSE(lock.is_owned()) << "an error took the lock";
    EXPECT_TRUE(is_free(lock));
  }
}

TEST_F(RLockTest, ArgumentErrorsComeBeforeTheOwnersReentry) {
  RLock lock;
  ASSERT_TRUE(is_true(lock.acquire()));
  ASSERT_TRUE(is_true(lock.acquire()));
  for (const rt_test::BadAcquire& c : rt_test::bad_acquires()) {
    SCOPED_TRACE(rt_test::describe(c));
    expect_error(lock.acquire(c.blocking, c.timeout), c.kind, c.message);
    EXPECT_TRUE(lock.is_owned());
    EXPECT_EQ(lock.recursion_count(), 2u) << "an error changed the count";
  }
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, ArgumentErrorsOnALockAnotherThreadHolds) {
  RT_REQUIRES_CONCURRENCY();  // the owner thread holds the lock until main lets it go
  RLock lock;
  Owner owner(lock, 2);
  ASSERT_TRUE(owner.holding());
  for (const rt_test::BadAcquire& c : rt_test::bad_acquires()) {
    SCOPED_TRACE(rt_test::describe(c));
    std::int64_t t0 = now_ns();
    expect_error(lock.acquire(c.blocking, c.timeout), c.kind, c.message);
    EXPECT_LT(seconds_since(t0), 2.0);
    EXPECT_FALSE(lock.is_owned());
  }
  EXPECT_TRUE(is_false(lock.acquire(false)));
  EXPECT_TRUE(owner.finish()) << "the errors disturbed the owner's hold";
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, CountOverflow) {
  RLock lock;
  ASSERT_TRUE(is_true(lock.acquire()));
  poke_count(lock, UINT32_MAX - 1);
  ASSERT_TRUE(is_true(lock.acquire()));
  EXPECT_EQ(lock.recursion_count(), UINT32_MAX);
  // every acquire now fails, and changes nothing
  expect_error(lock.acquire(), Errc::overflow_error, kOverflow);
  expect_error(lock.acquire(false), Errc::overflow_error, kOverflow);
  expect_error(lock.acquire(true, 0), Errc::overflow_error, kOverflow);
  std::int64_t t0 = now_ns();
  expect_error(lock.acquire(true, 5.0), Errc::overflow_error, kOverflow);
  EXPECT_LT(seconds_since(t0), 2.0) << "the owner waited for itself";
  // the argument checks still come first
  expect_error(lock.acquire(false, 1.0), Errc::value_error, rt_test::kNonBlockingMessage);
  expect_error(lock.acquire(true, -3.0), Errc::value_error, rt_test::kNegativeMessage);
  // the Lockable calls say false, at once
  t0 = now_ns();
  EXPECT_FALSE(lock.try_lock());
  EXPECT_FALSE(lock.try_lock_for(5s));
  EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() + 5s));
  EXPECT_FALSE(lock.try_lock_until(std::chrono::system_clock::now() + 5s));
  EXPECT_LT(seconds_since(t0), 2.0) << "the owner waited for itself";
  EXPECT_TRUE(lock.is_owned());
  EXPECT_EQ(lock.recursion_count(), UINT32_MAX);
  // and release still counts down
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_EQ(lock.recursion_count(), UINT32_MAX - 1);
  EXPECT_TRUE(is_true(lock.acquire()));
  poke_count(lock, 1);
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, LockAtTheDeepestCountTraps) {
  // lock() can neither wait for itself nor return an error: it traps. In a
  // forked child, which must die of a signal.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    RLock lock;
    lock.lock();
    poke_count(lock, UINT32_MAX);
    lock.lock();
    ::_exit(0);
  }
  int status = rt_test::wait_child(pid, rt_test::kDeadline);
  ASSERT_NE(status, -1) << "lock() at the deepest count hung";
  EXPECT_TRUE(WIFSIGNALED(status)) << "the child exited with " << WEXITSTATUS(status);
}

// ---------------------------------------------------------------- timeouts

TEST_F(RLockTest, TimedAcquireOnAnotherThreadsLockWaitsItsTimeout) {
  RT_REQUIRES_CONCURRENCY();  // the owner thread holds the lock until main lets it go
  RLock lock;
  Owner owner(lock, 3);
  ASSERT_TRUE(owner.holding());
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 0.25);
  std::int64_t elapsed = now_ns() - t0;
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(*r);
  EXPECT_GE(elapsed, rt_test::to_ns(0.25));
  EXPECT_LT(elapsed, rt_test::to_ns(0.25 + 10.0));

  t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_for(250ms));
  EXPECT_GE(now_ns() - t0, rt_test::to_ns(0.25));
  auto deadline = std::chrono::steady_clock::now() + 250ms;
  EXPECT_FALSE(lock.try_lock_until(deadline));
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
  EXPECT_FALSE(lock.is_owned());
  EXPECT_TRUE(owner.finish());
}

TEST_F(RLockTest, TimedAcquireInAThreadWaitsItsTimeout) {
  // main owns it 2 deep; a rawthread thread's acquire(true, 0.2) times out
  // after at least 0.2 s on the monotonic clock.
  static RLock lock;
  static std::atomic<int> result;
  static std::atomic<std::int64_t> waited_ns;
  result = 0;
  ASSERT_TRUE(is_true(lock.acquire()));
  ASSERT_TRUE(is_true(lock.acquire()));
  auto r = start_new_thread([] {
    std::int64_t t0 = sys::monotonic_ns().value_or(0);
    Result<bool> got = lock.acquire(true, 0.2);
    waited_ns.store(sys::monotonic_ns().value_or(0) - t0);
    result.store(got.has_value() ? (*got ? 1 : 2) : 3);
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return result.load() != 0; }));
  if (kDummy) {
    // The function ran as main, the owner: its timed acquire took the lock
    // again at once, and it ended keeping that third level.
    EXPECT_EQ(result.load(), 1) << "1 = taken, 2 = timed out, 3 = error";
    EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
    EXPECT_EQ(lock.recursion_count(), 3u);
    EXPECT_TRUE(lock.release().has_value());
  } else {
    EXPECT_EQ(result.load(), 2) << "1 = taken, 2 = timed out, 3 = error";
    EXPECT_GE(waited_ns.load(), rt_test::to_ns(0.2));
    EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
    EXPECT_EQ(lock.recursion_count(), 2u);
  }
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, NonPositiveAndPastDeadlinesBehaveLikeTryLock) {
  RT_REQUIRES_CONCURRENCY();  // the owner thread holds the lock until main lets it go
  RLock lock;
  {
    Owner owner(lock, 1);
    ASSERT_TRUE(owner.holding());
    std::int64_t t0 = now_ns();
    EXPECT_FALSE(lock.try_lock_for(0s));
    EXPECT_FALSE(lock.try_lock_for(-5ms));
    EXPECT_FALSE(lock.try_lock_for(std::chrono::nanoseconds::min()));
    EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() - 1h));
    EXPECT_FALSE(lock.try_lock_until(std::chrono::system_clock::time_point{}));
    EXPECT_LT(seconds_since(t0), 2.0);
    EXPECT_TRUE(owner.finish());
  }
  EXPECT_TRUE(lock.try_lock_for(-5ms));
  EXPECT_TRUE(lock.try_lock_until(std::chrono::steady_clock::now() - 1h));
  EXPECT_EQ(lock.recursion_count(), 2u);
  lock.unlock();
  lock.unlock();
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, HugeDurationsAreClamped) {
  RLock lock;
  EXPECT_TRUE(lock.try_lock_for(std::chrono::hours::max()));
  EXPECT_TRUE(lock.try_lock_for(std::chrono::nanoseconds::max()));
  EXPECT_TRUE(lock.try_lock_for(std::chrono::duration<double>(1e300)));
  EXPECT_TRUE(lock.try_lock_until(std::chrono::steady_clock::time_point::max()));
  EXPECT_TRUE(lock.try_lock_until(std::chrono::system_clock::time_point::max()));
  EXPECT_EQ(lock.recursion_count(), 5u);
  for (int i = 0; i < 5; ++i) lock.unlock();
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, TimedCallsGetALockReleasedMeanwhile) {
  static RLock lock;
  static std::atomic<int> held;
  // a thread owns it 2 deep and releases both after ~0.1 s
  auto start_holder = [] {
    held = 0;
    return start_new_thread([] {
      (void)lock.acquire();
      (void)lock.acquire();
      held.store(1);
      body_sleep(0.1);
      (void)lock.release();
      (void)lock.release();
    });
  };
  ASSERT_TRUE(start_holder().has_value());
  ASSERT_TRUE(wait_for([] { return held.load() == 1; }));
  std::int64_t t0 = now_ns();
  EXPECT_TRUE(lock.try_lock_for(20s));
  EXPECT_LT(seconds_since(t0), 10.0);
  EXPECT_EQ(lock.recursion_count(), 1u);
  lock.unlock();
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));

  ASSERT_TRUE(start_holder().has_value());
  ASSERT_TRUE(wait_for([] { return held.load() == 1; }));
  t0 = now_ns();
  EXPECT_TRUE(lock.try_lock_until(std::chrono::steady_clock::now() + 20s));
  EXPECT_LT(seconds_since(t0), 10.0);
  lock.unlock();
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));

  ASSERT_TRUE(start_holder().has_value());
  ASSERT_TRUE(wait_for([] { return held.load() == 1; }));
  t0 = now_ns();
  EXPECT_TRUE(is_true(lock.acquire(true, 20.0)));
  EXPECT_LT(seconds_since(t0), 10.0);
  lock.unlock();
  EXPECT_TRUE(is_free(lock));
}

// ---------------------------------------------------------------- waiting and contention

TEST_F(RLockTest, WaitersWakeOnlyWhenTheOwnerFullyReleases) {
  RT_REQUIRES_CONCURRENCY();  // threads wait on the lock main holds
  // main owns it 3 deep; two threads wait (acquire() and lock()). Neither
  // gets it before main's third release; then both get it, one after the
  // other (the first one's release must wake the second).
  static RLock lock;
  static std::atomic<int> waiting, acquired, bad;
  waiting = 0;
  acquired = 0;
  bad = 0;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(is_true(lock.acquire()));
  auto by_acquire = start_new_thread([] {
    waiting.fetch_add(1);
    if (!is_true(lock.acquire())) bad.fetch_add(1);
    if (lock.recursion_count() != 1) bad.fetch_add(1);
    acquired.fetch_add(1);
    body_sleep(0.05);
    if (!lock.release().has_value()) bad.fetch_add(1);
  });
  auto by_lock = start_new_thread([] {
    waiting.fetch_add(1);
    lock.lock();
    if (lock.recursion_count() != 1) bad.fetch_add(1);
    acquired.fetch_add(1);
    body_sleep(0.05);
    lock.unlock();
  });
  ASSERT_TRUE(by_acquire.has_value());
  ASSERT_TRUE(by_lock.has_value());
  ASSERT_TRUE(wait_for([] { return waiting.load() == 2; }));
  for (unsigned depth = 3; depth > 1; --depth) {
    rt_test::sleep_ms(100);
    EXPECT_EQ(acquired.load(), 0) << "a waiter got the lock at depth " << depth;
    ASSERT_TRUE(lock.release().has_value());
  }
  rt_test::sleep_ms(100);
  EXPECT_EQ(acquired.load(), 0);
  EXPECT_TRUE(lock.is_owned());
  ASSERT_TRUE(lock.release().has_value());
  EXPECT_TRUE(wait_for([] { return acquired.load() == 2; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(bad.load(), 0);
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, MainWaitsUntimedForAThreadsRelease) {
  RT_REQUIRES_CONCURRENCY();  // main waits while the thread holds the lock
  static RLock lock;
  static std::atomic<int> held;
  held = 0;
  auto r = start_new_thread([] {
    (void)lock.acquire();
    (void)lock.acquire();
    held.store(1);
    body_sleep(0.1);
    (void)lock.release();
    body_sleep(0.1);
    held.store(2);
    (void)lock.release();
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(wait_for([] { return held.load() == 1; }));
  rt_test::Watchdog dog(20.0, [] { rt_test::wake_all(&lock); });
  Result<bool> got = lock.acquire();
  dog.dismiss();
  EXPECT_FALSE(dog.fired()) << "the waiter was not woken by the thread's release";
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(*got);
  EXPECT_EQ(held.load(), 2) << "main got the lock before the last release";
  EXPECT_EQ(lock.recursion_count(), 1u);
  EXPECT_TRUE(lock.release().has_value());
}

// Rounds of a 3-deep hold (acquire, lock, timed acquire) around a plain
// counter, for ThreadsContendWithNestedAcquires. Safe in thread bodies.
struct Contention {
  static inline RLock lock;
  static inline std::atomic<int> inside, overlaps, failures, finished;
  static inline long counter;  // plain: only the lock protects it

  static void rounds(int n) {
    for (int i = 0; i < n; ++i) {
      if (!is_true(lock.acquire())) {
        failures.fetch_add(1);
        continue;
      }
      lock.lock();
      if (!is_true(lock.acquire(true, 60.0))) failures.fetch_add(1);
      if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
      if (lock.recursion_count() != 3) failures.fetch_add(1);
      long c = counter;
      if ((i & 127) == 0) body_sleep(0.0001);  // widen the window now and then
      counter = c + 1;
      inside.fetch_sub(1);
      if (!lock.release().has_value()) failures.fetch_add(1);
      lock.unlock();
      if (lock.recursion_count() != 1) failures.fetch_add(1);
      if (!lock.release().has_value()) failures.fetch_add(1);
    }
  }
};

TEST_F(RLockTest, ThreadsContendWithNestedAcquires) {
  // 4 threads and main, 3000 rounds each: no overlap, no lost increment.
  constexpr int kThreads = 4, kRounds = 3000;
  Contention::inside = 0;
  Contention::overlaps = 0;
  Contention::failures = 0;
  Contention::finished = 0;
  Contention::counter = 0;
  for (int t = 0; t < kThreads; ++t) {
    auto r = start_new_thread([] {
      Contention::rounds(kRounds);
      Contention::finished.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  Contention::rounds(kRounds);
  EXPECT_TRUE(wait_for([] { return Contention::finished.load() == kThreads; }, 120.0));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(Contention::overlaps.load(), 0);
  EXPECT_EQ(Contention::failures.load(), 0);
  EXPECT_EQ(Contention::counter, static_cast<long>(kThreads + 1) * kRounds);
  EXPECT_TRUE(is_free(Contention::lock));
}

// ---------------------------------------------------------------- Lockable

TEST_F(RLockTest, NestedLockGuards) {
  RLock lock;
  {
    std::lock_guard<RLock> outer(lock);
    EXPECT_EQ(lock.recursion_count(), 1u);
    {
      std::lock_guard inner(lock);  // CTAD
      EXPECT_EQ(lock.recursion_count(), 2u);
    }
    EXPECT_EQ(lock.recursion_count(), 1u);
  }
  EXPECT_TRUE(is_free(lock));
  ASSERT_TRUE(is_true(lock.acquire()));
  {
    std::lock_guard<RLock> adopted(lock, std::adopt_lock);
    EXPECT_TRUE(lock.is_owned());
  }
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, UniqueLock) {
  RLock lock;
  {
    std::unique_lock<RLock> ul(lock);
    EXPECT_TRUE(ul.owns_lock());
    ul.unlock();
    EXPECT_FALSE(lock.is_owned());
    EXPECT_TRUE(ul.try_lock());
    // more unique_locks on a lock we own take it again, unlike on a Lock
    std::unique_lock<RLock> again(lock, std::try_to_lock);
    EXPECT_TRUE(again.owns_lock());
    std::unique_lock<RLock> timed(lock, 20ms);
    EXPECT_TRUE(timed.owns_lock());
    std::unique_lock<RLock> until(lock, std::chrono::steady_clock::now() + 20ms);
    EXPECT_TRUE(until.owns_lock());
    EXPECT_EQ(lock.recursion_count(), 4u);
  }
  EXPECT_TRUE(is_free(lock));
}

TEST_F(RLockTest, UniqueLockOnAnotherThreadsLock) {
  RT_REQUIRES_CONCURRENCY();  // the owner thread holds the lock until main lets it go
  RLock lock;
  Owner owner(lock, 1);
  ASSERT_TRUE(owner.holding());
  {
    std::unique_lock<RLock> other(lock, std::try_to_lock);
    EXPECT_FALSE(other.owns_lock());
    std::unique_lock<RLock> timed(lock, 20ms);
    EXPECT_FALSE(timed.owns_lock());
  }
  EXPECT_TRUE(owner.finish());
}

TEST_F(RLockTest, ScopedLockWithALockAndAThreadsRelease) {
  RT_REQUIRES_CONCURRENCY();  // main waits while the thread holds the lock
  // The RLock is held by a thread that releases it after ~0.2 s;
  // std::scoped_lock(lock, rlock) (std::lock's lock / try_lock / unlock
  // dance) ends holding both.
  static Lock plain;
  static RLock rlock;
  static std::atomic<int> held;
  held = 0;
  auto r = start_new_thread([] {
    (void)rlock.acquire();
    (void)rlock.acquire();
    held.store(1);
    body_sleep(0.2);
    held.store(2);
    (void)rlock.release();
    (void)rlock.release();
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(wait_for([] { return held.load() == 1; }));
  rt_test::Watchdog dog(20.0, [] { rt_test::wake_all(&rlock); });
  {
    std::scoped_lock both(plain, rlock);
    EXPECT_EQ(held.load(), 2) << "scoped_lock returned while the RLock was still held";
    EXPECT_TRUE(plain.locked());
    EXPECT_EQ(rlock.recursion_count(), 1u);
    std::scoped_lock again(rlock);
    EXPECT_EQ(rlock.recursion_count(), 2u);
  }
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
  EXPECT_FALSE(plain.locked());
  EXPECT_TRUE(is_free(rlock));
}

// ---------------------------------------------------------------- interrupts

using rt_test::consume_pending_interrupt;
using rt_test::expect_interrupted;
using rt_test::expect_no_pending_request;
using rt_test::g_handler_runs;

class RLockInterruptTest : public rt_test::InterruptFixture {};

TEST_F(RLockInterruptTest, InterruptMainEndsAnUntimedAcquire) {
  RT_REQUIRES_CONCURRENCY();  // main waits while the owner thread holds the lock
  rt_test::SignalGuard sig(SIGINT, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  RLock lock;
  Owner owner(lock, 2);
  ASSERT_TRUE(owner.holding());

  std::atomic<int> interrupt_result{0};
  rt_test::HelperThread interrupter =
      when_main_sleeps([&] { interrupt_result = interrupt_main().has_value() ? 1 : -1; });
  // a library that misses the interrupt would wait for good: let the owner go
  rt_test::Watchdog dog(20.0, [&] {
    owner.open();
    rt_test::wake_all(&lock);
  });
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire();
  double elapsed = seconds_since(t0);
  dog.dismiss();
  interrupter.join();

  EXPECT_FALSE(dog.fired()) << "the untimed acquire was not interrupted";
  EXPECT_TRUE(sleeping_seen_.load()) << "main never slept in the acquire";
  expect_interrupted(r);
  EXPECT_LT(elapsed, 10.0);
  EXPECT_EQ(interrupt_result.load(), 1);
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_FALSE(lock.is_owned()) << "the interrupted acquire took the lock";
  if (!dog.fired()) {
    EXPECT_TRUE(owner.finish()) << "the interrupted acquire disturbed the owner";
  } else if (lock.is_owned()) {
    (void)lock.release();
  }
  EXPECT_TRUE(is_free(lock));
  expect_no_pending_request();
}

TEST_F(RLockInterruptTest, InterruptMainEndsATimedAcquire) {
  RT_REQUIRES_CONCURRENCY();  // main waits while the owner thread holds the lock
  rt_test::SignalGuard sig(SIGINT, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  RLock lock;
  Owner owner(lock, 1);
  ASSERT_TRUE(owner.holding());
  rt_test::HelperThread interrupter = when_main_sleeps([] { (void)interrupt_main(); });
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 20.0);
  double elapsed = seconds_since(t0);
  interrupter.join();
  EXPECT_TRUE(sleeping_seen_.load());
  expect_interrupted(r);
  EXPECT_LT(elapsed, 10.0) << "the interrupt did not end the timed wait";
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_FALSE(lock.is_owned());
  EXPECT_TRUE(owner.finish());
  expect_no_pending_request();
}

TEST_F(RLockInterruptTest, HandlerRequestingAnInterruptEndsTheWait) {
  RT_REQUIRES_CONCURRENCY();  // main waits while the owner thread holds the lock
  rt_test::SignalGuard sig(SIGUSR1, rt_test::count_and_request);
  ASSERT_TRUE(sig.ok());
  RLock lock;
  Owner owner(lock, 1);
  ASSERT_TRUE(owner.holding());
  long tid = main_tid_;
  rt_test::HelperThread sender = when_main_sleeps([tid] { rt_test::tgkill_main(tid, SIGUSR1); });
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 20.0);
  double elapsed = seconds_since(t0);
  sender.join();
  expect_interrupted(r);
  EXPECT_LT(elapsed, 10.0);
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_TRUE(owner.finish());
  expect_no_pending_request();
}

TEST_F(RLockInterruptTest, PendingRequestEndsTheNextBlockingAcquire) {
  RLock lock;
  // a free lock
  request_interrupt();
  expect_interrupted(lock.acquire());
  EXPECT_FALSE(lock.is_owned()) << "the interrupted acquire took the lock";
  request_interrupt();
  expect_interrupted(lock.acquire(true, 20.0));
  request_interrupt();
  expect_interrupted(lock.acquire(true, 0));
  EXPECT_TRUE(is_free(lock));
  // our own lock: the blocking re-entry is a blocking acquire too
  ASSERT_TRUE(is_true(lock.acquire()));
  request_interrupt();
  expect_interrupted(lock.acquire());
  EXPECT_EQ(lock.recursion_count(), 1u) << "the interrupted re-entry changed the count";
  EXPECT_TRUE(lock.release().has_value());
  expect_no_pending_request();
}

TEST_F(RLockInterruptTest, PendingRequestEndsAnAcquireOfAnotherThreadsLock) {
  RT_REQUIRES_CONCURRENCY();  // the owner thread holds the lock until main lets it go
  // interrupted at once, not after the timeout
  RLock lock;
  {
    Owner owner(lock, 1);
    ASSERT_TRUE(owner.holding());
    request_interrupt();
    std::int64_t t0 = now_ns();
    expect_interrupted(lock.acquire(true, 20.0));
    EXPECT_LT(seconds_since(t0), 10.0);
    EXPECT_TRUE(owner.finish());
  }
  expect_no_pending_request();
}

TEST_F(RLockInterruptTest, ErrorsAndLockableCallsLeaveARequestPending) {
  RLock lock;
  request_interrupt();
  // argument errors
  EXPECT_FALSE(lock.acquire(true, std::numeric_limits<double>::quiet_NaN()).has_value());
  EXPECT_FALSE(lock.acquire(false, 5).has_value());
  EXPECT_FALSE(lock.release().has_value());
  // non-blocking and Lockable calls, on a free lock and on our own
  EXPECT_TRUE(is_true(lock.acquire(false)));
  EXPECT_TRUE(lock.try_lock());
  lock.lock();
  EXPECT_TRUE(lock.try_lock_for(50ms));
  EXPECT_TRUE(lock.try_lock_until(std::chrono::steady_clock::now() + 50ms));
  {
    std::lock_guard guard(lock);
    EXPECT_EQ(lock.recursion_count(), 6u);
  }
  for (int i = 0; i < 5; ++i) lock.unlock();
  EXPECT_TRUE(is_free(lock));
  EXPECT_TRUE(consume_pending_interrupt()) << "the pending request was consumed";
  EXPECT_FALSE(consume_pending_interrupt());
}

TEST_F(RLockInterruptTest, LockableCallsOnAnotherThreadsLockLeaveARequestPending) {
  RT_REQUIRES_CONCURRENCY();  // the owner thread holds the lock until main lets it go
  RLock lock;
  request_interrupt();
  // the timed ones wait their full time
  {
    Owner owner(lock, 1);
    ASSERT_TRUE(owner.holding());
    EXPECT_TRUE(is_false(lock.acquire(false)));
    std::int64_t t0 = now_ns();
    EXPECT_FALSE(lock.try_lock_for(50ms)) << "try_lock_for cut short by an interrupt";
    EXPECT_GE(now_ns() - t0, rt_test::to_ns(0.05));
    auto deadline = std::chrono::steady_clock::now() + 50ms;
    EXPECT_FALSE(lock.try_lock_until(deadline));
    EXPECT_GE(std::chrono::steady_clock::now(), deadline);
    EXPECT_TRUE(owner.finish());
  }
  EXPECT_TRUE(consume_pending_interrupt()) << "the pending request was consumed";
  EXPECT_FALSE(consume_pending_interrupt());
}

TEST_F(RLockInterruptTest, LockIsNotEndedByInterruptMain) {
  RT_REQUIRES_CONCURRENCY();  // the owner thread interrupts main while main waits
  // main waits in lock(); the owner thread calls interrupt_main() during the
  // wait and releases ~0.3 s later. lock() returns only with the lock held;
  // the request stays pending.
  rt_test::SignalGuard sig(SIGINT, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  static RLock lock;
  static std::atomic<int> held, interrupt_result;
  held = 0;
  interrupt_result = 0;
  auto r = start_new_thread([] {
    (void)lock.acquire();
    (void)lock.acquire();
    held.store(1);
    body_sleep(0.3);
    interrupt_result.store(interrupt_main().has_value() ? 1 : -1);
    body_sleep(0.3);
    held.store(2);
    (void)lock.release();
    (void)lock.release();
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(wait_for([] { return held.load() == 1; }));
  rt_test::Watchdog dog(20.0, [] { rt_test::wake_all(&lock); });
  lock.lock();
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
  EXPECT_EQ(held.load(), 2) << "lock() ended before the release";
  EXPECT_EQ(lock.recursion_count(), 1u);
  lock.unlock();
  EXPECT_EQ(interrupt_result.load(), 1);
  EXPECT_TRUE(wait_for([] { return g_handler_runs.load() == 1; }));
  EXPECT_TRUE(consume_pending_interrupt()) << "lock() consumed the request";
  EXPECT_FALSE(consume_pending_interrupt());
}

}  // namespace
