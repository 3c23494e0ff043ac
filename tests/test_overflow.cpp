// SPDX-License-Identifier: MIT
// Stack overflow: a thread that recurses without bound faults on the guard
// page below its stack, and nowhere else. In a forked child, which must die of
// SIGSEGV: not exit, not hang. Before it dies, a SIGSEGV handler running on an
// alternate signal stack in the overflowing thread records where the fault
// was, in a page shared with the parent: inside the guard page, with the page
// mapped directly below the guard untouched.
//
// The overflowing thread is a rawthread thread, invisible to libc: it sets up
// its own alternate signal stack (sigaltstack is per thread, and clone() with
// CLONE_VM gives a new thread none) with a raw system call on memory that
// exists before it starts, and the handler uses only rawthread and atomics.
// The child's main thread uses only async-signal-safe calls. Every check runs
// natively and under qemu-user, which reports the guest's fault address in
// si_addr as the kernel does. The sentinel page is the one that may be left
// out: the child maps it only where the address below the guard is free, and
// under qemu-user, which hands out mappings bottom-up, it rarely is.
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "support.hpp"

using namespace rawthread;

namespace {

// ---------------------------------------------------------------- raw system calls

// A two-argument system call without libc's syscall(), which may write errno
// (libc's thread-local) and so is not for a rawthread thread.
long raw_syscall2(long number, long arg1, long arg2) noexcept {
#if defined(__x86_64__)
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(number), "D"(arg1), "S"(arg2)
                   : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = number;
  register long x0 __asm__("x0") = arg1;
  register long x1 __asm__("x1") = arg2;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory", "cc");
  return x0;
#elif defined(__riscv)
  register long a7 __asm__("a7") = number;
  register long a0 __asm__("a0") = arg1;
  register long a1 __asm__("a1") = arg2;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7), "r"(a1) : "memory");
  return a0;
#else
#error "rawthread runs on x86_64, aarch64 and riscv64"
#endif
}

// ---------------------------------------------------------------- shared with the child

// In a MAP_SHARED page: what the child saw, for the parent to check.
struct Report {
  std::atomic<int> stage;                     // how far the child's main got
  std::atomic<long> altstack_result;          // the thread's sigaltstack: 0 or -errno
  std::atomic<std::uintptr_t> local;          // a local in the thread's first frame
  std::atomic<Ident> thread_ident;            // get_ident() in the thread
  std::atomic<std::uintptr_t> stack_start;    // the stack mapping's lowest address
  std::atomic<std::uintptr_t> guard_start;    // the mapping directly below it
  std::atomic<std::uintptr_t> guard_end;
  std::atomic<int> guard_is_none;             // it is PROT_NONE ("---")
  std::atomic<std::uintptr_t> sentinel;       // a page mapped below the guard; 0: none
  std::atomic<long> depth;                    // frames the recursion reached
  std::atomic<int> handler_runs;
  std::atomic<std::uintptr_t> fault_address;  // si_addr
  std::atomic<int> fault_code;                // si_code
  std::atomic<int> handler_on_altstack;
  std::atomic<Ident> handler_ident;
  std::atomic<int> sentinel_intact;
};
static_assert(sizeof(Report) <= 4096);
static_assert(std::atomic<std::uintptr_t>::is_always_lock_free);

Report* g_report = nullptr;
std::size_t g_page = 4096;

// The overflowing thread's alternate signal stack: static, so it exists
// before the thread starts.
alignas(64) unsigned char g_altstack[64 * 1024];

Lock g_go;                        // main holds it until it has read the maps
std::atomic<bool> g_never{false};  // never set: lets the recursion end in theory

constexpr unsigned char kSentinelByte = 0xA5;

