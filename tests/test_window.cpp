// SPDX-License-Identifier: MIT
// The window: a signal delivered at each instruction boundary of a blocking
// acquire, from its call to its futex system call, natively, with ptrace.
//
// src/interrupt.hpp closes a race that lasts a few instructions: a handler
// that requests an interrupt after the waiter's last check for one, but before
// its futex call, would otherwise leave it asleep until its deadline (for ever,
// untimed). tests/test_races.cpp throws signals at the start of acquires at
// random moments and cannot land in those few instructions often enough to
// matter: without the deadline's collapse it passed 400,000 iterations. Here
// ptrace lands on every one of them.
//
// A forked child installs a SIGUSR1 handler that requests an interrupt
// (request_interrupt(), or interrupt_main(SIGUSR2) with a SIGUSR2 handler that
// only counts), holds a Lock, asks to be traced (PTRACE_TRACEME) and stops
// itself; then it acquires the lock it holds (timed, 5 s, or untimed) and exits
// with a code that says how the acquire ended. The parent:
//  - calibrates: single-steps a child from its stop until it is about to
//    execute the futex system call on the lock (its program counter on the
//    system call instruction, the call number and first argument in their
//    registers): N steps, and the program counter at each boundary 0..N. A
//    vDSO function (the clock read) is one step, run at full speed from its
//    first instruction to its return (Tracee::advance);
//  - sweeps: for each boundary k, forks a fresh child, brings it to k (a
//    breakpoint, then single steps, each program counter checked against the
//    calibrated path; a child that strays is run again) and detaches with
//    SIGUSR1: the kernel delivers the signal right there, before the
//    instruction at k runs. The handler's request must end the acquire with
//    Errc::interrupted. A lost one leaves the child asleep in its futex call
//    (seen in /proc, or failing that, still there after 2 s): a miss.
//    Every boundary of straight-line code is swept, the whole window from the
//    check to the system call instruction included; of the spin loop before
//    it, the first and last turns and a sample in between (plan_sweep);
//  - separately, lets a child run into the futex call and sends it SIGUSR1
//    while it sleeps there: interrupted as well.
// Without the collapse (the store in src/interrupt.cpp's raise()), the 14
// boundaries from the check's load to the system call instruction miss on
// x86_64; with the check moved before the arm (src/lock_wait.hpp), the 20
// from the check to the arm's store of the seconds.
// The stale-collapse variant proves the [interrupt: recheck] step of
// src/lock_wait.hpp: its handler requests and then consumes its own request,
// leaving only the collapse; a timed acquire (kStaleTimeout) must then time
// out, and no sooner. With the recheck replaced by `return timed_out`, the 19
// boundaries from the arm's store of the seconds to the system call
// instruction return false at once on x86_64.
//
// Native only: qemu-user implements no ptrace (RAWTHREAD_TEST_EMULATED=1, or
// PTRACE_TRACEME fails), and a kernel may refuse it (seccomp, no single-step
// on the architecture); the tests then skip and say why. The register access
// is written for x86_64, aarch64 and riscv64. The dummy backend runs the timed
// variants; its untimed acquire of a held lock returns "would deadlock" and
// never sleeps, so those skip there.
#include <elf.h>  // NT_PRSTATUS
#include <sys/ptrace.h>
#include <sys/uio.h>
#if defined(__x86_64__) || defined(__aarch64__)
#include <sys/user.h>
#elif defined(__riscv)
#include <asm/ptrace.h>  // struct user_regs_struct
#endif

#include <algorithm>
#include <cinttypes>
#include <unordered_map>

#include "support.hpp"

using namespace rawthread;
using rt_test::now_ns;

