// SPDX-License-Identifier: MIT
// Semaphore, BoundedSemaphore and Event without libc: a semaphore handing
// tokens between threads, an event set by one thread for four waiters, and
// the same errors as in a hosted program.
#include <atomic>

#include <rawthread/rawthread.hpp>

#include "check.hpp"

TEST(semaphore_hands_tokens_between_threads) {
  // 4 threads take 5,000 tokens each from a semaphore of 0 that main fills
  // in batches: every token taken once, the value back at 0.
  constexpr int kThreads = 4, kTokens = 5000;
  static rawthread::Semaphore sem(0);
  static std::atomic<int> taken{0}, errors{0};
  taken = 0;
  errors = 0;
  for (int i = 0; i < kThreads; ++i) {
    REQUIRE(rawthread::start_new_thread([] {
              for (int n = 0; n < kTokens; ++n) {
                auto got = sem.acquire(true, 60.0);
                if (!got || !*got) errors.fetch_add(1);
                taken.fetch_add(1);
              }
            }).has_value());
  }
  for (int batch = 0; batch < kThreads * kTokens / 10; ++batch)
    CHECK(sem.release(10).has_value());
  CHECK(check::wait_for_threads(0, 120));
  CHECK_EQ(errors.load(), 0);
  CHECK_EQ(taken.load(), kThreads * kTokens);
  auto left = sem.acquire(false);
  CHECK(left.has_value() && !*left);

  rawthread::BoundedSemaphore bounded(1);
  auto over = bounded.release();
  CHECK(!over && over.error().kind == rawthread::Errc::value_error &&
        check::same(over.error().message, "Semaphore released too many times"));
  auto none = sem.release(0);
  CHECK(!none && check::same(none.error().message, "n must be one or more"));
}

TEST(event_set_by_a_thread_wakes_four_waiters) {
  constexpr int kThreads = 4;
  static rawthread::Event go, done_event;
  static std::atomic<int> woken{0};
  woken = 0;
  for (int i = 0; i < kThreads; ++i) {
    REQUIRE(rawthread::start_new_thread([] {
              auto r = go.wait(60.0);
              if (r && *r) woken.fetch_add(1);
            }).has_value());
  }
  REQUIRE(rawthread::start_new_thread([] {
            rawthread::Lock held;  // about 50 ms: a timed acquire of a held lock
            (void)held.acquire(false);
            (void)held.acquire(true, 0.05);
            go.set();
            done_event.set();
          }).has_value());
  auto r = done_event.wait(60.0);
  CHECK(r && *r);
  CHECK(check::wait_for_threads(0, 120));
  CHECK_EQ(woken.load(), kThreads);
  auto bad = go.wait(-2.0);
  CHECK(!bad && bad.error().kind == rawthread::Errc::value_error);
}
