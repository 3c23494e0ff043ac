// SPDX-License-Identifier: MIT
// rawthread::sleep (issue 15): Lock's timeout checks, waits on
// CLOCK_MONOTONIC and never returns early, a handler that requests nothing
// does not end it, an interrupt request (pending, or arriving from a
// handler or interrupt_main) ends it with Errc::interrupted and is consumed.
// The main thread sleeps here; test_thread_interrupt.cpp has a thread
// rawthread started sleeping, and test_races.cpp races requests against the
// start of a sleep. Runs with both backends: the dummy's sleep sleeps.
#include <cmath>
#include <limits>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

using rt_test::consume_pending_interrupt;
using rt_test::count_and_request;
using rt_test::count_only;
using rt_test::expect_no_pending_request;
using rt_test::g_handler_runs;

class SleepTest : public rt_test::InterruptFixture {};

void expect_sleep_interrupted(const Result<void>& r) {
  ASSERT_FALSE(r.has_value()) << "sleep returned without an error, not interrupted";
  EXPECT_EQ(r.error().kind, Errc::interrupted);
  EXPECT_STREQ(r.error().message, "sleep interrupted");
  EXPECT_EQ(r.error().sys_errno, EINTR);
}

// ---------------------------------------------------------------- arguments

TEST_F(SleepTest, BadArgumentsAreLocksTimeoutErrorsAndChangeNothing) {
  // A pending request survives every refused call: bad input changes nothing.
  request_interrupt();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {-2.0, -0.5, -1e-9, -inf, nan, -nan}) {
    SCOPED_TRACE(bad);
    expect_error(rawthread::sleep(bad), Errc::value_error, rt_test::kNegativeMessage);
  }
  for (double bad : {inf, TIMEOUT_MAX * 2, std::nextafter(TIMEOUT_MAX, inf)}) {
    SCOPED_TRACE(bad);
    expect_error(rawthread::sleep(bad), Errc::overflow_error, rt_test::kTooLargeMessage);
  }
  EXPECT_TRUE(consume_pending_interrupt()) << "a refused sleep consumed the request";
}

TEST_F(SleepTest, ZeroReturnsAtOnce) {
  std::int64_t t0 = now_ns();
  Result<void> r = rawthread::sleep(0);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  EXPECT_LT(seconds_since(t0), 5.0);
}

TEST_F(SleepTest, NeverReturnsEarly) {
  // Direction only: each sleep lasts at least what was asked, measured on
  // CLOCK_MONOTONIC as the library measures it.
  for (double seconds : {1e-9, 0.001, 0.0105, 0.1, 0.25}) {
    SCOPED_TRACE(seconds);
    std::int64_t t0 = now_ns();
    Result<void> r = rawthread::sleep(seconds);
    std::int64_t elapsed = now_ns() - t0;
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_GE(elapsed, rt_test::to_ns(seconds)) << "sleep returned early";
  }
}

TEST_F(SleepTest, HandlersWithoutARequestDoNotShortenIt) {
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  const long main_tid = main_tid_;
  std::atomic<bool> stop{false};
  rt_test::HelperThread sender([&] {
    const std::int64_t give_up = now_ns() + rt_test::to_ns(10.0);
    while (!stop.load() && now_ns() < give_up) {
      rt_test::tgkill_main(main_tid, SIGUSR1);
      rt_test::sleep_ms(40);
    }
  });
  std::int64_t t0 = now_ns();
  Result<void> r = rawthread::sleep(0.5);
  double elapsed = seconds_since(t0);
  stop = true;
  sender.join();
  ASSERT_TRUE(r.has_value()) << rawthread::name(r.error().kind);
  EXPECT_GE(elapsed, 0.5) << "a signal cut the sleep short";
  EXPECT_GE(g_handler_runs.load(), 1);
  expect_no_pending_request();
}

// ---------------------------------------------------------------- requests

TEST_F(SleepTest, APendingRequestEndsItAtOnceAndIsConsumed) {
  request_interrupt();
  std::int64_t t0 = now_ns();
  expect_sleep_interrupted(rawthread::sleep(rt_test::kDeadline));
  EXPECT_LT(seconds_since(t0), rt_test::kDeadline / 2);
  expect_no_pending_request();
}

TEST_F(SleepTest, APendingRequestEndsEvenSleepZero) {
  // As a blocking acquire of a free lock: the call consumes the request.
  request_interrupt();
  expect_sleep_interrupted(rawthread::sleep(0));
  expect_no_pending_request();
}

TEST_F(SleepTest, AHandlerRequestEndsATimedSleep) {
  rt_test::SignalGuard sig(SIGUSR1, count_and_request);
  ASSERT_TRUE(sig.ok());
  const long main_tid = main_tid_;
  rt_test::HelperThread helper = when_main_sleeps([main_tid] {
    rt_test::tgkill_main(main_tid, SIGUSR1);
  });
  std::int64_t t0 = now_ns();
  Result<void> r = rawthread::sleep(rt_test::kDeadline);
  double elapsed = seconds_since(t0);
  helper.join();
  EXPECT_TRUE(sleeping_seen_.load()) << "main was not seen asleep in the kernel";
  expect_sleep_interrupted(r);
  EXPECT_LT(elapsed, rt_test::kDeadline / 2);
  EXPECT_EQ(g_handler_runs.load(), 1);
  expect_no_pending_request();
}

TEST_F(SleepTest, InterruptMainEndsAnEndlessSleep) {
  // sleep(-1) sleeps until interrupted. Should the request be lost, the
  // watchdog ends the test rather than let it hang.
  rt_test::SignalGuard sig(SIGINT, count_only);
  ASSERT_TRUE(sig.ok());
  std::atomic<bool> sent{false};
  rt_test::HelperThread helper = when_main_sleeps([&sent] {
    sent = interrupt_main(SIGINT).has_value();
  });
  rt_test::Watchdog dog(2 * rt_test::kDeadline, [] { std::abort(); });
  std::int64_t t0 = now_ns();
  Result<void> r = rawthread::sleep(-1);
  double elapsed = seconds_since(t0);
  dog.dismiss();
  helper.join();
  EXPECT_TRUE(sent.load());
  EXPECT_TRUE(sleeping_seen_.load()) << "main was not seen asleep in the kernel";
  expect_sleep_interrupted(r);
  EXPECT_LT(elapsed, rt_test::kDeadline);
  EXPECT_GE(g_handler_runs.load(), 1);
  expect_no_pending_request();
}

TEST_F(SleepTest, OnlyTheRequestIsConsumed) {
  // A request ends one sleep; the next one runs its time out.
  request_interrupt();
  expect_sleep_interrupted(rawthread::sleep(rt_test::kDeadline));
  std::int64_t t0 = now_ns();
  Result<void> r = rawthread::sleep(0.1);
  ASSERT_TRUE(r.has_value()) << rawthread::name(r.error().kind);
  EXPECT_GE(seconds_since(t0), 0.1);
}

}  // namespace
