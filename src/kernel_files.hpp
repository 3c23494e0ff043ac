// SPDX-License-Identifier: MIT
// The file and device system calls rawthread/sys.hpp makes, typed, on
// kernel::call (src/kernel.hpp): each returns what the kernel returned, a
// result >= 0 or -errno.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel.hpp"

namespace rawthread::kernel {

inline constexpr int kAtFdcwd = -100;          // AT_FDCWD, <linux/fcntl.h>
inline constexpr int kAtEmptyPath = 0x1000;    // AT_EMPTY_PATH
inline constexpr int kOCloexec = 02000000;     // O_CLOEXEC: asm-generic's, x86_64's too
inline constexpr int kFGetfd = 1;              // F_GETFD
inline constexpr unsigned kStatxBasic = 0x7ff;  // STATX_BASIC_STATS, <linux/stat.h>

inline long openat(int dirfd, const char* path, int flags, unsigned mode) noexcept {
  return call(__NR_openat, dirfd, path, flags, mode);
}
inline long pread(int fd, void* buf, std::size_t size, std::int64_t offset) noexcept {
  return call(__NR_pread64, fd, buf, size, offset);
}
inline long pwrite(int fd, const void* data, std::size_t size, std::int64_t offset) noexcept {
  return call(__NR_pwrite64, fd, data, size, offset);
}
inline long lseek(int fd, std::int64_t offset, int whence) noexcept {
  return call(__NR_lseek, fd, offset, whence);
}
inline long ioctl(int fd, unsigned long request, unsigned long arg) noexcept {
  return call(__NR_ioctl, fd, request, arg);
}
inline long fsync(int fd) noexcept { return call(__NR_fsync, fd); }
inline long unlinkat(int dirfd, const char* path, int flags) noexcept {
  return call(__NR_unlinkat, dirfd, path, flags);
}
inline long mkdirat(int dirfd, const char* path, unsigned mode) noexcept {
  return call(__NR_mkdirat, dirfd, path, mode);
}
inline long statx(int dirfd, const char* path, int flags, unsigned mask, void* out) noexcept {
  return call(__NR_statx, dirfd, path, flags, mask, out);
}
inline long pipe2(int* fds, int flags) noexcept { return call(__NR_pipe2, fds, flags); }
inline long dup3(int fd, int newfd, int flags) noexcept {
  return call(__NR_dup3, fd, newfd, flags);
}
inline long fcntl(int fd, int cmd, long arg) noexcept { return call(__NR_fcntl, fd, cmd, arg); }
// ppoll with no signal mask to set: `timeout` is RELATIVE, and on return the
// kernel writes the time left back into it (poll_select_finish).
inline long ppoll(void* fds, std::size_t n, const Timespec* timeout) noexcept {
  return call(__NR_ppoll, fds, n, timeout, nullptr, kSigsetSize);
}

}  // namespace rawthread::kernel
