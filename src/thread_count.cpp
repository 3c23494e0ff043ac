// SPDX-License-Identifier: MIT
// thread_count(): see thread_count.hpp.
#include "thread_count.hpp"

#include <rawthread/thread.hpp>

#include "kernel.hpp"

namespace rawthread {

namespace counting {

std::atomic<std::size_t> live{0};
std::atomic<long> counted_pid{0};
std::atomic<std::size_t> uncounted{0};

void count_in(long pid) noexcept {
  long counted = counted_pid.load(std::memory_order_relaxed);
  // The first start of all, or the first in a fork's child. There the caller
  // is the only thread: no other start or exit can touch the count meanwhile.
  if (counted != pid && counted_pid.compare_exchange_strong(counted, pid, std::memory_order_relaxed) &&
      counted != 0)
    live.store(0, std::memory_order_relaxed);
  live.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace counting

std::size_t thread_count() noexcept {
  using namespace counting;
  // Acquire: a count that dropped shows the pushes into the cache before it,
  // for release_cached_stacks to find.
  std::size_t threads = live.load(std::memory_order_acquire);
  // Not 0 in a fork's child before its first start: the parent's threads.
  if (threads != 0 && counted_pid.load(std::memory_order_relaxed) != kernel::getpid()) return 0;
  return threads;
}

}  // namespace rawthread
