// The vDSO's clock_gettime on aarch64 (the kernel's arch/*/vdso linker script).
#pragma once

namespace rawthread::arch {
inline constexpr char kVdsoClockGettime[] = "__kernel_clock_gettime";
}
