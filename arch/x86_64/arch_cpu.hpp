// SPDX-License-Identifier: MIT
// x86_64: what the CPU offers a spin-wait.
#pragma once

namespace rawthread::arch {

// A spin-wait hint: lets a sibling hyperthread run, saves power.
inline void cpu_relax() noexcept { __asm__ volatile("pause" ::: "memory"); }

}  // namespace rawthread::arch
