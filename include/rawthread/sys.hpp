// SPDX-License-Identifier: MIT
// rawthread/sys.hpp: the few system services a threaded program needs when
// there is no libc under it.
//
// A freestanding rawthread program (linked with librawthread_rt, see the
// README) has no signal(), no nanosleep(), no printf. These are the calls it
// needs to be a real program: install the handler interrupt_main() relies on,
// mask signals, read the monotonic clock and sleep on it, and talk to file
// descriptors. They work the same in hosted programs, where they sit beside
// libc without touching errno.
//
// Every call is async-signal-safe and returns a Result: a system call that
// fails gives Errc::os_error with the kernel's errno; an argument out of its
// domain gives value_error or overflow_error and changes nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rawthread/result.hpp>

namespace rawthread::sys {

// ---- Signals ---------------------------------------------------------------

inline constexpr int kMaxSignal = 64;  // Linux's signals are 1..64 on every arch

// A set of signals, the kernel's 64-bit sigset_t.
class SignalSet {
 public:
  constexpr SignalSet() noexcept = default;
  static constexpr SignalSet all() noexcept { return SignalSet{~std::uint64_t{0}}; }

  // Signals outside 1..64 are ignored.
  constexpr SignalSet& add(int signum) noexcept {
    if (valid(signum)) bits_ |= bit(signum);
    return *this;
  }
  constexpr SignalSet& remove(int signum) noexcept {
    if (valid(signum)) bits_ &= ~bit(signum);
    return *this;
  }
  constexpr bool contains(int signum) const noexcept {
    return valid(signum) && (bits_ & bit(signum)) != 0;
  }
  constexpr bool empty() const noexcept { return bits_ == 0; }
  constexpr std::uint64_t bits() const noexcept { return bits_; }
  friend constexpr bool operator==(SignalSet, SignalSet) noexcept = default;

