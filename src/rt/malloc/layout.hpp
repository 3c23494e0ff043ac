// SPDX-License-Identifier: MIT
// The heap's layout: segments, pages, size classes and per-thread heaps.
// DESIGN.md, "The heap", tells the whole story; this header is its map.
//
//   segment  4 MiB, aligned to its size, from mmap. free() finds the segment
//            of any block with one AND. Slot 0 holds the segment's header
//            (this struct, the page descriptors); the blocks live above it,
//            so a linear overflow of a block never reaches them; the
//            segment's last page is PROT_NONE, so one does not run on into
//            the next mapping either.
//   page     a run of 64 KiB slots (page_slots) holding blocks of one size
//            class. Owned by one heap.
//   huge     a block above 1 MiB (or aligned above 64 KiB): a mapping of
//            its own, laid out as a segment whose header says so.
//   heap     one per thread (a thread_local pointer): for each size class a
//            list of pages with free blocks, the first one the current
//            page; an inbox other threads push their frees onto.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "hooks.hpp"

namespace rawthread::heap {

inline constexpr std::size_t kSegmentShift = 22;
inline constexpr std::size_t kSegmentSize = std::size_t{1} << kSegmentShift;
inline constexpr std::size_t kSlotShift = 16;
inline constexpr std::size_t kSlotSize = std::size_t{1} << kSlotShift;
inline constexpr std::size_t kSlots = kSegmentSize / kSlotSize;  // 64: one bit each in a word

// Size classes: multiples of 16 up to 128, then four per doubling up to
// 1 MiB (at most 25% lost to rounding). Every class size is a multiple of
// the largest power of two up to 64 KiB that divides it out of the request
// rounded to that power: aligned_alloc relies on it (malloc.cpp).
inline constexpr std::size_t kMinBlock = 16;
inline constexpr std::size_t kMaxSmall = 1024 * 1024;
inline constexpr unsigned kClasses = 8 + 4 * 13;
// A page's width in slots: 1 for blocks up to 8 KiB, 8 (512 KiB) up to
// 128 KiB, 16 (1 MiB) above.
constexpr unsigned page_slots(std::size_t block_size) noexcept {
  return block_size <= 8 * 1024 ? 1 : block_size <= 128 * 1024 ? 8 : 16;
}

constexpr unsigned class_of(std::size_t size) noexcept {
  if (size <= 128) return size == 0 ? 0 : static_cast<unsigned>((size - 1) >> 4);
  const unsigned k = 63 - static_cast<unsigned>(__builtin_clzll(size - 1));  // 2^k < size <= 2^(k+1)
  const unsigned step = k - 2;
  return 8 + (k - 7) * 4 + static_cast<unsigned>(((size - 1) >> step) & 3);
}
constexpr std::size_t class_size(unsigned c) noexcept {
  if (c < 8) return (c + 1) * 16;
  const unsigned k = 7 + (c - 8) / 4;
  return (std::size_t{1} << k) + ((c - 8) % 4 + 1) * (std::size_t{1} << (k - 2));
}
static_assert(class_of(kMaxSmall) == kClasses - 1 && class_size(kClasses - 1) == kMaxSmall);
static_assert(class_of(129) == 8 && class_size(8) == 160 && class_of(160) == 8 && class_of(161) == 9);
static_assert(class_of(1) == 0 && class_of(16) == 0 && class_of(17) == 1 && class_size(7) == 128);

// A free block: the link of its list, and the word that marks it free
// (free_mark, so that a second free of it is caught). A block handed out
// has 0 there.
struct Block {
  Block* next;
  std::uintptr_t mark;
};

struct Heap;
struct Segment;

enum class PageState : std::uint8_t { kFree, kInUse, kTail };  // kTail: a slot inside a wider page

// A page's descriptor, in its segment's header. Only the owning heap's
// thread touches it (remote frees go to the heap's inbox).
struct alignas(64) Page {   // one cache line for what malloc and free touch
  Block* free;                // blocks to hand out
  char* start;                // the first block
  char* carve;                // blocks from here on were never handed out
  std::uint32_t used;         // blocks handed out and not yet freed back here
  std::uint32_t block_size;
  std::uint8_t size_class;
  std::uint8_t slots;         // the page's width in slots
  PageState state;
  bool linked;                // on its class list (false: full, or the static empty page)
  std::uint64_t divide_magic; // (2^64 - 1) / block_size + 1: offset % block_size == 0 test
  char* end;                  // the last block ends at or below this
  Page* prev;                 // the heap's list of pages of this class with free blocks
  Page* next;
};

// kSpare: a huge block's mapping kept for reuse after its free (segment.cpp).
enum class SegmentKind : std::uint32_t { kSmall = 1, kHuge = 2, kSpare = 3 };

struct Segment {
  std::uintptr_t cookie;      // key ^ address: a segment this heap made
  SegmentKind kind;
  Heap* heap;                 // kSmall: the owner; its inbox takes other threads' frees
  Segment* next;              // kSmall: the owner's other segments
  std::uint64_t free_slots;   // kSmall: a bit per free slot
  std::uint64_t dirty_slots;  // kSmall: free slots whose memory the kernel still backs
  std::size_t map_size;       // kHuge: the mapping (the guard page included)
  char* block;                // kHuge: the block
  std::uint8_t head_of[kSlots];  // kSmall: the first slot of the page a slot belongs to
  Page pages[kSlots];
};
static_assert(sizeof(Segment) <= kSlotSize);

struct Heap {
  Page* pages[kClasses];      // each class's list; &empty_page when it has none
  std::atomic<Block*> inbox;  // blocks other threads freed, for this heap's thread to take back
  Segment* segments;
  Heap* next_abandoned;
  std::uint32_t dirty_slots;  // free but still backed, over all segments (decommit budget)
  std::uint32_t used_slots;   // in its pages
};

// The page every empty class list starts at: never has a free block, so
// malloc's fast path needs no other test.
extern Page empty_page;
// The calling thread's heap; null until its first allocation.
// constinit: no TLS wrapper call on every access.
extern thread_local constinit Heap* thread_heap;

inline Segment* segment_of(const void* p) noexcept {
  return reinterpret_cast<Segment*>(reinterpret_cast<std::uintptr_t>(p) & ~(kSegmentSize - 1));
}
inline Page* page_of(Segment* s, const void* p) noexcept {
  const std::size_t slot = (reinterpret_cast<std::uintptr_t>(p) - reinterpret_cast<std::uintptr_t>(s)) >> kSlotShift;
  return &s->pages[s->head_of[slot]];
}

// The secret behind segment cookies and free marks (from AT_RANDOM): set by
// key() before the first segment exists, so every block's free sees it.
extern std::uintptr_t secret;
std::uintptr_t key() noexcept;
inline std::uintptr_t free_mark(const Block* b) noexcept {
  return __atomic_load_n(&secret, __ATOMIC_RELAXED) ^ reinterpret_cast<std::uintptr_t>(b);
}

// One bit per 4 MiB region of a 48-bit address space: set while the region
// starts a segment (segment.cpp).
inline constexpr unsigned kAddressBits = 48;
extern std::atomic<std::atomic<std::uint64_t>*> segment_map;

// A live segment the heap made: checked before anything at `s` is read.
// Relaxed: the block's way to this thread ordered its segment's making.
inline bool known_segment(const Segment* s) noexcept {
  const std::uintptr_t region = reinterpret_cast<std::uintptr_t>(s) >> kSegmentShift;
  if (region >> (kAddressBits - kSegmentShift) != 0) return false;
  auto* words = segment_map.load(std::memory_order_relaxed);
  if (words == nullptr || (words[region / 64].load(std::memory_order_relaxed) >> (region % 64) & 1) == 0)
    return false;
  return s->cookie == (__atomic_load_n(&secret, __ATOMIC_RELAXED) ^ reinterpret_cast<std::uintptr_t>(s));
}

// segment.cpp: memory from and to the kernel.
// The PROT_NONE end of every mapping: a page (aarch64 kernels run 4, 16 or
// 64 KiB pages; with 64 KiB the last slot is all guard and never used).
std::size_t guard_size() noexcept;
// The slots a small segment may hand out: all but the header's, and but the
// last when the guard fills it.
inline std::uint64_t usable_slots() noexcept {
  const std::uint64_t all = ~std::uint64_t{1};
  return guard_size() >= kSlotSize ? all & ~(std::uint64_t{1} << (kSlots - 1)) : all;
}
Segment* new_segment(Heap* owner) noexcept;         // null when out of memory
void drop_segment(Segment* s) noexcept;             // back to the kernel
void* huge_alloc(std::size_t size, std::size_t align) noexcept;
void huge_free(Segment* s) noexcept;
bool drop_spares() noexcept;
// fork(): the spares' lock taken (prepare), let go (parent), reinitialised (child).
void spares_at_fork(hooks::ForkPhase phase) noexcept;  // unmaps the kept huge mappings; true if there were any
inline std::size_t huge_capacity(const Segment* s) noexcept {
  return s->map_size - guard_size() - static_cast<std::size_t>(s->block - reinterpret_cast<const char*>(s));
}
void decommit(void* start, std::size_t size) noexcept;  // MADV_DONTNEED

// heap.cpp: the slow paths.
void* alloc_slow(unsigned size_class) noexcept;
void page_changed(Heap* h, Page* p) noexcept;
// A free by the page's own heap: onto the page's list, no atomics.
inline void free_local(Heap* h, Page* p, Block* b) noexcept {
  b->next = p->free;
  p->free = b;
  if (--p->used == 0 || !p->linked) [[unlikely]]
    page_changed(h, p);
}
inline void free_remote(Heap* owner, Block* b) noexcept {
  // Release: the owner that takes the inbox sees b->next and the mark.
  Block* head = owner->inbox.load(std::memory_order_relaxed);
  do b->next = head;
  while (!owner->inbox.compare_exchange_weak(head, b, std::memory_order_release,
                                             std::memory_order_relaxed));
}
bool trim() noexcept;

[[noreturn]] void die_at(const char* what, const void* p) noexcept;

}  // namespace rawthread::heap
