// SPDX-License-Identifier: MIT
// bench/bench_condition.cpp: Condition against pthread_cond_t, side by side
// in one process run.
//
//   notify_all_4/...  4 waiters on one condition; each round the main thread
//                     bumps a generation and notify_all's under the lock,
//                     every waiter wakes, takes the lock once and counts
//                     itself, the last one notifies the main thread through
//                     a second condition on the same lock. Time per round
//                     (the main thread's; real time).
//
// rawthread's threads run only rawthread and std::atomic; the pthread side
// is the same program with pthread_mutex_t and pthread_cond_t.
#include <benchmark/benchmark.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include <rawthread/rawthread.hpp>

namespace {

constexpr int kWaiters = 4;

// The shared state of one run, under its lock.
template <class Sync>
struct Round {
  Sync sync;
  std::uint64_t generation = 0;
  int arrived = 0;
  bool stop = false;
};

struct RawSync {
  rawthread::Lock lock;
  rawthread::Condition work{lock};
  rawthread::Condition done{lock};
  void take() noexcept { lock.lock(); }
  void give() noexcept { lock.unlock(); }
  void wait_work() noexcept { (void)work.wait(); }
  void wait_done() noexcept { (void)done.wait(); }
  void wake_all() noexcept { (void)work.notify_all(); }
  void wake_main() noexcept { (void)done.notify(); }
};

struct PthreadSync {
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t work = PTHREAD_COND_INITIALIZER;
  pthread_cond_t done = PTHREAD_COND_INITIALIZER;
  void take() noexcept { pthread_mutex_lock(&lock); }
  void give() noexcept { pthread_mutex_unlock(&lock); }
  void wait_work() noexcept { pthread_cond_wait(&work, &lock); }
  void wait_done() noexcept { pthread_cond_wait(&done, &lock); }
  void wake_all() noexcept { pthread_cond_broadcast(&work); }
  void wake_main() noexcept { pthread_cond_signal(&done); }
};

template <class Sync>
void waiter(Round<Sync>* round) noexcept {
  round->sync.take();
  std::uint64_t seen = 0;
  for (;;) {
    while (round->generation == seen && !round->stop) round->sync.wait_work();
    if (round->stop) break;
    seen = round->generation;
    if (++round->arrived == kWaiters) round->sync.wake_main();
  }
  round->sync.give();
}

template <class Sync>
void* pthread_waiter(void* arg) {
  waiter(static_cast<Round<Sync>*>(arg));
  return nullptr;
}

// One notify_all and the four hand-offs it starts, per iteration.
template <class Sync>
void run_rounds(benchmark::State& state, Round<Sync>& round) {
  // Every waiter in its first wait: it holds the lock until the wait.
  for (auto _ : state) {
    round.sync.take();
    round.arrived = 0;
    ++round.generation;
    round.sync.wake_all();
    while (round.arrived != kWaiters) round.sync.wait_done();
    round.sync.give();
  }
  round.sync.take();
  round.stop = true;
  round.sync.wake_all();
  round.sync.give();
}

void notify_all_4_rawthread(benchmark::State& state) {
  static Round<RawSync> round;
  round.generation = 0;
  round.stop = false;
  rawthread::Result<rawthread::Thread> threads[kWaiters] = {
      rawthread::Thread{}, rawthread::Thread{}, rawthread::Thread{}, rawthread::Thread{}};
  for (auto& thread : threads) {
    thread = rawthread::start_joinable_thread([]() noexcept { waiter(&round); });
    if (!thread) {
      state.SkipWithError("start_joinable_thread failed");
      return;
    }
  }
  run_rounds(state, round);
  for (auto& thread : threads) (void)thread->join();
  state.SetItemsProcessed(state.iterations());
}

void notify_all_4_pthread(benchmark::State& state) {
  static Round<PthreadSync> round;
  round.generation = 0;
  round.stop = false;
  pthread_t threads[kWaiters];
  for (auto& thread : threads) {
    if (pthread_create(&thread, nullptr, pthread_waiter<PthreadSync>, &round) != 0) {
      state.SkipWithError("pthread_create failed");
      return;
    }
  }
  run_rounds(state, round);
  for (auto& thread : threads) pthread_join(thread, nullptr);
  state.SetItemsProcessed(state.iterations());
}

// Both sides' waiters started once; then blocks of rounds in turns,
// rawthread's and pthread's, each block timed on its own: on a busy machine
// both sides meet the same load. Counters: the median round of each side
// (rawthread_us, pthread_us) and their ratio.
template <class Sync>
double time_rounds(Round<Sync>& round, int rounds) {
  const std::int64_t start = *rawthread::sys::monotonic_ns();
  for (int i = 0; i < rounds; ++i) {
    round.sync.take();
    round.arrived = 0;
    ++round.generation;
    round.sync.wake_all();
    while (round.arrived != kWaiters) round.sync.wait_done();
    round.sync.give();
  }
  return static_cast<double>(*rawthread::sys::monotonic_ns() - start) / 1e3 / rounds;
}

template <class Sync>
void stop_all(Round<Sync>& round) {
  round.sync.take();
  round.stop = true;
  round.sync.wake_all();
  round.sync.give();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

void notify_all_4_interleaved(benchmark::State& state) {
  static Round<RawSync> raw;
  static Round<PthreadSync> pth;
  raw.generation = pth.generation = 0;
  raw.stop = pth.stop = false;
  rawthread::Result<rawthread::Thread> threads[kWaiters] = {
      rawthread::Thread{}, rawthread::Thread{}, rawthread::Thread{}, rawthread::Thread{}};
  pthread_t pthreads[kWaiters];
  for (int i = 0; i < kWaiters; ++i) {
    threads[i] = rawthread::start_joinable_thread([]() noexcept { waiter(&raw); });
    if (!threads[i] || pthread_create(&pthreads[i], nullptr, pthread_waiter<PthreadSync>, &pth)) {
      state.SkipWithError("could not start a thread");
      return;
    }
  }
  std::vector<double> raw_us, pth_us;
  for (auto _ : state) {
    raw_us.push_back(time_rounds(raw, 200));
    pth_us.push_back(time_rounds(pth, 200));
  }
  stop_all(raw);
  stop_all(pth);
  for (auto& thread : threads) (void)thread->join();
  for (auto& thread : pthreads) pthread_join(thread, nullptr);
  state.counters["rawthread_us"] = median(raw_us);
  state.counters["pthread_us"] = median(pth_us);
  state.counters["ratio"] = median(raw_us) / median(pth_us);
}

BENCHMARK(notify_all_4_interleaved)->Name("notify_all_4/interleaved")->Iterations(30);
BENCHMARK(notify_all_4_rawthread)->Name("notify_all_4/rawthread")->UseRealTime();
BENCHMARK(notify_all_4_pthread)->Name("notify_all_4/pthread")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
