// SPDX-License-Identifier: MIT
// CLOCK_MONOTONIC time and the absolute deadlines futex waits take.
#pragma once

#include <cstdint>

#include "kernel.hpp"
#include "vdso.hpp"

namespace rawthread::clock {

inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

// A deadline the kernel never reaches (it clamps it to KTIME_MAX). Waits that
// must stay interruptible pass it instead of no deadline: a handler ends a
// timed futex wait with EINTR even when installed with SA_RESTART, an untimed
// one would be restarted silently.
inline constexpr kernel::Timespec kNever{INT64_MAX, 0};

inline std::int64_t now_ns() noexcept {
  kernel::Timespec now{};
  vdso::clock_gettime(kernel::kClockMonotonic, &now);
  return now.tv_sec * kNanosPerSecond + now.tv_nsec;
}

// `seconds` (0 .. TIMEOUT_MAX) in nanoseconds, rounded up to a whole one so
// that a wait never ends early.
inline std::int64_t ceil_ns(double seconds) noexcept {
  double wait_ns = seconds * static_cast<double>(kNanosPerSecond);
  auto whole_ns = static_cast<std::int64_t>(wait_ns);
  if (static_cast<double>(whole_ns) < wait_ns) ++whole_ns;
  return whole_ns;
}

// The absolute CLOCK_MONOTONIC time `seconds` (0 .. TIMEOUT_MAX) from now.
inline kernel::Timespec deadline_after(double seconds) noexcept {
  std::int64_t at = now_ns() + ceil_ns(seconds);  // TIMEOUT_MAX leaves 2^62 ns of room
  return {at / kNanosPerSecond, at % kNanosPerSecond};
}

// Whether CLOCK_MONOTONIC has reached `deadline`.
inline bool reached(const kernel::Timespec& deadline) noexcept {
  kernel::Timespec now{};
  vdso::clock_gettime(kernel::kClockMonotonic, &now);
  return now.tv_sec != deadline.tv_sec ? now.tv_sec > deadline.tv_sec
                                       : now.tv_nsec >= deadline.tv_nsec;
}

}  // namespace rawthread::clock
