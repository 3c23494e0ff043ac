// SPDX-License-Identifier: MIT
// x86_64: where the TLS block and rawthread's control block sit around the
// thread pointer (arch_tcb.hpp: the ABI's TCB at it).
//
// TLS variant II (x86-64 psABI; Drepper, "ELF Handling For Thread-Local
// Storage"): the thread pointer is the FS base and points at the TCB; TLS
// blocks lie below it. rawthread's control block follows the ABI's 64-byte
// part of the TCB, above the thread pointer.
#pragma once

#include <cstddef>

namespace rawthread::arch {

inline constexpr bool kControlAboveTp = true;
inline constexpr std::size_t kAbiTcbSize = 64;

// Where the TLS block starts relative to the thread pointer, as the linker
// computed every local-exec offset: variant II puts it right below tp,
// its size rounded up to its alignment.
inline constexpr long tls_offset(std::size_t memsz, std::size_t align) noexcept {
  return -static_cast<long>((memsz + align - 1) & ~(align - 1));
}

// The bias of the offsets in a general-dynamic TLS access: none here.
inline constexpr long kDtvOffset = 0;

}  // namespace rawthread::arch
