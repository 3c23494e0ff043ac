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

// (processes, clocks, environment, thread settings: added by the process work)

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
