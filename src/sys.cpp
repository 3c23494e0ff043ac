// SPDX-License-Identifier: MIT
// rawthread/sys.hpp on raw system calls. The kernel's -errno goes straight
// into the Error; errno, which belongs to a libc if there is one, is never
// touched. Every argument is checked before the first system call, so a
// rejected call changes nothing.
#include <rawthread/sys.hpp>

#include <rawthread/lock.hpp>  // TIMEOUT_MAX

#include "clock.hpp"
#include "errors.hpp"
#include "hooks.hpp"
#include "kernel.hpp"
#include "vdso.hpp"

namespace rawthread::sys {
namespace {

constexpr unsigned long kSupportedFlags = kRestart | kNoDefer | kResetHand | kOnStack;

static_assert(kMaxSignal == kernel::kMaxSignal);
static_assert(static_cast<int>(MaskHow::block) == kernel::kSigBlock &&
              static_cast<int>(MaskHow::unblock) == kernel::kSigUnblock &&
              static_cast<int>(MaskHow::set) == kernel::kSigSetmask);

constexpr bool valid_signal(int signum) noexcept { return signum >= 1 && signum <= kMaxSignal; }

// The signals a libc keeps for itself: glibc 32 (SIGCANCEL, SIGTIMER) and 33
// (SIGSETXID), musl 32 (SIGTIMER), 33 (SIGCANCEL) and 34 (SIGSYNCCALL).
// Their handlers are how pthread_cancel, timer_create's SIGEV_THREAD and,
// once a program has a second thread, setuid() and friends reach the other
// threads: another disposition there and setuid() waits for ever on a
// thread that never answers. Each libc's sigaction refuses them; one
// librawthread.a links with either libc and cannot tell which, so a hosted
// program has all three refused. A program on librawthread_rt has no libc
// and every signal.
constexpr int kFirstLibcSignal = 32, kLastLibcSignal = 34;

bool reserved_by_libc(int signum) noexcept {
  return signum >= kFirstLibcSignal && signum <= kLastLibcSignal && !hooks::libc_free();
}

// SignalSet makes sets only signal by signal.
constexpr SignalSet from_bits(std::uint64_t bits) noexcept {
  SignalSet set;
  for (int signum = 1; signum <= kMaxSignal; ++signum)
    if ((bits >> (signum - 1) & 1) != 0) set.add(signum);
  return set;
}

Result<void> set_action(int signum, unsigned long handler, unsigned long flags,
                        SignalSet mask) noexcept {
  kernel::Sigaction action{};
  action.handler = handler;
  action.flags = flags;
  action.mask = mask.bits();
  // The return path and whatever else the arch needs; SIG_DFL and SIG_IGN
  // get it too: harmless, and one shape.
  arch::complete(action);
  if (long ret = kernel::rt_sigaction(signum, &action, nullptr); ret < 0)
    return errors::sigaction_failed(ret);
  return {};
}

// Sleeps `ns` (>= 0) on CLOCK_MONOTONIC. The deadline is absolute, so a
// handler that ends the sleep early costs only the time to go back to sleep:
// nothing drifts, however many signals arrive.
Result<void> sleep_for(std::int64_t ns) noexcept {
  kernel::Timespec deadline{};
  if (long ret = vdso::clock_gettime(kernel::kClockMonotonic, &deadline); ret < 0)
    return errors::clock_gettime_failed(ret);
  // Seconds and nanoseconds apart: no sum can overflow, even for INT64_MAX ns.
  deadline.tv_sec += ns / clock::kNanosPerSecond;
  deadline.tv_nsec += ns % clock::kNanosPerSecond;
  if (deadline.tv_nsec >= clock::kNanosPerSecond) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= clock::kNanosPerSecond;
  }
  for (;;) {
    long ret = kernel::clock_nanosleep_until(kernel::kClockMonotonic, &deadline);
    if (ret == 0) return {};
    if (ret != -EINTR) return errors::clock_nanosleep_failed(ret);
  }
}

}  // namespace

Result<void> set_signal_handler(int signum, SignalHandler handler, unsigned long flags,
                                SignalSet mask) noexcept {
  if (!valid_signal(signum)) return errors::kSignalOutOfRange;
  if (reserved_by_libc(signum)) return errors::kReservedSignal;
  if (handler == nullptr) return errors::kNullSignalHandler;
  // SA_SIGINFO would need another handler type, SA_RESTORER is rawthread's.
  if ((flags & ~kSupportedFlags) != 0) return errors::kUnsupportedSignalFlags;
  return set_action(signum, reinterpret_cast<unsigned long>(handler), flags, mask);
}

Result<void> set_signal_default(int signum) noexcept {
  if (!valid_signal(signum)) return errors::kSignalOutOfRange;
  if (reserved_by_libc(signum)) return errors::kReservedSignal;
  return set_action(signum, kernel::kSigDfl, 0, {});
}

