/* SPDX-License-Identifier: MIT */
/* rawthread/sys.h: <rawthread/sys.hpp> for C11, for programs with or without
 * libc (linked with librawthread_rt, a C program has no libc at all).
 *
 * The same calls as rawthread::sys with a rawthread_ prefix. Each returns
 * -errno on failure (an argument out of its domain: -EINVAL, and nothing
 * changes), and what the C++ call's Result holds on success. Nothing here
 * touches errno. rawthread_sleep and the C API's other calls are
 * <rawthread.h>'s, which this header includes.
 */
#ifndef RAWTHREAD_SYS_H
#define RAWTHREAD_SYS_H

#include <rawthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Raw system calls, files and devices ---------------------------------- */

/* rawthread::sys's calls of the same names (<rawthread/sys.hpp> says what each
 * does, on EINTR too). The __NR_* numbers come from <asm/unistd.h>, included
 * here. struct pollfd and the O_*, POLL*, AT_* constants come, as in
 * sys.hpp (which explains the rules), from the libc's <poll.h>/<fcntl.h> or
 * the kernel's <linux/poll.h>/<linux/fcntl.h>, whichever the file has
 * included already, else the libc's where the toolchain has them, or the
 * kernel's when RAWTHREAD_SYS_KERNEL_HEADERS is defined: define it to include
 * the kernel's headers after this one. In a strict C mode (-std=c11) glibc hides
 * O_CLOEXEC, O_DIRECTORY and O_NOFOLLOW: they are defined here from its
 * __O_* spellings.
 *
 * Errors: -errno from the kernel; a null path, a negative offset, a bad
 * timeout: -EINVAL, before any system call; a poll ended by an interrupt
 * request: -EINTR (poll resumes after a handler that made none, so -EINTR
 * means the request). The E* numbers are the kernel's <asm/errno.h>, included
 * here (glibc's <errno.h> takes them from the same file). */
#include <rawthread/sys_uapi.h> /* E*, __NR_*, pollfd, O_*, POLL*, AT_* */

/* A flag for open, openat and pipe2, not the kernel's: without it they add
 * O_CLOEXEC; with it they do not. */
#define RAWTHREAD_NO_CLOEXEC 0x40000000
/* openat's "relative to the current directory", AT_FDCWD. */
#define RAWTHREAD_CWD (-100)

/* One system call with six arguments, read with va_arg as longs: pass each
 * argument as a long (cast pointers and ints: (long)buf), and any number up
 * to six; those not passed are read too and handed to the kernel, which
 * ignores the registers a call does not take. Returns the kernel's result
 * (an mmap address included), or -errno for -4095..-1. EINTR is returned. */
long rawthread_syscall(long nr, ...);

int rawthread_open(const char* path, int flags, unsigned mode);
int rawthread_openat(int dirfd, const char* path, int flags, unsigned mode);
int rawthread_close(int fd); /* never retried; the fd is gone even on failure */
long rawthread_read(int fd, void* buffer, size_t size);
long rawthread_write(int fd, const void* data, size_t size);
long rawthread_pread(int fd, void* buffer, size_t size, int64_t offset);
long rawthread_pwrite(int fd, const void* data, size_t size, int64_t offset);
int64_t rawthread_lseek(int fd, int64_t offset, int whence);
long rawthread_ioctl(int fd, unsigned long request, unsigned long arg);
int rawthread_fsync(int fd);
int rawthread_unlink(const char* path);
int rawthread_mkdir(const char* path, unsigned mode);

/* The kernel's struct statx, the same on every arch (rawthread::sys::Stat). */
struct rawthread_statx_timestamp {
  int64_t tv_sec;
  uint32_t tv_nsec;
  int32_t reserved;
};
struct rawthread_statx {
  uint32_t mask;
  uint32_t blksize;
  uint64_t attributes;
  uint32_t nlink;
  uint32_t uid;
  uint32_t gid;
  uint16_t mode; /* file type and permissions, as st_mode */
  uint16_t spare0;
  uint64_t ino;
  uint64_t size;
  uint64_t blocks;
  uint64_t attributes_mask;
  struct rawthread_statx_timestamp atime, btime, ctime, mtime;
  uint32_t rdev_major, rdev_minor;
  uint32_t dev_major, dev_minor;
  uint64_t spare[14];
};
int rawthread_stat(const char* path, struct rawthread_statx* out);
int rawthread_fstat(int fd, struct rawthread_statx* out);

