// SPDX-License-Identifier: MIT
// The arch contract: everything the arch-neutral code uses of a CPU, in one
// place. Only this header includes arch/<arch>/; a port is one new folder
// with these files, and the static_asserts below say what it got wrong.
//
//   arch_syscall.hpp  syscall0..syscall6(n, args...): the kernel's -errno
//                     convention, every register the instruction clobbers
//   arch_signal.hpp   Sigaction, struct sigaction as rt_sigaction takes it,
//                     and complete(action), which adds the return path
//   arch_tls.hpp      the TLS variant: kControlAboveTp, kAbiTcbSize,
//                     tls_offset(memsz, align), kDtvOffset
//   arch_tcb.hpp      thread_pointer(), set_thread_pointer(tp), and the ABI's
//                     TCB slots: init_abi_tcb(tp), init_first_tcb(tp, random)
//   arch_cpu.hpp      cpu_relax(), the spin-wait hint
//   arch_vdso.hpp     kVdsoClockGettime, the vDSO's name for clock_gettime
//   clone.S           rawthread_clone
//   exit.S            rawthread_unmap_and_exit
//   start.S           _start, to rawthread_start (librawthread_rt only)
//   sigreturn.S       rawthread_sigreturn, where complete() needs a restorer
//   meson.build       arch_sources (the core's .S files), arch_rt_sources
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "arch_cpu.hpp"
#include "arch_signal.hpp"
#include "arch_syscall.hpp"
#include "arch_tcb.hpp"
#include "arch_tls.hpp"
#include "arch_vdso.hpp"

extern "C" {

// clone.S: clone(flags, stack, ptid = tid, tls, ctid = tid). The child
// starts on `stack` (16-byte aligned by the trampoline) and calls
// entry(arg), which never returns. Returns the child's tid, or -errno.
[[gnu::visibility("hidden")]] long rawthread_clone(void (*entry)(void*), void* arg, void* stack,
                                                   unsigned long flags, std::uintptr_t tls,
                                                   std::int32_t* tid);

// exit.S: munmap(base, size) of the mapping the caller runs on, decrement
// *live_threads (a full barrier after the unmap), exit(0): touching no
// memory of the mapping once it is gone. Signals blocked, and the kernel's
// tid clearing turned off, by the caller.
[[gnu::visibility("hidden"), noreturn]] void rawthread_unmap_and_exit(
    void* base, std::size_t size, std::atomic<std::size_t>* live_threads);

// src/rt/start.cpp, called by start.S's _start with the initial stack
// pointer (argc, argv, envp, auxv), in a program linked with
// librawthread_rt.
[[noreturn]] void rawthread_start(long* sp) noexcept;

}  // extern "C"

namespace rawthread::arch {

static_assert(std::is_same_v<decltype(syscall0(0)), long> &&
                  std::is_same_v<decltype(syscall6(0, 0, 0, 0, 0, 0, 0)), long> &&
                  noexcept(syscall6(0, 0, 0, 0, 0, 0, 0)),
              "syscallN(n, args...) returns the kernel's long, -errno on failure");
static_assert(sizeof(Sigaction) == 32 && offsetof(Sigaction, handler) == 0,
              "Sigaction is the kernel's struct sigaction for rt_sigaction (8-byte sigset)");
static_assert(std::is_same_v<decltype(complete(std::declval<Sigaction&>())), void>);
static_assert(std::is_same_v<decltype(kControlAboveTp), const bool>,
              "the control block goes above the thread pointer (variant II) or below (I)");
static_assert(kAbiTcbSize % 16 == 0, "the ABI's TCB keeps the control block 16-byte aligned");
static_assert(tls_offset(64, 64) % 64 == 0 && tls_offset(0, 1) == tls_offset(0, 1),
              "tls_offset(memsz, align) is constexpr and keeps the block aligned");
static_assert(std::is_same_v<decltype(kDtvOffset), const long>);
static_assert(std::is_same_v<decltype(thread_pointer()), std::uintptr_t> &&
              noexcept(thread_pointer()) && noexcept(set_thread_pointer(0)) &&
              noexcept(init_abi_tcb(0)) && noexcept(cpu_relax()));
static_assert(sizeof(kVdsoClockGettime) > 1, "the vDSO's name for clock_gettime");

}  // namespace rawthread::arch
