// SPDX-License-Identifier: MIT
// What fork() does around its clone in a libc-free program (hooks::at_fork,
// installed by the start-up): the runtime's locks, each part's own.
//
// Taken in one order, exit's then the heap's; nothing holds the heap's lock
// while taking exit's, nor the other way round, so the order cannot deadlock.
// A fork from a signal handler that interrupted malloc in the same thread
// would wait for ever on the heap's lock, as glibc's fork may on its malloc
// locks: fork() is not async-signal-safe here.
#include "rt.hpp"

namespace rawthread::rt {

[[gnu::weak]] void heap_at_fork(hooks::ForkPhase phase) noexcept;

void at_fork(hooks::ForkPhase phase) noexcept {
  if (phase == hooks::ForkPhase::prepare) {
    exit_at_fork(phase);
    if (&heap_at_fork != nullptr) heap_at_fork(phase);
  } else {
    if (&heap_at_fork != nullptr) heap_at_fork(phase);
    exit_at_fork(phase);
  }
}

}  // namespace rawthread::rt
