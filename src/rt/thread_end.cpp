// SPDX-License-Identifier: MIT
// What a thread's end runs in a libc-free program (hooks::run_thread_exit,
// set by the first thread_local destructor registration or the first heap a
// thread takes): its thread_local destructors, which may free, then its
// heap given back. One hook for both keeps the core's thread end the same
// size whatever the program uses; weak references keep a program that
// never registers a destructor, or never allocates, from linking that part.
#include "rt.hpp"

namespace rawthread::rt {

[[gnu::weak]] void run_thread_destructors() noexcept;
[[gnu::weak]] void release_thread_heap() noexcept;

void thread_end() noexcept {
  if (&run_thread_destructors != nullptr) run_thread_destructors();
  if (&release_thread_heap != nullptr) release_thread_heap();
}

}  // namespace rawthread::rt
