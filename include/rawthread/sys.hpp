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
#include <type_traits>

#include <rawthread/sys_uapi.h>  // E*, __NR_*, pollfd, O_*, POLL*, AT_*: the kernel's

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
//
// System call numbers are the kernel's __NR_* from <asm/unistd.h>, which this
// header includes (it is in every Linux sysroot, cross ones included).
//
// pollfd and the O_*, POLL* and AT_* constants (API.md: the kernel's)
// come from the headers the translation unit has included already, the
// libc's <poll.h> / <fcntl.h> (glibc's or musl's, found by their include
// guards) or the kernel's <linux/poll.h> / <linux/fcntl.h>; with none, the
// libc's where the toolchain has them (a hosted program's <fcntl.h> may then
// come before or after this header, as <rawthread/rawthread.hpp> includes
// it), else the kernel's. On Linux both are the kernel's values, and struct
// pollfd the kernel's layout. The two families cannot meet in one
// translation unit (each defines struct pollfd, struct flock, struct
// f_owner_ex), so:
//   - libc's or kernel's headers first, this header after: works;
//   - this header first, the libc's after: works (guarded, one copy);
//   - this header first, the kernel's after: define
//     RAWTHREAD_SYS_KERNEL_HEADERS before including it (or on the command
//     line), and it includes the kernel's <linux/fcntl.h> and <linux/poll.h>
//     instead of the libc's.
// Without that macro the last order fails to compile, on the kernel's
// redefinitions: it cannot be detected, only chosen. Mixing poll from one
// family with fcntl from the other follows the same rules per header. The
// handful of constants glibc hides in a strict C or POSIX mode (O_CLOEXEC,
// O_DIRECTORY, O_NOFOLLOW) are defined here from its __O_* spellings.
//
// What each call does on EINTR (a signal handler ran while it blocked) is
// said with it: resumed where the call can go on without changing meaning,
// reported (os_error, errno EINTR) where it cannot.

// One system call, `nr`, with up to six integer, enum or pointer arguments,
// each passed as the long its register holds. A result in -4095..-1 is
// os_error "system call failed" with that errno; any other value, an
// address from mmap included, is the result. EINTR is reported, not resumed.
template <class... A>
Result<long> syscall(long nr, A... args) noexcept;

// A flag for open, openat and pipe2 that is not the kernel's: without it they
// add O_CLOEXEC, so a descriptor does not leak into a program that execve
// starts; with it they do not (the kernel never sees this bit).
inline constexpr int kNoCloexec = 0x40000000;

// openat's "relative to the current directory", AT_FDCWD.
inline constexpr int kCwd = -100;

// open(2) and openat(2), O_CLOEXEC added unless `flags` has kNoCloexec.
// EINTR (a handler ran while opening a FIFO waited for its other end) is
// resumed: no descriptor exists until the call succeeds.
//   path null:  value_error "path must not be null"
Result<int> open(const char* path, int flags, unsigned mode = 0) noexcept;
Result<int> openat(int dirfd, const char* path, int flags, unsigned mode = 0) noexcept;
// close(2), never retried: on Linux the descriptor is gone even when close
// fails, EINTR included, and a retry could close a descriptor another thread
// has opened since. EINTR and EIO are reported (data may be lost).
Result<void> close(int fd) noexcept;
// pread(2) and pwrite(2) at `offset` (the file position does not move);
// EINTR resumed, as read and write.
//   offset negative: value_error "offset must be non-negative"
Result<std::size_t> pread(int fd, void* buffer, std::size_t size, std::int64_t offset) noexcept;
Result<std::size_t> pwrite(int fd, const void* data, std::size_t size,
                           std::int64_t offset) noexcept;
// lseek(2): the new position. `whence` SEEK_SET 0, SEEK_CUR 1, SEEK_END 2 (and
// the kernel's SEEK_DATA 3, SEEK_HOLE 4); others are the kernel's EINVAL.
Result<std::int64_t> lseek(int fd, std::int64_t offset, int whence) noexcept;
// ioctl(2): what the driver returned. EINTR reported: whether a request may
// be repeated is the driver's to say.
Result<long> ioctl(int fd, unsigned long request, unsigned long arg = 0) noexcept;
// fsync(2). EINTR reported.
Result<void> fsync(int fd) noexcept;
// unlinkat(2) of a file and mkdirat(2), relative to the current directory.
// EINTR reported.
//   path null:  value_error "path must not be null"
Result<void> unlink(const char* path) noexcept;
Result<void> mkdir(const char* path, unsigned mode = 0777) noexcept;

// What stat and fstat report: the kernel's struct statx (<linux/stat.h>),
// whose layout is the same on every arch, unlike struct stat's.
struct StatTimestamp {
  std::int64_t tv_sec;
  std::uint32_t tv_nsec;
  std::int32_t reserved;
};
struct Stat {
  std::uint32_t mask;  // the STATX_* fields filled (STATX_BASIC_STATS asked)
  std::uint32_t blksize;
  std::uint64_t attributes;
  std::uint32_t nlink;
  std::uint32_t uid;
  std::uint32_t gid;
  std::uint16_t mode;  // file type and permissions, as st_mode
  std::uint16_t spare0;
  std::uint64_t ino;
  std::uint64_t size;
  std::uint64_t blocks;
  std::uint64_t attributes_mask;
  StatTimestamp atime, btime, ctime, mtime;
  std::uint32_t rdev_major, rdev_minor;
  std::uint32_t dev_major, dev_minor;
  std::uint64_t spare[14];

