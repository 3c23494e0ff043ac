// SPDX-License-Identifier: MIT
// x86_64: the thread pointer, and the ABI's TCB at it (the stack protector's
// canary where the ABI keeps it there).
//
// The thread pointer is the FS base. Compiled code reads two TCB slots
// through %fs directly, so every thread's TCB must fill them:
//   %fs:0x00  the TCB's own address: the only way to read the thread pointer
//   %fs:0x28  the stack-protector canary (hard-coded by GCC and Clang)
// glibc keeps its pointer guard at %fs:0x30; a new thread copies it too.
#pragma once

#include <asm/prctl.h>
#include <asm/unistd.h>

#include <cstdint>

#include "arch_syscall.hpp"

namespace rawthread::arch {

inline std::uintptr_t thread_pointer() noexcept {
  std::uintptr_t tp;
  __asm__("mov %%fs:0, %0" : "=r"(tp));
  return tp;
}

// Fills the ABI slots of a new thread's TCB at `tp` (zeroed memory). The
// canary and pointer guard are per-process values, read from the caller.
inline void init_abi_tcb(std::uintptr_t tp) noexcept {
  auto* slot = reinterpret_cast<std::uintptr_t*>(tp);
  slot[0] = tp;  // %fs:0x00, self
  slot[2] = tp;  // %fs:0x10, self again (glibc's header.self)
  __asm__("mov %%fs:0x28, %0" : "=r"(slot[5]));
  __asm__("mov %%fs:0x30, %0" : "=r"(slot[6]));
}

// Fills the ABI slots of the first TCB, the main thread's in a freestanding
// program: there is no caller's TCB to copy from. `random` is the kernel's
// AT_RANDOM bytes. The canary's low byte is zero, as glibc makes it, so that
// a string overflow that copies up to a NUL cannot reproduce it.
inline void init_first_tcb(std::uintptr_t tp, const std::uint64_t random[2]) noexcept {
  auto* slot = reinterpret_cast<std::uintptr_t*>(tp);
  slot[0] = tp;
  slot[2] = tp;
  slot[5] = random[0] & ~std::uintptr_t{0xff};
  slot[6] = random[1];
}

// Installs the calling thread's thread pointer (a new thread gets its own
// through clone's CLONE_SETTLS instead). The FS base can only be written by
// the kernel on CPUs or kernels without FSGSBASE.
inline void set_thread_pointer(std::uintptr_t tp) noexcept {
  syscall2(__NR_arch_prctl, ARCH_SET_FS, static_cast<long>(tp));
}

}  // namespace rawthread::arch
