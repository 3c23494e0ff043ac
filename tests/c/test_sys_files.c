/* SPDX-License-Identifier: MIT */
/* rawthread/sys.h's raw system call, files and devices from strict C11
 * (-std=c11, no feature macros: glibc hides O_CLOEXEC there, and sys.h
 * supplies it): each call's success, its -errno on failure, -EINVAL for
 * arguments refused before the call, O_CLOEXEC by default, poll's timeout
 * and a pending interrupt request. The libc only prints and exits. */
#include <fcntl.h> /* the libc's first: sys.h uses them */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <asm/ioctls.h> /* FIONREAD */

#include <rawthread/sys.h>

static int failed;
static long checks;

#define CHECK(expr)                                                   \
  do {                                                                \
    ++checks;                                                         \
    if (!(expr)) {                                                    \
      ++failed;                                                       \
      printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
    }                                                                 \
  } while (0)

/* CLOCK_MONOTONIC through the raw call: struct __kernel_timespec. */
static int64_t now_ns(void) {
  struct {
    long sec, nsec;
  } now = {0, 0};
  rawthread_syscall(__NR_clock_gettime, 1L, (long)&now);
  return (int64_t)now.sec * 1000000000 + now.nsec;
}

static long fd_flags(int fd) { return rawthread_syscall(__NR_fcntl, (long)fd, 1L /* F_GETFD */); }

static void test_syscall(void) {
  long pid = rawthread_syscall(__NR_getpid);
  CHECK(pid > 0);
  CHECK(rawthread_syscall(__NR_getpid, 0L, 0L, 0L, 0L, 0L, 0L) == pid);
  CHECK(rawthread_syscall(__NR_close, -1L) == -EBADF);
}

static void test_open_read_write(void) {
  int fd = rawthread_open("/dev/null", O_RDWR, 0);
  CHECK(fd >= 0);
  CHECK(fd_flags(fd) == 1 /* FD_CLOEXEC */);
  CHECK(rawthread_write(fd, "abc", 3) == 3);
  char buf[4];
  CHECK(rawthread_read(fd, buf, sizeof buf) == 0);
  CHECK(rawthread_close(fd) == 0);
  CHECK(rawthread_close(fd) == -EBADF);
  fd = rawthread_open("/dev/null", O_RDONLY | RAWTHREAD_NO_CLOEXEC, 0);
  CHECK(fd >= 0);
  CHECK(fd_flags(fd) == 0);
  CHECK(rawthread_close(fd) == 0);
  CHECK(rawthread_open("/nonexistent/rawthread", O_RDONLY, 0) == -ENOENT);
  CHECK(rawthread_open(NULL, O_RDONLY, 0) == -EINVAL);
  CHECK(rawthread_openat(RAWTHREAD_CWD, "/dev/null", O_RDONLY, 0) >= 0);
}

static void test_files_in_a_directory(void) {
  char dir[64], file[80];
  snprintf(dir, sizeof dir, "/tmp/rawthread-c-files-%ld", rawthread_syscall(__NR_getpid));
  snprintf(file, sizeof file, "%s/f", dir);
  CHECK(rawthread_mkdir(dir, 0700) == 0);
  CHECK(rawthread_mkdir(dir, 0700) == -EEXIST);
  int fd = rawthread_open(file, O_RDWR | O_CREAT | O_EXCL, 0600);
  CHECK(fd >= 0);
  CHECK(rawthread_open(file, O_RDWR | O_CREAT | O_EXCL, 0600) == -EEXIST);
  CHECK(rawthread_pwrite(fd, "hello", 5, 3) == 5);
  CHECK(rawthread_lseek(fd, 0, 1 /* SEEK_CUR */) == 0);
  char buf[8] = {0};
  CHECK(rawthread_pread(fd, buf, 3, 4) == 3);
  CHECK(memcmp(buf, "ell", 3) == 0);
  CHECK(rawthread_pread(fd, buf, 3, -1) == -EINVAL);
  CHECK(rawthread_lseek(fd, 0, 2 /* SEEK_END */) == 8);
  CHECK(rawthread_fsync(fd) == 0);
  struct rawthread_statx st;
  CHECK(rawthread_fstat(fd, &st) == 0);
  CHECK(st.size == 8);
  CHECK((st.mode & 0170000) == 0100000);
  CHECK(rawthread_stat(dir, &st) == 0);
  CHECK((st.mode & 0170000) == 0040000);
  CHECK(rawthread_stat(NULL, &st) == -EINVAL);
  CHECK(rawthread_close(fd) == 0);
  CHECK(rawthread_fstat(fd, &st) == -EBADF);
  CHECK(rawthread_unlink(dir) == -EISDIR);
  CHECK(rawthread_unlink(file) == 0);
  CHECK(rawthread_unlink(file) == -ENOENT);
  CHECK(rawthread_stat(file, &st) == -ENOENT);
  CHECK(rawthread_syscall(__NR_unlinkat, (long)RAWTHREAD_CWD, (long)dir, 0x200L /* AT_REMOVEDIR */) ==
        0);
}

static void test_pipe_dup_ioctl_poll(void) {
  int fds[2];
  CHECK(rawthread_pipe2(fds, 0) == 0);
  CHECK(fd_flags(fds[0]) == 1 && fd_flags(fds[1]) == 1);
  struct pollfd p = {fds[0], POLLIN, 0};
  int64_t t0 = now_ns();
  CHECK(rawthread_poll(&p, 1, 0.05) == 0);
  CHECK(now_ns() - t0 >= 50000000);
  CHECK(rawthread_write(fds[1], "xy", 2) == 2);
  CHECK(rawthread_poll(&p, 1, -1) == 1);
  CHECK(p.revents == POLLIN);
  int queued = 0;
  CHECK(rawthread_ioctl(fds[0], FIONREAD, (unsigned long)&queued) == 0);
  CHECK(queued == 2);
  /* A real destination, though the kernel refuses before writing it: memcheck
   * checks the pointer an ioctl will write through. */
  CHECK(rawthread_ioctl(-1, FIONREAD, (unsigned long)&queued) == -EBADF);
  /* dup2: the copy, without FD_CLOEXEC; dup2(fd, fd) is fd. */
  int copy = rawthread_dup2(fds[0], 100);
  CHECK(copy == 100);
  CHECK(fd_flags(100) == 0);
  CHECK(rawthread_dup2(100, 100) == 100);
  CHECK(rawthread_close(100) == 0);
  CHECK(rawthread_dup2(100, 100) == -EBADF);
  /* Bad arguments: -EINVAL, the pending request left alone; then it ends
   * the next poll with -EINTR, and only that one. */
  rawthread_request_interrupt();
  CHECK(rawthread_poll(&p, 1, -2) == -EINVAL);
  CHECK(rawthread_poll(&p, 1, 1e300) == -EINVAL);
  CHECK(rawthread_poll(NULL, 1, 0) == -EINVAL);
  CHECK(rawthread_poll(&p, 1, 30) == -EINTR);
  CHECK(rawthread_poll(&p, 1, 30) == 1);
  CHECK(rawthread_close(fds[0]) == 0);
  CHECK(rawthread_close(fds[1]) == 0);
  CHECK(rawthread_pipe2(NULL, 0) == -EINVAL);
}

int main(void) {
  test_syscall();
  test_open_read_write();
  test_files_in_a_directory();
  test_pipe_dup_ioctl_poll();
  printf("%ld checks, %d failed\n", checks, failed);
  return failed == 0 ? 0 : 1;
}
