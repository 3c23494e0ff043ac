// SPDX-License-Identifier: MIT
// riscv64 system calls.
//
//   number   a7           arguments  a0 a1 a2 a3 a4 a5
//   return   a0 (-4095..-1 is -errno)
//   insn     ecall        clobbers   memory (nothing else is changed)
#pragma once

#define RAWTHREAD_SYSCALL_ASM(...)                                              \
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) __VA_OPT__(, ) __VA_ARGS__ : "memory")

namespace rawthread::arch {

inline long syscall0(long n) noexcept {
  register long a7 __asm__("a7") = n;
  register long a0 __asm__("a0") = 0;  // in-out: the result comes back here
  RAWTHREAD_SYSCALL_ASM();
  return a0;
}

inline long syscall1(long n, long arg1) noexcept {
  register long a7 __asm__("a7") = n;
  register long a0 __asm__("a0") = arg1;
  RAWTHREAD_SYSCALL_ASM();
  return a0;
}

inline long syscall2(long n, long arg1, long arg2) noexcept {
  register long a7 __asm__("a7") = n;
  register long a0 __asm__("a0") = arg1;
  register long a1 __asm__("a1") = arg2;
  RAWTHREAD_SYSCALL_ASM("r"(a1));
  return a0;
}

inline long syscall3(long n, long arg1, long arg2, long arg3) noexcept {
  register long a7 __asm__("a7") = n;
  register long a0 __asm__("a0") = arg1;
  register long a1 __asm__("a1") = arg2;
  register long a2 __asm__("a2") = arg3;
  RAWTHREAD_SYSCALL_ASM("r"(a1), "r"(a2));
  return a0;
}

inline long syscall4(long n, long arg1, long arg2, long arg3, long arg4) noexcept {
  register long a7 __asm__("a7") = n;
  register long a0 __asm__("a0") = arg1;
  register long a1 __asm__("a1") = arg2;
  register long a2 __asm__("a2") = arg3;
  register long a3 __asm__("a3") = arg4;
  RAWTHREAD_SYSCALL_ASM("r"(a1), "r"(a2), "r"(a3));
  return a0;
}

inline long syscall5(long n, long arg1, long arg2, long arg3, long arg4, long arg5) noexcept {
  register long a7 __asm__("a7") = n;
  register long a0 __asm__("a0") = arg1;
  register long a1 __asm__("a1") = arg2;
  register long a2 __asm__("a2") = arg3;
  register long a3 __asm__("a3") = arg4;
  register long a4 __asm__("a4") = arg5;
  RAWTHREAD_SYSCALL_ASM("r"(a1), "r"(a2), "r"(a3), "r"(a4));
  return a0;
}

inline long syscall6(long n, long arg1, long arg2, long arg3, long arg4, long arg5, long arg6) noexcept {
  register long a7 __asm__("a7") = n;
  register long a0 __asm__("a0") = arg1;
  register long a1 __asm__("a1") = arg2;
  register long a2 __asm__("a2") = arg3;
  register long a3 __asm__("a3") = arg4;
  register long a4 __asm__("a4") = arg5;
  register long a5 __asm__("a5") = arg6;
  RAWTHREAD_SYSCALL_ASM("r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5));
  return a0;
}

}  // namespace rawthread::arch

#undef RAWTHREAD_SYSCALL_ASM