int rawthread_pipe2(int fds[2], int flags);
int rawthread_dup2(int fd, int newfd);
/* The number of ready fds, 0 when `timeout` seconds (-1: for ever) ran out;
 * -EINTR: an interrupt request (rawthread_request_interrupt,
 * rawthread_interrupt_main, ...) pending or arriving, consumed. */
int rawthread_poll(struct pollfd* fds, size_t n, double timeout);

/* ---- Processes, clocks, environment, the calling thread's settings ------- */

/* The process's id, the calling thread's (never fail). */
int rawthread_getpid(void);
int rawthread_gettid(void);

/* Signal 0 checks the target only. -EINVAL: signum outside 0..64. */
int rawthread_kill(int pid, int signum);
int rawthread_tgkill(int tgid, int tid, int signum);

/* Handlers (rawthread::sys::set_signal_handler and its rules: -EINVAL for
 * signum outside 1..64, 32..34 in a hosted program, a null handler, flags
 * other than these four); `mask` is blocked while the handler runs, signal
 * n as bit n - 1. */
#define RAWTHREAD_SA_RESTART 0x10000000UL
#define RAWTHREAD_SA_NODEFER 0x40000000UL
#define RAWTHREAD_SA_RESETHAND 0x80000000UL
#define RAWTHREAD_SA_ONSTACK 0x08000000UL
typedef void (*rawthread_signal_handler)(int signum);
int rawthread_set_signal_handler(int signum, rawthread_signal_handler handler,
                                 unsigned long flags, uint64_t mask);
int rawthread_set_signal_default(int signum);
int rawthread_ignore_signal(int signum);
/* The calling thread's signal mask (signal n as bit n - 1): `how` one of the
 * three below, `set` null to change nothing; the mask before into `*old`
 * when `old` is not null. */
#define RAWTHREAD_SIG_BLOCK 0
#define RAWTHREAD_SIG_UNBLOCK 1
#define RAWTHREAD_SIG_SETMASK 2
int rawthread_signal_mask(int how, const uint64_t* set, uint64_t* old);

/* The alternate signal stack. flags: RAWTHREAD_SS_ONSTACK (in use now),
 * RAWTHREAD_SS_DISABLE (none). `old` may be null. */
#define RAWTHREAD_SS_ONSTACK 1
#define RAWTHREAD_SS_DISABLE 2
typedef struct rawthread_alt_stack {
  void* base;
  size_t size;
  int flags;
} rawthread_alt_stack;
int rawthread_get_alt_stack(rawthread_alt_stack* out); /* -EINVAL: out null */
int rawthread_set_alt_stack(void* base, size_t size, rawthread_alt_stack* old);
int rawthread_disable_alt_stack(rawthread_alt_stack* old);

/* exit_group(2): no atexit handler runs. */
RAWTHREAD_NORETURN void rawthread_exit_group(int status);

/* fork: the child's pid, 0 in the child, or -errno. The rules of
 * rawthread::sys::fork: in a hosted program the child may call only
 * async-signal-safe functions until execve (use libc's fork() otherwise). */
int rawthread_fork(void);
/* Returns only on failure: -errno (-EINVAL: an argument null). */
int rawthread_execve(const char* path, char* const argv[], char* const envp[]);

/* wait4: the pid reported (0 with RAWTHREAD_WNOHANG and none ready) or
 * -errno; the status word into *status, the usage into *usage, each when not
 * null. -EINVAL: options other than these three. */
#define RAWTHREAD_WNOHANG 1
#define RAWTHREAD_WUNTRACED 2
#define RAWTHREAD_WCONTINUED 8
typedef struct rawthread_rusage {
  long user_sec, user_usec;
  long system_sec, system_usec;
  long maxrss, ixrss, idrss, isrss;
  long minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv, nsignals, nvcsw, nivcsw;
} rawthread_rusage;
int rawthread_wait4(int pid, int* status, int options, rawthread_rusage* usage);
/* <sys/wait.h>'s macros, for a program without libc. */
static inline bool rawthread_wifexited(int status) { return (status & 0x7f) == 0; }
static inline int rawthread_wexitstatus(int status) { return (status >> 8) & 0xff; }
static inline bool rawthread_wifsignaled(int status) {
  return (status & 0x7f) != 0 && (status & 0x7f) != 0x7f;
}
static inline int rawthread_wtermsig(int status) { return status & 0x7f; }

