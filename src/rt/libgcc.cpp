// SPDX-License-Identifier: MIT
// The helpers GCC calls, under libgcc's names, for bit operations the
// target has no instruction for: __builtin_popcountll (std::popcount, the
// heap's slot masks) on x86_64 without -mpopcnt and riscv64 without Zbb;
// __builtin_clzll and __builtin_ctzll (std::bit_width, std::countr_zero,
// the heap's size classes) on riscv64 without Zbb. libgcc.a is not linked
// (-nostdlib). Written as halving steps, not bit-by-bit loops, which a
// compiler could recognise as the idiom and turn back into a call to the
// function itself.
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

// Undefined for 0, as the builtins are; 64 here.
int __clzdi2(std::uint64_t x) noexcept {
  if (x == 0) return 64;
  int n = 0;
  for (int shift = 32; shift > 0; shift /= 2)
    if ((x >> (64 - shift)) == 0) {
      n += shift;
      x <<= shift;
    }
  return n;
}

int __ctzdi2(std::uint64_t x) noexcept {
  if (x == 0) return 64;
  int n = 0;
  for (int shift = 32; shift > 0; shift /= 2)
    if ((x & ((std::uint64_t{1} << shift) - 1)) == 0) {
      n += shift;
      x >>= shift;
    }
  return n;
}

}  // extern "C"