Result<void> ignore_signal(int signum) noexcept {
  if (!valid_signal(signum)) return errors::kSignalOutOfRange;
  if (reserved_by_libc(signum)) return errors::kReservedSignal;
  return set_action(signum, kernel::kSigIgn, 0, {});
}

Result<SignalSet> signal_mask() noexcept {
  // SIG_BLOCK of no set: the kernel reads nothing and reports the mask.
  std::uint64_t old = 0;
  if (long ret = kernel::rt_sigprocmask(kernel::kSigBlock, nullptr, &old); ret < 0)
    return errors::sigprocmask_failed(ret);
  return from_bits(old);
}

Result<SignalSet> change_signal_mask(MaskHow how, SignalSet set) noexcept {
  if (how != MaskHow::block && how != MaskHow::unblock && how != MaskHow::set)
    return errors::kInvalidMaskHow;
  std::uint64_t bits = set.bits();
  // As libc's sigprocmask: its own signals are never blocked through this
  // call (a blocked SIGSETXID hangs setuid() in a process with threads).
  if (!hooks::libc_free() && how != MaskHow::unblock)
    for (int signum = kFirstLibcSignal; signum <= kLastLibcSignal; ++signum)
      bits &= ~(std::uint64_t{1} << (signum - 1));
  std::uint64_t old = 0;
  if (long ret = kernel::rt_sigprocmask(static_cast<int>(how), &bits, &old); ret < 0)
    return errors::sigprocmask_failed(ret);
  return from_bits(old);
}

Result<std::int64_t> monotonic_ns() noexcept {
  kernel::Timespec now{};
  if (long ret = vdso::clock_gettime(kernel::kClockMonotonic, &now); ret < 0)
    return errors::clock_gettime_failed(ret);
  return std::int64_t{now.tv_sec} * clock::kNanosPerSecond + now.tv_nsec;
}

Result<double> monotonic() noexcept {
  Result<std::int64_t> ns = monotonic_ns();
  if (!ns) return ns.error();
  // Exact to the nanosecond for 104 days of uptime, and never going back:
  // both roundings are monotonic.
  return static_cast<double>(*ns) / static_cast<double>(clock::kNanosPerSecond);
}

Result<void> sleep(double seconds) noexcept {
  // CPython's time.sleep checks NaN first; here -inf is negative, not too large.
  if (__builtin_isnan(seconds)) return errors::kSleepNaN;
  if (seconds < 0) return errors::kNegativeSleep;
  if (seconds > TIMEOUT_MAX) return errors::kSleepTooLarge;
  return sleep_for(clock::ceil_ns(seconds));
}

Result<void> sleep_ns(std::int64_t nanoseconds) noexcept {
  if (nanoseconds < 0) return errors::kNegativeSleep;
  return sleep_for(nanoseconds);
}

Result<std::size_t> read(int fd, void* buffer, std::size_t size) noexcept {
  for (;;) {
    long ret = kernel::read(fd, buffer, size);
    if (ret >= 0) return static_cast<std::size_t>(ret);
    if (ret != -EINTR) return errors::read_failed(ret);
  }
}

Result<std::size_t> write(int fd, const void* data, std::size_t size) noexcept {
  for (;;) {
    long ret = kernel::write(fd, data, size);
    if (ret >= 0) return static_cast<std::size_t>(ret);
    if (ret != -EINTR) return errors::write_failed(ret);
  }
}

Result<void> write_all(int fd, const void* data, std::size_t size) noexcept {
  const auto* next = static_cast<const unsigned char*>(data);
  while (size > 0) {
    Result<std::size_t> wrote = write(fd, next, size);
    if (!wrote) return wrote.error();
    // Nothing written and no error would loop forever; no file Linux knows
    // does it, but a driver may. Call it what it is: an I/O error.
    if (*wrote == 0) return errors::write_failed(-EIO);
    next += *wrote;
    size -= *wrote;
  }
  return {};
}

Result<void> write_str(int fd, const char* text) noexcept {
  if (text == nullptr) return {};
  std::size_t length = 0;
  while (text[length] != '\0') ++length;
  return write_all(fd, text, length);
}

Result<void> write_int(int fd, long long value) noexcept {
  // The magnitude in unsigned arithmetic, where negating LLONG_MIN is defined.
  auto magnitude = static_cast<unsigned long long>(value);
  if (value < 0) magnitude = 0 - magnitude;
  char text[24];  // "-9223372036854775808" is 20
  char* first = text + sizeof text;
  do {
    *--first = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (value < 0) *--first = '-';
  return write_all(fd, first, static_cast<std::size_t>(text + sizeof text - first));
}

}  // namespace rawthread::sys
