// SPDX-License-Identifier: MIT
// abort, and the runtime's own fatal errors.

#include <cstdint>
#include <cstdlib>  // abort as declared to programs (noreturn, noexcept)

#include <rawthread/sys.hpp>

#include "kernel.hpp"
#include "rt.hpp"

namespace {
constexpr int kSigAbrt = 6;     // SIGABRT on every Linux arch
}  // namespace

extern "C" void abort() noexcept {
  using namespace rawthread;
  // Die of SIGABRT as a libc's abort does (a core dump, the shell's
  // "Aborted"): default action, unblocked, sent to this thread. A handler
  // could otherwise catch it and return.
  kernel::Sigaction default_action{};
  arch::complete(default_action);
  kernel::rt_sigaction(kSigAbrt, &default_action, nullptr);
  const std::uint64_t abrt = std::uint64_t{1} << (kSigAbrt - 1);
  kernel::rt_sigprocmask(kernel::kSigUnblock, &abrt, nullptr);
  kernel::tgkill(kernel::getpid(), kernel::gettid(), kSigAbrt);
  kernel::exit_group(127);
}

namespace rawthread::rt {

[[noreturn]] void die(const char* message) noexcept {
  (void)sys::write_str(2, message);
  abort();
}

}  // namespace rawthread::rt
