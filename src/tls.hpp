// SPDX-License-Identifier: MIT
// The thread pointer area: a thread's TLS block and its control block, laid
// out around the thread pointer as the arch's TLS variant wants them.
//
//   x86_64 (variant II)   [TLS block] tp-> [ABI TCB][Control]
//   aarch64 (variant I)   [Control] tp-> [TCB 16][pad to align][TLS block]
//   riscv64 (variant I)   [Control] tp-> [TLS block]
//
// The TLS block must sit exactly where the linker's local-exec offsets say
// (arch::tls_offset), and tp must be aligned to the block's alignment. In a
// hosted program the image is empty and only the control block is placed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rawthread::tls {

// The most bytes build() takes, alignment slack included.
std::size_t area_size() noexcept;

// Builds the area just below `top`, in memory the caller owns: copies
// .tdata and, unless the memory is `zeroed` already (a fresh mapping),
// zeroes .tbss, the control block and the TCB. Returns the thread pointer;
// *low gets the area's lowest address.
std::uintptr_t build(std::uintptr_t top, bool zeroed, std::uintptr_t* low) noexcept;

}  // namespace rawthread::tls
