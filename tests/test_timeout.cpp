// SPDX-License-Identifier: MIT
// rawthread/timeout.hpp: the one conversion of std::chrono durations and
// deadlines into waits that Lock's and RLock's try_lock_for / try_lock_until
// share. Pure arithmetic, no clock read: the deadline cases give "now"
// themselves. 0 means try_lock(), anything else the seconds to wait. In the
// ubsan configuration an overflow anywhere here traps.
#include <chrono>
#include <cstdint>
#include <limits>
#include <ratio>

#include "support.hpp"

using namespace std::chrono;
using rawthread::TIMEOUT_MAX;
using rawthread::detail::wait_seconds;
using rawthread::detail::wait_seconds_between;

namespace {

using Thirds = duration<long long, std::ratio<1, 3>>;
using Halves = duration<long long, std::ratio<1, 2>>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Usable in constant expressions: nothing in it is left to run time.
static_assert(wait_seconds(hours::max()) == TIMEOUT_MAX);
static_assert(wait_seconds(Thirds(3)) == 1.0);
static_assert(wait_seconds_between(nanoseconds(0), hours::max()) == TIMEOUT_MAX);
static_assert(wait_seconds_between(nanoseconds(0), hours::min()) == 0);

TEST(Timeout, NonPositiveAndNaNDurationsAreNoWait) {
  EXPECT_EQ(wait_seconds(seconds(0)), 0);
  EXPECT_EQ(wait_seconds(milliseconds(-1)), 0);
  EXPECT_EQ(wait_seconds(hours::min()), 0);
  EXPECT_EQ(wait_seconds(nanoseconds::min()), 0);
  EXPECT_EQ(wait_seconds(Thirds::min()), 0);
  EXPECT_EQ(wait_seconds(duration<unsigned>(0)), 0);
  EXPECT_EQ(wait_seconds(duration<double>(-0.0)), 0);
  EXPECT_EQ(wait_seconds(duration<double>::min()), 0);
  EXPECT_EQ(wait_seconds(duration<double>(-kInf)), 0);
  EXPECT_EQ(wait_seconds(duration<double>(kNaN)), 0);
  EXPECT_EQ(wait_seconds(duration<float, std::milli>(std::numeric_limits<float>::quiet_NaN())), 0);
  EXPECT_EQ(wait_seconds(duration<long double, std::ratio<1, 3>>(
                std::numeric_limits<long double>::quiet_NaN())),
            0);
}

TEST(Timeout, DurationsConvertToSeconds) {
  EXPECT_EQ(wait_seconds(seconds(2)), 2.0);
  EXPECT_EQ(wait_seconds(milliseconds(1500)), 1.5);
  EXPECT_EQ(wait_seconds(Thirds(3)), 1.0);
  EXPECT_DOUBLE_EQ(wait_seconds(Thirds(1)), 1.0 / 3);
  EXPECT_EQ(wait_seconds(minutes(2)), 120.0);
  EXPECT_EQ(wait_seconds(duration<double, std::milli>(250)), 0.25);
  EXPECT_EQ(wait_seconds(duration<float>(0.5f)), 0.5);
  EXPECT_EQ(wait_seconds(duration<unsigned long long, std::micro>(62500)), 0.0625);
  EXPECT_DOUBLE_EQ(wait_seconds(nanoseconds(1)), 1e-9);
}

TEST(Timeout, TinyPositiveDurationsStillWait) {
  EXPECT_EQ(wait_seconds(duration<double>(1e-300)), 1e-300);
  // below the smallest double once in seconds: still a wait, not try_lock()
  EXPECT_GT(wait_seconds(duration<double, std::atto>(std::numeric_limits<double>::denorm_min())),
            0);
  EXPECT_GT(wait_seconds(duration<float, std::nano>(std::numeric_limits<float>::denorm_min())), 0);
  EXPECT_GT(wait_seconds(duration<long double>(std::numeric_limits<long double>::denorm_min())),
            0);
}

TEST(Timeout, DurationsBeyondTimeoutMaxAreTimeoutMax) {
  EXPECT_EQ(wait_seconds(seconds(4294967294)), 4294967294.0);
  EXPECT_EQ(wait_seconds(seconds(4294967295)), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds(seconds(4294967296)), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds(hours::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds(nanoseconds::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds(Thirds::max()), TIMEOUT_MAX);
  EXPECT_DOUBLE_EQ(wait_seconds(duration<unsigned long long, std::atto>::max()), 18.446744073709551615);
  EXPECT_EQ(wait_seconds(duration<unsigned long long>::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds(duration<double>::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds(duration<float, std::nano>::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds(duration<long double, std::ratio<3600>>::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds(duration<long double>(std::numeric_limits<long double>::infinity())),
            TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds(duration<double>(kInf)), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds(duration<double>(TIMEOUT_MAX * 4)), TIMEOUT_MAX);
}

TEST(Timeout, IntegerDeadlinesAreExact) {
  // one nanosecond apart near today's system_clock: a double would lose it
  const nanoseconds now(1'700'000'000'123'456'789);
  EXPECT_EQ(wait_seconds_between(now, now), 0);
  EXPECT_EQ(wait_seconds_between(now, now - nanoseconds(1)), 0);
  EXPECT_DOUBLE_EQ(wait_seconds_between(now, now + nanoseconds(1)), 1e-9);
  // different periods: 1/2 s - 1/3 s, in sixths
  EXPECT_DOUBLE_EQ(wait_seconds_between(Thirds(1), Halves(1)), 1.0 / 6);
  EXPECT_EQ(wait_seconds_between(Halves(1), Thirds(1)), 0);
  EXPECT_DOUBLE_EQ(wait_seconds_between(now, duration_cast<microseconds>(now) + microseconds(2)),
                   1211e-9);
  EXPECT_EQ(wait_seconds_between(seconds(100), minutes(2)), 20.0);
  // hours on an attosecond clock: 3.6e21 units an hour, beyond 64 bits
  EXPECT_EQ(wait_seconds_between(duration<long long, std::atto>(0), hours(1)), 3600.0);
  EXPECT_EQ(wait_seconds_between(duration<long long, std::atto>(0), hours(-1)), 0);
}

TEST(Timeout, IntegerDeadlinesFarAwayDoNotOverflow) {
  const nanoseconds now(1'700'000'000'123'456'789);
  EXPECT_EQ(wait_seconds_between(now, hours::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds_between(now, hours::min()), 0);
  EXPECT_EQ(wait_seconds_between(now, seconds::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds_between(now, nanoseconds::min()), 0);
  EXPECT_EQ(wait_seconds_between(now, Thirds::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds_between(now, Thirds::min()), 0);
  EXPECT_EQ(wait_seconds_between(nanoseconds::min(), nanoseconds::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds_between(nanoseconds::max(), nanoseconds::min()), 0);
  EXPECT_EQ(wait_seconds_between(hours::min(), hours::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds_between(hours::max(), hours::min()), 0);
  EXPECT_EQ(wait_seconds_between(duration<long long, std::atto>::min(), hours::max()),
            TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds_between(duration<unsigned long long, std::nano>::max(), hours::min()),
            0);
  EXPECT_EQ(wait_seconds_between(hours::min(), duration<unsigned long long, std::nano>::max()),
            TIMEOUT_MAX);
}

TEST(Timeout, FloatingDeadlines) {
  const nanoseconds now(1'000'000'000);
  EXPECT_EQ(wait_seconds_between(now, duration<double>(3.0)), 2.0);
  EXPECT_EQ(wait_seconds_between(now, duration<double>(0.5)), 0);
  EXPECT_EQ(wait_seconds_between(now, duration<double>(kNaN)), 0);
  EXPECT_EQ(wait_seconds_between(now, duration<double>(kInf)), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds_between(now, duration<double>(-kInf)), 0);
  EXPECT_EQ(wait_seconds_between(now, duration<double>::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds_between(now, duration<double>::min()), 0);
  EXPECT_EQ(wait_seconds_between(now, duration<float, std::ratio<3600>>::max()), TIMEOUT_MAX);
  EXPECT_EQ(wait_seconds_between(now, duration<long double, std::ratio<1, 3>>::max()),
            TIMEOUT_MAX);
  // a floating clock
  EXPECT_EQ(wait_seconds_between(duration<double>(1.0), seconds(4)), 3.0);
  EXPECT_EQ(wait_seconds_between(duration<double>(kNaN), seconds(4)), 0);
  EXPECT_EQ(wait_seconds_between(duration<double>::max(), duration<double>::max()), 0);
}

}  // namespace
