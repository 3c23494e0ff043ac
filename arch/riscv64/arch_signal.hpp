// SPDX-License-Identifier: MIT
// riscv64: struct sigaction as rt_sigaction takes it, and a handler's way back.
//
// riscv64 has no SA_RESTORER and no sa_restorer field: the kernel always
// points a handler's ra at the vDSO's rt_sigreturn trampoline (QEMU's user
// mode at a trampoline page of its own). There is no return path to set up.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rawthread::arch {

// <asm-generic/signal.h> without sa_restorer (<asm/signal.h> defines no
// SA_RESTORER on riscv64), plus one word the kernel never touches: QEMU's
// user mode (7.2 at least) gives riscv64 the generic layout *with*
// sa_restorer, {handler, flags, restorer, mask}. It writes 32 bytes into an
// old action, and reads a new one's mask from the fourth word.
struct Sigaction {
  unsigned long handler;  // SIG_DFL, SIG_IGN or the handler's address
  unsigned long flags;
  std::uint64_t mask;       // sigset_t: bit n-1 blocks signal n
  std::uint64_t qemu_mask;  // the mask again, where QEMU looks for it
};
static_assert(offsetof(Sigaction, mask) == 16 && sizeof(Sigaction) == 32);

// Completes an action about to be installed, its handler, flags and mask
// set: the kernel needs nothing more, QEMU the mask copied.
inline void complete(Sigaction& action) noexcept { action.qemu_mask = action.mask; }

}  // namespace rawthread::arch
