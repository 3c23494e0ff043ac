// SPDX-License-Identifier: MIT
// rawthread/sys.hpp's raw system call, files and devices, on raw system
// calls: the kernel's -errno goes into the Error, errno is never touched, and
// every argument is checked before the first system call.
#include <rawthread/sys.hpp>

#include <climits>

#include "clock.hpp"
#include "errors.hpp"
#include "interrupt.hpp"
#include "kernel.hpp"
#include "kernel_files.hpp"
#include "vdso.hpp"

namespace rawthread::sys {
namespace {

inline constexpr Error kNullPath{Errc::value_error, 0, "path must not be null"};
inline constexpr Error kNegativeOffset{Errc::value_error, 0, "offset must be non-negative"};

constexpr Error failed(long ret, const char* what) { return errors::os_error(ret, what); }

static_assert(kCwd == kernel::kAtFdcwd);
static_assert(O_CLOEXEC == kernel::kOCloexec, "O_CLOEXEC as the kernel has it");
static_assert((kNoCloexec & (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |
                             O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECTORY | O_NOFOLLOW |
                             O_CLOEXEC | O_PATH | O_TMPFILE | O_NOATIME | O_DIRECT)) == 0,
              "kNoCloexec is no O_* flag");
static_assert(sizeof(pollfd) == 8 && offsetof(pollfd, events) == 4 &&
              offsetof(pollfd, revents) == 6, "struct pollfd as the kernel reads it");

// The flags the kernel gets: O_CLOEXEC added unless the caller said not to.
constexpr int kernel_flags(int flags) noexcept {
  return (flags & kNoCloexec) != 0 ? flags & ~kNoCloexec : flags | O_CLOEXEC;
}

// The relative time from now to the absolute CLOCK_MONOTONIC `deadline`,
// zero once it has passed: what ppoll, which takes only a relative timeout,
// is handed on each round.
kernel::Timespec time_left(const kernel::Timespec& deadline) noexcept {
  kernel::Timespec now{};
  vdso::clock_gettime(kernel::kClockMonotonic, &now);
  kernel::Timespec left{deadline.tv_sec - now.tv_sec, deadline.tv_nsec - now.tv_nsec};
  if (left.tv_nsec < 0) {
    left.tv_nsec += clock::kNanosPerSecond;
    left.tv_sec -= 1;
  }
  if (left.tv_sec < 0) return {0, 0};
  return left;
}

}  // namespace

namespace detail {
long syscall6(long nr, long a, long b, long c, long d, long e, long f) noexcept {
  return kernel::call(nr, a, b, c, d, e, f);
}
Result<long> syscall_result(long ret) noexcept {
  if (kernel::failed(ret)) return failed(ret, "system call failed");
  return ret;
}
}  // namespace detail

Result<int> openat(int dirfd, const char* path, int flags, unsigned mode) noexcept {
  if (path == nullptr) return kNullPath;
  for (;;) {
    // Opening a FIFO blocks until its other end is opened; a handler ends
    // that with EINTR, and no descriptor exists yet: open again.
    long ret = kernel::openat(dirfd, path, kernel_flags(flags), mode);
    if (ret >= 0) return static_cast<int>(ret);
    if (ret != -EINTR) return failed(ret, "open failed");
  }
}

Result<int> open(const char* path, int flags, unsigned mode) noexcept {
  return openat(kCwd, path, flags, mode);
}

Result<void> close(int fd) noexcept {
  // Never retried: Linux releases the number before anything can fail, and
  // another thread may have been given it by the time a retry ran.
  if (long ret = kernel::close(fd); ret < 0) return failed(ret, "close failed");
  return {};
}

Result<std::size_t> pread(int fd, void* buffer, std::size_t size, std::int64_t offset) noexcept {
  if (offset < 0) return kNegativeOffset;
  for (;;) {
    long ret = kernel::pread(fd, buffer, size, offset);
    if (ret >= 0) return static_cast<std::size_t>(ret);
    if (ret != -EINTR) return failed(ret, "pread failed");
  }
}

Result<std::size_t> pwrite(int fd, const void* data, std::size_t size,
                           std::int64_t offset) noexcept {
  if (offset < 0) return kNegativeOffset;
  for (;;) {
    long ret = kernel::pwrite(fd, data, size, offset);
    if (ret >= 0) return static_cast<std::size_t>(ret);
    if (ret != -EINTR) return failed(ret, "pwrite failed");
  }
}

Result<std::int64_t> lseek(int fd, std::int64_t offset, int whence) noexcept {
  long ret = kernel::lseek(fd, offset, whence);
  if (ret < 0) return failed(ret, "lseek failed");
  return std::int64_t{ret};
}

Result<long> ioctl(int fd, unsigned long request, unsigned long arg) noexcept {
  long ret = kernel::ioctl(fd, request, arg);
  if (ret < 0) return failed(ret, "ioctl failed");
  return ret;
}

Result<void> fsync(int fd) noexcept {
  if (long ret = kernel::fsync(fd); ret < 0) return failed(ret, "fsync failed");
  return {};
}

Result<void> unlink(const char* path) noexcept {
  if (path == nullptr) return kNullPath;
  if (long ret = kernel::unlinkat(kCwd, path, 0); ret < 0) return failed(ret, "unlink failed");
  return {};
}

Result<void> mkdir(const char* path, unsigned mode) noexcept {
  if (path == nullptr) return kNullPath;
  if (long ret = kernel::mkdirat(kCwd, path, mode); ret < 0) return failed(ret, "mkdir failed");
  return {};
}

Result<void> stat(const char* path, Stat& out) noexcept {
  if (path == nullptr) return kNullPath;
  Stat got{};
  if (long ret = kernel::statx(kCwd, path, 0, kernel::kStatxBasic, &got); ret < 0)
    return failed(ret, "stat failed");
  out = got;
  return {};
}

Result<void> fstat(int fd, Stat& out) noexcept {
  Stat got{};
  // The descriptor itself: an empty path with AT_EMPTY_PATH.
  if (long ret = kernel::statx(fd, "", kernel::kAtEmptyPath, kernel::kStatxBasic, &got); ret < 0)
    return failed(ret, "fstat failed");
  out = got;
  return {};
}

Result<void> pipe2(int (&fds)[2], int flags) noexcept {
  int got[2];
  if (long ret = kernel::pipe2(got, kernel_flags(flags)); ret < 0)
    return failed(ret, "pipe2 failed");
  fds[0] = got[0];
  fds[1] = got[1];
  return {};
}

Result<int> dup2(int fd, int newfd) noexcept {
  // dup3 refuses fd == newfd (EINVAL), where POSIX's dup2 returns fd if it
  // is open: F_GETFD says whether it is.
  if (fd == newfd) {
    if (long ret = kernel::fcntl(fd, kernel::kFGetfd, 0); ret < 0) return failed(ret, "dup2 failed");
    return fd;
  }
  long ret = kernel::dup3(fd, newfd, 0);
  if (ret < 0) return failed(ret, "dup2 failed");
  return static_cast<int>(ret);
}

// ppoll takes a relative timeout, and writes the time left back into it: the
// deadline is kept here, absolute, and each round hands ppoll what is left
// of it, so a handler's EINTR costs only the time to call again.
//
// The window between the last check for a request and the kernel's read of
// the timeout is closed as sleep closes it (src/interrupt.hpp): the relative
// timeout ppoll is handed IS the thread's armed deadline, and a request
// collapses its seconds to -1, which ppoll refuses with EINVAL before it
// waits (poll_select_set_timeout). Relative or absolute makes no difference
// to that: only the seconds' sign is read by the collapse. A request made
// once ppoll waits comes with a signal, which ends it with EINTR.
Result<int> poll(pollfd* fds, std::size_t n, double timeout) noexcept {
  if (fds == nullptr && n > 0) return errors::kNullArgument;
  if (const Error* bad = errors::bad_timeout(timeout)) return *bad;
  // nfds is an unsigned int: more than it holds is more than RLIMIT_NOFILE,
  // the kernel's EINVAL, not a smaller count.
  if (n > UINT_MAX) return failed(-EINVAL, "poll failed");
  interrupt::Target* target = interrupt::own_target();
  // A request made while no wait was in progress ends this one at once.
  if (target != nullptr && interrupt::consume(*target)) return errors::kPollInterrupted;

  const kernel::Timespec deadline =
      timeout == -1 ? clock::kNever : clock::deadline_after(timeout);
  interrupt::Armed armed(target);
  for (;;) {
    kernel::Timespec left = time_left(deadline);
    const kernel::Timespec* until = &left;
    if (target != nullptr) {
      until = armed.arm(left);
      if (interrupt::consume(*target)) return errors::kPollInterrupted;
    }
    long ret = kernel::ppoll(fds, n, until);
    if (target != nullptr) armed.rewritten();
    if (ret > 0) return static_cast<int>(ret);
    if (ret == 0) {
      // The time ran out, as ppoll measured it from after this round began,
      // so never before the deadline; a request that came with it wins, as
      // in a timed acquire.
      if (target != nullptr && interrupt::consume(*target)) return errors::kPollInterrupted;
      if (clock::reached(deadline)) return 0;
      continue;
    }
    if (ret == -EINTR || (ret == -EINVAL && target != nullptr && armed.collapsed())) {
      // A handler ran, or a request refused the timeout: its request ends
      // the wait; a handler without one, or a stale collapse, does not.
      if (target != nullptr && interrupt::consume(*target)) return errors::kPollInterrupted;
      continue;
    }
    return failed(ret, "poll failed");
  }
}

}  // namespace rawthread::sys