 private:
  constexpr explicit SignalSet(std::uint64_t bits) noexcept : bits_(bits) {}
  static constexpr bool valid(int signum) noexcept { return signum >= 1 && signum <= kMaxSignal; }
  static constexpr std::uint64_t bit(int signum) noexcept {
    return std::uint64_t{1} << (signum - 1);
  }
  std::uint64_t bits_ = 0;
};

using SignalHandler = void (*)(int signum);

// sa_flags a handler may be installed with (the kernel's values, the same on
// x86_64, aarch64 and riscv64). Without kRestart, a handler that runs during
// read() or write() makes them fail with EINTR.
inline constexpr unsigned long kRestart = 0x10000000;    // SA_RESTART
inline constexpr unsigned long kNoDefer = 0x40000000;    // SA_NODEFER
inline constexpr unsigned long kResetHand = 0x80000000;  // SA_RESETHAND
inline constexpr unsigned long kOnStack = 0x08000000;    // SA_ONSTACK

// Signals 32, 33 and 34 in a hosted program are the C library's: glibc keeps
// 32 and 33, musl 32 to 34, for thread cancellation, timers and setuid() and
// its relatives (which, in a program with a second thread, wait for ever on a
// thread whose disposition is not the libc's). Each libc's sigaction refuses
// its own; the three calls below refuse all three, since one librawthread.a
// links with either libc and cannot tell which (in a glibc program 34, its
// SIGRTMIN, is still there for libc's sigaction). In a program linked with
// librawthread_rt there is no libc, and every signal is the program's.

// Installs `handler` for `signum`, with `mask` also blocked while it runs.
// The return path each arch needs is set up here (x86_64 requires
// SA_RESTORER and a restorer that calls rt_sigreturn).
//   signum outside 1..64:         value_error "signal number out of range"
//   32..34 in a hosted program:   value_error "signal reserved by the C library"
//   handler null:                 value_error "signal handler must not be null"
//   flags outside the four above: value_error "unsupported signal flags"
//   SIGKILL, SIGSTOP, ...:        os_error, the kernel's EINVAL
Result<void> set_signal_handler(int signum, SignalHandler handler, unsigned long flags = kRestart,
                                SignalSet mask = {}) noexcept;
// SIG_DFL and SIG_IGN; the same errors for signum (32..34 included: the
// default or ignored disposition breaks the libc as much as a handler).
Result<void> set_signal_default(int signum) noexcept;
Result<void> ignore_signal(int signum) noexcept;

// The calling thread's signal mask.
enum class MaskHow { block = 0, unblock = 1, set = 2 };  // SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK
Result<SignalSet> signal_mask() noexcept;
// Changes it; returns the mask before. SIGKILL and SIGSTOP stay unblocked,
// and in a hosted program so do 32..34, as libc's sigprocmask leaves them
// (a blocked SIGSETXID would hang glibc's setuid() in a process with
// threads); a program on librawthread_rt may block them.
//   how not one of the three: value_error "invalid signal mask operation"
Result<SignalSet> change_signal_mask(MaskHow how, SignalSet set) noexcept;

// ---- Time: CLOCK_MONOTONIC -------------------------------------------------

// Nanoseconds since an arbitrary start, never going back.
Result<std::int64_t> monotonic_ns() noexcept;
// The same in seconds, Python's time.monotonic().
Result<double> monotonic() noexcept;

// Sleeps at least `seconds`, on the monotonic clock to an absolute deadline:
// a signal handler that runs meanwhile does not end the sleep or make it
// drift (PEP 475), and setting the wall clock moves nothing.
//   negative:            value_error "sleep length must be non-negative"
//   NaN:                 value_error "Invalid value NaN (not a number)"
//   over TIMEOUT_MAX:    overflow_error "sleep length is too large"
Result<void> sleep(double seconds) noexcept;
//   negative:            value_error "sleep length must be non-negative"
Result<void> sleep_ns(std::int64_t nanoseconds) noexcept;

// ---- File descriptors -------------------------------------------------------

// One read(2) or write(2): the number of bytes moved, which may be short.
// EINTR is retried; other failures are os_error with the errno.
Result<std::size_t> read(int fd, void* buffer, std::size_t size) noexcept;
Result<std::size_t> write(int fd, const void* data, std::size_t size) noexcept;
// Writes all of it, looping over short writes. The first failure ends it,
// with what came before it written; a write(2) that moves nothing fails with
// EIO. Nothing to write makes no system call.
Result<void> write_all(int fd, const void* data, std::size_t size) noexcept;
// A NUL-terminated string (null writes nothing), and a signed decimal integer
// ("-9223372036854775808" for LLONG_MIN), each through write_all.
Result<void> write_str(int fd, const char* text) noexcept;
Result<void> write_int(int fd, long long value) noexcept;

// ---- Raw system calls, files and devices ------------------------------------

// (files and devices: added by the files work)

// ---- Processes, clocks, environment, the calling thread's settings ----------

// The process's id and the calling thread's (the kernel's tid). Never fail.
Result<int> getpid() noexcept;
Result<int> gettid() noexcept;

// kill(2) and tgkill(2). Signal 0 sends nothing and checks that the target
// exists and may be signalled.
//   signum outside 0..64:       value_error "signal number out of range"
//   no such process or thread:  os_error ESRCH; not allowed: EPERM
Result<void> kill(int pid, int signum) noexcept;
Result<void> tgkill(int tgid, int tid, int signum) noexcept;

// The calling thread's alternate signal stack (sigaltstack(2)), where a
// handler installed with kOnStack runs: the one way a handler can run after
// the thread's own stack overflowed.
inline constexpr int kAltStackActive = 1;    // SS_ONSTACK: a handler runs on it now
inline constexpr int kAltStackDisabled = 2;  // SS_DISABLE: there is none
struct AltStack {
  void* base = nullptr;
  std::size_t size = 0;
  int flags = kAltStackDisabled;  // kAltStackActive, kAltStackDisabled or 0
};
Result<AltStack> alt_stack() noexcept;
// Sets it to [base, base + size); returns the one before.
//   base null:                   value_error "alternate signal stack must not be null"
//   size below the kernel's minimum (MINSIGSTKSZ): os_error ENOMEM
//   the thread runs on it now:   os_error EPERM
Result<AltStack> set_alt_stack(void* base, std::size_t size) noexcept;
// Removes it; returns the one before. On it now: os_error EPERM.
Result<AltStack> disable_alt_stack() noexcept;

// exit_group(2): every thread ends, at once; no atexit handler, static
// destructor or stdio flush runs (exit() runs those).
[[noreturn]] void exit_group(int status) noexcept;

// fork(2), as clone(SIGCHLD): the child's pid in the parent, 0 in the child.
//   - In a program linked with librawthread_rt, the runtime's locks (heap,
//     exit) are taken around the clone, so the child may allocate, start
//     threads and exit as any program. It keeps the calling thread's heap;
//     the other threads are not in the child. Not async-signal-safe there:
//     from a handler that interrupted malloc, it would wait for ever.
//   - In a hosted program it bypasses libc (no pthread_atfork handlers, and
//     libc's locks stay as the other threads held them): until execve, the
//     child may call only async-signal-safe functions, as POSIX has it for
//     a multithreaded program's fork. A child that needs libc: use libc's
//     fork(). rawthread's own state is consistent in the child either way
//     (DESIGN.md, "Fork").
//   failure: os_error EAGAIN (process limit) or ENOMEM
Result<int> fork() noexcept;

// execve(2): returns only on failure.
//   path, argv or envp null:     value_error "execve argument must not be null"
//   no such file: os_error ENOENT; not executable: EACCES; and the others
Result<void> execve(const char* path, char* const argv[], char* const envp[]) noexcept;

// wait4(2) options and the status it reports.
inline constexpr int kNoHang = 1;      // WNOHANG: pid 0 if no child changed state
inline constexpr int kUntraced = 2;    // WUNTRACED: report stopped children
inline constexpr int kContinued = 8;   // WCONTINUED: report continued children
struct WaitStatus {
  int pid = 0;     // the child reported, 0 with kNoHang when none was ready
  int status = 0;  // the kernel's status word
  bool exited() const noexcept { return (status & 0x7f) == 0; }
  int exit_code() const noexcept { return (status >> 8) & 0xff; }  // if exited()
  bool signaled() const noexcept { return (status & 0x7f) != 0 && (status & 0x7f) != 0x7f; }
  int term_signal() const noexcept { return status & 0x7f; }       // if signaled()
  bool core_dumped() const noexcept { return signaled() && (status & 0x80) != 0; }
  bool stopped() const noexcept { return (status & 0xff) == 0x7f; }
  int stop_signal() const noexcept { return (status >> 8) & 0xff; }  // if stopped()
  bool continued() const noexcept { return status == 0xffff; }
};
// struct rusage as the kernel fills it on 64-bit arches.
struct ResourceUsage {
  long user_sec, user_usec;      // CPU time in user mode
  long system_sec, system_usec;  // CPU time in the kernel
  long maxrss;                   // largest resident set, KiB
  long ixrss, idrss, isrss;      // unused by Linux
  long minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv, nsignals, nvcsw, nivcsw;
};
// Waits for a child: pid > 0 that one, -1 any, 0 any in the caller's process
// group, < -1 any in group -pid. EINTR is reported, not retried: a handler
// installed without kRestart that runs meanwhile ends the wait (so that a
// supervisor's SIGTERM does). `usage`, when given, receives the child's
// resource usage.
//   options outside the three above: value_error "unsupported wait options"
//   no such child:                   os_error ECHILD
Result<WaitStatus> wait4(int pid, int options = 0, ResourceUsage* usage = nullptr) noexcept;

// CLOCK_REALTIME (the time of day, nanoseconds since 1970, which may jump
// when it is set) and CLOCK_BOOTTIME (CLOCK_MONOTONIC plus the time spent
// suspended), through the vDSO where the kernel maps one, as monotonic_ns.
Result<std::int64_t> realtime_ns() noexcept;
Result<std::int64_t> boottime_ns() noexcept;

// The calling thread's name (PR_SET_NAME, PR_GET_NAME): at most 15 bytes,
// what ps, top, gdb and /proc/<pid>/task/<tid>/comm show.
//   null:             value_error "thread name must not be null"
//   over 15 bytes:    value_error "thread name is longer than 15 bytes"
Result<void> set_thread_name(const char* name) noexcept;
Result<void> thread_name(char (&out)[16]) noexcept;  // NUL-terminated

// A set of CPUs 0..1023, the kernel's cpu_set_t of 1024 bits (glibc's size).
class CpuSet {
 public:
  static constexpr int kMaxCpus = 1024;
  // CPUs outside 0..1023 are ignored.
  constexpr CpuSet& add(int cpu) noexcept {
    if (valid(cpu)) words_[cpu / 64] |= bit(cpu);
    return *this;
  }
  constexpr CpuSet& remove(int cpu) noexcept {
    if (valid(cpu)) words_[cpu / 64] &= ~bit(cpu);
    return *this;
  }
  constexpr bool contains(int cpu) const noexcept {
    return valid(cpu) && (words_[cpu / 64] & bit(cpu)) != 0;
  }
  constexpr int count() const noexcept {
    int n = 0;
    for (std::uint64_t w : words_)
      for (; w != 0; w &= w - 1) ++n;
    return n;
  }
  constexpr bool empty() const noexcept { return count() == 0; }
  // The kernel's layout (an array of unsigned long), for sched_*affinity.
  const std::uint64_t* words() const noexcept { return words_; }
  std::uint64_t* words() noexcept { return words_; }
  friend constexpr bool operator==(const CpuSet&, const CpuSet&) noexcept = default;

