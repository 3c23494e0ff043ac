// x86_64: the thread pointer and the TCB the ABI expects at it.
//
// TLS variant II (x86-64 psABI; Drepper, "ELF Handling For Thread-Local
// Storage"): the thread pointer is the FS base and points at the TCB; TLS
// blocks lie below it. Compiled code reads two TCB slots through %fs directly,
// so every thread's TCB must fill them:
//   %fs:0x00  the TCB's own address: the only way to read the thread pointer
//   %fs:0x28  the stack-protector canary (hard-coded by GCC and Clang)
// glibc keeps its pointer guard at %fs:0x30; a new thread copies it too.
// rawthread's control block follows the ABI part, above the thread pointer.
#pragma once

#include <asm/prctl.h>
#include <asm/unistd.h>

#include <cstddef>
#include <cstdint>

#include "syscall.hpp"

namespace rawthread::arch {

inline constexpr bool kControlAboveTp = true;
inline constexpr std::size_t kAbiTcbSize = 64;

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

// Where the TLS block starts relative to the thread pointer, as the linker
// computed every local-exec offset: variant II puts it right below tp,
// its size rounded up to its alignment.
inline constexpr long tls_offset(std::size_t memsz, std::size_t align) noexcept {
  return -static_cast<long>((memsz + align - 1) & ~(align - 1));
}

// The bias of the offsets in a general-dynamic TLS access: none here.
inline constexpr long kDtvOffset = 0;

// A spin-wait hint: lets a sibling hyperthread run, saves power.
inline void cpu_relax() noexcept { __asm__ volatile("pause" ::: "memory"); }

}  // namespace rawthread::arch
