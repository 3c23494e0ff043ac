// SPDX-License-Identifier: MIT
// The stack protector's canary and its failure path (-fstack-protector*).
//
// On aarch64 and riscv64 compiled code reads the canary from the global
// __stack_chk_guard; on x86_64 from %fs:0x28, which the start-up and every
// new thread's TCB fill (arch/x86_64/arch_tcb.hpp).
#include <cstdint>

#include "rt.hpp"

extern "C" {

std::uintptr_t __stack_chk_guard = 0;

[[noreturn]] void __stack_chk_fail() noexcept {
  rawthread::rt::die("*** stack smashing detected ***: terminated\n");
}

}  // extern "C"

namespace rawthread::rt {

// The low byte is zero, so that an overflow by a string copy, which stops at
// a NUL, cannot write the canary back.
void stack_guard_init(std::uint64_t random) noexcept {
  __stack_chk_guard = static_cast<std::uintptr_t>(random) & ~std::uintptr_t{0xff};
}

}  // namespace rawthread::rt
