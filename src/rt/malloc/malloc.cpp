// SPDX-License-Identifier: MIT
// malloc and its family: the C names a libc-free program calls, and the
// fast paths. A small block comes from the calling thread's current page of
// its class (a TLS load, a table index, a pop); a free finds its page from
// the block's address alone, checks it was handed out, and pushes it back,
// onto the page when this thread owns it, else onto the owner's inbox.
#include <cstddef>
#include <cstdint>

#include <asm-generic/errno-base.h>

#include "layout.hpp"

namespace rawthread::heap {
namespace {

inline void* alloc(std::size_t size) noexcept {
  if (size > kMaxSmall) return huge_alloc(size, 0);
  const unsigned c = class_of(size);
  if (Heap* h = thread_heap) [[likely]] {
    Page* p = h->pages[c];
    if (Block* b = p->free) [[likely]] {
      p->free = b->next;
      ++p->used;
      b->mark = 0;
      return b;
    }
  }
  return alloc_slow(c);
}

// The page of a block this heap handed out, or death: the checks run before
// anything is written, so a bad pointer corrupts nothing.
inline Page* small_page_of(Segment* s, void* ptr) noexcept {
  const std::size_t offset = reinterpret_cast<std::uintptr_t>(ptr) - reinterpret_cast<std::uintptr_t>(s);
  if (offset < kSlotSize) die_at("free(): invalid pointer ", ptr);
  Page* p = page_of(s, ptr);
  const std::uint64_t from_start = static_cast<std::uint64_t>(static_cast<char*>(ptr) - p->start);
  // from_start % block_size == 0, with one multiply (Lemire et al.).
  if (p->state != PageState::kInUse || static_cast<char*>(ptr) < p->start ||
      static_cast<char*>(ptr) >= p->carve ||
      from_start * p->divide_magic > p->divide_magic - 1)
    die_at("free(): invalid pointer ", ptr);
  return p;
}

inline void release(void* ptr) noexcept {
  Segment* s = segment_of(ptr);
  if (!known_segment(s)) die_at("free(): invalid pointer ", ptr);
  if (s->kind != SegmentKind::kSmall) {
    if (ptr != s->block) die_at("free(): invalid pointer ", ptr);
    if (s->kind == SegmentKind::kSpare) die_at("free(): double free of ", ptr);
    huge_free(s);
    return;
  }
  Page* p = small_page_of(s, ptr);
  auto* b = static_cast<Block*>(ptr);
  if (b->mark == free_mark(b)) die_at("free(): double free of ", ptr);
  b->mark = free_mark(b);
  if (s->heap == thread_heap) free_local(s->heap, p, b);
  else free_remote(s->heap, b);
}

std::size_t usable_size(void* ptr) noexcept {
  Segment* s = segment_of(ptr);
  if (!known_segment(s)) die_at("malloc_usable_size(): invalid pointer ", ptr);
  if (s->kind != SegmentKind::kSmall) {
    if (ptr != s->block || s->kind == SegmentKind::kSpare)
      die_at("malloc_usable_size(): invalid pointer ", ptr);
    return huge_capacity(s);
  }
  return small_page_of(s, ptr)->block_size;
}

void copy(void* to, const void* from, std::size_t size) noexcept { __builtin_memcpy(to, from, size); }

}  // namespace

// Aligned blocks: up to 64 KiB, a small block of the request rounded up to
// the alignment is aligned already (pages start on 64 KiB; the class of a
// multiple of the alignment is a multiple of it: layout.hpp). Beyond that, a
// huge block placed at the alignment, up to half a segment.
void* alloc_aligned(std::size_t size, std::size_t align) noexcept {
  if (align <= kMinBlock) return alloc(size);
  if (align <= kSlotSize) {
    const std::size_t rounded = ((size == 0 ? 1 : size) + align - 1) & ~(align - 1);  // 0: one slot of align
    if (rounded >= size && rounded <= kMaxSmall) return alloc(rounded);
  }
  if (align > kSegmentSize / 2) return nullptr;
  return huge_alloc(size, align);
}

}  // namespace rawthread::heap

using namespace rawthread::heap;

extern "C" {

void* malloc(std::size_t size) noexcept { return alloc(size); }

void free(void* ptr) noexcept {
  if (ptr != nullptr) release(ptr);
}

void* calloc(std::size_t count, std::size_t size) noexcept {
  std::size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) return nullptr;
  void* p = alloc(total);
  if (p != nullptr) __builtin_memset(p, 0, total);
  return p;
}

// glibc's behaviour: realloc(p, 0) frees p and returns null; a block that
// still fits and is not more than half empty stays where it is.
void* realloc(void* ptr, std::size_t size) noexcept {
  if (ptr == nullptr) return alloc(size);
  if (size == 0) {
    release(ptr);
    return nullptr;
  }
  const std::size_t have = usable_size(ptr);
  if (size <= have && size >= have / 2) return ptr;
  void* moved = alloc(size);
  if (moved == nullptr) return nullptr;
  copy(moved, ptr, size < have ? size : have);
  release(ptr);
  return moved;
}

void* aligned_alloc(std::size_t align, std::size_t size) noexcept {
  if (align == 0 || (align & (align - 1)) != 0) return nullptr;
  return alloc_aligned(size, align);
}

void* memalign(std::size_t align, std::size_t size) noexcept { return aligned_alloc(align, size); }

int posix_memalign(void** out, std::size_t align, std::size_t size) noexcept {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  void* p = alloc_aligned(size, align);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

std::size_t malloc_usable_size(void* ptr) noexcept { return ptr == nullptr ? 0 : usable_size(ptr); }

// Gives the kernel back every free page the heaps keep backed, the ended
// threads' heaps' too. Returns 1 if it gave back any memory (glibc's
// convention); `pad` is ignored.
int malloc_trim(std::size_t /*pad*/) noexcept { return trim() ? 1 : 0; }

}  // extern "C"