namespace {

// ---------------------------------------------------------------- registers

// The registers of a tracee at an instruction boundary, as PTRACE_GETREGSET
// NT_PRSTATUS returns them, and where a system call instruction keeps the
// call's number and first argument before it runs.
using Regs = user_regs_struct;
#if defined(__x86_64__)
std::uintptr_t pc_of(const Regs& r) { return r.rip; }
long number_of(const Regs& r) { return static_cast<long>(r.rax); }
std::uintptr_t arg0_of(const Regs& r) { return r.rdi; }
constexpr std::uint64_t kSyscallInsn = 0x050f, kSyscallInsnMask = 0xffff;  // syscall: 0f 05
// The text word at an address with a breakpoint instruction written over the
// instruction there, and how far the trap leaves the program counter past it.
std::uint64_t with_breakpoint(std::uint64_t word) { return (word & ~0xffULL) | 0xcc; }  // int3
constexpr std::uintptr_t kPcPastBreakpoint = 1;
void set_pc(Regs& r, std::uintptr_t pc) { r.rip = pc; }
// Where a function returns to, at its first instruction: the call pushed it.
bool return_address(pid_t pid, const Regs& r, std::uintptr_t* out) {
  errno = 0;
  long word = ::ptrace(PTRACE_PEEKDATA, pid, reinterpret_cast<void*>(r.rsp), nullptr);
  *out = static_cast<std::uintptr_t>(word);
  return errno == 0;
}
#elif defined(__aarch64__)
std::uintptr_t pc_of(const Regs& r) { return r.pc; }
long number_of(const Regs& r) { return static_cast<long>(r.regs[8]); }
std::uintptr_t arg0_of(const Regs& r) { return r.regs[0]; }
constexpr std::uint64_t kSyscallInsn = 0xd4000001, kSyscallInsnMask = 0xffffffff;  // svc #0
std::uint64_t with_breakpoint(std::uint64_t word) {
  return (word & ~0xffffffffULL) | 0xd4200000;  // brk #0
}
constexpr std::uintptr_t kPcPastBreakpoint = 0;
void set_pc(Regs& r, std::uintptr_t pc) { r.pc = pc; }
bool return_address(pid_t, const Regs& r, std::uintptr_t* out) {  // the link register, x30
  *out = r.regs[30];
  return true;
}
#elif defined(__riscv)
std::uintptr_t pc_of(const Regs& r) { return r.pc; }
long number_of(const Regs& r) { return static_cast<long>(r.a7); }
std::uintptr_t arg0_of(const Regs& r) { return r.a0; }
constexpr std::uint64_t kSyscallInsn = 0x00000073, kSyscallInsnMask = 0xffffffff;  // ecall
std::uint64_t with_breakpoint(std::uint64_t word) {
  if ((word & 3) == 3) return (word & ~0xffffffffULL) | 0x00100073;  // ebreak
  return (word & ~0xffffULL) | 0x9002;  // c.ebreak, over a compressed instruction
}
constexpr std::uintptr_t kPcPastBreakpoint = 0;
void set_pc(Regs& r, std::uintptr_t pc) { r.pc = pc; }
bool return_address(pid_t, const Regs& r, std::uintptr_t* out) {
  *out = r.ra;
  return true;
}
#else
#error "tests/test_window.cpp: no register layout for this architecture"
#endif

// ---------------------------------------------------------------- the child

// How the child's SIGUSR1 handler requests the interrupt, and how it acquires.
struct Variant {
  bool via_interrupt_main;  // else request_interrupt()
  bool timed;               // acquire(true, kTimeout), else acquire()
  const char* name;
  // The stale collapse: the handler calls request_interrupt() and then
  // consumes that request itself (a blocking acquire of a free spare lock,
  // which returns interrupted at once), so the request is gone but the
  // collapse of the armed deadline stays. The child's acquire is timed,
  // kStaleTimeout: a futex call refused (EINVAL) with no request pending must
  // not end it; it must time out (false) no sooner than kStaleTimeout, the
  // [interrupt: recheck] step of src/lock_wait.hpp.
  bool stale_collapse = false;
};

// How gtest shows a Variant: by name. Its default prints the object's bytes,
// padding included, which valgrind rightly calls uninitialised.
[[maybe_unused]] void PrintTo(const Variant& variant, std::ostream* out) { *out << variant.name; }

// A timed acquire's timeout, and how long the parent waits for a child whose
// request was made: an acquire that finds it ends in microseconds, one that
// lost it waits out kTimeout (or for ever) and is killed at kMissDeadline.
constexpr double kTimeout = 5.0;
constexpr double kMissDeadline = 2.0;
static_assert(kMissDeadline < kTimeout);

// The stale-collapse variant's timeout: short, since every one of its
// children sleeps it out; and in nanoseconds, rounded up.
constexpr double kStaleTimeout = 0.005;
constexpr std::int64_t kStaleTimeoutNs =
    static_cast<std::int64_t>(kStaleTimeout * 1e9) +
    (static_cast<double>(static_cast<std::int64_t>(kStaleTimeout * 1e9)) < kStaleTimeout * 1e9);
static_assert(kStaleTimeout < kMissDeadline);

// The child's exit codes. Refused ptrace calls exit with kNoTrace + errno.
// The stale-collapse variant exits with kExitFalse only if its acquire
// returned false no sooner than kStaleTimeout; false sooner is
// kExitFalseEarly + how soon, in kEarlySlots-ths of the timeout.
constexpr int kExitInterrupted = 10, kExitTrue = 11, kExitFalse = 12, kExitOtherError = 13,
              kExitNoHandler = 20, kExitNotHeld = 21, kExitFalseEarly = 30, kEarlySlots = 50,
              kExitNoTrace = 100;
static_assert(kExitFalseEarly + kEarlySlots <= kExitNoTrace);

// The lock each child holds and then acquires again. The parent never takes
// it; the child's copy is at the same address, which tells its futex call apart.
Lock g_lock;
// Free, and taken (then at once released) only by the stale-collapse handler.
Lock g_spare;

void request_in_handler(int) { rawthread::request_interrupt(); }
void stale_collapse_in_handler(int) {
  rawthread::request_interrupt();
  Result<bool> r = g_spare.acquire();  // interrupted at once: the request is consumed
  if (r.has_value() && *r) (void)g_spare.release();
}
void interrupt_main_in_handler(int) { (void)rawthread::interrupt_main(SIGUSR2); }

// The child: never returns. Its first stop (SIGSTOP) is where the parent
// starts counting instructions.
[[noreturn]] void run_child(const Variant& v) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART, as Python installs handlers
  sa.sa_handler = v.stale_collapse       ? stale_collapse_in_handler
                  : v.via_interrupt_main ? interrupt_main_in_handler
                                         : request_in_handler;
  if (::sigaction(SIGUSR1, &sa, nullptr) != 0) ::_exit(kExitNoHandler);
  sa.sa_handler = rt_test::count_only;  // handled, so that interrupt_main sends it
  if (::sigaction(SIGUSR2, &sa, nullptr) != 0) ::_exit(kExitNoHandler);
  sigset_t mine;
  sigemptyset(&mine);
  sigaddset(&mine, SIGUSR1);
  sigaddset(&mine, SIGUSR2);
  if (::sigprocmask(SIG_UNBLOCK, &mine, nullptr) != 0) ::_exit(kExitNoHandler);
  if (!rt_test::is_true(g_lock.acquire(false))) ::_exit(kExitNotHeld);
  // The library finds the vDSO's clock_gettime on its first clock read: done
  // here, not in the timed acquire, so that its path is the acquire's own.
  (void)rawthread::sys::monotonic_ns();
  if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0)
    ::_exit(kExitNoTrace + std::min(errno, 155));
  ::kill(::getpid(), SIGSTOP);  // the tracer takes over here
  if (v.stale_collapse) {
    timespec t0, t1;
    ::clock_gettime(CLOCK_MONOTONIC, &t0);
    Result<bool> r = g_lock.acquire(true, kStaleTimeout);
    ::clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!r.has_value())
      ::_exit(r.error().kind == Errc::interrupted ? kExitInterrupted : kExitOtherError);
    if (*r) ::_exit(kExitTrue);
    const std::int64_t elapsed =
        (static_cast<std::int64_t>(t1.tv_sec) - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
    if (elapsed >= kStaleTimeoutNs) ::_exit(kExitFalse);
    ::_exit(kExitFalseEarly +
            static_cast<int>(std::max<std::int64_t>(0, elapsed) * kEarlySlots / kStaleTimeoutNs));
  }
  Result<bool> r = v.timed ? g_lock.acquire(true, kTimeout) : g_lock.acquire();
  if (r.has_value()) ::_exit(*r ? kExitTrue : kExitFalse);
  ::_exit(r.error().kind == Errc::interrupted ? kExitInterrupted : kExitOtherError);
}

