// SPDX-License-Identifier: MIT
// x86_64: struct sigaction as rt_sigaction takes it, and a handler's way back.
//
// A handler returns with `ret` to the address the kernel left on its frame,
// and x86_64 has no default for it: the kernel takes sa_restorer, and without
// SA_RESTORER the frame is refused (SIGSEGV). The restorer is
// rawthread_sigreturn (sigreturn.S), whose rt_sigreturn restores what the
// signal interrupted.
#pragma once

#include <cstddef>
#include <cstdint>

// arch/x86_64/sigreturn.S. Never called: only its address is used.
extern "C" [[gnu::visibility("hidden")]] void rawthread_sigreturn();

namespace rawthread::arch {

// <asm/signal.h>, the x86_64 branch (not __i386__'s).
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
