// SPDX-License-Identifier: MIT
// Memory from the kernel and back: segments, huge blocks, the map of which
// 4 MiB regions are the heap's (so that free() rejects a pointer it never
// gave out before reading anything at it), and the secret.
#include <linux/auxvec.h>
#include <linux/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <rawthread/lock.hpp>

#include "hooks.hpp"
#include "kernel.hpp"
#include "layout.hpp"
#include "page_size.hpp"

namespace rawthread::heap {
// 8 MiB reserved once (MAP_NORESERVE); only the words for regions the heap
// uses are ever touched, so the kernel backs a page of it per 128 GiB of
// address range.
std::atomic<std::atomic<std::uint64_t>*> segment_map{nullptr};
std::uintptr_t secret = 0;

namespace {

constexpr std::size_t kMapWords = (std::size_t{1} << (kAddressBits - kSegmentShift)) / 64;

std::atomic<std::uint64_t>* map_words() noexcept {
  auto* words = segment_map.load(std::memory_order_acquire);
  if (words != nullptr) return words;
  const long got = kernel::mmap(kMapWords * 8, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
  if (kernel::failed(got)) return nullptr;
  auto* fresh = reinterpret_cast<std::atomic<std::uint64_t>*>(got);
  // Two threads may race to make it: one keeps its copy, the other unmaps.
  if (segment_map.compare_exchange_strong(words, fresh, std::memory_order_acq_rel)) return fresh;
  kernel::munmap(fresh, kMapWords * 8);
  return words;
}

std::size_t region_of(const void* s) noexcept {
  return reinterpret_cast<std::uintptr_t>(s) >> kSegmentShift;
}

void mark(const Segment* s, bool live) noexcept {
  auto* words = segment_map.load(std::memory_order_acquire);
  const std::size_t region = region_of(s);
  const std::uint64_t bit = std::uint64_t{1} << (region % 64);
  if (live) words[region / 64].fetch_or(bit, std::memory_order_relaxed);
  else words[region / 64].fetch_and(~bit, std::memory_order_relaxed);
}

// `size` bytes at an address aligned to kSegmentSize: over-map by the
// alignment, then give back the ends.
char* map_aligned(std::size_t size) noexcept {
  if (map_words() == nullptr) return nullptr;
  const long got = kernel::mmap(size + kSegmentSize, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
  if (kernel::failed(got)) return nullptr;
  const auto raw = static_cast<std::uintptr_t>(got);
  const std::uintptr_t start = (raw + kSegmentSize - 1) & ~(kSegmentSize - 1);
  if (start != raw) kernel::munmap(reinterpret_cast<void*>(raw), start - raw);
  const std::uintptr_t tail = start + size;
  const std::uintptr_t raw_end = raw + size + kSegmentSize;
  if (raw_end != tail) kernel::munmap(reinterpret_cast<void*>(tail), raw_end - tail);
  if (start >> kAddressBits != 0) {  // beyond the map: never handed out
    kernel::munmap(reinterpret_cast<void*>(start), size);
    return nullptr;
  }
  // The last page is the guard: a linear overflow faults there instead of
  // running on into whatever is mapped next (another segment's header).
  kernel::mprotect(reinterpret_cast<void*>(tail - guard_size()), guard_size(), PROT_NONE);
  return reinterpret_cast<char*>(start);
}

// Huge mappings kept after their free, for the next huge block that fits:
// a mapping costs four system calls and its unmap a TLB shootdown on every
// CPU that runs one of the process's threads, and programs tend to free and
// allocate the same large sizes over and over (glibc raises its mmap
// threshold for the same reason). Bounded, so that the resident size still
// follows live data; malloc_trim unmaps them.
constexpr std::size_t kSpareSlots = 8;
constexpr std::size_t kSpareBytes = 16 << 20;
Lock spares_lock;
Segment* spares[kSpareSlots];  // guarded by spares_lock
std::size_t spare_bytes = 0;   // guarded by spares_lock

// A spare whose mapping holds `size` bytes at `offset` without wasting
// more than half of it, taken off the list; or null.
Segment* take_spare(std::size_t size, std::size_t offset) noexcept {
  Segment* found = nullptr;
  spares_lock.lock();
  for (Segment*& s : spares) {
    if (s == nullptr) continue;
    const std::size_t room = s->map_size - guard_size() - offset;
    if (s->map_size > guard_size() + offset && room >= size && room / 2 <= size) {
      found = s;
      s = nullptr;
      spare_bytes -= found->map_size;
      break;
    }
  }
  spares_lock.unlock();
  return found;
}

bool keep_spare(Segment* s) noexcept {
  bool kept = false;
  spares_lock.lock();
  if (spare_bytes + s->map_size <= kSpareBytes)
    for (Segment*& slot : spares)
      if (slot == nullptr) {
        slot = s;
        spare_bytes += s->map_size;
        s->kind = SegmentKind::kSpare;  // a second free of its block is caught
        kept = true;
        break;
      }
  spares_lock.unlock();
  return kept;
}

}  // namespace

void spares_at_fork(hooks::ForkPhase phase) noexcept {
  if (phase == hooks::ForkPhase::prepare) spares_lock.lock();
  else if (phase == hooks::ForkPhase::parent) spares_lock.unlock();
  else spares_lock.at_fork_reinit();
}

std::size_t guard_size() noexcept { return page_size(); }

std::uintptr_t key() noexcept {
  std::uintptr_t k = secret;
  if (k != 0) [[likely]]
    return k;
  // Bytes 8-15 of the kernel's AT_RANDOM (0-7 seed the stack protector's
  // canary). Every thread computes the same value, so the race is harmless.
  k = 0x9e3779b97f4a7c15u;
  if (hooks::auxv != nullptr)
    if (unsigned long at = hooks::aux_value(hooks::auxv, AT_RANDOM)) {
      const auto* bytes = reinterpret_cast<const unsigned char*>(at);
      for (int i = 8; i < 16; ++i) k = (k << 8 | k >> 56) ^ bytes[i];
    }
  __atomic_store_n(&secret, k | 1, __ATOMIC_RELAXED);
  return k | 1;
}

Segment* new_segment(Heap* owner) noexcept {
  char* base = map_aligned(kSegmentSize);
  if (base == nullptr) return nullptr;
  auto* s = reinterpret_cast<Segment*>(base);  // fresh mapping: zeroed
  s->cookie = key() ^ reinterpret_cast<std::uintptr_t>(s);
  s->kind = SegmentKind::kSmall;
  s->heap = owner;
  s->free_slots = usable_slots();
  s->dirty_slots = 0;
  mark(s, true);
  return s;
}

void drop_segment(Segment* s) noexcept {
  mark(s, false);
  s->cookie = 0;
  kernel::munmap(s, kSegmentSize);
}

void* huge_alloc(std::size_t size, std::size_t align) noexcept {
  // The header, then the block at the alignment (4 KiB at least), then the
  // guard page.
  const std::size_t offset = align > 4096 ? align : 4096;
  std::size_t map_size = 0;
  const std::size_t page = guard_size();
  if (__builtin_add_overflow(size, offset + page + page - 1, &map_size) ||
      map_size > (std::size_t{1} << 46))
    return nullptr;
  map_size &= ~(page - 1);
  if (Segment* spare = take_spare(size, offset)) {
    spare->kind = SegmentKind::kHuge;
    spare->block = reinterpret_cast<char*>(spare) + offset;
    return spare->block;
  }
  char* base = map_aligned(map_size);
  if (base == nullptr) return nullptr;
  auto* s = reinterpret_cast<Segment*>(base);
  s->cookie = key() ^ reinterpret_cast<std::uintptr_t>(s);
  s->kind = SegmentKind::kHuge;
  s->map_size = map_size;
  s->block = base + offset;
  mark(s, true);
  return s->block;
}

void huge_free(Segment* s) noexcept {
  if (keep_spare(s)) return;
  mark(s, false);
  s->cookie = 0;
  kernel::munmap(s, s->map_size);
}

bool drop_spares() noexcept {
  bool any = false;
  spares_lock.lock();
  for (Segment*& s : spares)
    if (s != nullptr) {
      spare_bytes -= s->map_size;
      mark(s, false);
      s->cookie = 0;
      kernel::munmap(s, s->map_size);
      s = nullptr;
      any = true;
    }
  spares_lock.unlock();
  return any;
}

void decommit(void* start, std::size_t size) noexcept {
  kernel::call(__NR_madvise, start, size, MADV_DONTNEED);
}

}  // namespace rawthread::heap