// ---------------------------------------------------------------- the parent's side

pid_t waitpid_eintr(pid_t pid, int* status, int options) {
  pid_t got;
  do {
    got = ::waitpid(pid, status, options);
  } while (got < 0 && errno == EINTR);
  return got;
}

// What a child's wait status (or wait_exit's -1, -2, -3) says about its acquire.
std::string describe_status(int status) {
  char buf[96];
  if (status == -1) {
    std::snprintf(buf, sizeof buf, "still waiting after %g s: the request was lost (killed)",
                  kMissDeadline);
    return buf;
  }
  if (status == -2) return "waitpid failed";
  if (status == -3) return "asleep in its futex call after the handler ran: the request was lost";
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    switch (code) {
      case kExitInterrupted: return "interrupted";
      case kExitTrue: return "acquired (true)";
      case kExitFalse: return "timed out (false)";
      case kExitOtherError: return "an error other than interrupted";
      case kExitNoHandler: return "child: sigaction failed";
      case kExitNotHeld: return "child: could not take the lock first";
      default: break;
    }
    if (code >= kExitFalseEarly && code < kExitFalseEarly + kEarlySlots) {
      std::snprintf(buf, sizeof buf, "timed out (false) early: after %.2f to %.2f ms of the %g",
                    (code - kExitFalseEarly) * kStaleTimeout * 1e3 / kEarlySlots,
                    (code - kExitFalseEarly + 1) * kStaleTimeout * 1e3 / kEarlySlots,
                    kStaleTimeout * 1e3);
      return buf;
    }
    if (code >= kExitNoTrace)
      return std::string("child: PTRACE_TRACEME failed: ") + std::strerror(code - kExitNoTrace);
    std::snprintf(buf, sizeof buf, "exited with %d", code);
  } else if (WIFSIGNALED(status)) {
    std::snprintf(buf, sizeof buf, "killed by signal %d", WTERMSIG(status));
  } else {
    std::snprintf(buf, sizeof buf, "wait status %#x", status);
  }
  return buf;
}

