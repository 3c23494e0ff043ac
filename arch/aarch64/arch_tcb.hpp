// SPDX-License-Identifier: MIT
// aarch64: the thread pointer, and the ABI's TCB at it (the stack protector's
// canary where the ABI keeps it there).
#pragma once

#include <cstdint>

namespace rawthread::arch {

inline std::uintptr_t thread_pointer() noexcept {
  std::uintptr_t tp;
  __asm__("mrs %0, tpidr_el0" : "=r"(tp));
  return tp;
}

// The 16-byte TCB of a new thread at `tp` is zeroed memory already: no DTV.
inline void init_abi_tcb(std::uintptr_t) noexcept {}

// The first TCB needs nothing either: the stack protector's canary is the
// global __stack_chk_guard on aarch64.
inline void init_first_tcb(std::uintptr_t, const std::uint64_t[2]) noexcept {}

inline void set_thread_pointer(std::uintptr_t tp) noexcept {
  __asm__ volatile("msr tpidr_el0, %0" ::"r"(tp) : "memory");
}

}  // namespace rawthread::arch
