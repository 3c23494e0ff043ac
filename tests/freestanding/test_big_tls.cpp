// SPDX-License-Identifier: MIT
// A TLS segment larger than the initial stack: 16 MiB of thread_local, twice
// the usual 8 MiB stack limit (and QEMU user mode's fixed 8 MiB guest stack).
// A program of its own, since every thread of it carries the 16 MiB: its
// start-up must place the main thread's copy off the initial stack (built
// there, it died of SIGSEGV before main), and every thread it starts gets a
// copy of its own.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <asm/unistd.h>
#include <rawthread/sys.hpp>  // O_*: the libc's or the kernel's, as sys.hpp chooses
#include <asm/resource.h>  // RLIMIT_AS

#include <rawthread/rawthread.hpp>

#include "check.hpp"
#include "kernel.hpp"
#include "page_size.hpp"
#include "tls.hpp"

namespace {

constexpr std::size_t kBigSize = std::size_t{16} << 20;
thread_local char big[kBigSize];          // .tbss
thread_local long seeded = 7654321;       // .tdata, next to it

// A thread_local with a destructor: the runtime's own per-thread list of
// them (__cxa_thread_atexit) then lies in TLS too, after the program's.
std::atomic<int> destroyed{0};
struct Witness {
  int value = 5;
  ~Witness() { destroyed.fetch_add(1); }
};
thread_local Witness witness;

// The bounds of the mapping that holds `address`, from /proc/self/maps
// (QEMU's user mode lists the guest's mappings there): whether one does.
bool mapping_of(std::uintptr_t address, std::uintptr_t* low, std::uintptr_t* high) {
  using rawthread::kernel::call;
  long fd = call(__NR_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  static char chunk[4096];
  std::uintptr_t numbers[2] = {0, 0};
  int field = 0;           // 0: the start, 1: the end, 2: the rest of the line
  bool found = false;
  for (long got; !found && (got = call(__NR_read, fd, chunk, sizeof chunk)) > 0;)
    for (long i = 0; i < got && !found; ++i) {
      char c = chunk[i];
      if (c == '\n') {
        if (numbers[0] <= address && address < numbers[1]) {
          *low = numbers[0], *high = numbers[1];
          found = true;
        }
        numbers[0] = numbers[1] = 0;
        field = 0;
      } else if (field < 2) {
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit >= 0)
          numbers[field] = numbers[field] * 16 + static_cast<std::uintptr_t>(digit);
        else
          ++field;  // '-' after the start, ' ' after the end
      }
    }
  call(__NR_close, fd);
  return found;
}

std::uintptr_t address_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace

TEST(the_main_threads_copy_is_whole_and_initialised) {
  CHECK_EQ(seeded, 7654321);
  CHECK_EQ(big[0], 0);
  CHECK_EQ(big[kBigSize - 1], 0);
  big[0] = 'a';
  big[kBigSize / 2] = 'm';
  big[kBigSize - 1] = 'z';
  CHECK_EQ(big[0], 'a');
  CHECK_EQ(big[kBigSize - 1], 'z');
}

TEST(the_main_threads_copy_is_not_on_the_initial_stack) {
  // argv lies at the top of the initial stack. Built there, the TLS block
  // would share its mapping (when a stack limit above 16 MiB let the
  // start-up live at all).
  std::uintptr_t stack_low = 0, stack_high = 0, low = 0, high = 0;
  REQUIRE(mapping_of(address_of(check::argv), &stack_low, &stack_high));
  REQUIRE(mapping_of(address_of(&big[0]), &low, &high));
  CHECK(low != stack_low);
  CHECK(high >= address_of(&big[kBigSize - 1]) + 1);  // one mapping holds all of it
}

TEST(a_started_thread_has_a_whole_fresh_copy_of_its_own) {
  big[0] = 'a';
  big[kBigSize - 1] = 'z';
  seeded = -1;
  static std::atomic<int> fresh{0}, kept{0};
  static std::atomic<std::uintptr_t> first{0}, last{0};
  auto thread = rawthread::start_joinable_thread([] {
    if (big[0] == 0 && big[kBigSize - 1] == 0 && seeded == 7654321 && witness.value == 5)
      fresh.store(1);
    big[0] = 'A';
    big[kBigSize - 1] = 'Z';
    first.store(address_of(&big[0]));
    last.store(address_of(&big[kBigSize - 1]));
    if (big[0] == 'A' && big[kBigSize - 1] == 'Z') kept.store(1);
  });
  REQUIRE(thread.has_value());
  rawthread::Result<bool> joined = thread->join(60);
  REQUIRE(joined.has_value() && *joined);
  CHECK_EQ(fresh.load(), 1);
  CHECK_EQ(kept.load(), 1);
  CHECK_EQ(destroyed.load(), 1);
  CHECK_EQ(last.load() - first.load(), kBigSize - 1);
  CHECK(first.load() != address_of(&big[0]));
  CHECK_EQ(big[0], 'a');  // the main thread's copy, untouched
  CHECK_EQ(big[kBigSize - 1], 'z');
  CHECK_EQ(seeded, -1);
}

// ---- When the mapping fails ---------------------------------------------------

namespace {

using check::same;

// Whether NAME=1 is in the environment.
bool env_is_1(const char* name) {
  for (char** env = check::envp; *env != nullptr; ++env) {
    const char* entry = *env;
    std::size_t i = 0;
    while (name[i] != '\0' && entry[i] == name[i]) ++i;
    if (name[i] == '\0' && entry[i] == '=') return same(entry + i + 1, "1");
  }
  return false;
}

// The child's address space may grow 4 MiB from here: room for its start-up's
// frames, not for the 16 MiB TLS mapping. Its standard error goes into the
// pipe too.
void limit_address_space() noexcept {
  using rawthread::kernel::call;
  call(__NR_dup3, 1, 2, 0);
  long fd = call(__NR_openat, AT_FDCWD, "/proc/self/statm", O_RDONLY | O_CLOEXEC);
  char text[64] = {};
  if (fd >= 0) {
    call(__NR_read, fd, text, sizeof text - 1);
    call(__NR_close, fd);
  }
  unsigned long pages = 0;  // the first field: the address space's size in pages
  for (const char* c = text; *c >= '0' && *c <= '9'; ++c) pages = pages * 10 + (*c - '0');
  struct {
    std::uint64_t current, maximum;  // struct rlimit64, <linux/resource.h>
  } limit{pages * rawthread::page_size() + (std::uint64_t{4} << 20), ~std::uint64_t{0}};
  call(__NR_prlimit64, 0, RLIMIT_AS, &limit, nullptr);
}

}  // namespace

// Runs only if the start-up mapped its TLS despite the limit: QEMU's user
// mode accepts RLIMIT_AS and ignores it. Then another such mapping works too.
CHILD(starts_under_a_small_address_space_limit) {
  long probe = rawthread::kernel::mmap(kBigSize, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS);
  (void)rawthread::sys::write_str(1, rawthread::kernel::failed(probe)
                                         ? "mapped despite the limit\n"
                                         : "limit not enforced\n");
  return 0;
}

TEST(a_tls_area_that_cannot_be_mapped_ends_the_start_up_with_127_and_a_message) {
  check::ChildResult child;
  REQUIRE(check::run_child("starts_under_a_small_address_space_limit", &child, 60,
                           limit_address_space));
  if (env_is_1("RAWTHREAD_TEST_EMULATED") && same(child.output, "limit not enforced\n")) {
    (void)rawthread::sys::write_str(1, "    (RLIMIT_AS is not enforced under emulation: "
                                       "the failing mapping is tested natively)\n");
    return;
  }
  CHECK_EQ(child.exit_code, 127);
  // The size is the start-up's, which this process's image gives too.
  char expected[96] = "rawthread: cannot map the main thread's TLS (";
  char* end = expected;
  while (*end != '\0') ++end;
  char digits[24];
  int count = 0;
  for (std::size_t size = rawthread::tls::area_size(); size != 0; size /= 10)
    digits[count++] = static_cast<char>('0' + size % 10);
  while (count > 0) *end++ = digits[--count];
  for (const char* tail = " bytes)\n"; *tail != '\0';) *end++ = *tail++;
  *end = '\0';
  if (!CHECK(same(child.output, expected))) (void)rawthread::sys::write_str(1, child.output);
}