// The scheduler state letter of process `pid` ('R', 'S', 't', ...), '?' if
// unreadable; and the number of the system call it is blocked in, -1 if
// unknown (/proc/<pid>/syscall: "running", or not readable).
char process_state(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return '?';
  char buf[512];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* paren = std::strrchr(buf, ')');
  return paren != nullptr && paren[1] == ' ' ? paren[2] : '?';
}
long blocked_in(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/syscall", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return -1;
  long number = -1;
  if (std::fscanf(f, "%ld", &number) != 1) number = -1;
  std::fclose(f);
  return number;
}

// Waits up to `seconds` for child `pid` to end; kills it after that. The
// wait status, or -1 if it had to be killed, -2 if waitpid failed. Polls
// from 10 microseconds on, so that a child that ends at once costs little.
// After the handler's request no acquire sleeps: a child found asleep in its
// futex call for kAsleepPolls polls in a row lost it, and is killed at once
// (-3) rather than at the deadline; unless not `asleep_is_lost` (the stale
// collapse, whose child rightly sleeps until its deadline).
constexpr int kAsleepPolls = 10;
int wait_exit(pid_t pid, double seconds, bool asleep_is_lost) {
  std::int64_t deadline = now_ns() + rt_test::to_ns(seconds);
  long pause_ns = 10000;
  int status = 0, asleep = 0;
  for (;;) {
    pid_t got = waitpid_eintr(pid, &status, WNOHANG);
    if (got == pid) return status;
    if (got < 0) return -2;
    if (asleep_is_lost && pause_ns >= 1000000)
      asleep = process_state(pid) == 'S' && blocked_in(pid) == __NR_futex ? asleep + 1 : 0;
    if (asleep >= kAsleepPolls || now_ns() >= deadline) {
      ::kill(pid, SIGKILL);
      waitpid_eintr(pid, &status, 0);
      return asleep >= kAsleepPolls ? -3 : -1;
    }
    timespec ts{0, pause_ns};
    ::nanosleep(&ts, nullptr);
    pause_ns = std::min(pause_ns * 2, 1000000L);
  }
}

// One traced child, stopped at its SIGSTOP when constructed (if ok()). Killed
// and reaped when destroyed, unless it was released and has ended.
// The vDSO's mapping, [lo, hi); both 0 without one. A forked child has it
// where its parent has.
struct Range {
  std::uintptr_t lo = 0, hi = 0;
};
const Range& vdso_range() {
  static const Range range = [] {
    Range r;
    FILE* maps = std::fopen("/proc/self/maps", "re");
    if (maps == nullptr) return r;
    char line[512];
    while (std::fgets(line, sizeof line, maps) != nullptr) {
      if (std::strstr(line, "[vdso]") == nullptr) continue;
      unsigned long lo = 0, hi = 0;
      if (std::sscanf(line, "%lx-%lx", &lo, &hi) == 2) r = Range{lo, hi};
      break;
    }
    std::fclose(maps);
    return r;
  }();
  return range;
}

