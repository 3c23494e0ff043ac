// SPDX-License-Identifier: MIT
// aarch64: where the TLS block and rawthread's control block sit around the
// thread pointer (arch_tcb.hpp: the ABI's TCB at it).
//
// TLS variant I (AAELF64): the thread pointer is TPIDR_EL0 and points at a
// 16-byte TCB {dtv, reserved}; TLS blocks lie above it, starting at
// TP + alignup(16, p_align). rawthread's control block sits just below the
// thread pointer, where a libc keeps its thread descriptor.
#pragma once

#include <cstddef>

namespace rawthread::arch {

inline constexpr bool kControlAboveTp = false;
inline constexpr std::size_t kAbiTcbSize = 16;

// Where the TLS block starts relative to the thread pointer, as the linker
// computed every local-exec offset: above the 16-byte TCB, at the next
// multiple of the block's alignment.
inline constexpr long tls_offset(std::size_t, std::size_t align) noexcept {
  return static_cast<long>((kAbiTcbSize + align - 1) & ~(align - 1));
}

// The bias of the offsets in a general-dynamic TLS access: none here.
inline constexpr long kDtvOffset = 0;

}  // namespace rawthread::arch
