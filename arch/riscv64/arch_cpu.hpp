// SPDX-License-Identifier: MIT
// riscv64: what the CPU offers a spin-wait.
#pragma once

namespace rawthread::arch {

// A spin-wait hint: Zihintpause's `pause` (fence w,0), encoded by hand so that
// assemblers without the extension accept it; other cores run it as a no-op
// fence.
inline void cpu_relax() noexcept { __asm__ volatile(".4byte 0x0100000f" ::: "memory"); }

}  // namespace rawthread::arch
