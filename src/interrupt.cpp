// SPDX-License-Identifier: MIT
// Interrupt requests: request_interrupt, interrupt_main, and their consumption
// by a blocking acquire. Why a request cannot be lost: src/interrupt.hpp.
//
// A request is a flag word per thread, in its Target: in the control block of
// a thread rawthread started, in main_target for the main thread. A
// process-wide count of set flags, pending_interrupts, lets every blocking
// acquire skip the search for its own flag with one load while no request
// exists.
//
// Async-signal-safe, all of it: atomics on static or per-thread memory and
// system calls, no lock, no allocation.
//
// The comments [interrupt: step] name the labels of tests/models/interrupt.pml
// that model the lines.
#include "interrupt.hpp"

#include <atomic>
#include <cstdint>

#include <rawthread/interrupt.hpp>
#include <rawthread/lock.hpp>

#include "backend.hpp"
#include "control.hpp"
#include "dummy/started.hpp"
#include "errors.hpp"
#include "kernel.hpp"
#include "main_thread.hpp"

namespace rawthread {

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {
std::atomic<unsigned> pending_interrupts{0};
}

namespace interrupt {
namespace {

Target main_target{};

}  // namespace

// Sets the flag; returns whether it was clear. The count goes up before the
// flag is set and down only after a flag is cleared, so it never drops below
// the number of set flags: a waiter that sees 0 has nothing to find.
bool raise(Target& target) noexcept {
  detail::pending_interrupts.fetch_add(1, std::memory_order_seq_cst);  // [interrupt: raise]
  bool was_clear = target.request.exchange(1, std::memory_order_seq_cst) == 0;
  if (!was_clear) detail::pending_interrupts.fetch_sub(1, std::memory_order_relaxed);
  // After the flag: a wait that checked before it now finds its deadline
  // refused when it enters the kernel. Done even when the flag was set already,
  // in case its wait armed a deadline since.
  target.deadline.tv_sec.store(kCollapsed, std::memory_order_seq_cst);  // [interrupt: collapse]
  return was_clear;
}

bool clear(Target& target) noexcept {
  if (target.request.exchange(0, std::memory_order_seq_cst) == 0) return false;
  detail::pending_interrupts.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

Target* own_target() noexcept {
  if (Control* self = control::own()) return &self->interrupt;
  if (main_thread::is_current()) return &main_target;
  return nullptr;  // a thread some other library started
}

bool consume(Target& target) noexcept {  // [interrupt: consume]
  if (detail::pending_interrupts.load(std::memory_order_seq_cst) == 0) return false;
  return clear(target);
}

bool consume_own() noexcept {
  if (detail::pending_interrupts.load(std::memory_order_seq_cst) == 0) return false;
  Target* target = own_target();
  return target != nullptr && clear(*target);
}

}  // namespace interrupt

void request_interrupt() noexcept {
  if (interrupt::Target* target = interrupt::own_target()) interrupt::raise(*target);
}

Result<void> interrupt_main(int signum) noexcept {
  if (signum < 1 || signum > kernel::kMaxSignal) return errors::kSignalOutOfRange;
  // The dummy backend follows _dummy_thread's rule: in a started function,
  // the interrupt is for its start_new_thread to report once the function is
  // done; no signal is sent.
  if constexpr (backend::kDummy) {
    if (dummy::in_started_function()) {
      dummy::interrupt_started_function();
      return {};
    }
  }

  // Python's rule: a signal nobody handles is not simulated.
  kernel::Sigaction action{};
  if (long ret = kernel::rt_sigaction(signum, nullptr, &action); ret < 0)
    return errors::cant_signal_main(ret);
  if (action.handler == kernel::kSigDfl || action.handler == kernel::kSigIgn) return {};

  // The request is in place before the signal leaves: a wait already in the
  // kernel ends with EINTR when the handler runs, one about to enter it finds
  // its deadline passed, and either way the waiter then finds the request.
  bool raised = interrupt::raise(interrupt::main_target);
  long pid = kernel::getpid();
  if (long ret = kernel::tgkill(pid, pid, signum); ret < 0) {  // [interrupt: signal]
    if (raised) interrupt::clear(interrupt::main_target);  // leave things as they were
    return errors::cant_signal_main(ret);
  }
  return {};
}

}  // namespace rawthread
