// aarch64: the thread pointer and the TCB the ABI expects at it.
//
// TLS variant I (AAELF64): the thread pointer is TPIDR_EL0 and points at a
// 16-byte TCB {dtv, reserved}; TLS blocks lie above it, starting at
// TP + alignup(16, p_align). rawthread's control block sits just below the
// thread pointer, where a libc keeps its thread descriptor.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rawthread::arch {

inline constexpr bool kControlAboveTp = false;
inline constexpr std::size_t kAbiTcbSize = 16;

inline std::uintptr_t thread_pointer() noexcept {
  std::uintptr_t tp;
  __asm__("mrs %0, tpidr_el0" : "=r"(tp));
  return tp;
}

// The 16-byte TCB of a new thread at `tp` is zeroed memory already: no DTV.
inline void init_abi_tcb(std::uintptr_t) noexcept {}

// A spin-wait hint.
inline void cpu_relax() noexcept { __asm__ volatile("yield" ::: "memory"); }

}  // namespace rawthread::arch
