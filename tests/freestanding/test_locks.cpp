// SPDX-License-Identifier: MIT
// Locks without libc: shared counting (Lock and RLock), timed acquire,
// interrupt_main ending a wait through a handler installed with
// rawthread/sys.hpp, and the same errors for bad arguments as in a hosted
// program.
#include <atomic>

#include <rawthread/rawthread.hpp>

#include "check.hpp"

namespace {

using check::same;

bool is_error(const rawthread::Error& e, rawthread::Errc kind, int sys_errno, const char* text) {
  return e.kind == kind && e.sys_errno == sys_errno && same(e.message, text);
}

}  // namespace

TEST(four_threads_share_a_counter_under_one_lock) {
  constexpr int kThreads = 4, kRounds = 20000;
  static rawthread::Lock lock;
  static long shared = 0;
  static std::atomic<int> errors{0};
  shared = 0;
  for (int i = 0; i < kThreads; ++i) {
    REQUIRE(rawthread::start_new_thread([] {
              for (int n = 0; n < kRounds; ++n) {
                auto got = lock.acquire();
                if (!got || !*got) errors.fetch_add(1);
                long seen = shared;  // a torn update shows as a lost count
                shared = seen + 1;
                if (!lock.release()) errors.fetch_add(1);
              }
            }).has_value());
  }
  CHECK(check::wait_for_threads(0, 120));
  CHECK_EQ(errors.load(), 0);
  CHECK_EQ(shared, kThreads * kRounds);
  CHECK(!lock.locked());
}

TEST(rlock_nested_holds_in_four_threads_and_main) {
  // The owner is known by its tid: the main thread's (no control block of
  // rawthread's) and each thread's, with no libc to ask.
  constexpr int kThreads = 4, kRounds = 5000;
  static rawthread::RLock lock;
  static long shared = 0;
  static std::atomic<int> errors{0};
  static auto rounds = +[] {
    for (int n = 0; n < kRounds; ++n) {
      auto got = lock.acquire();
      if (!got || !*got || !lock.try_lock()) errors.fetch_add(1);
      if (lock.recursion_count() != 2) errors.fetch_add(1);
      long seen = shared;
      shared = seen + 1;
      if (!lock.release()) errors.fetch_add(1);
      lock.unlock();
    }
  };
  shared = 0;
  for (int i = 0; i < kThreads; ++i) REQUIRE(rawthread::start_new_thread(rounds).has_value());
  rounds();
  CHECK(check::wait_for_threads(0, 120));
  CHECK_EQ(errors.load(), 0);
  CHECK_EQ(shared, (kThreads + 1) * kRounds);
  CHECK(!lock.is_owned());
  auto released = lock.release();
  REQUIRE(!released.has_value());
  CHECK(is_error(released.error(), rawthread::Errc::thread_error, 0,
                 "cannot release un-acquired lock"));
}

TEST(timed_acquire_waits_at_least_its_timeout) {
  rawthread::Lock lock;
  REQUIRE(lock.acquire().has_value());
  const std::int64_t start = check::now_ns();
  auto got = lock.acquire(true, 0.2);
  const std::int64_t waited = check::now_ns() - start;
  REQUIRE(got.has_value());
  CHECK(!*got);
  CHECK(waited >= 200'000'000);
  CHECK(lock.release().has_value());
}

TEST(timed_acquire_gets_a_lock_released_meanwhile) {
  static rawthread::Lock lock;
  REQUIRE(lock.acquire().has_value());
  static std::atomic<int> result{-1};
  REQUIRE(rawthread::start_new_thread([] {
            auto got = lock.acquire(true, 60);
            result.store(got && *got ? 1 : 0);
            if (got && *got) (void)lock.release();
          }).has_value());
  (void)rawthread::sys::sleep(0.05);
  CHECK(lock.release().has_value());
  CHECK(check::wait_until([] { return result.load() != -1; }, 60));
  CHECK_EQ(result.load(), 1);
  CHECK(check::wait_for_threads(0, 60));
}

namespace {

std::atomic<int> handler_runs{0};
void on_sigint(int) {
  handler_runs.fetch_add(1);
  rawthread::request_interrupt();
}

}  // namespace

TEST(interrupt_main_ends_the_main_threads_wait) {
  constexpr int kSigInt = 2;
  REQUIRE(rawthread::sys::set_signal_handler(kSigInt, on_sigint).has_value());
  static rawthread::Lock lock;
  REQUIRE(lock.acquire().has_value());
  static std::atomic<int> sent{-1};
  REQUIRE(rawthread::start_new_thread([] {
            // Let the main thread get into its wait; a request that comes
            // earlier stays pending and ends the wait at once, just as well.
            (void)rawthread::sys::sleep(0.1);
            sent.store(rawthread::interrupt_main().has_value() ? 1 : 0);
          }).has_value());
  const std::int64_t start = check::now_ns();
  auto got = lock.acquire(true, 60);
  const std::int64_t waited = check::now_ns() - start;
  REQUIRE(!got.has_value());
  CHECK(is_error(got.error(), rawthread::Errc::interrupted, 4, "lock acquire interrupted"));
  CHECK(waited < 30'000'000'000);  // well before the deadline
  CHECK_EQ(handler_runs.load(), 1);
  CHECK(check::wait_until([] { return sent.load() != -1; }, 60));
  CHECK_EQ(sent.load(), 1);
  CHECK(lock.locked());  // the interrupted acquire did not take it
  CHECK(lock.release().has_value());
  CHECK(rawthread::sys::set_signal_default(kSigInt).has_value());
  CHECK(check::wait_for_threads(0, 60));
}

TEST(bad_arguments_get_the_same_errors_as_hosted) {
  rawthread::Lock lock;
  auto r = lock.acquire(false, 1.0);
  REQUIRE(!r.has_value());
  CHECK(is_error(r.error(), rawthread::Errc::value_error, 0,
                 "can't specify a timeout for a non-blocking call"));
  r = lock.acquire(true, -2.0);
  REQUIRE(!r.has_value());
  CHECK(is_error(r.error(), rawthread::Errc::value_error, 0,
                 "timeout value must be a non-negative number"));
  r = lock.acquire(true, 1e300);
  REQUIRE(!r.has_value());
  CHECK(is_error(r.error(), rawthread::Errc::overflow_error, 0, "timeout value is too large"));
  CHECK(!lock.locked());
  auto released = lock.release();
  REQUIRE(!released.has_value());
  CHECK(is_error(released.error(), rawthread::Errc::thread_error, 0, "release unlocked lock"));
  CHECK(!lock.locked());

  auto size = rawthread::stack_size(-1);
  REQUIRE(!size.has_value());
  CHECK(is_error(size.error(), rawthread::Errc::value_error, 0,
                 "size must be 0 or a positive value"));
  size = rawthread::stack_size(100);
  REQUIRE(!size.has_value());
  CHECK(is_error(size.error(), rawthread::Errc::value_error, 0,
                 "size not valid: must be 0 or at least 32768 bytes"));
  CHECK_EQ(rawthread::stack_size(), 0);

  auto sent = rawthread::interrupt_main(65);
  REQUIRE(!sent.has_value());
  CHECK(is_error(sent.error(), rawthread::Errc::value_error, 0, "signal number out of range"));
}
