// SPDX-License-Identifier: MIT
// x86_64 system calls.
//
//   number   rax          arguments  rdi rsi rdx r10 r8 r9
//   return   rax (-4095..-1 is -errno)
//   insn     syscall      clobbers   rcx (return rip), r11 (rflags), memory
#pragma once

namespace rawthread::arch {

inline long syscall0(long n) noexcept {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n) : "rcx", "r11", "memory");
  return ret;
}

inline long syscall1(long n, long a1) noexcept {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1) : "rcx", "r11", "memory");
  return ret;
}

inline long syscall2(long n, long a1, long a2) noexcept {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1), "S"(a2) : "rcx", "r11", "memory");
  return ret;
}

inline long syscall3(long n, long a1, long a2, long a3) noexcept {
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a1), "S"(a2), "d"(a3)
                   : "rcx", "r11", "memory");
  return ret;
}

inline long syscall4(long n, long a1, long a2, long a3, long a4) noexcept {
  register long r10 __asm__("r10") = a4;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
}

inline long syscall5(long n, long a1, long a2, long a3, long a4, long a5) noexcept {
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                   : "rcx", "r11", "memory");
  return ret;
}

inline long syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6) noexcept {
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  register long r9 __asm__("r9") = a6;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

}  // namespace rawthread::arch