  static constexpr std::uint16_t kTypeMask = 0170000;  // S_IFMT
  constexpr bool is_regular() const noexcept { return (mode & kTypeMask) == 0100000; }
  constexpr bool is_directory() const noexcept { return (mode & kTypeMask) == 0040000; }
  constexpr bool is_fifo() const noexcept { return (mode & kTypeMask) == 0010000; }
  constexpr bool is_char_device() const noexcept { return (mode & kTypeMask) == 0020000; }
};
static_assert(sizeof(Stat) == 256, "struct statx is 256 bytes");
// statx(2) of a path (symbolic links followed) or of an open descriptor; it
// fills `out` only on success. EINTR reported.
//   path null:  value_error "path must not be null"
Result<void> stat(const char* path, Stat& out) noexcept;
Result<void> fstat(int fd, Stat& out) noexcept;

// pipe2(2): fds[0] the read end, fds[1] the write end, O_CLOEXEC added
// unless `flags` has kNoCloexec; `fds` is written only on success.
Result<void> pipe2(int (&fds)[2], int flags = 0) noexcept;
// dup2 as POSIX has it: `newfd` becomes a copy of `fd` (closing what it was,
// and without O_CLOEXEC); returns newfd. dup2(fd, fd) returns fd if fd is
// open, else EBADF. (aarch64 and riscv64 have no dup2 system call: dup3,
// and fcntl(F_GETFD) for fd == newfd, which dup3 refuses.)
Result<int> dup2(int fd, int newfd) noexcept;

// Waits until one of `fds` is ready (poll(2)'s events and revents), for at
// most `timeout` seconds (-1: for ever; 0: only looks), on an absolute
// CLOCK_MONOTONIC deadline: a handler that runs meanwhile does not end the
// wait or move its end, and it never ends early. Returns how many of `fds`
// have revents (0: the time ran out). Interruptible as Lock::acquire: an
// interrupt request for the calling thread (request_interrupt,
// interrupt_main, Thread::interrupt), pending when it is called (even with
// timeout 0 and fds ready, as a blocking acquire of a free lock) or arriving
// while it waits, ends it with Errc::interrupted "poll interrupted" (errno
// EINTR), the request consumed. One that arrives as fds become ready may
// find poll returning the count: it stays pending for the next wait.
// Blocking open (a FIFO) is not interruptible this way.
//   fds null while n > 0:    value_error "argument must not be null"
//   timeout negative, not -1, or NaN:
//                            value_error "timeout value must be a non-negative number"
//   timeout over TIMEOUT_MAX: overflow_error "timeout value is too large"
//   n over the open-file limit: os_error, the kernel's EINVAL
Result<int> poll(pollfd* fds, std::size_t n, double timeout = -1) noexcept;

namespace detail {
Result<long> syscall_result(long ret) noexcept;
template <class T>
long syscall_arg(T value) noexcept {
  if constexpr (std::is_null_pointer_v<T>)
    return 0;
  else if constexpr (std::is_pointer_v<T>)
    return reinterpret_cast<long>(value);
  else
    return static_cast<long>(value);
}
long syscall6(long nr, long a, long b, long c, long d, long e, long f) noexcept;
}  // namespace detail

template <class... A>
Result<long> syscall(long nr, A... args) noexcept {
  static_assert(sizeof...(A) <= 6, "Linux system calls take at most six arguments");
  static_assert(((std::is_integral_v<A> || std::is_enum_v<A> || std::is_pointer_v<A> ||
                  std::is_null_pointer_v<A>) && ...),
                "system call arguments are integers, enums or pointers");
  long v[6] = {detail::syscall_arg(args)...};
  // Unused argument registers are passed as 0: the kernel ignores them.
  return detail::syscall_result(detail::syscall6(nr, v[0], v[1], v[2], v[3], v[4], v[5]));
}

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

}  // namespace rawthread::sys

#include <rawthread/format.hpp>

namespace rawthread::sys {

// std::format's syntax and spec subset, for integers, bool, char, strings,
// floats and pointers; rawthread/format.hpp has the details. The format
// string is checked when the call is compiled. No heap, no locale, no libc:
// async-signal-safe, in hosted and libc-free programs alike.
//
// Writes at most size-1 characters and a NUL to buf (nothing when size is 0;
// buf may then be null), and returns the length the whole text has, as
// snprintf does: a result >= size means it was cut.
//   buf null with size > 0:   value_error "format buffer is null"
template <class... A>
Result<std::size_t> format_to(char* buf, std::size_t size,
                              std::type_identity_t<format_string<A...>> fmt,
                              const A&... args) noexcept {
  namespace detail = rawthread::detail;  // not rawthread::sys::detail
  const detail::fmt::Arg packed[sizeof...(A) + 1] = {detail::fmt::make_arg(args)...};
  return detail::fmt::vformat_to(buf, size, fmt.str, packed, sizeof...(A));
}
// Formats into a 1 KiB buffer on the stack and writes it with one write(2)
// (through write_all), so lines from threads do not interleave. A longer text
// goes out in 1 KiB pieces, one write each, which other writers to the file
// may come between. The first failed write ends it (os_error, its errno);
// what came before it was written.
template <class... A>
Result<void> print(int fd, std::type_identity_t<format_string<A...>> fmt,
                   const A&... args) noexcept {
  namespace detail = rawthread::detail;  // not rawthread::sys::detail
  const detail::fmt::Arg packed[sizeof...(A) + 1] = {detail::fmt::make_arg(args)...};
  return detail::fmt::vprint(fd, fmt.str, packed, sizeof...(A));
}

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
