// SPDX-License-Identifier: MIT
// sched_yield, under its libc name: libstdc++'s headers call it for
// std::this_thread::yield and between the attempts of std::lock (and so
// std::scoped_lock over more than one lock).
#include "kernel.hpp"

extern "C" int sched_yield() noexcept {
  // Cannot fail on Linux.
  rawthread::kernel::call(__NR_sched_yield);
  return 0;
}
