// SPDX-License-Identifier: MIT
// Thread in the dummy backend: by the time start_joinable_thread returns, the
// function has run to completion, so every handle is done and joins at once.
#include <rawthread/joinable.hpp>

#include "errors.hpp"
#include "interrupt.hpp"
#include "kernel.hpp"

namespace rawthread {

Thread::Thread(detail::Started started) noexcept
    : ident_(started.ident), control_(started.control) {}

Thread::Thread(Thread&& other) noexcept
    : ident_(std::exchange(other.ident_, 0)), control_(std::exchange(other.control_, nullptr)) {}

Thread& Thread::operator=(Thread&& other) noexcept {
  ident_ = std::exchange(other.ident_, 0);
  control_ = std::exchange(other.control_, nullptr);
  return *this;
}

Thread::~Thread() = default;

void Thread::detach() noexcept {}

bool Thread::is_done() const noexcept { return control_ != nullptr; }

// The same checks as the real backend's, but for joining oneself: every
// ident is the same one here, and the function has ended anyway.
Result<bool> Thread::join(double timeout) noexcept {
  if (control_ == nullptr) return errors::kJoinEmpty;
  if (const Error* bad = errors::bad_timeout(timeout)) return *bad;
  // As the real backend's join of a thread that has ended: a pending
  // request still ends it.
  if (interrupt::consume_own()) return errors::kJoinInterrupted;
  return true;
}

// The thread ended before its handle existed (_dummy_thread): nothing to
// interrupt, once the arguments pass the real backend's checks.
Result<void> Thread::interrupt(int signum) noexcept {
  if (control_ == nullptr) return errors::kInterruptEmpty;
  if (signum < 1 || signum > kernel::kMaxSignal) return errors::kSignalOutOfRange;
  return {};
}

}  // namespace rawthread
