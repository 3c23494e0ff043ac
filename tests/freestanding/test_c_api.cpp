// SPDX-License-Identifier: MIT
// The C API without libc: an Error made in one object of the library (lock.cpp,
// rlock.cpp, stack_size.cpp, interrupt.cpp, join.cpp) becomes, in c_api.cpp,
// the code of its message, and rawthread_strerror() gives that very message
// (the same address).
#include <rawthread.h>

#include <rawthread/rawthread.hpp>

#include "check.hpp"

namespace {

// The C++ API's error and the C API's code for the same call agree: the
// same kind, and the very same message object (one per error in the
// program, errors.hpp), which the C API found the code by.
bool agree(const rawthread::Error& error, int code) {
  return rawthread_strerror(code) == error.message &&
         static_cast<int>(rawthread_error_kind(code)) == static_cast<int>(error.kind);
}

}  // namespace

TEST(c_api_codes_of_errors_made_across_the_library) {
  rawthread_lock lock = RAWTHREAD_LOCK_INIT;
  bool acquired = true;
  CHECK_EQ(rawthread_lock_release(&lock), RAWTHREAD_E_RELEASE_UNLOCKED);
  CHECK_EQ(rawthread_lock_acquire(&lock, false, 1.0, &acquired), RAWTHREAD_E_NONBLOCKING_TIMEOUT);
  CHECK_EQ(rawthread_lock_acquire(&lock, true, -5.0, &acquired), RAWTHREAD_E_NEGATIVE_TIMEOUT);
  CHECK_EQ(rawthread_lock_acquire(&lock, true, 1e300, &acquired), RAWTHREAD_E_TIMEOUT_TOO_LARGE);
  CHECK(acquired && !rawthread_lock_locked(&lock));

  rawthread_rlock rlock = RAWTHREAD_RLOCK_INIT;
  CHECK_EQ(rawthread_rlock_release(&rlock), RAWTHREAD_E_RELEASE_UNOWNED);

  size_t old = 1;
  CHECK_EQ(rawthread_set_stack_size(-1, &old), RAWTHREAD_E_NEGATIVE_STACK_SIZE);
  CHECK_EQ(rawthread_set_stack_size(100, &old), RAWTHREAD_E_STACK_SIZE_TOO_SMALL);
  CHECK_EQ(old, 1);
  CHECK_EQ(rawthread_interrupt_main(0), RAWTHREAD_E_SIGNAL_OUT_OF_RANGE);

  rawthread_thread empty = RAWTHREAD_THREAD_INIT;
  bool joined = true;
  CHECK_EQ(rawthread_join(&empty, -1, &joined), RAWTHREAD_E_JOIN_EMPTY);
  CHECK_EQ(rawthread_start_new_thread(nullptr, nullptr, nullptr), RAWTHREAD_E_NULL_ARGUMENT);
}

TEST(c_api_messages_are_the_cpp_apis) {
  rawthread::Lock lock;
  rawthread::Result<void> released = lock.release();
  CHECK(!released && agree(released.error(), RAWTHREAD_E_RELEASE_UNLOCKED));
  rawthread::Result<bool> nonblocking = lock.acquire(false, 1.0);
  CHECK(!nonblocking && agree(nonblocking.error(), RAWTHREAD_E_NONBLOCKING_TIMEOUT));
  rawthread::RLock rlock;
  rawthread::Result<void> unowned = rlock.release();
  CHECK(!unowned && agree(unowned.error(), RAWTHREAD_E_RELEASE_UNOWNED));
  rawthread::Result<std::size_t> small = rawthread::stack_size(100L);
  CHECK(!small && agree(small.error(), RAWTHREAD_E_STACK_SIZE_TOO_SMALL));
  rawthread::Result<void> signal = rawthread::interrupt_main(0);
  CHECK(!signal && agree(signal.error(), RAWTHREAD_E_SIGNAL_OUT_OF_RANGE));
}
