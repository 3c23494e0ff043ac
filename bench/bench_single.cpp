// SPDX-License-Identifier: MIT
// bench/bench_single.cpp: the uncontended lock benchmarks in a process that
// never starts a thread. glibc knows it is single-threaded here and takes a
// path with no atomic instruction in pthread_mutex_lock/unlock (and so
// std::mutex); rawthread's Lock is the same code either way. Compare with
// bench_threaded, which runs the same benchmarks after a pthread has run.
#include <benchmark/benchmark.h>

#include <cstdio>

#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define BENCH_HAVE_SINGLE_THREADED 1
#endif

#include "uncontended.hpp"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  bench::register_uncontended();
  benchmark::AddCustomContext("process", "single: never starts a thread");
#if BENCH_HAVE_SINGLE_THREADED
  benchmark::AddCustomContext("libc_single_threaded", __libc_single_threaded ? "yes" : "no");
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
#if BENCH_HAVE_SINGLE_THREADED
  // The point of this process: glibc must have stayed single-threaded.
  if (!__libc_single_threaded) {
    std::fprintf(stderr, "bench_single: a thread was started; the numbers are not single-threaded\n");
    return 1;
  }
#endif
  return 0;
}
