// SPDX-License-Identifier: MIT
// The vDSO's clock_gettime on x86_64 (the kernel's arch/*/vdso linker script).
// Not inline: internal linkage keeps it out of the GOT (scripts/test, nm check).
#pragma once

namespace rawthread::arch {
constexpr char kVdsoClockGettime[] = "__vdso_clock_gettime";
}
