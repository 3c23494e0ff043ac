// SPDX-License-Identifier: MIT
// main_thread: see main_thread.hpp.
#include "main_thread.hpp"

#include <atomic>
#include <cstdint>

#include "arch.hpp"
#include "kernel.hpp"

namespace rawthread::main_thread {
namespace {
// Written by the main thread only, with the same values every time; read by
// any thread, which at worst misses the cache and makes the system calls.
std::atomic<std::uintptr_t> cached_tp{0};
std::atomic<long> cached_tid{0};
}  // namespace

bool is_current() noexcept {
  std::uintptr_t tp = arch::thread_pointer();
  if (tp == cached_tp.load(std::memory_order_relaxed)) return true;
  long pid = kernel::getpid();
  if (kernel::gettid() != pid) return false;
  cached_tid.store(pid, std::memory_order_relaxed);
  cached_tp.store(tp, std::memory_order_relaxed);
  return true;
}

long tid() noexcept { return cached_tid.load(std::memory_order_relaxed); }

}  // namespace rawthread::main_thread
