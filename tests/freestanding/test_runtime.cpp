// SPDX-License-Identifier: MIT
// What the compiler calls: the memory functions, guarded statics raced by
// threads, virtual dispatch with a virtual destructor (its vtable names
// operator delete), and the stack protector: this binary is built with
// -fstack-protector-strong, so every thread's functions check the canary.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>  // memcpy, memmove, memset, memcmp, strlen: the runtime's

#include <rawthread/rawthread.hpp>

#include "check.hpp"

extern "C" std::uintptr_t __stack_chk_guard;  // the runtime's, on aarch64 and riscv64

namespace {

// Pattern bytes, distinct at every offset of a 64-byte window.
unsigned char pattern(std::size_t i) { return static_cast<unsigned char>(i * 7 + 3); }

// The calls go through volatile pointers, so the compiler cannot fold them
// into its own inline copies and the runtime's functions are what runs.
void* (*volatile do_memcpy)(void*, const void*, std::size_t) noexcept = memcpy;
void* (*volatile do_memmove)(void*, const void*, std::size_t) noexcept = memmove;
void* (*volatile do_memset)(void*, int, std::size_t) noexcept = memset;
int (*volatile do_memcmp)(const void*, const void*, std::size_t) noexcept = memcmp;
std::size_t (*volatile do_strlen)(const char*) noexcept = strlen;

}  // namespace

TEST(memcpy_and_memset_at_every_alignment_and_length) {
  static unsigned char from[96], to[96];
  int bad = 0;
  for (std::size_t offset_to = 0; offset_to < 9; ++offset_to)
    for (std::size_t offset_from = 0; offset_from < 9; ++offset_from)
      for (std::size_t size = 0; size < 70; ++size) {
        for (std::size_t i = 0; i < sizeof from; ++i) from[i] = pattern(i), to[i] = 0xee;
        if (do_memcpy(to + offset_to, from + offset_from, size) != to + offset_to) ++bad;
        for (std::size_t i = 0; i < sizeof to; ++i) {
          bool inside = i >= offset_to && i < offset_to + size;
          if (to[i] != (inside ? pattern(i - offset_to + offset_from) : 0xee)) ++bad;
        }
        do_memset(to + offset_to, 0x5a, size);
        for (std::size_t i = 0; i < sizeof to; ++i) {
          bool inside = i >= offset_to && i < offset_to + size;
          if (inside && to[i] != 0x5a) ++bad;
        }
      }
  CHECK_EQ(bad, 0);
}

TEST(memmove_handles_overlap_both_ways) {
  static unsigned char buffer[128];
  int bad = 0;
  for (std::size_t from = 0; from < 20; ++from)
    for (std::size_t to = 0; to < 20; ++to)
      for (std::size_t size = 0; size < 60; ++size) {
        for (std::size_t i = 0; i < sizeof buffer; ++i) buffer[i] = pattern(i);
        do_memmove(buffer + to, buffer + from, size);
        for (std::size_t i = 0; i < size; ++i)
          if (buffer[to + i] != pattern(from + i)) ++bad;
      }
  CHECK_EQ(bad, 0);
}

TEST(memcmp_and_strlen) {
  const unsigned char a[] = {1, 2, 3, 200}, b[] = {1, 2, 4, 0};
  CHECK_EQ(do_memcmp(a, a, 4), 0);
  CHECK(do_memcmp(a, b, 4) < 0);
  CHECK(do_memcmp(b, a, 4) > 0);
  CHECK_EQ(do_memcmp(a, b, 2), 0);
  CHECK(do_memcmp(a + 3, b + 3, 1) > 0);  // bytes compare unsigned
  CHECK_EQ(do_strlen(""), 0);
  CHECK_EQ(do_strlen("rawthread"), 9);
}

namespace {

std::atomic<int> initialisations{0};

struct Slow {
  int value;
  Slow() {
    initialisations.fetch_add(1);
    (void)rawthread::sys::sleep(0.05);  // long enough for the others to pile up
    value = 99;
  }
};

int use_slow() {
  static Slow slow;  // guarded: __cxa_guard_acquire / release
  return slow.value;
}

}  // namespace