// Frames of 256 bytes and more, each written from its lowest address up: the
// first write past the stack lies less than a page below it, on the guard.
// The write after the call keeps it from being a tail call or a loop.
[[gnu::noinline]] std::uintptr_t recurse(std::uintptr_t depth) {
  volatile unsigned char frame[256];
  __asm__ volatile("" : : "r"(frame) : "memory");
  for (std::size_t i = 0; i < sizeof frame; i += 32) frame[i] = static_cast<unsigned char>(depth);
  g_report->depth.store(static_cast<long>(depth), std::memory_order_relaxed);
  if (g_never.load(std::memory_order_relaxed)) return frame[0];
  std::uintptr_t below = recurse(depth + 1);
  frame[sizeof frame - 1] = static_cast<unsigned char>(below);
  return below + frame[sizeof frame - 32];
}

void overflowing_thread() {
  stack_t alt{};
  alt.ss_sp = g_altstack;
  alt.ss_size = sizeof g_altstack;
  alt.ss_flags = 0;
  g_report->altstack_result.store(
      raw_syscall2(SYS_sigaltstack, reinterpret_cast<long>(&alt), 0));
  volatile char probe = 1;
  g_report->thread_ident.store(get_ident());
  g_report->local.store(reinterpret_cast<std::uintptr_t>(&probe));
  (void)g_go.acquire();
  (void)recurse(0);
}

// Runs in the overflowing thread, on g_altstack. SA_RESETHAND has put SIG_DFL
// back: returning re-runs the faulting access, which then kills the process
// with SIGSEGV. (sys::set_signal_default makes sure of it without libc.)
void on_overflow(int, siginfo_t* info, void*) {
  volatile char here = 0;
  auto frame = reinterpret_cast<std::uintptr_t>(&here);
  auto alt = reinterpret_cast<std::uintptr_t>(g_altstack);
  Report* r = g_report;
  r->handler_on_altstack.store(frame >= alt && frame < alt + sizeof g_altstack ? 1 : 0);
  r->fault_address.store(reinterpret_cast<std::uintptr_t>(info->si_addr));
  r->fault_code.store(info->si_code);
  r->handler_ident.store(get_ident());
  if (std::uintptr_t sentinel = r->sentinel.load()) {
    const auto* bytes = reinterpret_cast<const volatile unsigned char*>(sentinel);
    int intact = 1;
    for (std::size_t i = 0; i < g_page; ++i)
      if (bytes[i] != kSentinelByte) intact = 0;
    r->sentinel_intact.store(intact);
  }
  r->handler_runs.fetch_add(1);
  (void)sys::set_signal_default(SIGSEGV);
}

// ---------------------------------------------------------------- /proc/self/maps

// Parses "start-end perms ..." at `line`; false if it is not such a line.
bool parse_mapping(const char* line, const char* end, std::uintptr_t* start,
                   std::uintptr_t* stop, char perms[4]) {
  auto hex = [&](std::uintptr_t* out) {
    std::uintptr_t value = 0;
    int digits = 0;
    for (; line < end; ++line, ++digits) {
      char c = *line;
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) break;
      value = value << 4 | static_cast<std::uintptr_t>(d);
    }
    *out = value;
    return digits > 0;
  };
  if (!hex(start) || line >= end || *line++ != '-' || !hex(stop)) return false;
  if (line >= end || *line++ != ' ' || end - line < 4) return false;
  for (int i = 0; i < 4; ++i) perms[i] = line[i];
  return true;
}

