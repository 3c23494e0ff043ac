// SPDX-License-Identifier: MIT
// The heap under eight threads at once: each makes 50,000 random
// allocations, frees and reallocations of 1 B to 1 MiB and swaps blocks with
// the others through a shared exchange, so that many blocks are freed or
// reallocated by a thread other than the one that allocated them. Every
// block carries a pattern derived from its address, size and writer, checked
// before it is freed or reallocated: two blocks that overlapped, a block
// handed out twice, or a realloc that lost contents show as a broken
// pattern. Afterwards, with every block freed, the process's mappings and
// resident memory must be back near where they started.
//
// A program of its own, so that nothing else's memory moves the counts. No
// valgrind can look inside a program without libc: it checks its own
// invariants.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <rawthread/rawthread.hpp>

#include "check.hpp"
#include "resident.hpp"

extern "C" std::size_t malloc_usable_size(void* pointer) noexcept;
extern "C" int malloc_trim(std::size_t pad) noexcept;

namespace {

constexpr std::size_t KiB = 1024, MiB = 1024 * 1024;
constexpr int kThreads = 8;
constexpr int kOwnSlots = 32;         // blocks a thread holds
constexpr int kExchangeSlots = 256;   // blocks in the shared exchange

bool env_is_1(const char* name) {
  for (char** env = check::envp; env != nullptr && *env != nullptr; ++env) {
    const char* entry = *env;
    std::size_t i = 0;
    while (name[i] != '\0' && entry[i] == name[i]) ++i;
    if (name[i] == '\0' && entry[i] == '=') return entry[i + 1] == '1' && entry[i + 2] == '\0';
  }
  return false;
}

// xorshift64: a fixed sequence per seed, so a failure repeats.
struct Random {
  std::uint64_t state;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  // Log-uniform over [1, 1 MiB]: an octave at random, then a size in it,
  // so that most blocks are small and every size class is reached.
  std::size_t size() {
    const unsigned octave = static_cast<unsigned>(next() % 21);  // 2^0 .. 2^20
    const std::size_t low = std::size_t{1} << octave;
    const std::size_t size = low + next() % low;
    return size > MiB ? MiB : size;
  }
};

struct Block {
  unsigned char* data = nullptr;
  std::size_t size = 0;
  int writer = 0;  // the thread whose pattern it holds
};

// The pattern of a block: one 64-bit seed from (address, size, writer), each
// byte a function of the seed and its offset.
std::uint64_t seed_of(const Block& b) {
  std::uint64_t x = reinterpret_cast<std::uintptr_t>(b.data) * 0x9e3779b97f4a7c15ull ^
                    b.size * 0xc2b2ae3d27d4eb4full ^ static_cast<std::uint64_t>(b.writer + 1) << 56;
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ull;
  return x ^ (x >> 29);
}

unsigned char byte_at(std::uint64_t seed, std::size_t i) {
  return static_cast<unsigned char>((seed >> ((i & 7) * 8)) ^ (i >> 3));
}

// The offsets a block's pattern covers: all of a block to 4 KiB; of a bigger
// one the first and last 256 bytes and one 8-byte word per 4 KiB.
template <class F>
void for_each_offset(std::size_t size, F&& f) {
  if (size <= 4 * KiB) {
    for (std::size_t i = 0; i < size; ++i) f(i);
    return;
  }
  for (std::size_t i = 0; i < 256; ++i) f(i);
  for (std::size_t page = 4 * KiB; page + 8 <= size - 256; page += 4 * KiB)
    for (std::size_t i = page; i < page + 8; ++i) f(i);
  for (std::size_t i = size - 256; i < size; ++i) f(i);
}

void fill(const Block& b) {
  const std::uint64_t seed = seed_of(b);
  for_each_offset(b.size, [&](std::size_t i) { b.data[i] = byte_at(seed, i); });
}

// Whether the pattern `b` was filled with still holds in its first `limit`
// bytes (a realloc keeps only the smaller size's worth).
bool intact(const Block& b, const unsigned char* data, std::size_t limit) {
  const std::uint64_t seed = seed_of(b);
  bool ok = true;
  for_each_offset(b.size, [&](std::size_t i) {
    if (i < limit && data[i] != byte_at(seed, i)) ok = false;
  });
  return ok;
}

// What the threads saw, asserted by the main thread.
std::atomic<long> ops_done{0};
std::atomic<long> broken_patterns{0};
std::atomic<long> failed_allocations{0};
std::atomic<long> misaligned{0};
std::atomic<long> short_usable{0};
std::atomic<long> dirty_callocs{0};
std::atomic<long> foreign_frees{0};   // frees of a block another thread allocated
std::atomic<int> finished{0};

struct Own {
  Block block;
  int allocator;  // the thread that allocated it (moves with the block)
};

// The exchange: slots a thread swaps one of its blocks into, taking out what
// another thread left there. One Lock per slot.
struct SlotOwn {
  rawthread::Lock lock;
  Own own;
};
SlotOwn shared[kExchangeSlots];

void worker(int id, long ops) {
  Random random{0x2545f4914f6cdd1dull * static_cast<std::uint64_t>(id + 1)};
  Own mine[kOwnSlots] = {};
  auto check_block = [](const Own& o, std::size_t limit) {
    if (!intact(o.block, o.block.data, limit)) broken_patterns.fetch_add(1);
  };
  auto release = [&](Own& o) {
    check_block(o, o.block.size);
    if (o.allocator != id) foreign_frees.fetch_add(1, std::memory_order_relaxed);
    std::free(o.block.data);
    o = {};
  };
  for (long op = 0; op < ops; ++op) {
    Own& o = mine[random.next() % kOwnSlots];
    const std::uint64_t choice = random.next() % 100;
    if (o.block.data == nullptr) {
      // Allocate: mostly malloc, some calloc (checked zero), some aligned.
      const std::size_t size = random.size();
      unsigned char* data;
      if (choice < 10) {
        data = static_cast<unsigned char*>(std::calloc(1, size));
        if (data != nullptr) {
          bool zero = true;
          for_each_offset(size, [&](std::size_t i) { zero = zero && data[i] == 0; });
          if (!zero) dirty_callocs.fetch_add(1);
        }
      } else if (choice < 15) {
        const std::size_t alignment = std::size_t{1} << (random.next() % 17);  // to 64 KiB
        data = static_cast<unsigned char*>(aligned_alloc(alignment, size));
        if (data != nullptr && (reinterpret_cast<std::uintptr_t>(data) & (alignment - 1)) != 0)
          misaligned.fetch_add(1);
      } else {
        data = static_cast<unsigned char*>(std::malloc(size));
      }
      if (data == nullptr) {
        failed_allocations.fetch_add(1);
        continue;
      }
      if ((reinterpret_cast<std::uintptr_t>(data) & 15) != 0) misaligned.fetch_add(1);
      if (malloc_usable_size(data) < size) short_usable.fetch_add(1);
      o.block = {data, size, id};
      o.allocator = id;
      fill(o.block);
    } else if (choice < 40) {
      release(o);
    } else if (choice < 65) {
      // Realloc: the old pattern must survive in the smaller size's worth.
      const std::size_t size = random.size();
      check_block(o, o.block.size);
      auto* data = static_cast<unsigned char*>(std::realloc(o.block.data, size));
      if (data == nullptr) {
        failed_allocations.fetch_add(1);
        continue;  // the old block stays, still ours
      }
      if (!intact(o.block, data, size < o.block.size ? size : o.block.size))
        broken_patterns.fetch_add(1);
      if ((reinterpret_cast<std::uintptr_t>(data) & 15) != 0) misaligned.fetch_add(1);
      if (malloc_usable_size(data) < size) short_usable.fetch_add(1);
      if (o.allocator != id) foreign_frees.fetch_add(1, std::memory_order_relaxed);
      o.block = {data, size, id};
      o.allocator = id;
      fill(o.block);
    } else {
      // Swap with a shared slot: ours goes in, another thread's comes out,
      // checked and then refilled as ours (it stays allocated by its
      // allocator until someone frees or reallocates it).
      SlotOwn& slot = shared[random.next() % kExchangeSlots];
      slot.lock.lock();
      Own taken = slot.own;
      slot.own = o;
      slot.lock.unlock();
      o = taken;
      if (o.block.data != nullptr) {
        check_block(o, o.block.size);
        o.block.writer = id;
        fill(o.block);
      }
    }
    if ((op & 1023) == 0) ops_done.fetch_add(1024, std::memory_order_relaxed);
  }
  for (Own& o : mine)
    if (o.block.data != nullptr) release(o);
  finished.fetch_add(1);
}

TEST(eight_threads_allocate_free_and_swap_blocks_of_1_byte_to_1_mib) {
  // The count is set by the heap's huge path: a seventh of the allocations
  // are above 128 KiB, each a mapping of its own (mmap, a guard page, a page
  // fault per page the pattern touches, munmap), some 500 us of CPU apiece,
  // which makes an operation cost about 80 us on average against 5 us for
  // the rest. 50,000 per thread take about 30 s of CPU natively; under QEMU
  // (and valgrind), where every instruction and system call is emulated, a
  // tenth of that.
  const bool emulated = env_is_1("RAWTHREAD_TEST_EMULATED");
  const long ops = emulated ? 5000 : 50000;
  const long maps_before = check::count_mappings();
  const long resident_before = check::resident_bytes();
  const std::int64_t start = check::now_ns();

  static rawthread::Thread threads[kThreads];
  for (int id = 0; id < kThreads; ++id) {
    auto started = rawthread::start_joinable_thread([id, ops] { worker(id, ops); });
    REQUIRE(started.has_value());
    threads[id] = static_cast<rawthread::Thread&&>(*started);
  }
  // Natively the run takes seconds; the deadline is for a heap that hangs.
  const double deadline = emulated ? 600 : 300;
  for (auto& thread : threads) {
    auto joined = thread.join(deadline);
    REQUIRE(joined.has_value() && *joined);
  }
  CHECK_EQ(finished.load(), kThreads);

  // The exchange's leftovers, checked and freed by this thread.
  long left = 0;
  for (SlotOwn& slot : shared) {
    if (slot.own.block.data == nullptr) continue;
    if (!intact(slot.own.block, slot.own.block.data, slot.own.block.size))
      broken_patterns.fetch_add(1);
    std::free(slot.own.block.data);
    slot.own = {};
    ++left;
  }
  const long seconds = (check::now_ns() - start) / 1000000000;

  CHECK_EQ(broken_patterns.load(), 0);
  CHECK_EQ(failed_allocations.load(), 0);
  CHECK_EQ(misaligned.load(), 0);
  CHECK_EQ(short_usable.load(), 0);
  CHECK_EQ(dirty_callocs.load(), 0);
  // The exchange must really have moved blocks between threads.
  CHECK(foreign_frees.load() > ops / 10);
  CHECK(left > 0);

  // Every block is freed and every thread gone. malloc_trim gives back what
  // the heap keeps for reuse (free pages, the huge mappings kept as spares):
  // the counts are then near their start. The bounds are generous (the heap
  // keeps some memory of its own) but far below what a leak would show: a
  // few hundred blocks live at any time, tens of MiB, each huge one a mapping.
  (void)malloc_trim(0);
  const long maps_after = check::count_mappings();
  const long resident_after = check::resident_bytes();
  // What stays mapped: each ended thread's heap keeps its last segment (two
  // lines: the segment and its guard page), and the heaps' own store.
  CHECK(maps_after <= maps_before + 2 * kThreads + 8);
  if (!check::under_valgrind() && resident_before > 0)
    CHECK(resident_after <= resident_before + static_cast<long>(8 * MiB));

  (void)rawthread::sys::write_str(1, "    ops per thread ");
  (void)rawthread::sys::write_int(1, ops);
  (void)rawthread::sys::write_str(1, ", blocks freed by another thread ");
  (void)rawthread::sys::write_int(1, foreign_frees.load());
  (void)rawthread::sys::write_str(1, ", seconds ");
  (void)rawthread::sys::write_int(1, seconds);
  (void)rawthread::sys::write_str(1, ", mappings ");
  (void)rawthread::sys::write_int(1, maps_before);
  (void)rawthread::sys::write_str(1, " -> ");
  (void)rawthread::sys::write_int(1, maps_after);
  (void)rawthread::sys::write_str(1, ", resident KiB ");
  (void)rawthread::sys::write_int(1, resident_before / 1024);
  (void)rawthread::sys::write_str(1, " -> ");
  (void)rawthread::sys::write_int(1, resident_after / 1024);
  (void)rawthread::sys::write_str(1, "\n");
}

}  // namespace
