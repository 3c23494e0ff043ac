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

// Runs the calling thread's thread_local destructors (__cxa_thread_atexit)
// and gives its heap back (src/rt/thread_end.cpp). Set by the runtime the
// first time a destructor is registered or a thread takes a heap; called by
// a thread rawthread started as it ends, before its stack and TLS go away.
using ThreadExitHook = void (*)() noexcept;
[[gnu::visibility("hidden")]] extern std::atomic<ThreadExitHook> run_thread_exit;

// sys::fork() around its clone: `prepare` in the parent just before, then
// `parent` or `child` in each process just after. The runtime's locks (its
// heap's, its exit's) may be held by another thread at that moment, a
// thread the child does not have: prepare takes them all, so that the
// child's copy of what they guard is consistent, and both sides let them go
// (the child reinitialises them: their waiters were the parent's). Set by
// the runtime (src/rt/exit.cpp), and reached through a weak reference
// (process.cpp): absent from a hosted program, whose libc's state only libc's
// own fork() can handle, and, by --gc-sections, from a libc-free program that
// never forks.
enum class ForkPhase { prepare, parent, child };
void at_fork(ForkPhase phase) noexcept;


}  // namespace rawthread::hooks