class Tracee {
 public:
  explicit Tracee(const Variant& v) {
    pid_ = ::fork();
    if (pid_ == 0) run_child(v);
    if (pid_ < 0) {
      error_ = std::string("fork: ") + std::strerror(errno);
      return;
    }
    int status = 0;
    if (waitpid_eintr(pid_, &status, 0) != pid_) {
      error_ = std::string("waitpid: ") + std::strerror(errno);
      return;
    }
    if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
      reaped_ = !WIFSTOPPED(status);
      refused_ = WIFEXITED(status) && WEXITSTATUS(status) >= kExitNoTrace;
      error_ = (refused_ ? "" : "the child did not stop: ") + describe_status(status);
      return;
    }
    // If the parent dies, so does the tracee (not a child left asleep).
    if (::ptrace(PTRACE_SETOPTIONS, pid_, nullptr, PTRACE_O_EXITKILL) != 0) {
      fail("PTRACE_SETOPTIONS");
      return;
    }
    traced_ = true;
  }
  ~Tracee() {
    if (pid_ <= 0 || reaped_) return;
    ::kill(pid_, SIGKILL);
    int status;
    waitpid_eintr(pid_, &status, 0);
  }
  Tracee(const Tracee&) = delete;
  Tracee& operator=(const Tracee&) = delete;

  bool ok() const { return traced_; }
  const std::string& error() const { return error_; }
  void set_error(std::string error) { error_ = std::move(error); }
  // Whether the child's PTRACE_TRACEME was refused.
  bool refused() const { return refused_; }
  pid_t pid() const { return pid_; }

  // Runs one instruction; false (and error()) unless the child stopped again.
  bool step() {
    if (::ptrace(PTRACE_SINGLESTEP, pid_, nullptr, nullptr) != 0) return fail("PTRACE_SINGLESTEP");
    return wait_trap("a single step");
  }

  // Runs to the next boundary: one instruction, or, from the first
  // instruction of a vDSO function (the clock read), the whole function at
  // full speed to its return. Stepped through over a millisecond or more,
  // the read's seqlock would see the kernel update the clock and retry, and
  // under load it did so in every run, so that no child followed the
  // calibrated path; and the vDSO is the kernel's code, not the window.
  bool advance() {
    Regs r;
    if (!regs(&r)) return false;
    const Range& vdso = vdso_range();
    if (pc_of(r) < vdso.lo || pc_of(r) >= vdso.hi) return step();
    std::uintptr_t back = 0;
    if (!return_address(pid_, r, &back)) return fail("PTRACE_PEEKDATA");
    return run_to(back);
  }

  bool regs(Regs* out) {
    iovec iov{out, sizeof *out};
    if (::ptrace(PTRACE_GETREGSET, pid_, reinterpret_cast<void*>(NT_PRSTATUS), &iov) != 0)
      return fail("PTRACE_GETREGSET");
    return true;
  }

  // Whether the next instruction is the acquire's futex call on g_lock.
  bool at_the_futex(const Regs& r) {
    if (number_of(r) != __NR_futex || arg0_of(r) != reinterpret_cast<std::uintptr_t>(&g_lock))
      return false;
    errno = 0;
    long word = ::ptrace(PTRACE_PEEKTEXT, pid_, reinterpret_cast<void*>(pc_of(r)), nullptr);
    if (errno != 0) return false;
    return (static_cast<std::uint64_t>(word) & kSyscallInsnMask) == kSyscallInsn;
  }

  // Runs the child until it is about to execute the instruction at `pc`,
  // which it must reach before any other breakpoint or signal: a breakpoint
  // there, removed again once hit.
  bool run_to(std::uintptr_t pc) {
    void* at = reinterpret_cast<void*>(pc);
    errno = 0;
    long word = ::ptrace(PTRACE_PEEKTEXT, pid_, at, nullptr);
    if (errno != 0) return fail("PTRACE_PEEKTEXT");
    long trap = static_cast<long>(with_breakpoint(static_cast<std::uint64_t>(word)));
    if (::ptrace(PTRACE_POKETEXT, pid_, at, reinterpret_cast<void*>(trap)) != 0)
      return fail("PTRACE_POKETEXT");
    if (::ptrace(PTRACE_CONT, pid_, nullptr, nullptr) != 0) return fail("PTRACE_CONT");
    if (!wait_trap("a breakpoint", /*bounded=*/true)) return false;
    if (::ptrace(PTRACE_POKETEXT, pid_, at, reinterpret_cast<void*>(word)) != 0)
      return fail("PTRACE_POKETEXT");
    Regs r;
    if (!regs(&r)) return false;
    if (pc_of(r) != pc + kPcPastBreakpoint) {
      error_ = "stopped at an unexpected address after a breakpoint";
      return false;
    }
    if (kPcPastBreakpoint != 0) {  // back onto the instruction the breakpoint replaced
      set_pc(r, pc);
      iovec iov{&r, sizeof r};
      if (::ptrace(PTRACE_SETREGSET, pid_, reinterpret_cast<void*>(NT_PRSTATUS), &iov) != 0)
        return fail("PTRACE_SETREGSET");
    }
    return true;
  }

  // Lets the child go, delivering `signum` (0: none) before the instruction
  // at which it stopped runs; it is no longer traced.
  bool release(int signum) {
    void* data = reinterpret_cast<void*>(static_cast<long>(signum));
    if (::ptrace(PTRACE_DETACH, pid_, nullptr, data) != 0) return fail("PTRACE_DETACH");
    traced_ = false;
    return true;
  }

  // After release(): the child's wait status, as wait_exit returns it.
  int finish(double seconds, bool asleep_is_lost = true) {
    int status = wait_exit(pid_, seconds, asleep_is_lost);
    reaped_ = status != -2;
    return status;
  }

 private:
  bool fail(const char* what) {
    error_ = std::string(what) + ": " + std::strerror(errno);
    return false;
  }

  // Waits for the stop a single step or a breakpoint ends with. A single step
  // on the calibrated path runs no blocking system call; a child that missed
  // its breakpoint would run into the futex call and sleep there: `bounded`,
  // it is given kMissDeadline.
  bool wait_trap(const char* what, bool bounded = false) {
    int status = 0;
    const std::int64_t deadline = now_ns() + rt_test::to_ns(kMissDeadline);
    for (;;) {
      pid_t got = waitpid_eintr(pid_, &status, bounded ? WNOHANG : 0);
      if (got == pid_) break;
      if (got < 0) return fail("waitpid");
      if (now_ns() >= deadline) {
        error_ = std::string(what) + " was not hit";
        return false;
      }
      ::sched_yield();
    }
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP) return true;
    reaped_ = !WIFSTOPPED(status);
    traced_ = false;
    error_ = std::string(what) + " did not stop with SIGTRAP: " + describe_status(status);
    return false;
  }

  pid_t pid_ = -1;
  bool traced_ = false;
  bool reaped_ = false;
  bool refused_ = false;
  std::string error_;
};

