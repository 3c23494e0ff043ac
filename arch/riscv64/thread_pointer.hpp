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

// A spin-wait hint: Zihintpause's `pause` (fence w,0), encoded by hand so that
// assemblers without the extension accept it; other cores run it as a no-op
// fence.
inline void cpu_relax() noexcept { __asm__ volatile(".4byte 0x0100000f" ::: "memory"); }

}  // namespace rawthread::arch
