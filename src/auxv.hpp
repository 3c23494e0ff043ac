// SPDX-License-Identifier: MIT
// The auxiliary vector, in a freestanding program and a hosted one alike.
#pragma once

namespace rawthread::auxv {

// The value of `type` (AT_PAGESZ, AT_SYSINFO_EHDR, ...), or 0 when the
// vector has none. A freestanding program's start-up hands the core its
// vector; a hosted program's is read from /proc/self/auxv with raw system
// calls (libc keeps its copy to itself), so that costs three system calls:
// callers cache what they find.
unsigned long value(unsigned long type) noexcept;

}  // namespace rawthread::auxv
