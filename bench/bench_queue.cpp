// SPDX-License-Identifier: MIT
// bench/bench_queue.cpp: Queue<int, 64> against the textbook bounded queue
// on pthread_mutex_t + two pthread_cond_t, side by side in one process run.
//
//   queue_throughput/...  2 producers put kItems / 2 ints each, 2 consumers
//                         get kItems / 2 each, through a 64-slot queue;
//                         items/s from the first thread's start to the last
//                         one's end (manual time), as bench_threaded's
//                         contended benchmarks time theirs. The counter
//                         switches_per_item is the process's voluntary
//                         context switches (getrusage) per item.
//
// As bench_threaded's "contended/rawthread_threads+rawthread_lock",
// rawthread's queue runs in rawthread's threads and the pthread queue in
// pthreads; "pthreads+rawthread_queue" is rawthread's queue in pthreads.
// The threads are started for each iteration and wait for a go flag.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include <rawthread/rawthread.hpp>

#include "threads.hpp"

namespace {

constexpr int kProducers = 2, kConsumers = 2, kThreads = kProducers + kConsumers;
constexpr long kItems = 200000;
constexpr std::size_t kCapacity = 64;

struct RawQueue {
  rawthread::Queue<int, kCapacity> q;
  void put(int v) noexcept { (void)q.put(v); }
  int get() noexcept { return *q.get(); }
};

// The textbook one: one mutex, "not full" and "not empty" conditions,
// signalled under the mutex after each put and get.
struct PthreadQueue {
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
  pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
  int ring[kCapacity];
  std::size_t head = 0, tail = 0, count = 0;

  void put(int v) noexcept {
    pthread_mutex_lock(&lock);
    while (count == kCapacity) pthread_cond_wait(&not_full, &lock);
    ring[tail] = v;
    tail = (tail + 1) % kCapacity;
    ++count;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  int get() noexcept {
    pthread_mutex_lock(&lock);
    while (count == 0) pthread_cond_wait(&not_empty, &lock);
    const int v = ring[head];
    head = (head + 1) % kCapacity;
    --count;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
    return v;
  }
};

struct alignas(64) Stamp {
  std::int64_t ns = 0;
};

template <class Q>
struct Arena {
  Q queue;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<long> sum{0};
  Stamp start[kThreads], end[kThreads];
};

std::int64_t now_ns() noexcept { return *rawthread::sys::monotonic_ns(); }

template <class Q>
void run_thread(Arena<Q>* arena, int index) noexcept {
  arena->ready.fetch_add(1, std::memory_order_acq_rel);
  while (!arena->go.load(std::memory_order_acquire)) {
  }
  arena->start[index].ns = now_ns();
  const long n = kItems / (index < kProducers ? kProducers : kConsumers);
  if (index < kProducers) {
    for (long i = 0; i < n; ++i) arena->queue.put(static_cast<int>(i));
  } else {
    long sum = 0;
    for (long i = 0; i < n; ++i) sum += arena->queue.get();
    arena->sum.fetch_add(sum, std::memory_order_relaxed);
  }
  arena->end[index].ns = now_ns();
}

using RawthreadThreads = bench::RawthreadThreads<kThreads>;
using Pthreads = bench::Pthreads<kThreads>;

long voluntary_switches() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_nvcsw;
}

template <class Threads, class Q>
void queue_throughput(benchmark::State& state) {
  long switches = 0;
  for (auto _ : state) {
    auto arena = std::make_unique<Arena<Q>>();
    Threads threads;
    const int started = threads.template start<run_thread<Q>>(arena.get(), kThreads);
    while (arena->ready.load(std::memory_order_acquire) < started) sched_yield();
    const long before = voluntary_switches();
    arena->go.store(true, std::memory_order_release);
    threads.join(started);
    switches += voluntary_switches() - before;
    if (started != kThreads) {
      state.SkipWithError("could not start a thread");
      break;
    }
    const long per_producer = kItems / kProducers;
    if (arena->sum.load() != kProducers * (per_producer * (per_producer - 1) / 2)) {
      state.SkipWithError("the queue lost or repeated items");
      break;
    }
    std::int64_t first = arena->start[0].ns, last = arena->end[0].ns;
    for (int i = 1; i < kThreads; ++i) {
      first = std::min(first, arena->start[i].ns);
      last = std::max(last, arena->end[i].ns);
    }
    state.SetIterationTime(static_cast<double>(last - first) / 1e9);
  }
  state.SetItemsProcessed(state.iterations() * kItems);
  state.counters["switches_per_item"] =
      static_cast<double>(switches) / static_cast<double>(state.iterations() * kItems);
}

void register_all() {
  for (auto* b : {
           benchmark::RegisterBenchmark("queue_throughput/rawthread_threads+rawthread_queue",
                                        queue_throughput<RawthreadThreads, RawQueue>),
           benchmark::RegisterBenchmark("queue_throughput/pthreads+pthread_queue",
                                        queue_throughput<Pthreads, PthreadQueue>),
           // The queue without the threads: rawthread's Queue in pthreads.
           benchmark::RegisterBenchmark("queue_throughput/pthreads+rawthread_queue",
                                        queue_throughput<Pthreads, RawQueue>),
       })
    b->UseManualTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  // A process that has started a pthread, as bench_threaded: glibc's
  // multi-threaded paths from the first iteration on.
  pthread_t warm;
  if (pthread_create(&warm, nullptr, [](void*) -> void* { return nullptr; }, nullptr) == 0)
    pthread_join(warm, nullptr);
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