TEST(a_local_static_is_initialised_once_while_threads_race) {
  constexpr int kThreads = 8;
  static std::atomic<int> go{0}, saw99{0};
  for (int i = 0; i < kThreads; ++i)
    REQUIRE(rawthread::start_new_thread([] {
              while (go.load() == 0) {
              }
              if (use_slow() == 99) saw99.fetch_add(1);
            }).has_value());
  go.store(1);
  CHECK(check::wait_for_threads(0, 60));
  CHECK_EQ(initialisations.load(), 1);
  CHECK_EQ(saw99.load(), kThreads);
  CHECK_EQ(use_slow(), 99);
}

namespace {

struct Shape {
  virtual ~Shape() = default;
  virtual int sides() const = 0;
};
struct Square final : Shape {
  int sides() const override { return 4; }
};
struct Triangle final : Shape {
  int sides() const override { return 3; }
};

int sides_of(const Shape& shape) { return shape.sides(); }

}  // namespace

TEST(virtual_calls_work) {
  Square square;
  Triangle triangle;
  const Shape* volatile shapes[] = {&square, &triangle};
  CHECK_EQ(sides_of(*shapes[0]) * 10 + sides_of(*shapes[1]), 43);
}

TEST(the_stack_protector_canary_is_random_and_per_process) {
#if defined(__x86_64__)
  std::uintptr_t canary;
  __asm__("mov %%fs:0x28, %0" : "=r"(canary));
#else
  std::uintptr_t canary = __stack_chk_guard;
#endif
  CHECK(canary != 0);
  CHECK_EQ(canary & 0xff, 0);  // a string copy cannot reproduce it
}

namespace {

// Stores `count` bytes of 'x' from `to` upwards, in assembly: the compiler
// sees only an opaque statement that reads `to` and may write any memory, so
// it can neither bound the stores by the object `to` points into nor drop
// them, at any optimisation level (a C++ loop writing past an array is
// undefined behaviour, which GCC at -O3 turns into exactly 16 stores). For
// the same reason no -Dubsan=true check can trap before the canary is hit.
void fill_bytes(char* to, std::size_t count) {
#if defined(__x86_64__)
  __asm__ volatile("rep stosb" : "+D"(to), "+c"(count) : "a"('x') : "memory");
#elif defined(__aarch64__)
  __asm__ volatile(
      "1: cbz %1, 2f\n"
      "   strb %w2, [%0], #1\n"
      "   sub %1, %1, #1\n"
      "   b 1b\n"
      "2:"
      : "+r"(to), "+r"(count)
      : "r"('x')
      : "memory");
#elif defined(__riscv) && __riscv_xlen == 64
  __asm__ volatile(
      "1: beqz %1, 2f\n"
      "   sb %2, 0(%0)\n"
      "   addi %0, %0, 1\n"
      "   addi %1, %1, -1\n"
      "   j 1b\n"
      "2:"
      : "+r"(to), "+r"(count)
      : "r"('x')
      : "memory");
#else
#error "fill_bytes: no assembly for this architecture"
#endif
}

// Writes `count` bytes into a 16-byte buffer: past its end when count > 16,
// over the canary that -fstack-protector-strong puts above a local array.
// The buffer's address goes to the assembly, so the buffer is in this frame
// and the frame is protected.
[[gnu::noinline]] void overflow(std::size_t count) {
  char buffer[16];
  fill_bytes(buffer, count);
}

}  // namespace

CHILD(smashes_its_stack) {
  overflow(16);  // in bounds: nothing happens
  (void)rawthread::sys::write_str(1, "in bounds ok\n");
  overflow(64);
  (void)rawthread::sys::write_str(1, "not detected\n");
  return 0;
}

TEST(a_smashed_stack_is_detected_and_aborts) {
  check::ChildResult child;
  REQUIRE(check::run_child("smashes_its_stack", &child, 30));
  CHECK_EQ(child.signal, 6);  // __stack_chk_fail -> abort -> SIGABRT
  CHECK(child.output[0] == 'i' && child.output[13] == '\0');  // "in bounds ok\n" only
}

TEST(threads_run_stack_protected_code) {
  static std::atomic<int> done{0};
  for (int i = 0; i < 4; ++i)
    REQUIRE(rawthread::start_new_thread([] {
              overflow(16);
              done.fetch_add(1);
            }).has_value());
  CHECK(check::wait_for_threads(0, 60));
  CHECK_EQ(done.load(), 4);
}
