// SPDX-License-Identifier: MIT
// The Itanium C++ ABI hooks a program built with -fno-exceptions -fno-rtti
// still calls: guarded initialisation of function-local statics, and the
// stubs its vtables point at.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "kernel.hpp"
#include "rt.hpp"

namespace {

// A guard is 64 bits (Itanium ABI 3.3.2). The compiler tests its first byte
// inline, without a call, and takes nonzero as "initialised": that byte is
// set with release order once the object is complete. The word at offset 4
// is the futex of the threads that race to initialise it:
//   0 free, 1 an initialiser runs, 2 it runs and others sleep.
struct Guard {
  std::atomic<std::uint8_t> done;
  std::uint8_t unused[3];
  std::atomic<std::uint32_t> state;
};
static_assert(sizeof(Guard) == 8 && alignof(Guard) <= 8);

Guard* guard_of(std::uint64_t* object) { return reinterpret_cast<Guard*>(object); }

// Frees the state word and wakes every sleeper: one of them initialises
// again after an abort, the others see `done` after a release.
void open_gate(Guard* guard) noexcept {
  if (guard->state.exchange(0, std::memory_order_release) == 2)
    rawthread::kernel::futex_wake(&guard->state, 0x7fffffff);
}

}  // namespace

extern "C" {

// 1: the caller initialises, then calls release (or abort). 0: done already.
int __cxa_guard_acquire(std::uint64_t* object) noexcept {
  Guard* guard = guard_of(object);
  for (;;) {
    if (guard->done.load(std::memory_order_acquire) != 0) return 0;
    std::uint32_t state = 0;
    if (guard->state.compare_exchange_strong(state, 1, std::memory_order_acquire)) {
      // Won the gate, but the winner before may have finished in between.
      if (guard->done.load(std::memory_order_acquire) == 0) return 1;
      open_gate(guard);
      return 0;
    }
    // Announce the sleeper before sleeping, so the release wakes it.
    if (state == 1 && !guard->state.compare_exchange_strong(state, 2, std::memory_order_relaxed))
      continue;
    rawthread::kernel::futex_wait(&guard->state, 2, nullptr);
  }
}

void __cxa_guard_release(std::uint64_t* object) noexcept {
  Guard* guard = guard_of(object);
  guard->done.store(1, std::memory_order_release);
  open_gate(guard);
}

void __cxa_guard_abort(std::uint64_t* object) noexcept { open_gate(guard_of(object)); }

[[noreturn]] void __cxa_pure_virtual() noexcept { rawthread::rt::die("pure virtual method called\n"); }

[[noreturn]] void __cxa_deleted_virtual() noexcept {
  rawthread::rt::die("deleted virtual method called\n");
}

}  // extern "C"