// Why single-stepping a child cannot work here, or "" if it can. Probed once.
const std::string& why_no_ptrace() {
  static const std::string why = []() -> std::string {
    const char* emulated = std::getenv("RAWTHREAD_TEST_EMULATED");
    if (emulated != nullptr && std::strcmp(emulated, "1") == 0)
      return "emulated (RAWTHREAD_TEST_EMULATED=1): qemu-user implements no ptrace";
    Tracee probe(Variant{false, true, "probe"});
    if (!probe.ok())
      return (probe.refused() ? "ptrace is not available here (" : "cannot trace a child (") +
             probe.error() + ")";
    Regs r;
    if (!probe.regs(&r) || !probe.step() || !probe.regs(&r))
      return "cannot single-step a child: " + probe.error();
    return "";
  }();
  return why;
}

// First thing in a case that traces children: skips it where it cannot.
#define RT_REQUIRES_PTRACE()                         \
  do {                                               \
    const std::string& why = why_no_ptrace();        \
    if (!why.empty()) GTEST_SKIP() << why;           \
  } while (0)

// ---------------------------------------------------------------- the cases

class WindowTest : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    if (rt_test::kDummy && !GetParam().timed)
      GTEST_SKIP() << "dummy backend: an untimed acquire of a held lock returns "
                      "\"would deadlock\" and never sleeps";
  }
};

// The boundaries the sweep signals at, and from where it reaches each. Every
// boundary whose instruction occurs once on the path (straight-line code, the
// window from the check to the futex call included) is run, and reached from
// the stop by a breakpoint there. A loop's instructions occur many times: the
// spin (kSpinProbes turns, each of up to 64 pauses) would cost each of its
// boundaries hundreds of single steps from the last breakpoint before the loop,
// so there the sweep runs the first and the last turn whole, and every
// kStride-th boundary in between.
constexpr long kStride = 16;
struct Plan {
  std::vector<long> anchor;  // the last once-only boundary at or before k (0: the stop)
  std::vector<bool> run;
  long runs = 0;
  long exhaustive_from = 0;  // every boundary from here to the futex call is run
};

