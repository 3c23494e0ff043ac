// SPDX-License-Identifier: MIT
// rawthread/sys.h's raw system call, files and devices: rawthread::sys's
// calls, each Result turned into its value or -errno.
#include <rawthread/sys.h>

#include <cstdarg>
#include <cstddef>

#include <rawthread/sys.hpp>

#include "errors.hpp"

namespace {

using namespace rawthread;

static_assert(sizeof(rawthread_statx) == sizeof(sys::Stat) &&
              offsetof(rawthread_statx, mode) == offsetof(sys::Stat, mode) &&
              offsetof(rawthread_statx, size) == offsetof(sys::Stat, size) &&
              offsetof(rawthread_statx, mtime) == offsetof(sys::Stat, mtime) &&
              offsetof(rawthread_statx, dev_minor) == offsetof(sys::Stat, dev_minor));
static_assert(RAWTHREAD_NO_CLOEXEC == sys::kNoCloexec && RAWTHREAD_CWD == sys::kCwd);

// An Error as -errno: the kernel's for a system call that failed, EINTR for
// an interrupt request, EINVAL for an argument out of its domain.
long negative_errno(const Error& error) noexcept {
  switch (error.kind) {
    case Errc::os_error: return -error.sys_errno;
    case Errc::interrupted: return -EINTR;
    default: return -EINVAL;
  }
}

template <class T, class R>
T c_value(const R& result) noexcept {
  if (!result) return static_cast<T>(negative_errno(result.error()));
  return static_cast<T>(*result);
}

int c_void(const Result<void>& result) noexcept {
  return result ? 0 : static_cast<int>(negative_errno(result.error()));
}

}  // namespace

extern "C" {

long rawthread_syscall(long nr, ...) {
  va_list args;
  va_start(args, nr);
  long v[6];
  for (long& arg : v) arg = va_arg(args, long);
  va_end(args);
  return sys::detail::syscall6(nr, v[0], v[1], v[2], v[3], v[4], v[5]);
}

int rawthread_open(const char* path, int flags, unsigned mode) {
  return c_value<int>(sys::open(path, flags, mode));
}
int rawthread_openat(int dirfd, const char* path, int flags, unsigned mode) {
  return c_value<int>(sys::openat(dirfd, path, flags, mode));
}
int rawthread_close(int fd) { return c_void(sys::close(fd)); }
long rawthread_read(int fd, void* buffer, size_t size) {
  return c_value<long>(sys::read(fd, buffer, size));
}
long rawthread_write(int fd, const void* data, size_t size) {
  return c_value<long>(sys::write(fd, data, size));
}
long rawthread_pread(int fd, void* buffer, size_t size, int64_t offset) {
  return c_value<long>(sys::pread(fd, buffer, size, offset));
}
long rawthread_pwrite(int fd, const void* data, size_t size, int64_t offset) {
  return c_value<long>(sys::pwrite(fd, data, size, offset));
}
int64_t rawthread_lseek(int fd, int64_t offset, int whence) {
  return c_value<int64_t>(sys::lseek(fd, offset, whence));
}
long rawthread_ioctl(int fd, unsigned long request, unsigned long arg) {
  return c_value<long>(sys::ioctl(fd, request, arg));
}
int rawthread_fsync(int fd) { return c_void(sys::fsync(fd)); }
int rawthread_unlink(const char* path) { return c_void(sys::unlink(path)); }
int rawthread_mkdir(const char* path, unsigned mode) { return c_void(sys::mkdir(path, mode)); }
int rawthread_stat(const char* path, struct rawthread_statx* out) {
  if (out == nullptr) return -EINVAL;
  return c_void(sys::stat(path, *reinterpret_cast<sys::Stat*>(out)));
}
int rawthread_fstat(int fd, struct rawthread_statx* out) {
  if (out == nullptr) return -EINVAL;
  return c_void(sys::fstat(fd, *reinterpret_cast<sys::Stat*>(out)));
}
int rawthread_pipe2(int fds[2], int flags) {
  if (fds == nullptr) return -EINVAL;
  return c_void(sys::pipe2(*reinterpret_cast<int(*)[2]>(fds), flags));
}
int rawthread_dup2(int fd, int newfd) { return c_value<int>(sys::dup2(fd, newfd)); }
int rawthread_poll(struct pollfd* fds, size_t n, double timeout) {
  return c_value<int>(sys::poll(fds, n, timeout));
}

}  // extern "C"
