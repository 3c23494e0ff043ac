// SPDX-License-Identifier: MIT
// The heap's fatal errors: the message, the address, abort.
#include <cstdint>
#include <cstdlib>

#include "kernel.hpp"
#include "layout.hpp"

namespace rawthread::heap {

[[noreturn]] void die_at(const char* what, const void* p) noexcept {
  char line[96];
  std::size_t n = 0;
  while (*what != '\0' && n < 64) line[n++] = *what++;
  line[n++] = '0';
  line[n++] = 'x';
  const auto value = reinterpret_cast<std::uintptr_t>(p);
  for (int shift = 60; shift >= 0; shift -= 4) line[n++] = "0123456789abcdef"[(value >> shift) & 15];
  line[n++] = '\n';
  kernel::write(2, line, n);
  std::abort();
}

}  // namespace rawthread::heap
