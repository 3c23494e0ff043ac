// SPDX-License-Identifier: MIT
// The per-thread heaps: their slow paths, their pages, and what becomes of a
// heap when its thread ends.
//
// Everything here runs on the heap's own thread, except the abandoned list
// (under heaps_lock) and the inbox (atomic): a heap's pages and lists need
// no lock at all. A thread's heap outlives it: at its end the heap gives
// back what it can and goes on the abandoned list, and the next thread that
// needs a heap takes it over, with the blocks still live in it. Frees from
// other threads meanwhile collect in its inbox.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <linux/mman.h>

#include <rawthread/lock.hpp>

#include "hooks.hpp"
#include "kernel.hpp"
#include "layout.hpp"
#include "rt.hpp"

namespace rawthread::heap {

Page empty_page{};
thread_local constinit Heap* thread_heap = nullptr;

namespace {

// Free slots a heap keeps backed before it gives them back to the kernel:
// 2 MiB, or a quarter of the slots its pages use, whichever is more. Pages
// that empty and fill again as a program's data moves then cost no system
// call (a madvise in a threaded process is a TLB shootdown on every CPU
// that runs one of its threads), and the resident size still follows live
// data: within 2 MiB or 25% per thread.
constexpr std::uint32_t kDirtyBudget = 32;

bool over_budget(const Heap* h, std::uint32_t more) noexcept {
  const std::uint32_t budget = h->used_slots / 4 > kDirtyBudget ? h->used_slots / 4 : kDirtyBudget;
  return h->dirty_slots + more > budget;
}

// The set bits of a slot mask. Not __builtin_popcountll: without a popcount
// instruction (x86_64's baseline, riscv64 without Zbb) GCC calls libgcc's
// __popcountdi2, and programs of the runtime link no libgcc.
std::uint32_t bit_count(std::uint64_t x) noexcept {
  x = x - ((x >> 1) & 0x5555555555555555u);
  x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fu;
  return static_cast<std::uint32_t>((x * 0x0101010101010101u) >> 56);
}

Lock heaps_lock;
Heap* abandoned = nullptr;     // guarded by heaps_lock
char* heap_store = nullptr;    // guarded by heaps_lock: where the next Heap goes
char* heap_store_end = nullptr;

std::uint64_t run_mask(unsigned first, unsigned slots) noexcept {
  return (slots == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << slots) - 1) << first;
}

// The first of `slots` consecutive free slots, or kSlots.
unsigned find_run(std::uint64_t free, unsigned slots) noexcept {
  if (slots == 1) return free == 0 ? kSlots : static_cast<unsigned>(__builtin_ctzll(free));
  for (unsigned first = 1; first + slots <= kSlots; ++first)
    if ((free & run_mask(first, slots)) == run_mask(first, slots)) return first;
  return kSlots;
}

void release_page(Heap* h, Page* p) noexcept;

void link_front(Heap* h, Page* p) noexcept {
  Page*& head = h->pages[p->size_class];
  // An empty first page was kept only for being first (page_changed).
  if (head != &empty_page && head->used == 0) release_page(h, head);
  p->prev = nullptr;
  p->next = head == &empty_page ? nullptr : head;
  if (p->next != nullptr) p->next->prev = p;
  head = p;
  p->linked = true;
}

void unlink(Heap* h, Page* p) noexcept {
  if (p->prev != nullptr) p->prev->next = p->next;
  else h->pages[p->size_class] = p->next != nullptr ? p->next : &empty_page;
  if (p->next != nullptr) p->next->prev = p->prev;
  p->linked = false;
}

void unlink_segment(Heap* h, Segment* s) noexcept {
  Segment** at = &h->segments;
  while (*at != s) at = &(*at)->next;
  *at = s->next;
}

std::size_t page_bytes(const Page* p) noexcept {
  return static_cast<std::size_t>(p->slots) * kSlotSize;
}

// Gives backed free slots to the kernel: every one (`all`), or until the
// heap is within its budget again (the budget shrinks with the heap, so a
// heap that gave back most of its data keeps 2 MiB backed, not a quarter of
// its peak). True if it gave any back.
bool decommit_backed(Heap* h, bool all) noexcept {
  bool any = false;
  for (Segment* s = h->segments; s != nullptr; s = s->next)
    for (std::uint64_t dirty = s->dirty_slots; dirty != 0; dirty &= dirty - 1) {
      if (!all && !over_budget(h, 0)) return any;
      const unsigned slot = static_cast<unsigned>(__builtin_ctzll(dirty));
      decommit(reinterpret_cast<char*>(s) + slot * kSlotSize,
               kSlotSize - (slot == kSlots - 1 ? guard_size() : 0));
      s->dirty_slots &= ~(std::uint64_t{1} << slot);
      --h->dirty_slots;
      any = true;
    }
  return any;
}

// A page with no block in use goes back to its segment's free slots, backed
// while the heap's budget lasts; a segment with nothing left in use goes
// back to the kernel, unless it is the heap's last.
void release_page(Heap* h, Page* p) noexcept {
  if (p->linked) unlink(h, p);
  Segment* s = segment_of(p->start);
  const unsigned first = static_cast<unsigned>((p->start - reinterpret_cast<char*>(s)) >> kSlotShift);
  const std::uint64_t mask = run_mask(first, p->slots);
  for (unsigned i = 0; i < p->slots; ++i) s->pages[first + i].state = PageState::kFree;
  s->free_slots |= mask;
  h->used_slots -= p->slots;
  if (over_budget(h, p->slots)) {
    decommit(p->start, page_bytes(p) - (first + p->slots == kSlots ? guard_size() : 0));
  } else {
    s->dirty_slots |= mask;
    h->dirty_slots += p->slots;
  }
  decommit_backed(h, false);
  if (s->free_slots == usable_slots() && !(h->segments == s && s->next == nullptr)) {
    h->dirty_slots -= bit_count(s->dirty_slots);
    unlink_segment(h, s);
    drop_segment(s);
  }
}

Page* new_page(Heap* h, unsigned size_class);

void take_inbox(Heap* h) noexcept {
  // Acquire: pairs with free_remote's release, for each block's link.
  Block* b = h->inbox.exchange(nullptr, std::memory_order_acquire);
  while (b != nullptr) {
    Block* next = b->next;
    free_local(h, page_of(segment_of(b), b), b);
    b = next;
  }
}

// Everything a heap holds that no live block needs.
bool give_back(Heap* h) noexcept {
  take_inbox(h);
  bool any = false;
  for (unsigned c = 0; c < kClasses; ++c)
    for (Page* p = h->pages[c]; p != &empty_page && p != nullptr;) {
      Page* next = p->next;
      if (p->used == 0) {
        release_page(h, p);
        any = true;
      }
      p = next;
    }
  return decommit_backed(h, true) || any;
}

// The calling thread's heap, as the thread ends (rt::release_thread_heap).
void abandon_thread_heap() noexcept {
  Heap* h = thread_heap;
  if (h == nullptr) return;
  thread_heap = nullptr;
  give_back(h);
  heaps_lock.lock();
  h->next_abandoned = abandoned;
  abandoned = h;
  heaps_lock.unlock();
}

Heap* take_heap() noexcept {
  heaps_lock.lock();
  Heap* h = abandoned;
  if (h != nullptr) {
    abandoned = h->next_abandoned;
  } else {
    if (heap_store_end - heap_store < static_cast<std::ptrdiff_t>(sizeof(Heap))) {
      const long got = kernel::mmap(kSlotSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      if (!kernel::failed(got)) {
        heap_store = reinterpret_cast<char*>(got);
        heap_store_end = heap_store + kSlotSize;
      }
    }
    if (heap_store_end - heap_store >= static_cast<std::ptrdiff_t>(sizeof(Heap))) {
      h = reinterpret_cast<Heap*>(heap_store);
      heap_store += (sizeof(Heap) + 63) & ~std::size_t{63};
      for (Page*& p : h->pages) p = &empty_page;
    }
  }
  heaps_lock.unlock();
  // The thread's end gives the heap back (src/thread.cpp, finish).
  if (h != nullptr) hooks::run_thread_exit.store(rt::thread_end, std::memory_order_release);
  return h;
}

// Carves up to 4 KiB of never-used blocks (at least one) onto the free
// list: the kernel backs a fresh page only as its blocks are handed out.
bool carve(Page* p) noexcept {
  const std::size_t size = p->block_size;
  if (p->carve + size > p->end) return false;
  std::size_t count = (p->end - p->carve) / size;
  const std::size_t batch = size >= 4096 ? 1 : 4096 / size;
  if (count > batch) count = batch;
  Block* first = reinterpret_cast<Block*>(p->carve);
  Block* b = first;
  for (std::size_t i = 1; i < count; ++i) {
    Block* next = reinterpret_cast<Block*>(reinterpret_cast<char*>(b) + size);
    b->next = next;
    b = next;
  }
  b->next = p->free;
  p->free = first;
  p->carve += count * size;
  return true;
}

Page* new_page(Heap* h, unsigned size_class) {
  const unsigned slots = page_slots(class_size(size_class));
  Segment* s = nullptr;
  unsigned first = kSlots;
  const std::size_t size = class_size(size_class);
  // A page that ends at the guard has a page less: a 1 MiB block does not
  // fit there.
  const std::uint64_t allowed =
      slots * kSlotSize - guard_size() < size ? ~(std::uint64_t{1} << (kSlots - 1)) : ~std::uint64_t{0};
  // Slots still backed first (no page faults, and they leave the budget),
  // then any.
  for (s = h->segments; s != nullptr; s = s->next)
    if ((first = find_run(s->free_slots & s->dirty_slots & allowed, slots)) != kSlots) break;
  if (s == nullptr)
    for (s = h->segments; s != nullptr; s = s->next)
      if ((first = find_run(s->free_slots & allowed, slots)) != kSlots) break;
  if (s == nullptr) {
    // Before asking the kernel for more, give it back what the ended
    // threads' heaps no longer use.
    heaps_lock.lock();
    for (Heap* a = abandoned; a != nullptr; a = a->next_abandoned) give_back(a);
    heaps_lock.unlock();
    s = new_segment(h);
    if (s == nullptr) return nullptr;
    s->next = h->segments;
    h->segments = s;
    first = find_run(s->free_slots & allowed, slots);
  }
  const std::uint64_t mask = run_mask(first, slots);
  h->dirty_slots -= bit_count(s->dirty_slots & mask);
  h->used_slots += slots;
  s->dirty_slots &= ~mask;
  s->free_slots &= ~mask;
  for (unsigned i = 0; i < slots; ++i) {
    s->head_of[first + i] = static_cast<std::uint8_t>(first);
    s->pages[first + i].state = PageState::kTail;
  }
  Page* p = &s->pages[first];
  p->start = reinterpret_cast<char*>(s) + first * kSlotSize;
  std::size_t room = slots * kSlotSize - (first + slots == kSlots ? guard_size() : 0);
  p->end = p->start + room / size * size;
  p->carve = p->start;
  p->free = nullptr;
  p->block_size = static_cast<std::uint32_t>(size);
  p->used = 0;
  p->divide_magic = ~std::uint64_t{0} / size + 1;
  p->size_class = static_cast<std::uint8_t>(size_class);
  p->slots = static_cast<std::uint8_t>(slots);
  p->state = PageState::kInUse;
  p->linked = false;
  return p;
}

}  // namespace

void* alloc_slow(unsigned size_class) noexcept {
  Heap* h = thread_heap;
  if (h == nullptr) {
    h = take_heap();
    if (h == nullptr) return nullptr;
    thread_heap = h;
  }
  take_inbox(h);
  Page* p;
  for (;;) {
    p = h->pages[size_class];
    if (p == &empty_page) break;
    if (p->free != nullptr || carve(p)) goto pop;
    unlink(h, p);  // full: free_local links it again when a block comes back
  }
  p = new_page(h, size_class);
  if (p == nullptr) return nullptr;
  link_front(h, p);
  carve(p);
pop:
  Block* b = p->free;
  p->free = b->next;
  ++p->used;
  b->mark = 0;
  return b;
}

// The rare turns of a local free: the page's last block came back, or the
// page was full and now has room again.
void page_changed(Heap* h, Page* p) noexcept {
  if (p->used == 0) {
    // The class's first page stays, empty: a thread that frees and
    // allocates one block in a loop would otherwise get a new page each
    // time.
    if (!(p->linked && h->pages[p->size_class] == p)) release_page(h, p);
  } else if (!p->linked) {
    link_front(h, p);
  }
}

bool trim() noexcept {
  bool any = drop_spares();
  if (Heap* h = thread_heap) any = give_back(h);
  heaps_lock.lock();
  for (Heap* a = abandoned; a != nullptr; a = a->next_abandoned) any = give_back(a) || any;
  heaps_lock.unlock();
  return any;
}

}  // namespace rawthread::heap

void rawthread::rt::release_thread_heap() noexcept { heap::abandon_thread_heap(); }

// The heaps' lock before the spares' (give_back, under heaps_lock, may keep
// a spare), as every other path takes them. Holding both across the clone
// leaves the child an abandoned list and spare list that no thread was in
// the middle of changing. The child keeps its own thread's heap; the heaps
// of the parent's other threads stay owned by threads it does not have (their
// blocks may still be freed: a remote free is one atomic push).
void rawthread::rt::heap_at_fork(hooks::ForkPhase phase) noexcept {
  using hooks::ForkPhase;
  if (phase == ForkPhase::prepare) {
    heap::heaps_lock.lock();
    heap::spares_at_fork(phase);
  } else if (phase == ForkPhase::parent) {
    heap::spares_at_fork(phase);
    heap::heaps_lock.unlock();
  } else {
    heap::spares_at_fork(phase);
    heap::heaps_lock.at_fork_reinit();
  }
}
