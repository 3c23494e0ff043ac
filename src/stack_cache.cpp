// SPDX-License-Identifier: MIT
// The stack cache: see stack_cache.hpp.
#include "stack_cache.hpp"

#include <atomic>
#include <cstdint>

#include <rawthread/thread.hpp>

#include "arch.hpp"
#include "kernel.hpp"

namespace rawthread::stack_cache {
namespace {

std::atomic<Control*> slots[MAX_CACHED_STACKS];

// Bounded spin before a futex sleep. Evenly spaced, unlike the locks'
// backed-off probes: the word is the kernel's to write, no holder's cache
// line suffers from the reads.
constexpr int kSpinLimit = 100;

// Waits until the thread of an entry has left its mapping for good: the
// kernel cleared its tid word after the thread's last instruction (a thread
// caches its own mapping before its exit system call, and a signal handler
// may still run on that stack until then). In a fork's child an entry of the
// parent's never clears: its thread does not exist here, and the copy of its
// mapping is this process's alone already.
void wait_gone(Control* entry) noexcept {
  std::int32_t tid = entry->tid.load(std::memory_order_acquire);
  if (tid == 0 || detail::forked_away(entry)) return;
  // It counted itself out just before its exit: gone within microseconds,
  // sooner than a futex round trip.
  for (int spin = 0; tid != 0 && spin < kSpinLimit; ++spin) {
    arch::cpu_relax();
    tid = entry->tid.load(std::memory_order_acquire);
  }
  for (; tid != 0; tid = entry->tid.load(std::memory_order_acquire))
    kernel::futex_wait_tid(&entry->tid, tid, nullptr);
}

}  // namespace

// Release: the entry's fields are written before a pop can see it.
bool push(Control* entry) noexcept {
  for (auto& slot : slots) {
    Control* empty = nullptr;
    if (slot.load(std::memory_order_relaxed) == nullptr &&
        slot.compare_exchange_strong(empty, entry, std::memory_order_release,
                                     std::memory_order_relaxed))
      return true;
  }
  return false;
}

Control* pop(std::size_t size) noexcept {
  for (auto& slot : slots) {
    if (slot.load(std::memory_order_relaxed) == nullptr) continue;  // no write for an empty slot
    Control* entry = slot.exchange(nullptr, std::memory_order_acquire);
    if (entry == nullptr) continue;
    wait_gone(entry);
    if (entry->map_size == size) return entry;
    kernel::munmap(entry->map_base, entry->map_size);
  }
  return nullptr;
}

}  // namespace rawthread::stack_cache
