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

// The first TCB needs nothing either: the stack protector's canary is the
// global __stack_chk_guard on aarch64.
inline void init_first_tcb(std::uintptr_t, const std::uint64_t[2]) noexcept {}

inline void set_thread_pointer(std::uintptr_t tp) noexcept {
  __asm__ volatile("msr tpidr_el0, %0" ::"r"(tp) : "memory");
}

// Where the TLS block starts relative to the thread pointer, as the linker
// computed every local-exec offset: above the 16-byte TCB, at the next
// multiple of the block's alignment.
inline constexpr long tls_offset(std::size_t, std::size_t align) noexcept {
  return static_cast<long>((kAbiTcbSize + align - 1) & ~(align - 1));
}

// The bias of the offsets in a general-dynamic TLS access: none here.
inline constexpr long kDtvOffset = 0;

// A spin-wait hint.
inline void cpu_relax() noexcept { __asm__ volatile("yield" ::: "memory"); }

}  // namespace rawthread::arch
