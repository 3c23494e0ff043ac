// SPDX-License-Identifier: MIT
// aarch64: struct sigaction as rt_sigaction takes it, and a handler's way back.
//
// A handler returns to the address the kernel puts in x30: sa_restorer with
// SA_RESTORER, the vDSO's trampoline without it. rawthread sets its own
// restorer, rawthread_sigreturn (sigreturn.S), as musl does, so that a handler
// returns the same way whether or not a vDSO is mapped.
#pragma once

#include <cstddef>
#include <cstdint>

// arch/aarch64/sigreturn.S. Never called: only its address is used.
extern "C" [[gnu::visibility("hidden")]] void rawthread_sigreturn();

namespace rawthread::arch {

// <asm-generic/signal.h>, with sa_restorer: <asm/signal.h> defines
// SA_RESTORER (kept for AArch32 compatibility).
struct Sigaction {
  unsigned long handler;  // SIG_DFL, SIG_IGN or the handler's address
  unsigned long flags;
  void (*restorer)();
  std::uint64_t mask;  // sigset_t: bit n-1 blocks signal n
};
static_assert(offsetof(Sigaction, mask) == 24 && sizeof(Sigaction) == 32);

inline constexpr unsigned long kSaRestorer = 0x04000000;  // SA_RESTORER

// Completes an action about to be installed, its handler, flags and mask
// set: with its return path.
inline void complete(Sigaction& action) noexcept {
  action.flags |= kSaRestorer;
  action.restorer = rawthread_sigreturn;
}

}  // namespace rawthread::arch
