// SPDX-License-Identifier: MIT
// pthread_mutex_lock and pthread_mutex_unlock, under their libc names, for
// one caller: libstdc++'s __gnu_cxx::__mutex, which std::shared_ptr's
// control block is on targets whose libstdc++ has no atomic lock policy
// (Debian's riscv64 GCC 12: _S_mutex), around weak_ptr::lock's
// check-and-increment. Nothing else of pthread is here: these mutexes are
// only ever statically initialised (PTHREAD_MUTEX_INITIALIZER, all zeros)
// and of the default kind.
//
// glibc's pthread_mutex_t begins with its int lock word, and a free
// rawthread::Lock is one zero 32-bit word: the lock lives in those first
// four bytes, and the rest of the object is never touched.
#include <pthread.h>  // the type only, as libstdc++'s headers declare the functions

#include <rawthread/lock.hpp>

namespace {

static_assert(sizeof(rawthread::Lock) == 4 && sizeof(pthread_mutex_t) >= 4 &&
              alignof(pthread_mutex_t) >= alignof(rawthread::Lock));

rawthread::Lock& lock_of(pthread_mutex_t* mutex) noexcept {
  return *reinterpret_cast<rawthread::Lock*>(mutex);
}

}  // namespace

extern "C" {

int pthread_mutex_lock(pthread_mutex_t* mutex) noexcept {
  lock_of(mutex).lock();
  return 0;
}

int pthread_mutex_unlock(pthread_mutex_t* mutex) noexcept {
  lock_of(mutex).unlock();
  return 0;
}

}  // extern "C"
