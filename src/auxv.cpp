// SPDX-License-Identifier: MIT
// auxv::value: see auxv.hpp.
#include "auxv.hpp"

#include <linux/fcntl.h>

#include "hooks.hpp"
#include "kernel.hpp"

namespace rawthread {

namespace auxv {
namespace {

unsigned long read_proc(unsigned long type) noexcept {
  long fd = kernel::openat(AT_FDCWD, "/proc/self/auxv", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned long found = 0;
  unsigned long entries[32][2];  // (type, value) pairs; reads keep pairs whole
  for (;;) {
    long got = kernel::read(static_cast<int>(fd), entries, sizeof entries);
    if (got <= 0) break;
    long count = got / static_cast<long>(sizeof entries[0]);
    long i = 0;
    while (i < count && entries[i][0] != type && entries[i][0] != AT_NULL) ++i;
    if (i < count) {
      if (entries[i][0] == type) found = entries[i][1];
      break;
    }
  }
  kernel::close(static_cast<int>(fd));
  return found;
}

}  // namespace

unsigned long value(unsigned long type) noexcept {
  if (hooks::auxv != nullptr) return hooks::aux_value(hooks::auxv, type);
  return read_proc(type);
}

}  // namespace auxv
}  // namespace rawthread
