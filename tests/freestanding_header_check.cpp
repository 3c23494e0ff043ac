// SPDX-License-Identifier: MIT
// Compile-only check: the public header compiles as a freestanding,
// exception-free, RTTI-free translation unit, and start_new_thread
// instantiates there with a lambda and arguments. Built into a static library
// that nothing links; building it is the test.
#include <rawthread/rawthread.hpp>

namespace {
rawthread::Lock check_lock;
rawthread::RLock check_rlock;
}

int rawthread_freestanding_header_check(int value) noexcept {
  auto started = rawthread::start_new_thread(
      [](int v, rawthread::Lock* lock) {
        if (lock->acquire(true, 0.5).value_or(false)) (void)lock->release();
        (void)v;
      },
      value, &check_lock);
  if (!started) return static_cast<int>(started.error().kind);
  check_lock.lock();
  bool again = check_lock.try_lock();
  check_lock.unlock();
  bool nested = check_rlock.try_lock_for(std::chrono::milliseconds(5)) &&
                check_rlock.acquire().value_or(false);
  if (nested) (void)check_rlock.release();
  check_rlock.unlock();
  (void)rawthread::interrupt_main();
  return static_cast<int>(*started != rawthread::get_ident()) + static_cast<int>(again) +
         static_cast<int>(nested) +
         static_cast<int>(rawthread::stack_size() + rawthread::thread_count());
}
