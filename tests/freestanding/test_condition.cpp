// SPDX-License-Identifier: MIT
// Condition without libc: two threads hand a turn back and forth through one
// Condition (every notify reaches its waiter, the lock is held on every
// return), and a timed wait that nobody notifies waits its time out.
#include <atomic>

#include <rawthread/rawthread.hpp>

#include "check.hpp"

TEST(condition_hands_a_turn_back_and_forth) {
  constexpr int kRounds = 2000;
  static rawthread::Lock lock;
  static rawthread::Condition turn_changed(lock);
  static int turn = 0;  // under lock: 0 main's turn, 1 the thread's
  static std::atomic<int> errors{0};
  turn = 0;
  REQUIRE(rawthread::start_new_thread([] {
            lock.lock();
            for (int n = 0; n < kRounds; ++n) {
              auto ok = turn_changed.wait_for([] { return turn == 1; }, 60);
              if (!ok || !*ok || !lock.locked()) errors.fetch_add(1);
              turn = 0;
              if (!turn_changed.notify()) errors.fetch_add(1);
            }
            lock.unlock();
          }).has_value());
  lock.lock();
  for (int n = 0; n < kRounds; ++n) {
    auto ok = turn_changed.wait_for([] { return turn == 0; }, 60);
    if (!ok || !*ok || !lock.locked()) errors.fetch_add(1);
    turn = 1;
    if (!turn_changed.notify()) errors.fetch_add(1);
  }
  lock.unlock();
  CHECK(check::wait_for_threads(0, 120));
  CHECK_EQ(errors.load(), 0);
  CHECK(!lock.locked());
}

TEST(condition_timed_wait_times_out_with_the_rlock_at_its_depth) {
  rawthread::Condition cond;  // its own RLock
  cond.lock();
  cond.lock();
  const std::int64_t start = check::now_ns();
  auto got = cond.wait(0.1);
  CHECK(got.has_value() && !*got);
  CHECK(check::now_ns() - start >= 100'000'000);
  CHECK(cond.release().has_value());
  CHECK(cond.release().has_value());
  CHECK(!cond.release().has_value());
  auto unacquired = cond.notify();
  CHECK(!unacquired.has_value());
}
