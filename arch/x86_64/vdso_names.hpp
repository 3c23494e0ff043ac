// The vDSO's clock_gettime on x86_64 (the kernel's arch/*/vdso linker script).
#pragma once

namespace rawthread::arch {
inline constexpr char kVdsoClockGettime[] = "__vdso_clock_gettime";
}
