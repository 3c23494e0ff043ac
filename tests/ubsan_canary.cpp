// SPDX-License-Identifier: MIT
// tests/ubsan_canary.cpp: built only with -Dubsan=true (tests/meson.build),
// where it must die. INT_MAX + 1 is undefined behaviour, which the
// sanitizer's signed-integer-overflow check turns into a trap instruction;
// the operand is read from argv (meson passes 2147483647) so that no
// optimisation can see the overflow coming and drop or fold it. Exits 0 only
// when nothing trapped, which fails the test (should_fail).
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 2) return 0;
  int value = std::atoi(argv[1]);
  int sum = value + 1;
  std::printf("%d + 1 = %d: no trap, the build is not instrumented\n", value, sum);
  return 0;
}
