// SPDX-License-Identifier: MIT
// bench/pair_instr.cpp: N uncontended acquire + release pairs of each lock,
// one function per lock, for counting instructions under callgrind
// (bench/callgrind_pairs runs it and does the arithmetic):
//
//   pair_instr N [--single]
//
// Each pairs_* function runs N pairs. callgrind's inclusive count of a
// function at N and at 2N differ by exactly N pairs (plus N turns of the
// loop), whatever the call, the set-up and the lazy binding cost once;
// pairs_empty is the loop alone, so its share can be taken off too.
//
// By default the process starts and joins a pthread first, as bench_threaded
// does, so glibc pays for its atomics; --single leaves it single-threaded.
// Natively it prints nanoseconds per pair, for what that is worth.
#include <pthread.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <rawthread.h>
#include <rawthread/lock.hpp>

namespace {
rawthread::Lock raw_lock;
rawthread_lock raw_c_lock;
pthread_mutex_t pthread_lock = PTHREAD_MUTEX_INITIALIZER;
std::mutex std_lock;
}  // namespace

// extern "C": plain names for callgrind_annotate to report; noinline and
// (GCC's) noipa: one body each, called, never merged with another or
// specialised.
#if __has_cpp_attribute(gnu::noipa)
#define PAIRS [[gnu::noinline, gnu::noipa]]
#else
#define PAIRS [[gnu::noinline]]
#endif

extern "C" {

PAIRS void pairs_empty(long n) {
  for (long i = 0; i < n; ++i) asm volatile("" ::: "memory");
}

PAIRS void pairs_rawthread_acquire_release(long n) {
  for (long i = 0; i < n; ++i) {
    (void)raw_lock.acquire();
    (void)raw_lock.release();
  }
}

PAIRS void pairs_rawthread_lock_unlock(long n) {
  for (long i = 0; i < n; ++i) {
    raw_lock.lock();
    raw_lock.unlock();
  }
}

// The same lock through the C API: a call into librawthread.a each, what
// the inline path saves.
PAIRS void pairs_rawthread_c_api(long n) {
  for (long i = 0; i < n; ++i) {
    (void)rawthread_lock_acquire(&raw_c_lock, true, -1, nullptr);
    (void)rawthread_lock_release(&raw_c_lock);
  }
}

PAIRS void pairs_pthread_mutex(long n) {
  for (long i = 0; i < n; ++i) {
    pthread_mutex_lock(&pthread_lock);
    pthread_mutex_unlock(&pthread_lock);
  }
}

PAIRS void pairs_std_mutex(long n) {
  for (long i = 0; i < n; ++i) {
    std_lock.lock();
    std_lock.unlock();
  }
}

}  // extern "C"

namespace {

void* nothing(void*) { return nullptr; }

double now_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

void run(const char* name, void (*pairs)(long), long n) {
  const double begin = now_ns();
  pairs(n);
  std::printf("%-32s %.2f ns/pair\n", name, (now_ns() - begin) / static_cast<double>(n));
}

}  // namespace

int main(int argc, char** argv) {
  long n = 1000000;
  bool single = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--single") == 0)
      single = true;
    else
      n = std::strtol(argv[i], nullptr, 10);
  }
  if (n <= 0) {
    std::fprintf(stderr, "usage: pair_instr [N] [--single]\n");
    return 2;
  }
  if (!single) {
    pthread_t thread;
    if (pthread_create(&thread, nullptr, nothing, nullptr) != 0) return 1;
    pthread_join(thread, nullptr);
  }
  std::printf("%s process, %ld pairs each\n", single ? "single-threaded" : "threaded", n);
  run("pairs_empty", pairs_empty, n);
  run("pairs_rawthread_acquire_release", pairs_rawthread_acquire_release, n);
  run("pairs_rawthread_lock_unlock", pairs_rawthread_lock_unlock, n);
  run("pairs_rawthread_c_api", pairs_rawthread_c_api, n);
  run("pairs_pthread_mutex", pairs_pthread_mutex, n);
  run("pairs_std_mutex", pairs_std_mutex, n);
  // Every lock must be free again: a pair that did not pair up is a bug.
  if (raw_lock.locked() || pthread_mutex_trylock(&pthread_lock) != 0) return 1;
  pthread_mutex_unlock(&pthread_lock);
  return 0;
}
