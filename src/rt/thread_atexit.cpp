// SPDX-License-Identifier: MIT
// __cxa_thread_atexit: destructors of thread_local objects.
//
// The compiler registers one the first time a thread touches a thread_local
// object with a destructor. The list is itself thread_local, so it costs no
// lock and lives in each thread's TLS block, on its own stack mapping. Only a
// program that registers one links this file, and only then does every
// thread's TLS grow by the list.
#include <atomic>

#include "hooks.hpp"
#include "rt.hpp"

namespace {

struct Destructor {
  void (*run)(void*);
  void* object;
};

// No heap: a fixed list per thread. A registration beyond it fails and that
// object is not destroyed when the thread ends.
constexpr unsigned kMaxDestructors = 32;
thread_local Destructor destructors[kMaxDestructors];
thread_local unsigned destructor_count = 0;

}  // namespace

// Last constructed, first destroyed; a destructor may construct (and
// register) another thread_local object, which then goes next.
void rawthread::rt::run_thread_destructors() noexcept {
  while (destructor_count > 0) {
    Destructor next = destructors[--destructor_count];
    next.run(next.object);
  }
}

extern "C" int __cxa_thread_atexit(void (*run)(void*), void* object, void* /*dso*/) noexcept {
  if (destructor_count == kMaxDestructors) return -1;
  destructors[destructor_count++] = {run, object};
  rawthread::hooks::run_thread_exit.store(rawthread::rt::thread_end, std::memory_order_release);
  return 0;
}