 private:
  static constexpr bool valid(int cpu) noexcept { return cpu >= 0 && cpu < kMaxCpus; }
  static constexpr std::uint64_t bit(int cpu) noexcept { return std::uint64_t{1} << (cpu % 64); }
  std::uint64_t words_[kMaxCpus / 64] = {};
};
// The CPUs a thread may run on (sched_setaffinity, sched_getaffinity): tid
// 0 is the calling thread.
//   tid negative:                      value_error "thread id must not be negative"
//   no allowed CPU online in the set:  os_error EINVAL
//   no such thread: ESRCH; another user's thread without CAP_SYS_NICE: EPERM
Result<void> set_affinity(const CpuSet& cpus, int tid = 0) noexcept;
Result<CpuSet> affinity(int tid = 0) noexcept;

// Scheduling policy and priority (sched_setattr, sched_getattr), of a thread
// (tid 0: the calling thread). On Linux a policy is per thread; a process's
// is its main thread's.
enum class SchedPolicy : int {
  other = 0,     // SCHED_OTHER: time-shared, weighted by nice
  fifo = 1,      // SCHED_FIFO: real time, priority 1..99
  round_robin = 2,  // SCHED_RR: real time, priority 1..99, time-sliced
  batch = 3,     // SCHED_BATCH
  idle = 5,      // SCHED_IDLE
  deadline = 6,  // SCHED_DEADLINE: runtime <= deadline <= period, in ns
};
struct Scheduling {
  SchedPolicy policy = SchedPolicy::other;
  int nice = 0;      // other and batch: -20..19
  int priority = 0;  // fifo and round_robin: 1..99; the others: 0
  std::uint64_t runtime_ns = 0, deadline_ns = 0, period_ns = 0;  // deadline only
};
// Sets a thread's policy and priority.
//   tid negative:                value_error "thread id must not be negative"
//   nice outside -20..19:        value_error "nice value out of range"
//   priority outside 0..99:      value_error "scheduling priority out of range"
//   a policy or priority the kernel refuses: os_error EINVAL
//   a real-time policy, a nice below the current one, or another user's
//   thread, without CAP_SYS_NICE (or RLIMIT_RTPRIO): os_error EPERM, with
//   the message "sched_setattr: not permitted (needs CAP_SYS_NICE)"
//   no such thread:              os_error ESRCH
Result<void> set_scheduling(const Scheduling& scheduling, int tid = 0) noexcept;
Result<Scheduling> scheduling(int tid = 0) noexcept;

// The environment of a program linked with librawthread_rt is C's:
// `extern char** environ;` (<unistd.h>) and `char* getenv(const char*)`
// (<stdlib.h>), which the runtime defines, environ set by the start-up from
// the initial stack. getenv of null, "" or a name with '=' gives null. A
// hosted program has its libc's.

// ---- Formatted output --------------------------------------------------------

// (format_to, print: added by the formatter work)

// ---- The process's end, in a program linked with librawthread_rt ------------
//
// exit() and atexit() are <cstdlib>'s; the runtime defines them. exit(status)
// (and a return from main) runs, in the calling thread: its thread_local
// destructors, then atexit handlers and static destructors, last registered
// first, then .fini_array, then exit_group(status). Calling exit again, which
// C and C++ leave undefined, is defined as glibc has it since 2.41 (its bug
// 31997, a recursive lock around exit):
//   - from the thread running that sequence (an atexit handler, a static or
//     thread_local destructor, a .fini_array function): the sequence goes on
//     with what has not begun yet, and the process ends with the new status.
//     The .fini_array counts as one step, as in glibc: exit from one of its
//     functions skips the rest of it.
//   - from any other thread: the call never returns; that thread waits while
//     the sequence runs and the process ends with its status. (A handler
//     that waits for such a thread waits for ever.)
// A thread whose thread_local destructor calls exit as the thread ends runs
// the sequence like any other caller.

}  // namespace rawthread::sys
