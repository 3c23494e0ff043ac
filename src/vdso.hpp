// SPDX-License-Identifier: MIT
// The kernel's vDSO: clock_gettime without a system call.
#pragma once

#include "kernel.hpp"

namespace rawthread::vdso {

// clock_gettime through the vDSO where the kernel maps one with the arch's
// clock_gettime in it (AT_SYSINFO_EHDR); the system call otherwise. Returns 0
// or -errno, as the system call does. The first call looks the function up.
long clock_gettime(int clock, kernel::Timespec* now) noexcept;

}  // namespace rawthread::vdso
