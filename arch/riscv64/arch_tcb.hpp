// SPDX-License-Identifier: MIT
// riscv64: the thread pointer, and the ABI's TCB at it (the stack protector's
// canary where the ABI keeps it there).
#pragma once

#include <cstdint>

namespace rawthread::arch {

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

}  // namespace rawthread::arch
