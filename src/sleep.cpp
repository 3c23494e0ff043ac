// SPDX-License-Identifier: MIT
// rawthread::sleep: the lock's interruptible wait (src/lock_wait.hpp) on a
// lock that nobody ever releases.
//
// The word is the sleeper's own, on its stack, and reads "held, someone
// asleep" for ever: the wait never spins past its first probe, never takes
// it, and sleeps on it until the deadline armed in the caller's Target. So a
// request reaches a sleep exactly as it reaches a blocking acquire, by the
// same model-checked lines (src/interrupt.hpp: one made before the wait's
// last check is found by it; one made after collapses the armed deadline,
// which the kernel refuses when the futex call begins, or ends the call
// already asleep with its signal), and a wake-up, a handler without a
// request or a stale collapse only sends it round again, to the same
// deadline.
#include <rawthread/sleep.hpp>

#include <atomic>
#include <cstdint>

#include "clock.hpp"
#include "errors.hpp"
#include "interrupt.hpp"
#include "kernel.hpp"
#include "lock_wait.hpp"

namespace rawthread {
namespace {

constexpr std::uint32_t kHeldForEver = 2;  // anything but kFree, and marked

// The policy lock_wait::wait needs (kReentrant is acquire's alone).
struct NeverOps {
  std::atomic<std::uint32_t>& word;

  bool try_take() const noexcept { return false; }
  bool marked(std::uint32_t) const noexcept { return true; }  // no spinning
  bool take_or_mark(std::uint32_t& sleep_on) const noexcept {
    sleep_on = kHeldForEver;
    return false;
  }
};

}  // namespace

Result<void> sleep(double seconds) noexcept {
  if (const Error* bad = errors::bad_timeout(seconds)) return *bad;
  // A request made while nothing waited ends this sleep at once, as it ends
  // a blocking acquire.
  if (interrupt::consume_own()) return errors::kSleepInterrupted;
  if (seconds == 0) return {};

  kernel::Timespec deadline = seconds == -1 ? clock::kNever : clock::deadline_after(seconds);
  std::atomic<std::uint32_t> word{kHeldForEver};
  const lock_wait::Waited waited =
      lock_wait::wait(NeverOps{word}, &deadline, interrupt::own_target());
  switch (waited.outcome) {
    case lock_wait::Outcome::timed_out: return {};
    case lock_wait::Outcome::interrupted: return errors::kSleepInterrupted;
    case lock_wait::Outcome::acquired:  // NeverOps never takes it
    case lock_wait::Outcome::failed: break;
  }
  return errors::sleep_failed(waited.ret);
}

}  // namespace rawthread