Plan plan_sweep(const std::vector<std::uintptr_t>& path) {
  const long size = static_cast<long>(path.size());
  struct Seen {
    long first, last, count;
  };
  std::unordered_map<std::uintptr_t, Seen> seen;
  for (long k = 0; k < size; ++k) {
    auto it = seen.try_emplace(path[static_cast<std::size_t>(k)], Seen{k, k, 0}).first;
    it->second.last = k;
    ++it->second.count;
  }
  Plan plan;
  plan.anchor.resize(path.size());
  plan.run.resize(path.size());
  for (long k = 0; k < size; ++k) {
    const std::size_t i = static_cast<std::size_t>(k);
    const Seen& pc = seen[path[i]];
    plan.anchor[i] = k == 0 || pc.count == 1 ? k : plan.anchor[i - 1];
    plan.run[i] = pc.count == 1 || k == pc.first || k == pc.last ||
                  (k - plan.anchor[i]) % kStride == 0;
    plan.runs += plan.run[i];
  }
  plan.exhaustive_from = size;
  while (plan.exhaustive_from > 0 && plan.run[static_cast<std::size_t>(plan.exhaustive_from - 1)])
    --plan.exhaustive_from;
  return plan;
}

// Single-steps a fresh child from its stop to its futex call on the lock,
// recording the program counter at each boundary; gives up after kMaxSteps.
constexpr std::size_t kMaxSteps = 100000;
bool trace_to_the_futex(Tracee& t, std::vector<std::uintptr_t>* pcs) {
  for (;;) {
    Regs r;
    if (!t.regs(&r)) return false;
    pcs->push_back(pc_of(r));
    if (t.at_the_futex(r)) return true;
    if (pcs->size() > kMaxSteps) {
      t.set_error("no futex call on the lock after " + std::to_string(kMaxSteps) +
                  " instructions");
      return false;
    }
    if (!t.advance()) return false;
  }
}

// Brings a fresh child to boundary k: to the breakpoint at its anchor, then
// single steps, checking each program counter against the calibrated path.
enum class Reach { reached, differed, failed };
Reach reach(Tracee& t, const std::vector<std::uintptr_t>& path, long anchor, long k,
            long* steps) {
  if (anchor > 0 && !t.run_to(path[static_cast<std::size_t>(anchor)])) return Reach::failed;
  for (long i = anchor;; ++i) {
    Regs r;
    if (!t.regs(&r)) return Reach::failed;
    if (pc_of(r) != path[static_cast<std::size_t>(i)]) return Reach::differed;
    if (i == k)
      return k + 1 < static_cast<long>(path.size()) || t.at_the_futex(r) ? Reach::reached
                                                                         : Reach::differed;
    if (!t.advance()) return Reach::failed;
    ++*steps;
  }
}

// One boundary where the handler ran and the acquire did not end interrupted.
struct Miss {
  long k;
  std::uintptr_t pc;
  std::string outcome;
};

