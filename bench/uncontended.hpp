// SPDX-License-Identifier: MIT
// bench/uncontended.hpp: one uncontended acquire + release, as Google
// Benchmark measures it, shared by the two processes that run it:
//
//   bench_single    never starts a thread, so glibc takes its single-threaded
//                   path (pthread_mutex_lock with no atomic instruction);
//   bench_threaded  starts and joins a pthread first, as any program with
//                   threads has, so every lock pays for its atomics.
//
// The locks are globals, so that no compiler could prove one private to the
// loop and drop its atomics.
#pragma once

#include <benchmark/benchmark.h>
#include <pthread.h>

#include <mutex>

#include <rawthread.h>
#include <rawthread/lock.hpp>

namespace bench {

inline rawthread::Lock uncontended_raw;
inline rawthread_lock uncontended_raw_c;
inline pthread_mutex_t uncontended_pthread = PTHREAD_MUTEX_INITIALIZER;
inline std::mutex uncontended_std;

inline void uncontended_rawthread_acquire_release(benchmark::State& state) {
  for (auto _ : state) {
    (void)uncontended_raw.acquire();
    (void)uncontended_raw.release();
  }
}

inline void uncontended_rawthread_lock_unlock(benchmark::State& state) {
  for (auto _ : state) {
    uncontended_raw.lock();
    uncontended_raw.unlock();
  }
}

// The same lock through the C API: a call into librawthread.a for each,
// which is what the inline path saves.
inline void uncontended_rawthread_c_api(benchmark::State& state) {
  for (auto _ : state) {
    (void)rawthread_lock_acquire(&uncontended_raw_c, true, -1, nullptr);
    (void)rawthread_lock_release(&uncontended_raw_c);
  }
}

inline void uncontended_pthread_mutex(benchmark::State& state) {
  for (auto _ : state) {
    pthread_mutex_lock(&uncontended_pthread);
    pthread_mutex_unlock(&uncontended_pthread);
  }
}

inline void uncontended_std_mutex(benchmark::State& state) {
  for (auto _ : state) {
    uncontended_std.lock();
    uncontended_std.unlock();
  }
}

// Names: uncontended/<what>; bench/compare.py reads them.
inline void register_uncontended() {
  benchmark::RegisterBenchmark("uncontended/rawthread_acquire_release",
                               uncontended_rawthread_acquire_release);
  benchmark::RegisterBenchmark("uncontended/rawthread_lock_unlock",
                               uncontended_rawthread_lock_unlock);
  benchmark::RegisterBenchmark("uncontended/rawthread_c_api", uncontended_rawthread_c_api);
  benchmark::RegisterBenchmark("uncontended/pthread_mutex", uncontended_pthread_mutex);
  benchmark::RegisterBenchmark("uncontended/std_mutex", uncontended_std_mutex);
}

}  // namespace bench
