// SPDX-License-Identifier: MIT
// The system calls rawthread makes, typed, on the arch's raw syscallN.
//
// Each returns what the kernel returned: a result >= 0, or -errno. Nothing
// here touches errno, allocates or locks. Constants come from the kernel's
// UAPI headers, except the few whose UAPI headers clash with a libc's in the
// same translation unit; those are spelled out with the header they match.
#pragma once

#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/futex.h>
#include <linux/mman.h>
#include <linux/sched.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "arch.hpp"

namespace rawthread::kernel {

// struct __kernel_timespec on 64-bit targets (<linux/time_types.h>).
struct Timespec {
  long tv_sec;
  long tv_nsec;
};

inline constexpr int kClockMonotonic = 1;     // CLOCK_MONOTONIC, <linux/time.h>
inline constexpr int kTimerAbstime = 1;       // TIMER_ABSTIME, <linux/time.h>
inline constexpr int kSigBlock = 0;           // SIG_BLOCK, <asm-generic/signal-defs.h>
inline constexpr int kSigUnblock = 1;         // SIG_UNBLOCK
inline constexpr int kSigSetmask = 2;         // SIG_SETMASK
inline constexpr unsigned long kSigDfl = 0;   // SIG_DFL
inline constexpr unsigned long kSigIgn = 1;   // SIG_IGN
inline constexpr long kSigsetSize = 8;        // the kernel's sigset_t: 64 signals
inline constexpr int kMaxSignal = 64;         // _NSIG on x86_64, aarch64, riscv64

// struct sigaction as rt_sigaction takes it: its layout differs by arch.
using Sigaction = arch::Sigaction;

// Casts each argument to the long the register holds.
template <class T>
inline long arg(T value) noexcept {
  if constexpr (std::is_null_pointer_v<T>)
    return 0;
  else if constexpr (std::is_pointer_v<T>)
    return reinterpret_cast<long>(value);
  else
    return static_cast<long>(value);
}

template <class... A>
inline long call(long n, A... a) noexcept {
  constexpr std::size_t count = sizeof...(A);
  static_assert(count <= 6, "Linux system calls take at most six arguments");
  [[maybe_unused]] long v[count + 1] = {arg(a)...};
  if constexpr (count == 0)
    return arch::syscall0(n);
  else if constexpr (count == 1)
    return arch::syscall1(n, v[0]);
  else if constexpr (count == 2)
    return arch::syscall2(n, v[0], v[1]);
  else if constexpr (count == 3)
    return arch::syscall3(n, v[0], v[1], v[2]);
  else if constexpr (count == 4)
    return arch::syscall4(n, v[0], v[1], v[2], v[3]);
  else if constexpr (count == 5)
    return arch::syscall5(n, v[0], v[1], v[2], v[3], v[4]);
  else
    return arch::syscall6(n, v[0], v[1], v[2], v[3], v[4], v[5]);
}

// A mapping's address comes back as a long; -4095..-1 are errors.
inline bool failed(long ret) noexcept { return static_cast<unsigned long>(ret) > -4096UL; }

inline long mmap(std::size_t size, int prot, int flags) noexcept {
  return call(__NR_mmap, nullptr, size, prot, flags, -1, 0);
}
inline long mprotect(void* addr, std::size_t size, int prot) noexcept {
  return call(__NR_mprotect, addr, size, prot);
}
inline long munmap(void* addr, std::size_t size) noexcept {
  return call(__NR_munmap, addr, size);
}

// Sleeps while *word == expected, until FUTEX_WAKE, a signal handler, or the
// absolute CLOCK_MONOTONIC `deadline` (none when null). FUTEX_WAIT_BITSET
// takes an absolute time, and without FUTEX_CLOCK_REALTIME it is monotonic: a
// wait resumed after a signal keeps its deadline and setting the wall clock
// moves nothing. Returns 0 (woken, maybe spuriously), -EAGAIN (*word had
// changed), -EINTR (a handler ran) or -ETIMEDOUT.
inline long futex_wait(const std::atomic<std::uint32_t>* word, std::uint32_t expected,
                       const Timespec* deadline) noexcept {
  return call(__NR_futex, word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, deadline,
              nullptr, FUTEX_BITSET_MATCH_ANY);
}
inline long futex_wake(const std::atomic<std::uint32_t>* word, int count) noexcept {
  return call(__NR_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count);
}

// Moves one waiter of `from` (if one sleeps there) onto `to`'s queue,
// waking nobody (FUTEX_REQUEUE: uncompared, which is sound when the caller
// holds the lock `to` is the word of).
inline long futex_requeue(const std::atomic<std::uint32_t>* from,
                          const std::atomic<std::uint32_t>* to) noexcept {
  return call(__NR_futex, from, FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG, 0, 1, to);
}

// The same on a tid word that the kernel clears and wakes at a thread's exit
// (CLONE_CHILD_CLEARTID). The kernel's wake is not FUTEX_PRIVATE_FLAG, and a
// private wait would never see it: these are shared.
inline long futex_wait_tid(const std::atomic<std::int32_t>* tid, std::int32_t expected,
                           const Timespec* deadline) noexcept {
  return call(__NR_futex, tid, FUTEX_WAIT_BITSET, expected, deadline, nullptr,
              FUTEX_BITSET_MATCH_ANY);
}
inline long futex_wake_tid(const std::atomic<std::int32_t>* tid, int count) noexcept {
  return call(__NR_futex, tid, FUTEX_WAKE, count);
}

inline long clock_gettime(int clock, Timespec* now) noexcept {
  return call(__NR_clock_gettime, clock, now);
}
// Sleeps until `clock` reads `*deadline` (TIMER_ABSTIME). A handler that runs
// meanwhile ends it with -EINTR, SA_RESTART or not.
inline long clock_nanosleep_until(int clock, const Timespec* deadline) noexcept {
  return call(__NR_clock_nanosleep, clock, kTimerAbstime, deadline, nullptr);
}

inline long openat(int dirfd, const char* path, int flags) noexcept {
  return call(__NR_openat, dirfd, path, flags);
}
inline long read(int fd, void* buf, std::size_t size) noexcept {
  return call(__NR_read, fd, buf, size);
}
inline long write(int fd, const void* data, std::size_t size) noexcept {
  return call(__NR_write, fd, data, size);
}
inline long close(int fd) noexcept { return call(__NR_close, fd); }

inline long gettid() noexcept { return call(__NR_gettid); }
// Sets the word the kernel clears and wakes at this thread's exit
// (CLONE_CHILD_CLEARTID); null: none. Returns the caller's tid.
inline long set_tid_address(std::atomic<std::int32_t>* tid) noexcept {
  return call(__NR_set_tid_address, tid);
}
inline long getpid() noexcept { return call(__NR_getpid); }
inline long tgkill(long tgid, long tid, int signum) noexcept {
  return call(__NR_tgkill, tgid, tid, signum);
}
inline long rt_sigaction(int signum, const Sigaction* act, Sigaction* old) noexcept {
  return call(__NR_rt_sigaction, signum, act, old, kSigsetSize);
}
inline long rt_sigprocmask(int how, const std::uint64_t* set, std::uint64_t* old) noexcept {
  return call(__NR_rt_sigprocmask, how, set, old, kSigsetSize);
}

[[noreturn]] inline void exit_calling_thread(int status) noexcept {
  for (;;) call(__NR_exit, status);  // exit, not exit_group: this thread only
}
[[noreturn]] inline void exit_group(int status) noexcept {
  for (;;) call(__NR_exit_group, status);  // every thread of the process
}

}  // namespace rawthread::kernel
