// SPDX-License-Identifier: MIT
// The runtime's heap, one entry point at a time: malloc, free, calloc,
// realloc, aligned_alloc, posix_memalign, malloc_usable_size, malloc_trim and
// every replaceable operator new and delete. The misuse that must abort
// (double free, invalid free, a throwing new that fails) runs in children.
// Many threads at once: test_malloc_torture.cpp.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#include <asm/unistd.h>
#include <linux/mman.h>

#include <rawthread/rawthread.hpp>

#include "check.hpp"
#include "kernel.hpp"
#include "resident.hpp"

// As glibc's <malloc.h> declares them.
extern "C" std::size_t malloc_usable_size(void* pointer) noexcept;
extern "C" int malloc_trim(std::size_t pad) noexcept;

// The sized forms, which <new> declares only where sized deallocation is on
// (GCC's default in C++14 and later; Clang 14 needs -fsized-deallocation).
// The runtime defines all of them.
void operator delete(void* pointer, std::size_t size) noexcept;
void operator delete[](void* pointer, std::size_t size) noexcept;
void operator delete(void* pointer, std::size_t size, std::align_val_t alignment) noexcept;
void operator delete[](void* pointer, std::size_t size, std::align_val_t alignment) noexcept;

namespace {

using rawthread::kernel::call;

constexpr std::size_t kMax = ~std::size_t{0};
constexpr std::size_t KiB = 1024, MiB = 1024 * 1024;
constexpr int kEinval = 22, kEnomem = 12, kSigAbrt = 6;

// Hides a value from the optimiser: the compiler may otherwise pair a malloc
// with its free and drop both, assume an allocation succeeded, or see a
// double free at compile time (and GCC warns of that, an error here).
template <class T>
T hide(T value) noexcept {
  asm volatile("" : "+r"(value));
  return value;
}

bool aligned_to(const void* pointer, std::size_t alignment) {
  return (reinterpret_cast<std::uintptr_t>(pointer) & (alignment - 1)) == 0;
}

// The byte a block's offset `i` holds: depends on the block's `seed` so that
// two blocks that overlapped would overwrite each other's pattern.
unsigned char pattern(std::uintptr_t seed, std::size_t i) {
  return static_cast<unsigned char>((seed * 131 + i * 7 + (i >> 8)) ^ (seed >> 5));
}

// Big blocks are written at their ends and once per 4 KiB page: every byte
// of a block of many MiB, under QEMU, would cost seconds and tell no more.
bool sampled(std::size_t i, std::size_t size) {
  return size <= MiB || i < 4 * KiB || i >= size - 4 * KiB || i % (4 * KiB) == 0;
}

void fill(void* block, std::size_t size, std::uintptr_t seed) {
  auto* bytes = static_cast<unsigned char*>(block);
  for (std::size_t i = 0; i < size; i = sampled(i + 1, size) ? i + 1 : (i + 4 * KiB) & ~(4 * KiB - 1))
    bytes[i] = pattern(seed, i);
}

// Whether a block filled at `size` still holds the pattern in its first
// `limit` bytes (a realloc keeps the smaller size's worth).
bool intact(const void* block, std::size_t size, std::uintptr_t seed,
            std::size_t limit = ~std::size_t{0}) {
  const auto* bytes = static_cast<const unsigned char*>(block);
  for (std::size_t i = 0; i < size && i < limit;
       i = sampled(i + 1, size) ? i + 1 : (i + 4 * KiB) & ~(4 * KiB - 1))
    if (bytes[i] != pattern(seed, i)) return false;
  return true;
}

bool all_zero(const void* block, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(block);
  for (std::size_t i = 0; i < size; ++i)
    if (bytes[i] != 0) return false;
  return true;
}

// The sizes the tests walk: every size to 256, then around each power of two
// to 16 MiB (the small classes' edges, the page size, the mapped blocks).
template <class F>
void for_each_size(F&& f) {
  for (std::size_t size = 0; size <= 256; ++size) f(size);
  for (std::size_t power = 512; power <= 16 * MiB; power *= 2) {
    f(power - 1);
    f(power);
    f(power + 1);
  }
}

// "0x" and the address in lower-case hex.
void to_hex(std::uintptr_t value, char* out) {
  *out++ = '0', *out++ = 'x';
  for (int shift = 60; shift >= 0; shift -= 4) *out++ = "0123456789abcdef"[(value >> shift) & 0xf];
  *out = '\0';
}

// The number written in hex after "0x" at `text`; how many digits in *digits.
std::uintptr_t parse_hex(const char* text, int* digits) {
  std::uintptr_t value = 0;
  *digits = 0;
  if (text[0] != '0' || text[1] != 'x') return 0;
  for (text += 2;; ++text, ++*digits) {
    const char c = *text;
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return value;
    value = value << 4 | static_cast<std::uintptr_t>(digit);
  }
}

// Where `part` first occurs in `text`, or null.
const char* find(const char* text, const char* part) {
  for (; *text != '\0'; ++text) {
    std::size_t i = 0;
    while (part[i] != '\0' && text[i] == part[i]) ++i;
    if (part[i] == '\0') return text;
  }
  return *part == '\0' ? text : nullptr;
}

bool contains(const char* text, const char* part) { return find(text, part) != nullptr; }

// The heap writes its fatal messages to standard error: the child's goes
// into the same pipe as its standard output.
void stderr_to_stdout() noexcept { call(__NR_dup3, 1, 2, 0); }

// Each child prints the address it is about to pass to free as its first
// line, then frees it; the parent expects the heap's message to name it.
void announce(const void* pointer) {
  char hex[24];
  to_hex(hide(reinterpret_cast<std::uintptr_t>(pointer)), hex);
  (void)rawthread::sys::write_str(1, hex);
  (void)rawthread::sys::write_str(1, "\n");
}

// Runs the child and checks that it died of SIGABRT after writing `what`
// and the address it announced (whatever the number of digits).
void expect_abort(const char* name, const char* what) {
  check::ChildResult child;
  if (!CHECK(check::run_child(name, &child, 30, stderr_to_stdout))) return;
  CHECK_EQ(child.signal, kSigAbrt);
  CHECK(!contains(child.output, "not detected"));
  int digits = 0;
  const std::uintptr_t announced = parse_hex(child.output, &digits);  // the first line
  CHECK(digits > 0);
  const char* message = find(child.output, what);
  std::uintptr_t named = 0;
  if (message != nullptr) {
    std::size_t length = 0;
    while (what[length] != '\0') ++length;
    named = parse_hex(message + length, &digits);
  }
  if (!CHECK(message != nullptr && digits > 0 && named == announced)) {
    (void)rawthread::sys::write_str(1, "    expected \"");
    (void)rawthread::sys::write_str(1, what);
    (void)rawthread::sys::write_str(1, "\" and the first line's address in:\n");
    (void)rawthread::sys::write_str(1, child.output);
  }
}

// ------------------------------------------------------------------ malloc

TEST(malloc_returns_aligned_writable_blocks_of_every_size) {
  for_each_size([](std::size_t size) {
    void* block = std::malloc(hide(size));
    if (!CHECK(block != nullptr)) return;
    CHECK(aligned_to(block, 16));
    CHECK(malloc_usable_size(block) >= size);
    fill(block, size, size);
    CHECK(intact(block, size, size));
    std::free(block);
  });
}

TEST(live_blocks_do_not_overlap) {
  // Every small size at once, each with its own pattern, checked after all
  // were written.
  static void* blocks[300];
  static std::size_t sizes[300];
  int count = 0;
  for (std::size_t size = 0; size < 300; ++size) {
    blocks[count] = std::malloc(hide(size));
    if (!CHECK(blocks[count] != nullptr)) break;
    sizes[count] = malloc_usable_size(blocks[count]);  // the whole usable size is the caller's
    CHECK(sizes[count] >= size);
    fill(blocks[count], sizes[count], reinterpret_cast<std::uintptr_t>(blocks[count]));
    ++count;
  }
  for (int i = 0; i < count; ++i) {
    CHECK(intact(blocks[i], sizes[i], reinterpret_cast<std::uintptr_t>(blocks[i])));
    std::free(blocks[i]);
  }
}

TEST(malloc_0_returns_unique_pointers) {
  void* a = std::malloc(hide(std::size_t{0}));
  void* b = std::malloc(hide(std::size_t{0}));
  CHECK(a != nullptr);
  CHECK(b != nullptr);
  CHECK(a != b);
  CHECK(aligned_to(a, 16) && aligned_to(b, 16));
  std::free(a);
  std::free(b);
}

TEST(free_of_null_does_nothing) {
  std::free(hide(static_cast<void*>(nullptr)));
  CHECK_EQ(malloc_usable_size(hide(static_cast<void*>(nullptr))), 0);
}

TEST(malloc_of_an_impossible_size_returns_null) {
  const std::size_t sizes[] = {kMax, kMax - 15, kMax - 4096, kMax - 2 * MiB, kMax / 2 + 1,
                               std::size_t{1} << 62};
  for (std::size_t size : sizes) {
    void* block = std::malloc(hide(size));
    CHECK(block == nullptr);
    std::free(block);
  }
  void* after = std::malloc(hide(std::size_t{100}));  // the heap still works
  CHECK(after != nullptr);
  std::free(after);
}

// ------------------------------------------------------------------ aligned

TEST(aligned_alloc_honours_every_power_of_two) {
  for (std::size_t alignment = 1; alignment <= 1 * MiB; alignment *= 2) {
    if (alignment > 64 * KiB && alignment != 1 * MiB) continue;
    const std::size_t sizes[] = {0, 1, alignment, 3 * alignment, alignment + 1};
    void* blocks[5];
    for (int i = 0; i < 5; ++i) {
      blocks[i] = aligned_alloc(hide(alignment), hide(sizes[i]));
      if (!CHECK(blocks[i] != nullptr)) return;
      CHECK(aligned_to(blocks[i], alignment));
      CHECK(malloc_usable_size(blocks[i]) >= sizes[i]);
      fill(blocks[i], sizes[i], alignment + i);
    }
    for (int i = 0; i < 5; ++i) {
      CHECK(intact(blocks[i], sizes[i], alignment + i));
      std::free(blocks[i]);
    }
  }
}

TEST(aligned_alloc_rejects_alignments_that_are_not_powers_of_two) {
  const std::size_t alignments[] = {0, 3, 6, 12, 24, 48, 100, 4095, 65535, MiB + 1, kMax};
  for (std::size_t alignment : alignments) {
    void* block = aligned_alloc(hide(alignment), hide(std::size_t{64}));
    CHECK(block == nullptr);
    std::free(block);
  }
}

TEST(aligned_alloc_of_an_impossible_size_returns_null) {
  CHECK(aligned_alloc(hide(std::size_t{4096}), hide(kMax - 100)) == nullptr);
  CHECK(aligned_alloc(hide(MiB), hide(kMax - MiB / 2)) == nullptr);
  CHECK(aligned_alloc(hide(std::size_t{16}), hide(kMax)) == nullptr);
}

TEST(posix_memalign_honours_every_power_of_two_multiple_of_a_pointer) {
  for (std::size_t alignment = sizeof(void*); alignment <= 1 * MiB; alignment *= 2) {
    if (alignment > 64 * KiB && alignment != 1 * MiB) continue;
    const std::size_t sizes[] = {0, 1, alignment, 2 * alignment + 3};
    void* blocks[4];
    for (int i = 0; i < 4; ++i) {
      blocks[i] = nullptr;
      if (!CHECK_EQ(posix_memalign(&blocks[i], hide(alignment), hide(sizes[i])), 0)) return;
      if (!CHECK(blocks[i] != nullptr)) return;
      CHECK(aligned_to(blocks[i], alignment));
      CHECK(malloc_usable_size(blocks[i]) >= sizes[i]);
      fill(blocks[i], sizes[i], alignment * 3 + i);
    }
    for (int i = 0; i < 4; ++i) {
      CHECK(intact(blocks[i], sizes[i], alignment * 3 + i));
      std::free(blocks[i]);
    }
  }
}

TEST(posix_memalign_rejects_bad_alignments_with_einval) {
  // Not a power of two, or (1, 2, 4) not a multiple of sizeof(void*).
  const std::size_t alignments[] = {0, 1, 2, 4, 3, 12, 24, 40, 100, 4097, MiB + 8, kMax};
  for (std::size_t alignment : alignments) {
    void* const untouched = reinterpret_cast<void*>(std::uintptr_t{0x5a5a5a50});
    void* block = untouched;
    CHECK_EQ(posix_memalign(&block, hide(alignment), hide(std::size_t{64})), kEinval);
    CHECK(block == untouched || block == nullptr);
  }
}

TEST(posix_memalign_of_an_impossible_size_is_enomem) {
  void* block = nullptr;
  CHECK_EQ(posix_memalign(&block, hide(std::size_t{64}), hide(kMax - 10)), kEnomem);
  CHECK_EQ(posix_memalign(&block, hide(MiB), hide(kMax - MiB / 2)), kEnomem);
}

// ------------------------------------------------------------------ realloc

TEST(realloc_of_null_is_malloc) {
  void* block = std::realloc(hide(static_cast<void*>(nullptr)), hide(std::size_t{100}));
  REQUIRE(block != nullptr);
  CHECK(aligned_to(block, 16));
  CHECK(malloc_usable_size(block) >= 100);
  fill(block, 100, 1);
  CHECK(intact(block, 100, 1));
  std::free(block);
}

TEST(realloc_keeps_contents_across_small_and_large_blocks) {
  // 100 B -> 200 KiB -> 8 MiB -> 10 B -> 5 KiB -> 1 B -> 64 KiB: from a small
  // class to a page span, to a mapping of its own, and back.
  const std::size_t sizes[] = {100, 200 * KiB, 8 * MiB, 10, 5 * KiB, 1, 64 * KiB};
  void* block = std::malloc(hide(sizes[0]));
  REQUIRE(block != nullptr);
  fill(block, sizes[0], 77);
  std::size_t size = sizes[0];
  for (std::size_t next : sizes) {
    void* moved = std::realloc(hide(block), hide(next));
    if (!CHECK(moved != nullptr)) {
      std::free(block);
      return;
    }
    block = moved;
    CHECK(aligned_to(block, 16));
    CHECK(malloc_usable_size(block) >= next);
    CHECK(intact(block, size, 77, next));
    fill(block, next, 77);
    size = next;
  }
  std::free(block);
}

TEST(realloc_grows_and_shrinks_in_small_steps) {
  void* block = std::malloc(1);
  REQUIRE(block != nullptr);
  fill(block, 1, 5);
  std::size_t size = 1;
  // Up by 13 bytes at a time to 6 KiB, then down by halves to one byte.
  while (size < 6 * KiB) {
    std::size_t next = size + 13;
    void* moved = std::realloc(hide(block), hide(next));
    if (!CHECK(moved != nullptr)) break;
    block = moved;
    if (!CHECK(intact(block, size, 5))) break;
    fill(block, next, 5);
    size = next;
  }
  for (std::size_t next = 4 * MiB; next >= 1; next /= 2) {
    void* moved = std::realloc(hide(block), hide(next));
    if (!CHECK(moved != nullptr)) break;
    block = moved;
    if (!CHECK(intact(block, size, 5, next))) break;
    fill(block, next, 5);
    size = next;
  }
  std::free(block);
}

TEST(realloc_moves_a_block_boxed_in_by_its_neighbours) {
  // Neighbours on both sides stay live, so a block that grows must move
  // (or grow in place) without touching them.
  static void* blocks[64];
  for (int i = 0; i < 64; ++i) {
    blocks[i] = std::malloc(hide(std::size_t{48}));
    REQUIRE(blocks[i] != nullptr);
    fill(blocks[i], 48, 1000 + i);
  }
  for (int i = 1; i < 64; i += 2) {
    void* moved = std::realloc(hide(blocks[i]), hide(std::size_t{480}));
    REQUIRE(moved != nullptr);
    blocks[i] = moved;
    CHECK(intact(blocks[i], 48, 1000 + i));
    fill(blocks[i], 480, 1000 + i);
  }
  for (int i = 0; i < 64; ++i) {
    CHECK(intact(blocks[i], i % 2 == 1 ? 480 : 48, 1000 + i));
    std::free(blocks[i]);
  }
}

TEST(realloc_of_an_aligned_block_keeps_its_contents) {
  void* block = aligned_alloc(hide(std::size_t{4096}), hide(std::size_t{4096}));
  REQUIRE(block != nullptr);
  fill(block, 4096, 9);
  void* moved = std::realloc(hide(block), hide(3 * MiB));
  REQUIRE(moved != nullptr);
  CHECK(intact(moved, 4096, 9));
  std::free(moved);
}

TEST(realloc_to_an_impossible_size_returns_null_and_keeps_the_block) {
  void* block = std::malloc(hide(std::size_t{1000}));
  REQUIRE(block != nullptr);
  fill(block, 1000, 3);
  const std::size_t sizes[] = {kMax, kMax - 4096, kMax / 2 + 1};
  for (std::size_t size : sizes) CHECK(std::realloc(hide(block), hide(size)) == nullptr);
  CHECK(intact(block, 1000, 3));
  std::free(block);
}

// glibc's documented behaviour, which the runtime follows: realloc(p, 0)
// frees p and returns null. That p is freed shows in a child: freeing it
// again is a double free.
TEST(realloc_to_0_frees_the_block_and_returns_null) {
  void* block = std::malloc(hide(std::size_t{100}));
  REQUIRE(block != nullptr);
  CHECK(std::realloc(hide(block), hide(std::size_t{0})) == nullptr);
}

CHILD(free_after_realloc_to_0) {
  void* block = hide(std::malloc(hide(std::size_t{100})));
  void* again = hide(block);
  void* other = std::malloc(hide(std::size_t{100}));  // keeps the block's page in use
  announce(block);
  if (std::realloc(block, hide(std::size_t{0})) != nullptr) return 4;
  std::free(again);
  (void)rawthread::sys::write_str(1, "not detected\n");
  std::free(other);
  return 0;
}

// ------------------------------------------------------------------ usable size

TEST(the_whole_usable_size_is_writable) {
  // Fill every block to its usable size while its neighbours are live: a
  // usable size that reached into the next block would break its pattern.
  static void* blocks[40];
  static std::size_t usable[40];
  int count = 0;
  for (std::size_t size = 1; size <= 300 * KiB && count < 40; size = size * 3 / 2 + 1) {
    blocks[count] = std::malloc(hide(size));
    if (!CHECK(blocks[count] != nullptr)) break;
    usable[count] = malloc_usable_size(blocks[count]);
    CHECK(usable[count] >= size);
    fill(blocks[count], usable[count], 40 + count);
    ++count;
  }
  for (int i = 0; i < count; ++i) {
    CHECK(intact(blocks[i], usable[i], 40 + i));
    std::free(blocks[i]);
  }
}

// ------------------------------------------------------------------ calloc

TEST(calloc_returns_zeroed_blocks) {
  const std::size_t counts[] = {0, 1, 3, 10, 100, 1000, 12345, 70000, 1 << 20, 3 << 20};
  for (std::size_t count : counts)
    for (std::size_t size = 0; size <= 8; size += 4) {
      void* block = std::calloc(hide(count), hide(size));
      if (!CHECK(block != nullptr)) continue;
      CHECK(aligned_to(block, 16));
      CHECK(all_zero(block, count * size));
      std::free(block);
    }
}

TEST(calloc_zeroes_a_reused_dirty_block) {
  // The freed blocks were dirty: calloc must clear what it hands out again,
  // in small classes, page spans and mappings of their own.
  const std::size_t sizes[] = {16, 100, 1000, 5000, 70000, 300 * KiB, 4 * MiB};
  static void* blocks[32];
  for (std::size_t size : sizes) {
    for (auto& block : blocks) {
      block = std::malloc(hide(size));
      REQUIRE(block != nullptr);
      for (std::size_t i = 0; i < size; ++i) static_cast<unsigned char*>(block)[i] = 0xa5;
    }
    for (void* block : blocks) std::free(block);
    for (auto& block : blocks) {
      block = std::calloc(1, hide(size));
      REQUIRE(block != nullptr);
      CHECK(all_zero(block, size));
    }
    for (void* block : blocks) std::free(block);
  }
}

TEST(calloc_returns_null_when_the_product_overflows) {
  CHECK(std::calloc(hide(kMax), hide(std::size_t{2})) == nullptr);
  CHECK(std::calloc(hide(std::size_t{2}), hide(kMax)) == nullptr);
  CHECK(std::calloc(hide(kMax / 2 + 1), hide(std::size_t{2})) == nullptr);
  CHECK(std::calloc(hide(std::size_t{1} << 32), hide(std::size_t{1} << 32)) == nullptr);
  CHECK(std::calloc(hide(std::size_t{1} << 33), hide(std::size_t{1} << 31)) == nullptr);
  // No overflow, but more than any address space holds.
  CHECK(std::calloc(hide(std::size_t{1} << 31), hide(std::size_t{1} << 31)) == nullptr);
}

// ------------------------------------------------------------------ new and delete

struct alignas(64) Wide {
  unsigned char bytes[64];
};
std::atomic<int> counted_alive{0};
struct Counted {
  long value = 42;
  Counted() { counted_alive.fetch_add(1); }
  ~Counted() { counted_alive.fetch_sub(1); }
};

TEST(every_operator_new_and_delete_form_works) {
  const std::size_t n = hide(std::size_t{200});
  const auto align = static_cast<std::align_val_t>(hide(std::size_t{256}));
  void* p;
  // new(size), new[](size): unsized and sized delete.
  p = operator new(n);
  CHECK(aligned_to(p, 16)), fill(p, n, 1), CHECK(intact(p, n, 1));
  operator delete(p);
  p = operator new(n);
  fill(p, n, 2);
  operator delete(p, n);
  p = operator new[](n);
  CHECK(aligned_to(p, 16)), fill(p, n, 3), CHECK(intact(p, n, 3));
  operator delete[](p);
  p = operator new[](n);
  operator delete[](p, n);
  // nothrow.
  p = operator new(n, std::nothrow);
  CHECK(p != nullptr), fill(p, n, 4);
  operator delete(p, std::nothrow);
  p = operator new[](n, std::nothrow);
  CHECK(p != nullptr), fill(p, n, 5);
  operator delete[](p, std::nothrow);
  // Aligned: unsized and sized delete.
  p = operator new(n, align);
  CHECK(aligned_to(p, 256)), fill(p, n, 6), CHECK(intact(p, n, 6));
  operator delete(p, align);
  p = operator new(n, align);
  CHECK(aligned_to(p, 256));
  operator delete(p, n, align);
  p = operator new[](n, align);
  CHECK(aligned_to(p, 256)), fill(p, n, 7);
  operator delete[](p, align);
  p = operator new[](n, align);
  CHECK(aligned_to(p, 256));
  operator delete[](p, n, align);
  // Aligned and nothrow.
  p = operator new(n, align, std::nothrow);
  CHECK(p != nullptr && aligned_to(p, 256));
  operator delete(p, align, std::nothrow);
  p = operator new[](n, align, std::nothrow);
  CHECK(p != nullptr && aligned_to(p, 256));
  operator delete[](p, align, std::nothrow);
  // Deleting null does nothing in every form.
  operator delete(hide(static_cast<void*>(nullptr)));
  operator delete[](hide(static_cast<void*>(nullptr)));
  operator delete(hide(static_cast<void*>(nullptr)), align);
}

TEST(aligned_new_honours_every_power_of_two) {
  for (std::size_t alignment = 1; alignment <= 1 * MiB; alignment *= 2) {
    if (alignment > 64 * KiB && alignment != 1 * MiB) continue;
    const auto align = static_cast<std::align_val_t>(hide(alignment));
    void* a = operator new(hide(alignment + 8), align);
    void* b = operator new[](hide(std::size_t{1}), align);
    void* c = operator new(hide(2 * alignment), align, std::nothrow);
    CHECK(aligned_to(a, alignment) && aligned_to(b, alignment) && aligned_to(c, alignment));
    if (c == nullptr) return;
    fill(a, alignment + 8, 1), fill(b, 1, 2), fill(c, 2 * alignment, 3);
    CHECK(intact(a, alignment + 8, 1) && intact(b, 1, 2) && intact(c, 2 * alignment, 3));
    operator delete(a, alignment + 8, align);
    operator delete[](b, align);
    operator delete(c, align, std::nothrow);
  }
}

TEST(new_expressions_construct_and_delete_expressions_destroy) {
  // What the compiler emits for over-aligned types and arrays with
  // destructors (sized deletes with GCC, unsized with Clang).
  Wide* wide = new Wide;
  CHECK(aligned_to(wide, 64));
  Wide* wides = new Wide[hide(std::size_t{7})];
  CHECK(aligned_to(wides, 64));
  delete wide;
  delete[] wides;
  Counted* one = new Counted;
  Counted* many = new Counted[hide(std::size_t{10})];
  CHECK_EQ(counted_alive.load(), 11);
  CHECK_EQ(one->value + many[9].value, 84);
  delete one;
  delete[] many;
  CHECK_EQ(counted_alive.load(), 0);
  auto* nothrow_many = new (std::nothrow) Counted[hide(std::size_t{3})];
  CHECK(nothrow_many != nullptr);
  delete[] nothrow_many;
}

TEST(nothrow_new_of_an_absurd_size_returns_null) {
  const std::size_t huge = hide(kMax - 100);
  const auto align = static_cast<std::align_val_t>(hide(std::size_t{64}));
  CHECK(operator new(huge, std::nothrow) == nullptr);
  CHECK(operator new[](huge, std::nothrow) == nullptr);
  CHECK(operator new(huge, align, std::nothrow) == nullptr);
  CHECK(operator new[](huge, align, std::nothrow) == nullptr);
  CHECK(operator new(hide(std::size_t{1} << 62), std::nothrow) == nullptr);
  char* chars = new (std::nothrow) char[hide(kMax / 2)];
  CHECK(chars == nullptr);
  delete[] chars;
}

CHILD(throwing_new_fails) {
  void* block = operator new(hide(kMax - 100));
  (void)rawthread::sys::write_str(1, "operator new returned\n");
  return block == nullptr ? 1 : 2;
}

CHILD(throwing_aligned_new_fails) {
  void* block = operator new[](hide(kMax / 2), static_cast<std::align_val_t>(hide(std::size_t{128})));
  (void)rawthread::sys::write_str(1, "operator new returned\n");
  return block == nullptr ? 1 : 2;
}


TEST(a_throwing_new_that_fails_aborts_with_a_message) {
  for (const char* name : {"throwing_new_fails", "throwing_aligned_new_fails"}) {
    check::ChildResult child;
    if (!CHECK(check::run_child(name, &child, 30, stderr_to_stdout))) continue;
    CHECK_EQ(child.signal, kSigAbrt);
    CHECK(contains(child.output, "operator new"));  // the message says who failed
    CHECK(!contains(child.output, "returned"));
  }
}

// The new-handler runs each time the allocation fails, until it removes
// itself; then the throwing new aborts.
std::atomic<int> handler_calls{0};
void handler() {
  (void)rawthread::sys::write_str(1, "handler\n");
  if (handler_calls.fetch_add(1) == 2) std::set_new_handler(nullptr);
}

CHILD(new_handler_runs_until_it_gives_up) {
  std::set_new_handler(handler);
  void* block = operator new(hide(kMax - 100));
  (void)rawthread::sys::write_str(1, "operator new returned\n");
  return block == nullptr ? 1 : 2;
}

TEST(a_throwing_new_calls_the_new_handler_before_it_aborts) {
  check::ChildResult child;
  REQUIRE(check::run_child("new_handler_runs_until_it_gives_up", &child, 30, stderr_to_stdout));
  CHECK_EQ(child.signal, kSigAbrt);
  const char* first = find(child.output, "handler\n");
  const char* second = first != nullptr ? find(first + 1, "handler\n") : nullptr;
  const char* third = second != nullptr ? find(second + 1, "handler\n") : nullptr;
  CHECK(third != nullptr && find(third + 1, "handler\n") == nullptr);
  CHECK(!contains(child.output, "returned"));
}

// ------------------------------------------------------------------ misuse


int free_twice(std::size_t size) {
  void* block = hide(std::malloc(hide(size)));
  void* other = std::malloc(hide(size));  // keeps the block's page or span in use
  void* again = hide(block);  // the compiler must not see the second free coming
  announce(block);
  std::free(block);
  std::free(again);
  (void)rawthread::sys::write_str(1, "not detected\n");
  std::free(other);
  return 0;
}

CHILD(double_free_small) { return free_twice(24); }
CHILD(double_free_medium) { return free_twice(20000); }
CHILD(double_free_page_span) { return free_twice(300 * KiB); }

CHILD(double_delete) {
  auto* object = new Counted;
  auto* other = new Counted;
  void* again = hide(static_cast<void*>(object));
  announce(object);
  delete object;
  operator delete(again, sizeof(Counted));
  (void)rawthread::sys::write_str(1, "not detected\n");
  delete other;
  return 0;
}

CHILD(free_inside_a_small_block) {
  auto* block = static_cast<char*>(hide(std::malloc(hide(std::size_t{64}))));
  announce(block + 16);
  std::free(hide(block + 16));
  (void)rawthread::sys::write_str(1, "not detected\n");
  return 0;
}

CHILD(free_inside_a_large_block) {
  auto* block = static_cast<char*>(hide(std::malloc(hide(std::size_t{100000}))));
  announce(block + 64);
  std::free(hide(block + 64));
  (void)rawthread::sys::write_str(1, "not detected\n");
  return 0;
}

CHILD(free_inside_a_mapped_block) {
  auto* block = static_cast<char*>(hide(std::malloc(hide(8 * MiB))));
  announce(block + 4096);
  std::free(hide(block + 4096));
  (void)rawthread::sys::write_str(1, "not detected\n");
  return 0;
}

CHILD(free_of_a_stack_address) {
  char local[64] = {1};
  announce(local + 16);
  std::free(hide(static_cast<void*>(local + 16)));
  (void)rawthread::sys::write_str(1, "not detected\n");
  return local[0];
}

CHILD(free_of_a_foreign_mapping) {
  // A page the heap never saw, at its start and 32 bytes in.
  long page = rawthread::kernel::mmap(64 * KiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (rawthread::kernel::failed(page)) return 3;
  auto* pointer = reinterpret_cast<char*>(page) + 32;
  announce(pointer);
  std::free(hide(static_cast<void*>(pointer)));
  (void)rawthread::sys::write_str(1, "not detected\n");
  return 0;
}

CHILD(free_of_a_foreign_mapping_start) {
  long page = rawthread::kernel::mmap(64 * KiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (rawthread::kernel::failed(page)) return 3;
  auto* pointer = reinterpret_cast<char*>(page);
  announce(pointer);
  std::free(hide(static_cast<void*>(pointer)));
  (void)rawthread::sys::write_str(1, "not detected\n");
  return 0;
}


TEST(a_double_free_aborts_naming_the_block) {
  expect_abort("double_free_small", "free(): double free of ");
  expect_abort("double_free_medium", "free(): double free of ");
  expect_abort("double_free_page_span", "free(): double free of ");
  expect_abort("double_delete", "free(): double free of ");
}

TEST(realloc_to_0_freed_the_block) {
  expect_abort("free_after_realloc_to_0", "free(): double free of ");
}

TEST(an_invalid_free_aborts_naming_the_pointer) {
  expect_abort("free_inside_a_small_block", "free(): invalid pointer ");
  expect_abort("free_inside_a_large_block", "free(): invalid pointer ");
  expect_abort("free_inside_a_mapped_block", "free(): invalid pointer ");
  expect_abort("free_of_a_stack_address", "free(): invalid pointer ");
  expect_abort("free_of_a_foreign_mapping", "free(): invalid pointer ");
  expect_abort("free_of_a_foreign_mapping_start", "free(): invalid pointer ");
}

// ------------------------------------------------------------------ threads

TEST(blocks_move_between_threads_and_outlive_them) {
  // Blocks a thread allocated, freed by the main thread after it ended (its
  // heap abandoned), and blocks the main thread allocated, freed by threads.
  constexpr int kThreads = 4, kBlocks = 200;
  static void* from_threads[kThreads][kBlocks];
  static void* from_main[kThreads][kBlocks];
  static std::atomic<int> bad{0};
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kBlocks; ++i) {
      std::size_t size = 1 + (static_cast<std::size_t>(i) * 977) % 20000;
      from_main[t][i] = std::malloc(size);
      REQUIRE(from_main[t][i] != nullptr);
      fill(from_main[t][i], size, size);
    }
  for (int t = 0; t < kThreads; ++t)
    REQUIRE(rawthread::start_new_thread([t] {
              for (int i = 0; i < kBlocks; ++i) {
                std::size_t size = 1 + (static_cast<std::size_t>(i) * 977) % 20000;
                if (!intact(from_main[t][i], size, size)) bad.fetch_add(1);
                std::free(from_main[t][i]);
                from_threads[t][i] = std::malloc(size + t);
                if (from_threads[t][i] == nullptr) {
                  bad.fetch_add(1);
                  continue;
                }
                fill(from_threads[t][i], size + t, size * 5 + t);
              }
            }).has_value());
  REQUIRE(check::wait_for_threads(0, 60));
  CHECK_EQ(bad.load(), 0);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kBlocks; ++i) {
      std::size_t size = 1 + (static_cast<std::size_t>(i) * 977) % 20000;
      if (from_threads[t][i] == nullptr) continue;
      CHECK(intact(from_threads[t][i], size + t, size * 5 + t));
      std::free(from_threads[t][i]);
    }
}

// ------------------------------------------------------------------ memory returned

TEST(a_freed_large_block_goes_back_to_the_kernel) {
  const long maps_before = check::count_mappings();
  const long resident_before = check::resident_bytes();
  const std::size_t size = 64 * MiB;
  auto* block = static_cast<unsigned char*>(std::malloc(hide(size)));
  REQUIRE(block != nullptr);
  for (std::size_t i = 0; i < size; i += 4096) block[i] = 1;  // every page resident
  const long resident_full = check::resident_bytes();
  std::free(block);
  const long maps_after = check::count_mappings();
  const long resident_after = check::resident_bytes();
  CHECK(maps_after <= maps_before);
  if (!check::under_valgrind() && resident_before > 0) {
    // Valgrind's resident memory is its own.
    CHECK(resident_full >= resident_before + static_cast<long>(size) - static_cast<long>(4 * MiB));
    CHECK(resident_after <= resident_before + static_cast<long>(4 * MiB));
  }
}

TEST(malloc_trim_returns_freed_pages) {
  // Many small blocks over many pages, all freed: malloc_trim gives their
  // pages back (1), after which it has nothing left to give (0).
  static void* blocks[4096];
  for (auto& block : blocks) {
    block = std::malloc(hide(std::size_t{1000}));
    REQUIRE(block != nullptr);
    fill(block, 1000, 1);
  }
  for (void* block : blocks) std::free(block);
  const long resident_freed = check::resident_bytes();
  const int first = malloc_trim(0);
  const int second = malloc_trim(0);
  const long resident_trimmed = check::resident_bytes();
  CHECK(first == 0 || first == 1);
  CHECK_EQ(second, 0);
  CHECK(resident_trimmed <= resident_freed);
}

}  // namespace
