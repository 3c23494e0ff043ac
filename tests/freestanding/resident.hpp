// SPDX-License-Identifier: MIT
// The process's resident memory, for the heap tests: what the kernel counts
// in /proc/self/statm (QEMU's user mode answers for the guest there too).
#pragma once

#include <cstddef>

#include <asm/unistd.h>
#include <rawthread/sys.hpp>  // O_*: the libc's or the kernel's, as sys.hpp chooses

#include "kernel.hpp"
#include "page_size.hpp"

namespace check {

// Resident bytes (statm's second field times the page size); -1 without /proc.
inline long resident_bytes() noexcept {
  using rawthread::kernel::call;
  long fd = call(__NR_openat, AT_FDCWD, "/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[128];
  long got = call(__NR_read, fd, text, sizeof text - 1);
  call(__NR_close, fd);
  if (got <= 0) return -1;
  long i = 0;
  while (i < got && text[i] != ' ') ++i;  // skip the first field: the size
  long pages = 0;
  for (++i; i < got && text[i] >= '0' && text[i] <= '9'; ++i) pages = pages * 10 + (text[i] - '0');
  return pages * static_cast<long>(rawthread::page_size());
}

}  // namespace check
