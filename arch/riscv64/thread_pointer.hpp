// riscv64: the thread pointer and the TCB the ABI expects at it.
//
// TLS variant I, "modified" (RISC-V ELF psABI): the thread pointer is the tp
// register and points at the END of the TCB, which is also the start of the
// TLS blocks: the ABI part of the TCB above tp is empty. rawthread's control
// block sits just below tp, where a libc keeps its thread descriptor.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rawthread::arch {

inline constexpr bool kControlAboveTp = false;
inline constexpr std::size_t kAbiTcbSize = 0;

inline std::uintptr_t thread_pointer() noexcept {
  std::uintptr_t tp;
  __asm__("mv %0, tp" : "=r"(tp));
  return tp;
}

inline void init_abi_tcb(std::uintptr_t) noexcept {}

// The first TCB needs nothing either: the stack protector's canary is the
// global __stack_chk_guard on riscv64.
inline void init_first_tcb(std::uintptr_t, const std::uint64_t[2]) noexcept {}

inline void set_thread_pointer(std::uintptr_t tp) noexcept {
  __asm__ volatile("mv tp, %0" ::"r"(tp) : "memory");
}

// Where the TLS block starts relative to the thread pointer, as the linker
// computed every local-exec offset: at tp itself.
inline constexpr long tls_offset(std::size_t, std::size_t) noexcept { return 0; }

// The bias of the offsets in a general-dynamic TLS access (the psABI's
// TLS_DTV_OFFSET): riscv64 stores offset - 0x800 so that a 12-bit signed
// immediate reaches 4 KiB of TLS.
inline constexpr long kDtvOffset = 0x800;

// A spin-wait hint: Zihintpause's `pause` (fence w,0), encoded by hand so that
// assemblers without the extension accept it; other cores run it as a no-op
// fence.
inline void cpu_relax() noexcept { __asm__ volatile(".4byte 0x0100000f" ::: "memory"); }

}  // namespace rawthread::arch