TEST_P(WindowTest, SignalAtEveryInstructionBoundary) {
  RT_REQUIRES_PTRACE();
  const Variant& v = GetParam();
  const std::int64_t start = now_ns();

  // Calibration: the program counter after each step, up to the futex call.
  // The shortest of a few runs: a clock read retries (a seqlock in the vDSO)
  // when the kernel updates the clock meanwhile, which a read stepped through
  // over a millisecond often does; a retry only makes the path longer.
  constexpr int kCalibrations = 4;
  std::vector<std::uintptr_t> path;
  std::vector<std::size_t> lengths;
  for (int run = 0; run < kCalibrations; ++run) {
    Tracee t(v);
    ASSERT_TRUE(t.ok()) << t.error();
    std::vector<std::uintptr_t> pcs;
    bool reached = trace_to_the_futex(t, &pcs);
#if defined(__aarch64__) || defined(__riscv)
    // A load-/store-exclusive pair (atomics without LSE; LR/SC) fails for
    // ever when single-stepped: the trap clears the exclusive monitor.
    if (!reached && pcs.size() > kMaxSteps)
      GTEST_SKIP() << "single steps never reach the futex call: " << t.error()
                   << " (an exclusive load/store loop, which a single step always breaks?)";
#endif
    ASSERT_TRUE(reached) << t.error();
    lengths.push_back(pcs.size());
    if (path.empty() || pcs.size() < path.size()) path = std::move(pcs);
  }
  const long n = static_cast<long>(path.size()) - 1;  // the futex call is after n steps
  const Plan plan = plan_sweep(path);

  // The sweep: SIGUSR1 before the instruction at boundary k runs.
  constexpr int kMaxAttempts = 50;  // runs of one k whose path differs (a clock read retried)
  constexpr std::size_t kMaxMisses = 32;
  // The stale collapse's handler consumes its own request: its acquire must
  // time out, and not early.
  const int expected = v.stale_collapse ? kExitFalse : kExitInterrupted;
  long children = 0, steps = 0, reruns = 0;
  std::vector<Miss> misses;
  for (long k = 0; k <= n && misses.size() < kMaxMisses; ++k) {
    if (!plan.run[static_cast<std::size_t>(k)]) continue;
    bool done = false;
    for (int attempt = 0; attempt < kMaxAttempts && !done; ++attempt) {
      Tracee t(v);
      ++children;
      ASSERT_TRUE(t.ok()) << t.error();
      Reach got = reach(t, path, plan.anchor[static_cast<std::size_t>(k)], k, &steps);
      ASSERT_NE(got, Reach::failed) << "k = " << k << ": " << t.error();
      if (got == Reach::differed) {
        ++reruns;
        continue;
      }
      done = true;
      ASSERT_TRUE(t.release(SIGUSR1)) << t.error();
      int status = t.finish(kMissDeadline, /*asleep_is_lost=*/!v.stale_collapse);
      if (!(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == expected))
        misses.push_back(Miss{k, path[static_cast<std::size_t>(k)], describe_status(status)});
    }
    ASSERT_TRUE(done) << "k = " << k << ": the child left the calibrated path in all "
                      << kMaxAttempts << " runs";
  }

  std::string calibrated;
  for (std::size_t length : lengths)
    calibrated += (calibrated.empty() ? "" : ", ") + std::to_string(length - 1);
  std::printf("    %s: N = %ld instructions from the stop to the futex call\n"
              "    (calibration runs: %s); signalled at %ld of the %ld boundaries,\n"
              "    every one of the last %ld; %ld children, %ld single steps, %ld re-run\n"
              "    for a path that differed; %.2f s\n",
              v.name, n, calibrated.c_str(), plan.runs, n + 1, n + 1 - plan.exhaustive_from,
              children, steps, reruns, rt_test::seconds_since(start));
  std::fflush(stdout);
  std::string report;
  for (const Miss& m : misses) {
    char line[160];
    std::snprintf(line, sizeof line, "\n  k = %ld (%ld before the futex call), pc %#" PRIxPTR ": ",
                  m.k, n - m.k, m.pc);
    report += line + m.outcome;
  }
  EXPECT_TRUE(misses.empty()) << misses.size() << (misses.size() >= kMaxMisses ? "+" : "")
                              << (v.stale_collapse
                                      ? " boundaries where the acquire did not time out (false) "
                                        "after its full timeout, though the handler consumed "
                                        "its own request (the sweep stops after "
                                      : " boundaries where the handler's request did not end the "
                                        "acquire (the sweep stops after ")
                              << kMaxMisses << "):" << report;
}

TEST_P(WindowTest, SignalWhileAsleepInTheFutex) {
  RT_REQUIRES_PTRACE();
  const Variant& v = GetParam();
  if (v.stale_collapse)
    GTEST_SKIP() << "stale collapse: its handler consumes its own request, and its child sleeps "
                    "only kStaleTimeout, too short to be seen asleep reliably";
  Tracee t(v);
  ASSERT_TRUE(t.ok()) << t.error();
  ASSERT_TRUE(t.release(0)) << t.error();
  // Asleep: 'S' for five polls in a row, in the futex call where the kernel
  // says which call it is.
  int in_a_row = 0;
  bool asleep = rt_test::wait_for(
      [&] {
        long number = blocked_in(t.pid());
        bool in_futex = process_state(t.pid()) == 'S' && (number == -1 || number == __NR_futex);
        in_a_row = in_futex ? in_a_row + 1 : 0;
        return in_a_row >= 5;
      },
      kTimeout / 2);
  ASSERT_TRUE(asleep) << "the child never slept in its futex call (state "
                      << process_state(t.pid()) << ")";
  ASSERT_EQ(::kill(t.pid(), SIGUSR1), 0);
  int status = t.finish(kMissDeadline);
  EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == kExitInterrupted)
      << describe_status(status);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, WindowTest,
    ::testing::Values(Variant{false, true, "request_interrupt, timed"},
                      Variant{false, false, "request_interrupt, untimed"},
                      Variant{true, true, "interrupt_main, timed"},
                      Variant{true, false, "interrupt_main, untimed"},
                      Variant{false, true, "stale collapse, timed", true}),
    [](const ::testing::TestParamInfo<Variant>& info) {
      if (info.param.stale_collapse) return std::string("StaleCollapseTimed");
      return std::string(info.param.via_interrupt_main ? "InterruptMain" : "RequestInterrupt") +
             (info.param.timed ? "Timed" : "Untimed");
    });

}  // namespace