// Finds the mapping holding `address` and the one ending where it starts
// (async-signal-safe: open, read, close, no allocation). In the child.
bool find_stack_and_below(std::uintptr_t address, Report* r) {
  static char buf[1 << 18];
  int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::size_t size = 0;
  for (;;) {
    if (size == sizeof buf) break;
    ssize_t n = ::read(fd, buf + size, sizeof buf - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size += static_cast<std::size_t>(n);
  }
  ::close(fd);
  std::uintptr_t stack_start = 0;
  bool found = false;
  for (int pass = 0; pass < 2; ++pass) {
    const char* line = buf;
    const char* const end = buf + size;
    while (line < end) {
      const char* eol = line;
      while (eol < end && *eol != '\n') ++eol;
      std::uintptr_t start, stop;
      char perms[4];
      if (parse_mapping(line, eol, &start, &stop, perms)) {
        if (pass == 0 && address >= start && address < stop) {
          stack_start = start;
          found = true;
        } else if (pass == 1 && stop == stack_start) {
          r->guard_start.store(start);
          r->guard_end.store(stop);
          r->guard_is_none.store(perms[0] == '-' && perms[1] == '-' && perms[2] == '-');
        }
      }
      line = eol + 1;
    }
    if (!found) return false;
    r->stack_start.store(stack_start);
  }
  return true;
}

// ---------------------------------------------------------------- the test

// What the child's _exit codes mean (it exits only when something failed).
const char* child_exit_meaning(int code) {
  switch (code) {
    case 10: return "sigaction for SIGSEGV failed";
    case 11: return "stack_size() refused the size";
    case 12: return "start_new_thread failed";
    case 13: return "the thread did not start within the deadline";
    case 14: return "the thread's sigaltstack failed";
    case 15: return "the thread's stack is in no mapping of /proc/self/maps";
    case 16: return "the recursion did not fault within the deadline";
    default: return "?";
  }
}

class OverflowTest : public rt_test::RawthreadTest {
 protected:
  void SetUp() override {
    RawthreadTest::SetUp();
    g_page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    void* page = ::mmap(nullptr, sizeof(Report), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(page, MAP_FAILED);
    g_report = new (page) Report{};  // value-initialised: every field 0
  }
  void TearDown() override {
    if (g_report != nullptr) ::munmap(g_report, sizeof(Report));
    g_report = nullptr;
    RawthreadTest::TearDown();
  }

  // The child: starts the thread on a stack of `size`, finds its guard page,
  // maps a sentinel page below it, lets it recurse, and waits to die.
  [[noreturn]] static void child(long size) {
    Report* r = g_report;
    struct rlimit no_core = {0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // no core handler either

    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_overflow;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;  // no SA_RESTART
    if (::sigaction(SIGSEGV, &sa, nullptr) != 0) ::_exit(10);
    r->stage.store(1);
    if (!stack_size(size)) ::_exit(11);
    (void)g_go.acquire(false);
    if (!start_new_thread(overflowing_thread)) ::_exit(12);
    r->stage.store(2);
    auto wait_until = [](auto pred, double seconds) {
      std::int64_t deadline = *sys::monotonic_ns() + rt_test::to_ns(seconds);
      while (!pred() && *sys::monotonic_ns() < deadline) (void)sys::sleep_ns(1000000);
      return pred();
    };
    if (!wait_until([r] { return r->local.load() != 0; }, 20.0)) ::_exit(13);
    if (r->altstack_result.load() != 0) ::_exit(14);
    if (!find_stack_and_below(r->local.load(), r)) ::_exit(15);
    r->stage.store(3);
    // A writable page directly below the guard, filled with a pattern the
    // handler checks: an overflow that skipped the guard would write it.
    if (r->guard_start.load() != 0) {
      void* want = reinterpret_cast<void*>(r->guard_start.load() - g_page);
      void* got = ::mmap(want, g_page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      if (got == want) {
        auto* bytes = static_cast<volatile unsigned char*>(got);
        for (std::size_t i = 0; i < g_page; ++i) bytes[i] = kSentinelByte;
        r->sentinel.store(reinterpret_cast<std::uintptr_t>(got));
      } else if (got != MAP_FAILED) {
        ::munmap(got, g_page);  // taken as a hint, elsewhere: no sentinel
      }
    }
    r->stage.store(4);
    g_go.unlock();
    (void)wait_until([] { return false; }, 20.0);
    ::_exit(16);  // still alive: the overflow did not fault
  }

  void overflow_with_stack_size(long size) {
    SCOPED_TRACE(size);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) child(size);
    int status = rt_test::wait_child(pid, rt_test::kDeadline);
    const Report& r = *g_report;
    ASSERT_NE(status, -1) << "the child hung (killed after " << rt_test::kDeadline
                          << " s) at stage " << r.stage.load() << ", depth " << r.depth.load();
    ASSERT_NE(status, -2) << "waitpid failed";
    ASSERT_FALSE(WIFEXITED(status)) << "the child exited with " << WEXITSTATUS(status) << ": "
                                    << child_exit_meaning(WEXITSTATUS(status));
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGSEGV) << "the child died of signal " << WTERMSIG(status);

    // The handler ran once, in the overflowing thread, on its alternate stack.
    ASSERT_EQ(r.handler_runs.load(), 1) << "stage " << r.stage.load();
    EXPECT_EQ(r.handler_on_altstack.load(), 1);
    EXPECT_EQ(r.handler_ident.load(), r.thread_ident.load());
    EXPECT_EQ(r.fault_code.load(), SEGV_ACCERR) << "the faulting page is mapped, PROT_NONE";

    // The stack's mapping has a PROT_NONE page directly below it, and the
    // fault was on that page's top page, the one touching the stack.
    const std::uintptr_t stack_start = r.stack_start.load();
    const std::uintptr_t fault = r.fault_address.load();
    ASSERT_NE(stack_start, 0u);
    ASSERT_NE(r.guard_end.load(), 0u) << "nothing mapped directly below the stack";
    EXPECT_EQ(r.guard_is_none.load(), 1) << "the mapping below the stack is not PROT_NONE";
    EXPECT_GE(stack_start - r.guard_start.load(), g_page);
    EXPECT_GE(fault, stack_start - g_page)
        << std::hex << "fault at 0x" << fault << ", guard page [0x" << stack_start - g_page
        << ", 0x" << stack_start << ")";
    EXPECT_LT(fault, stack_start)
        << std::hex << "fault at 0x" << fault << ", guard page [0x" << stack_start - g_page
        << ", 0x" << stack_start << ")";
    // Most of the stack was used on the way down (the local is in the
    // thread's first frame, above the recursion).
    EXPECT_GE(r.depth.load() * 256, static_cast<long>(r.local.load() - stack_start) / 2);

    // The page below the guard, when the child could map one there, is as
    // the child wrote it.
    if (r.sentinel.load() != 0) {
      EXPECT_EQ(r.sentinel_intact.load(), 1) << "the page below the guard page was written";
    }
    std::printf("    stack %ld: fault at 0x%lx, guard page [0x%lx, 0x%lx), %ld frames, %s\n",
                size, static_cast<unsigned long>(fault),
                static_cast<unsigned long>(stack_start - g_page),
                static_cast<unsigned long>(stack_start), r.depth.load(),
                r.sentinel.load() != 0 ? "sentinel page below it intact" : "no sentinel page");
  }
};

TEST_F(OverflowTest, MinimumStackFaultsOnItsGuardPage) {
  RT_REQUIRES_CONCURRENCY();  // the thread runs on a stack of its own (the dummy's is main's)
  overflow_with_stack_size(static_cast<long>(MIN_STACK_SIZE));
}

TEST_F(OverflowTest, SixtyFourKiBStackFaultsOnItsGuardPage) {
  RT_REQUIRES_CONCURRENCY();
  overflow_with_stack_size(65536);
}

TEST_F(OverflowTest, DefaultStackFaultsOnItsGuardPage) {
  RT_REQUIRES_CONCURRENCY();
  overflow_with_stack_size(0);
}

TEST_F(OverflowTest, OddSizedStackFaultsOnItsGuardPage) {
  RT_REQUIRES_CONCURRENCY();
  // Not a page multiple: rounded up, the guard still directly below.
  overflow_with_stack_size(100001);
}

}  // namespace
