// SPDX-License-Identifier: MIT
// aarch64 system calls.
//
//   number   x8           arguments  x0 x1 x2 x3 x4 x5
//   return   x0 (-4095..-1 is -errno)
//   insn     svc #0       clobbers   memory (nothing else is changed)
#pragma once

#define RAWTHREAD_SYSCALL_ASM(...)                                              \
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8) __VA_OPT__(, ) __VA_ARGS__ : "memory", "cc")

namespace rawthread::arch {

inline long syscall0(long n) noexcept {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = 0;  // in-out: the result comes back here
  RAWTHREAD_SYSCALL_ASM();
  return x0;
}

inline long syscall1(long n, long arg1) noexcept {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = arg1;
  RAWTHREAD_SYSCALL_ASM();
  return x0;
}

inline long syscall2(long n, long arg1, long arg2) noexcept {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = arg1;
  register long x1 __asm__("x1") = arg2;
  RAWTHREAD_SYSCALL_ASM("r"(x1));
  return x0;
}

inline long syscall3(long n, long arg1, long arg2, long arg3) noexcept {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = arg1;
  register long x1 __asm__("x1") = arg2;
  register long x2 __asm__("x2") = arg3;
  RAWTHREAD_SYSCALL_ASM("r"(x1), "r"(x2));
  return x0;
}

inline long syscall4(long n, long arg1, long arg2, long arg3, long arg4) noexcept {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = arg1;
  register long x1 __asm__("x1") = arg2;
  register long x2 __asm__("x2") = arg3;
  register long x3 __asm__("x3") = arg4;
  RAWTHREAD_SYSCALL_ASM("r"(x1), "r"(x2), "r"(x3));
  return x0;
}

inline long syscall5(long n, long arg1, long arg2, long arg3, long arg4, long arg5) noexcept {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = arg1;
  register long x1 __asm__("x1") = arg2;
  register long x2 __asm__("x2") = arg3;
  register long x3 __asm__("x3") = arg4;
  register long x4 __asm__("x4") = arg5;
  RAWTHREAD_SYSCALL_ASM("r"(x1), "r"(x2), "r"(x3), "r"(x4));
  return x0;
}

inline long syscall6(long n, long arg1, long arg2, long arg3, long arg4, long arg5, long arg6) noexcept {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = arg1;
  register long x1 __asm__("x1") = arg2;
  register long x2 __asm__("x2") = arg3;
  register long x3 __asm__("x3") = arg4;
  register long x4 __asm__("x4") = arg5;
  register long x5 __asm__("x5") = arg6;
  RAWTHREAD_SYSCALL_ASM("r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5));
  return x0;
}

}  // namespace rawthread::arch

#undef RAWTHREAD_SYSCALL_ASM
