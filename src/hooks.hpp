// SPDX-License-Identifier: MIT
// The hooks: what the libc-free runtime (src/rt/, librawthread_rt.a) hands
// the core. (rawthread::rt is the runtime itself; rawthread::hooks is only
// this hand-over, defined in hooks.cpp.)
//
// A hosted program leaves all of it empty: libc owns the main thread's TLS,
// and the core neither sees the auxiliary vector nor gives its threads TLS.
// A freestanding program's start-up fills it in before main and before any
// thread starts; nothing changes it afterwards, so plain loads suffice.
#pragma once

#include <linux/auxvec.h>

#include <atomic>
#include <cstddef>

namespace rawthread::hooks {

// The program's TLS image: the PT_TLS segment. `data` holds `filesz` bytes
// of .tdata; .tbss makes up the rest of `memsz`, zeroed.
struct TlsImage {
  const unsigned char* data;
  std::size_t filesz;
  std::size_t memsz;
  std::size_t align;  // a power of two, at least 1
};
[[gnu::visibility("hidden")]] extern TlsImage tls_image;

// The auxiliary vector from the initial stack, (type, value) pairs ending in
// AT_NULL; null in a hosted program (page_size() reads /proc/self/auxv).
[[gnu::visibility("hidden")]] extern const unsigned long* auxv;

// Whether the program runs on librawthread_rt, with no libc under it: the
// runtime's start-up records the auxiliary vector before anything else runs
// (static constructors included), and nothing else ever sets it. Then no
// signal is a libc's own (sys.cpp).
inline bool libc_free() noexcept { return auxv != nullptr; }

// The value of `type` in an auxiliary vector, or 0 when it has none.
inline unsigned long aux_value(const unsigned long* vector, unsigned long type) noexcept {
  for (; vector[0] != AT_NULL; vector += 2)
    if (vector[0] == type) return vector[1];
  return 0;
}

// Runs the calling thread's thread_local destructors (__cxa_thread_atexit).
// Set by the runtime the first time one is registered; called by a thread
// rawthread started as it ends, before its stack and TLS go away.
using ThreadExitHook = void (*)() noexcept;
[[gnu::visibility("hidden")]] extern std::atomic<ThreadExitHook> run_thread_exit;

// Gives the calling thread's heap back (src/rt/malloc/heap.cpp): set by the
// runtime's allocator the first time a thread takes a heap; called by a
// thread rawthread started as it ends, after its thread_local destructors
// (which may free) and before its stack and TLS go away.
[[gnu::visibility("hidden")]] extern std::atomic<ThreadExitHook> release_heap;

}  // namespace rawthread::hooks