/* Nanoseconds, or -errno: CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME,
 * through the vDSO where there is one. */
int64_t rawthread_monotonic_ns(void);
int64_t rawthread_realtime_ns(void);
int64_t rawthread_boottime_ns(void);

/* The calling thread's name: -EINVAL for null or over 15 bytes. */
int rawthread_set_thread_name(const char* name);
int rawthread_thread_name(char out[16]);

/* CPU affinity of thread `tid` (0: the calling thread), CPUs 0..1023. */
typedef struct rawthread_cpu_set {
  uint64_t words[16];
} rawthread_cpu_set;
static inline void rawthread_cpu_zero(rawthread_cpu_set* set) {
  for (int i = 0; i < 16; ++i) set->words[i] = 0;
}
static inline void rawthread_cpu_add(rawthread_cpu_set* set, int cpu) {
  if (cpu >= 0 && cpu < 1024) set->words[cpu / 64] |= (uint64_t)1 << (cpu % 64);
}
static inline bool rawthread_cpu_contains(const rawthread_cpu_set* set, int cpu) {
  return cpu >= 0 && cpu < 1024 && ((set->words[cpu / 64] >> (cpu % 64)) & 1) != 0;
}
int rawthread_set_affinity(int tid, const rawthread_cpu_set* cpus);
int rawthread_get_affinity(int tid, rawthread_cpu_set* cpus);

/* Scheduling policy and priority of thread `tid` (0: the calling thread),
 * rawthread::sys::set_scheduling's rules: -EINVAL for nice outside -20..19,
 * priority outside 0..99 or a policy the kernel refuses, -EPERM without
 * CAP_SYS_NICE. */
#define RAWTHREAD_SCHED_OTHER 0
#define RAWTHREAD_SCHED_FIFO 1
#define RAWTHREAD_SCHED_RR 2
#define RAWTHREAD_SCHED_BATCH 3
#define RAWTHREAD_SCHED_IDLE 5
#define RAWTHREAD_SCHED_DEADLINE 6
typedef struct rawthread_scheduling {
  int policy;
  int nice;
  int priority;
  uint64_t runtime_ns, deadline_ns, period_ns;
} rawthread_scheduling;
int rawthread_set_scheduling(int tid, const rawthread_scheduling* scheduling);
int rawthread_get_scheduling(int tid, rawthread_scheduling* scheduling);

/* A program linked with librawthread_rt has C's `extern char** environ;`
 * and `char* getenv(const char*)`, defined by the runtime. */

/* ---- Formatted output ------------------------------------------------------ */

#include <stdarg.h> /* va_list */

/* printf's syntax, for programs with or without libc, formatted by the same
 * engines as rawthread::sys::format_to: no heap, no locale, async-signal-safe.
 * Conversions: %d %i %u %x %X %o %c %s %p %f %F %e %E %g %G %%, flags
 * - + space # 0, width and precision (also *), length modifiers hh h l ll z j t
 * (l on floats ignored). Floats are correctly rounded from the exact binary
 * value, ties to even, as glibc prints them in the default rounding mode.
 * %s of NULL prints "(null)" (nothing when the precision is below 6), %p of
 * NULL "(nil)", as glibc. Widths and precisions above 2^20 are capped there.
 * A conversion outside that list (%n, %a, %lc, %ls, %Lf, ...) is printed as it
 * stands, from '%' to its last character, and takes no argument: the ones
 * after it then no longer match (the format attribute warns).
 *
 * rawthread_snprintf: writes at most size-1 characters and a NUL (nothing
 * when size is 0; buf may then be NULL); returns the length of the whole
 * text, or -EOVERFLOW above INT_MAX. */
int rawthread_snprintf(char* buf, size_t size, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rawthread_vsnprintf(char* buf, size_t size, const char* fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Formats into a 1 KiB buffer on the stack and writes it with one write(2),
 * so that lines from threads do not interleave; a longer text goes out in
 * 1 KiB pieces, one write each. Returns the bytes written, or the first
 * failed write's -errno (what came before it was written). */
int rawthread_dprintf(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
int rawthread_vdprintf(int fd, const char* fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#ifdef __cplusplus
}
#endif

#endif /* RAWTHREAD_SYS_H */
