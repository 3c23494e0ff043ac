// SPDX-License-Identifier: MIT
// The helpers GCC calls, under libgcc's names, for bit operations the
// target has no instruction for: __builtin_popcount* (std::popcount, the
// heap's slot masks) on x86_64 without -mpopcnt and riscv64 without Zbb.
// libgcc.a is not linked (-nostdlib).
#include <cstdint>

extern "C" {

int __popcountdi2(std::uint64_t x) noexcept {
  // The bits counted in parallel: pairs, nibbles, bytes, then a multiply
  // adds the eight byte counts into the top byte.
  x = x - ((x >> 1) & 0x5555555555555555u);
  x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fu;
  return static_cast<int>((x * 0x0101010101010101u) >> 56);
}

}  // extern "C"
