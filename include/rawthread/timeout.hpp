// SPDX-License-Identifier: MIT
// rawthread/timeout.hpp: TIMEOUT_MAX, and how the TimedLockable calls of Lock
// and RLock (try_lock_for, try_lock_until) turn a std::chrono duration or
// deadline into a wait.
//
// The rules, the same for every clock and every arithmetic representation
// (integer or floating point, any period: hours, nanoseconds, ratio<1, 3>):
//   - a duration that is zero, negative or NaN, and a deadline that is
//     reached, NaN or -infinity, is try_lock(): no wait;
//   - a positive duration waits at least that long (at least 1 ns, however
//     small it is);
//   - one beyond TIMEOUT_MAX, +infinity and duration::max() included, waits
//     TIMEOUT_MAX;
//   - a deadline waits for the time left until it on its clock, measured
//     again after each wait (the wait itself runs on CLOCK_MONOTONIC), so a
//     deadline on any clock, one beyond TIMEOUT_MAX too, is honoured.
// Nothing overflows on the way: the caller's values are compared before they
// are scaled, never subtracted or converted in the caller's representation,
// so duration::max(), time_point::min() and a time_point<steady_clock,
// hours>::max() follow the rules above. Integer deadlines are compared with
// the clock exactly (in 128 bits); with a floating-point deadline or clock,
// in floating point, where IEEE 754 arithmetic turns what is out of range
// into an infinity, and the rules give infinities their meaning.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <ratio>
#include <type_traits>

#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

namespace rawthread {

// The largest timeout acquire accepts, in seconds: 2^32 - 1 s, about 136
// years. A deadline this far away still fits CLOCK_MONOTONIC nanoseconds in
// 64 bits with room for any uptime.
inline constexpr double TIMEOUT_MAX = 4294967295.0;

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {

static_assert(std::numeric_limits<double>::is_iec559 &&
                  std::numeric_limits<long double>::is_iec559,
              "the conversions rely on IEEE 754 infinities and NaN");

// 128 bits, for the exact difference of two 64-bit time points: used only
// for products of two 64-bit factors, a comparison and a subtraction, which
// GCC and Clang inline on every 64-bit target (no libgcc or compiler-rt
// helper, so a program without libc can use them too).
__extension__ using WideCount = __int128;
__extension__ using WideUnsigned = unsigned __int128;

// How many `Unit`s make one `Period`, for a Unit that divides Period (num a
// divisor of Period's, den a multiple of Period's). Computed at compile time
// in 128 bits, where it cannot overflow (below 2^126).
template <class Period, class Unit>
constexpr WideCount units_per = static_cast<WideCount>(Period::num / Unit::num) *
                                static_cast<WideCount>(Unit::den / Period::den);

// `value` rounded to a double, from its two 64-bit halves: converting a
// 128-bit integer directly would call libgcc.
constexpr double to_double(WideUnsigned value) noexcept {
  return static_cast<double>(static_cast<std::uint64_t>(value >> 64)) * 0x1p64 +
         static_cast<double>(static_cast<std::uint64_t>(value));
}

// The wait for `count` units of Num/Den seconds: 0 for none (zero, negative
// or NaN), otherwise seconds in (0, TIMEOUT_MAX].
template <std::intmax_t Num, std::intmax_t Den, class Count>
constexpr double wait_seconds(Count count) noexcept {
  // double, or long double for a long double count: an integer count (below
  // 2^128) converts to it without leaving its range.
  using Float = decltype(count + 0.0);
  const Float value = static_cast<Float>(count);
  if (!(value > 0)) return 0;  // NaN fails every comparison
  // TIMEOUT_MAX in units of the period, below 2^32 * 2^63: compared before
  // scaling, so only values below it are scaled, and those cannot overflow.
  constexpr Float limit = static_cast<Float>(TIMEOUT_MAX) / static_cast<Float>(Num) *
                          static_cast<Float>(Den);
  if (value >= limit) return TIMEOUT_MAX;  // +infinity too
  const double seconds =
      static_cast<double>(value / static_cast<Float>(Den) * static_cast<Float>(Num));
  if (seconds > TIMEOUT_MAX) return TIMEOUT_MAX;  // rounding just under the limit
  // Underflowed to 0 (a subnormal count of attoseconds): still positive, a
  // wait, which the library rounds up to 1 ns.
  return seconds > 0 ? seconds : std::numeric_limits<double>::min();
}

template <class Rep, class Period>
constexpr double wait_seconds(const std::chrono::duration<Rep, Period>& duration) noexcept {
  static_assert(std::is_arithmetic_v<Rep>, "a timeout's representation must be arithmetic");
  return wait_seconds<Period::num, Period::den>(duration.count());
}

// The wait from `now` until `deadline`, both times since the same epoch.
template <class NowRep, class NowPeriod, class Rep, class Period>
constexpr double wait_seconds_between(const std::chrono::duration<NowRep, NowPeriod>& now,
                                      const std::chrono::duration<Rep, Period>& deadline) noexcept {
  static_assert(std::is_arithmetic_v<Rep> && std::is_arithmetic_v<NowRep>,
                "a deadline's representation must be arithmetic");
  using Unit = typename std::common_type_t<std::chrono::duration<Rep, Period>,
                                           std::chrono::duration<NowRep, NowPeriod>>::period;
  if constexpr (std::is_integral_v<Rep> && std::is_integral_v<NowRep> && sizeof(Rep) <= 8 &&
                sizeof(NowRep) <= 8 && units_per<Period, Unit> <= INT64_MAX &&
                units_per<NowPeriod, Unit> <= INT64_MAX) {
    // Exact: both counted in the greatest period that divides both periods,
    // as chrono's common_type does, but in 128 bits, where a 64-bit count
    // times a 64-bit factor stays below 2^127 in magnitude.
    const WideCount at = static_cast<WideCount>(deadline.count()) * units_per<Period, Unit>;
    const WideCount from = static_cast<WideCount>(now.count()) * units_per<NowPeriod, Unit>;
    if (at <= from) return 0;
    // Below 2^128: exact as unsigned.
    const WideUnsigned left = static_cast<WideUnsigned>(at) - static_cast<WideUnsigned>(from);
    return wait_seconds<Unit::num, Unit::den>(to_double(left));
  } else {
    // Some floating point, an integer wider than 64 bits, or periods so far
    // apart (hours on an attosecond clock) that one is more than 2^63 of the
    // other: in seconds, in the widest floating type involved.
    using Float = decltype(Rep{} + NowRep{} + 0.0);
    const Float at = static_cast<Float>(deadline.count()) / static_cast<Float>(Period::den) *
                     static_cast<Float>(Period::num);
    const Float from = static_cast<Float>(now.count()) / static_cast<Float>(NowPeriod::den) *
                       static_cast<Float>(NowPeriod::num);
    return wait_seconds<1, 1>(at - from);
  }
}

// The wait until `deadline` from its clock's now().
template <class Clock, class Duration>
double wait_seconds_until(const std::chrono::time_point<Clock, Duration>& deadline) noexcept {
  return wait_seconds_between(Clock::now().time_since_epoch(), deadline.time_since_epoch());
}

}  // namespace detail
}  // namespace rawthread
