// SPDX-License-Identifier: MIT
// riscv64: where the TLS block and rawthread's control block sit around the
// thread pointer (arch_tcb.hpp: the ABI's TCB at it).
//
// TLS variant I, "modified" (RISC-V ELF psABI): the thread pointer is the tp
// register and points at the END of the TCB, which is also the start of the
// TLS blocks: the ABI part of the TCB above tp is empty. rawthread's control
// block sits just below tp, where a libc keeps its thread descriptor.
#pragma once

#include <cstddef>

namespace rawthread::arch {

inline constexpr bool kControlAboveTp = false;
inline constexpr std::size_t kAbiTcbSize = 0;

// Where the TLS block starts relative to the thread pointer, as the linker
// computed every local-exec offset: at tp itself.
inline constexpr long tls_offset(std::size_t, std::size_t) noexcept { return 0; }

// The bias of the offsets in a general-dynamic TLS access (the psABI's
// TLS_DTV_OFFSET): riscv64 stores offset - 0x800 so that a 12-bit signed
// immediate reaches 4 KiB of TLS.
inline constexpr long kDtvOffset = 0x800;

}  // namespace rawthread::arch
