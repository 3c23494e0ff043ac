// SPDX-License-Identifier: MIT
// aarch64: what the CPU offers a spin-wait.
#pragma once

namespace rawthread::arch {

// A spin-wait hint.
inline void cpu_relax() noexcept { __asm__ volatile("yield" ::: "memory"); }

}  // namespace rawthread::arch
