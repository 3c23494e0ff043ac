// SPDX-License-Identifier: MIT
// rawthread/sys.hpp's CLOCK_REALTIME and CLOCK_BOOTTIME, on the vDSO as
// monotonic_ns (sys.cpp) is: the vDSO serves both clocks on the three arches
// (and makes the system call itself for a clock it cannot serve).
#include <rawthread/sys.hpp>

#include "clock.hpp"
#include "errors.hpp"
#include "kernel.hpp"
#include "vdso.hpp"

namespace rawthread::sys {
namespace {

constexpr int kClockRealtime = 0;  // CLOCK_REALTIME, <linux/time.h>
constexpr int kClockBoottime = 7;  // CLOCK_BOOTTIME

Result<std::int64_t> read_ns(int clock) noexcept {
  kernel::Timespec now{};
  if (long ret = vdso::clock_gettime(clock, &now); ret < 0)
    return errors::clock_gettime_failed(ret);
  return std::int64_t{now.tv_sec} * clock::kNanosPerSecond + now.tv_nsec;
}

}  // namespace

Result<std::int64_t> realtime_ns() noexcept { return read_ns(kClockRealtime); }
Result<std::int64_t> boottime_ns() noexcept { return read_ns(kClockBoottime); }

}  // namespace rawthread::sys
