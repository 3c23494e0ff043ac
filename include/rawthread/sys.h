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
 * included already, else from the kernel's, or the libc's when
 * RAWTHREAD_SYS_LIBC_HEADERS is defined: define it to include the libc's
 * headers after this one. In a strict C mode (-std=c11) glibc hides
 * O_CLOEXEC, O_DIRECTORY and O_NOFOLLOW: they are defined here from its
 * __O_* spellings.
 *
 * Errors: -errno from the kernel; a null path, a negative offset, a bad
 * timeout: -EINVAL, before any system call; a poll ended by an interrupt
 * request: -EINTR (poll resumes after a handler that made none, so -EINTR
 * means the request). The E* numbers are the kernel's <asm/errno.h>, included
 * here (glibc's <errno.h> takes them from the same file). */
#include <asm/errno.h>
#include <asm/unistd.h>
/* The ones in already, else the kernel's (the libc's with
 * RAWTHREAD_SYS_LIBC_HEADERS defined): see above. */
#if defined(_FCNTL_H) || defined(_ASM_GENERIC_FCNTL_H) || defined(_LINUX_FCNTL_H)
#elif defined(RAWTHREAD_SYS_LIBC_HEADERS)
#include <fcntl.h>
#else
#include <linux/fcntl.h>
#endif
#if defined(_SYS_POLL_H) || defined(_POLL_H) || defined(__ASM_GENERIC_POLL_H)
#elif defined(RAWTHREAD_SYS_LIBC_HEADERS)
#include <poll.h>
#else
#include <linux/poll.h>
#endif
#if !defined(O_CLOEXEC) && defined(__O_CLOEXEC)
#define O_CLOEXEC __O_CLOEXEC
#endif
#if !defined(O_DIRECTORY) && defined(__O_DIRECTORY)
#define O_DIRECTORY __O_DIRECTORY
#endif
#if !defined(O_NOFOLLOW) && defined(__O_NOFOLLOW)
#define O_NOFOLLOW __O_NOFOLLOW
#endif

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

/* (processes, clocks, environment, thread settings: added by the process work) */

/* ---- Formatted output ------------------------------------------------------ */

/* (rawthread_snprintf, rawthread_dprintf: added by the formatter work) */

#ifdef __cplusplus
}
#endif

#endif /* RAWTHREAD_SYS_H */
