// SPDX-License-Identifier: MIT
// floor, under its libm name: libstdc++'s hashtable_c++0x.o (the bucket
// counts of std::unordered_*) calls it on riscv64, where GCC 12 has no
// instruction for __builtin_floor and emits the call.
#include <cstdint>

extern "C" double floor(double x) noexcept {
  // 2^52 and above (and infinities, NaN) have no fraction; nor has zero,
  // whose sign the truncation below would lose (floor(-0.0) is -0.0).
  constexpr double kNoFraction = 4503599627370496.0;  // 2^52
  if (!(x > -kNoFraction && x < kNoFraction) || x == 0) return x;
  // |x| < 2^52: the conversion truncates towards zero, exactly.
  const double truncated = static_cast<double>(static_cast<std::int64_t>(x));
  const double result = truncated > x ? truncated - 1 : truncated;
  // (-1, 0) floors to -1; (0, 1) to +0, as the truncation gives.
  return result;
}
