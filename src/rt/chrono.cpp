// SPDX-License-Identifier: MIT
// std::chrono::steady_clock::now and system_clock::now (the _V2 names the
// headers declare), on the core's clock: the vDSO's clock_gettime, else the
// system call. libstdc++.a's chrono.o would call libc's clock_gettime.
#include <chrono>

#include "kernel.hpp"
#include "vdso.hpp"

namespace {

constexpr int kClockRealtime = 0;  // CLOCK_REALTIME, <linux/time.h>

std::chrono::nanoseconds read(int clock) noexcept {
  rawthread::kernel::Timespec now{};
  // Cannot fail for these two clocks: the kernel has served them since 2.6.
  rawthread::vdso::clock_gettime(clock, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

}  // namespace

namespace std::chrono {

steady_clock::time_point steady_clock::now() noexcept {
  return time_point(duration_cast<duration>(read(rawthread::kernel::kClockMonotonic)));
}

system_clock::time_point system_clock::now() noexcept {
  return time_point(duration_cast<duration>(read(kClockRealtime)));
}

}  // namespace std::chrono
