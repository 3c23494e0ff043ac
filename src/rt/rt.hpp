// SPDX-License-Identifier: MIT
// The freestanding runtime's internal interface (librawthread_rt.a).
#pragma once

#include <cstdint>

#include "hooks.hpp"

namespace rawthread::rt {

// exit(): the calling thread's thread_local destructors, then atexit handlers
// and static destructors in reverse order of registration, then .fini_array,
// then exit_group(status). Called again by the thread running it: the rest
// of the sequence, then the new status; by another thread: never returns,
// the process ends with the first thread's status.
[[noreturn]] void exit_process(int status) noexcept;

// Writes `message` to standard error and aborts.
[[noreturn]] void die(const char* message) noexcept;

// Sets the stack protector's global canary (aarch64, riscv64; x86_64 keeps
// it in the TCB) from the kernel's random bytes.
void stack_guard_init(std::uint64_t random) noexcept;

// A thread's end (hooks::run_thread_exit, thread_end.cpp): its thread_local
// destructors (thread_atexit.cpp), then its heap given back (malloc/heap.cpp),
// each only in a program that links it.
void thread_end() noexcept;
void run_thread_destructors() noexcept;
void release_thread_heap() noexcept;

// fork()'s hook (hooks::at_fork, exit.cpp): every lock of the runtime taken
// before the clone and let go in both processes after it; the heap's part
// (malloc/heap.cpp, malloc/segment.cpp) through a weak reference, so that a
// program that never allocates does not link the heap.
[[gnu::weak]] void heap_at_fork(hooks::ForkPhase phase) noexcept;

}  // namespace rawthread::rt
