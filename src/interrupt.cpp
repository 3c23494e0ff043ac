// Interrupt requests: request_interrupt, interrupt_main, and their consumption
// by a blocking acquire.
//
// A request is a flag word per thread: in the control block of a thread
// rawthread started, in main_request for the main thread. A process-wide
// count of set flags, pending_interrupts, lets every blocking acquire skip the
// search for its own flag with one load while no request exists.
//
// Known window, closed by a later change: a handler that runs after the
// waiter's last check of its flag and before it enters futex_wait leaves the
// wait to run until the lock is released or the deadline passes.
#include "interrupt.hpp"

#include <atomic>
#include <cstdint>

#include <rawthread/interrupt.hpp>
#include <rawthread/lock.hpp>

#include "control.hpp"
#include "errors.hpp"
#include "kernel.hpp"
#include "main_thread.hpp"
#if RAWTHREAD_BACKEND_DUMMY
#include "dummy/started.hpp"
#endif

namespace rawthread {

namespace detail {
std::atomic<unsigned> pending_interrupts{0};
}

namespace interrupt {
namespace {

using Flag = std::atomic<std::uint32_t>;

Flag main_request{0};

Flag* own_flag() noexcept {
  if (Control* self = control::own()) return &self->interrupt_request;
  if (main_thread::is_current()) return &main_request;
  return nullptr;  // a thread some other library started
}

// Sets `flag`; returns whether it was clear. The count goes up before the flag
// is set and down only after a flag is cleared, so it never drops below the
// number of set flags: a waiter that sees 0 has nothing to find.
bool raise(Flag& flag) noexcept {
  detail::pending_interrupts.fetch_add(1, std::memory_order_seq_cst);
  if (flag.exchange(1, std::memory_order_seq_cst) == 0) return true;
  detail::pending_interrupts.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

bool clear(Flag& flag) noexcept {
  if (flag.exchange(0, std::memory_order_seq_cst) == 0) return false;
  detail::pending_interrupts.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

}  // namespace

bool consume_own() noexcept {
  if (detail::pending_interrupts.load(std::memory_order_seq_cst) == 0) return false;
  Flag* flag = own_flag();
  return flag != nullptr && clear(*flag);
}

}  // namespace interrupt

void request_interrupt() noexcept {
  if (interrupt::Flag* flag = interrupt::own_flag()) interrupt::raise(*flag);
}

Result<void> interrupt_main(int signum) noexcept {
  if (signum < 1 || signum > kernel::kMaxSignal) return errors::kSignalOutOfRange;
#if RAWTHREAD_BACKEND_DUMMY
  // _dummy_thread's rule: in a started function, the interrupt is for its
  // start_new_thread to report once the function is done; no signal is sent.
  if (dummy::in_started_function()) {
    dummy::interrupt_started_function();
    return {};
  }
#endif

  // Python's rule: a signal nobody handles is not simulated.
  kernel::Sigaction action{};
  if (long ret = kernel::rt_sigaction(signum, nullptr, &action); ret < 0)
    return errors::cant_signal_main(ret);
  if (action.handler == kernel::kSigDfl || action.handler == kernel::kSigIgn) return {};

  // The request is in place before the signal leaves: the handler's return
  // ends the main thread's wait with EINTR, and the waiter then finds it.
  bool raised = interrupt::raise(interrupt::main_request);
  long pid = kernel::getpid();
  if (long ret = kernel::tgkill(pid, pid, signum); ret < 0) {
    if (raised) interrupt::clear(interrupt::main_request);  // leave things as they were
    return errors::cant_signal_main(ret);
  }
  return {};
}

}  // namespace rawthread
