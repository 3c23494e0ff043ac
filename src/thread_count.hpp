// SPDX-License-Identifier: MIT
// thread_count(): threads started and not yet ended, counted per process.
//
// A thread that unmaps its own mapping is counted out by the exit stub after
// the munmap; one that leaves its mapping in the stack cache, after the push,
// just before its exit; a joinable one by the joiner, after the push or
// munmap. So a count back at its old value means each of those stacks is
// unmapped or in the cache (maybe with its thread in its exit system call
// still: stack_cache.cpp, wait_gone).
//
// fork() copies the count into a child that has none of those threads:
// there the pid it was counted for differs, and the count means nothing
// until the child's first start begins it afresh.
#pragma once

#include <atomic>
#include <cstddef>

namespace rawthread::counting {

// Threads started and not yet ended, in process counted_pid.
[[gnu::visibility("hidden")]] extern std::atomic<std::size_t> live;
// The process `live` counts the threads of.
[[gnu::visibility("hidden")]] extern std::atomic<long> counted_pid;
// What the exit stub counts a thread out of when `live` never counted it in:
// the thread that called fork(), ending in the child after the child started
// threads of its own. Nobody reads it.
[[gnu::visibility("hidden")]] extern std::atomic<std::size_t> uncounted;

static_assert(sizeof(live) == sizeof(std::size_t) && decltype(live)::is_always_lock_free,
              "the exit stub decrements it as a plain word");

// Whether a thread started by process `pid` is in the count.
inline bool counts(long pid) noexcept {
  return pid == counted_pid.load(std::memory_order_relaxed);
}

// Counts a thread of process `pid` in, before it exists: it may end before
// its clone returns.
void count_in(long pid) noexcept;

}  // namespace rawthread::counting
