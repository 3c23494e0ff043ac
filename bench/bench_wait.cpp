// SPDX-License-Identifier: MIT
// bench/bench_wait.cpp: the waits of the threading layer against pthread's,
// side by side in one process run.
//
//   cond_pingpong/... two threads hand a turn back and forth through one
//                     Condition over a Lock (wait while it is not my turn;
//                     flip it; notify), against pthread_cond_t +
//                     pthread_mutex_t. Time per round trip.
//   sem_pingpong/...  the same through two Semaphores (one releases s1 and
//                     acquires s2, the other the mirror), against two sem_t.
//                     Time per round trip.
//   notify_all_4/...  4 waiters on one condition; each round the main thread
//                     bumps a generation and notify_all's under the lock,
//                     every waiter wakes, takes the lock once and counts
//                     itself, the last one notifies the main thread through
//                     a second condition on the same lock. Time per round
//                     (the main thread's; real time).
//
// The .../interleaved benchmarks start both sides' threads once, then time
// blocks of rounds, rawthread's and pthread's in turns, so that a change of
// the machine's load meets both sides alike; counters: the median block of
// each side (rawthread_us, pthread_us, per round) and their ratio. The main
// thread is one of the two players of a ping-pong (a thread rawthread did
// not start, as any program's main thread).
//
// rawthread's threads run only rawthread and std::atomic; the pthread side
// is the same program with pthread_mutex_t, pthread_cond_t and sem_t.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <semaphore.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include <rawthread/rawthread.hpp>

namespace {

std::int64_t now_ns() noexcept { return *rawthread::sys::monotonic_ns(); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// Blocks of `rounds` rounds of each side in turns, each side first in turn
// (so neither always runs right after the other); a block returns its time
// per round in microseconds. Counters: each side's median block and their
// ratio.
template <class Raw, class Pth>
void in_turns(benchmark::State& state, int rounds, Raw raw_block, Pth pth_block) {
  std::vector<double> raw_us, pth_us;
  bool raw_first = true;
  for (auto _ : state) {
    if (raw_first) {
      raw_us.push_back(raw_block(rounds));
      pth_us.push_back(pth_block(rounds));
    } else {
      pth_us.push_back(pth_block(rounds));
      raw_us.push_back(raw_block(rounds));
    }
    raw_first = !raw_first;
  }
  state.counters["rawthread_us"] = median(raw_us);
  state.counters["pthread_us"] = median(pth_us);
  state.counters["ratio"] = median(raw_us) / median(pth_us);
}

// ---- cond_pingpong -------------------------------------------------------------

// The turn: 0 the main thread's, 1 the partner's; under the lock.
template <class Sync>
struct Table {
  Sync sync;
  int turn = 0;
  bool stop = false;
};

struct RawCond {
  rawthread::Lock lock;
  rawthread::Condition changed{lock};
  void take() noexcept { lock.lock(); }
  void give() noexcept { lock.unlock(); }
  void wait() noexcept { (void)changed.wait(); }
  void notify() noexcept { (void)changed.notify(); }
};

struct PthreadCond {
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
  void take() noexcept { pthread_mutex_lock(&lock); }
  void give() noexcept { pthread_mutex_unlock(&lock); }
  void wait() noexcept { pthread_cond_wait(&changed, &lock); }
  void notify() noexcept { pthread_cond_signal(&changed); }
};

template <class Sync>
void cond_partner(Table<Sync>* table) noexcept {
  table->sync.take();
  for (;;) {
    while (table->turn != 1 && !table->stop) table->sync.wait();
    if (table->stop) break;
    table->turn = 0;
    table->sync.notify();
  }
  table->sync.give();
}

template <class Sync>
void* pthread_cond_partner(void* arg) {
  cond_partner(static_cast<Table<Sync>*>(arg));
  return nullptr;
}

// The main thread's side: `rounds` round trips, time per round trip in us.
template <class Sync>
double cond_round_trips(Table<Sync>& table, int rounds) {
  const std::int64_t start = now_ns();
  table.sync.take();
  for (int i = 0; i < rounds; ++i) {
    table.turn = 1;
    table.sync.notify();
    while (table.turn != 0) table.sync.wait();
  }
  table.sync.give();
  return static_cast<double>(now_ns() - start) / 1e3 / rounds;
}

template <class Sync>
void cond_stop(Table<Sync>& table) {
  table.sync.take();
  table.stop = true;
  table.sync.notify();
  table.sync.give();
}

void cond_pingpong_interleaved(benchmark::State& state) {
  static Table<RawCond> raw;
  static Table<PthreadCond> pth;
  raw.turn = pth.turn = 0;
  raw.stop = pth.stop = false;
  rawthread::Result<rawthread::Thread> thread =
      rawthread::start_joinable_thread([]() noexcept { cond_partner(&raw); });
  pthread_t pthread;
  if (!thread || pthread_create(&pthread, nullptr, pthread_cond_partner<PthreadCond>, &pth) != 0) {
    state.SkipWithError("could not start a thread");
    return;
  }
  in_turns(state, 1000, [](int rounds) { return cond_round_trips(raw, rounds); },
           [](int rounds) { return cond_round_trips(pth, rounds); });
  cond_stop(raw);
  cond_stop(pth);
  (void)thread->join();
  pthread_join(pthread, nullptr);
}

// ---- sem_pingpong --------------------------------------------------------------

// ping: the main thread to the partner; pong: back.
struct RawSems {
  rawthread::Semaphore ping{0}, pong{0};
  void post_ping() noexcept { (void)ping.release(); }
  void wait_ping() noexcept { (void)ping.acquire(); }
  void post_pong() noexcept { (void)pong.release(); }
  void wait_pong() noexcept { (void)pong.acquire(); }
};

struct PthreadSems {
  sem_t ping, pong;
  PthreadSems() noexcept {
    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
  }
  void post_ping() noexcept { sem_post(&ping); }
  void wait_ping() noexcept { sem_wait(&ping); }
  void post_pong() noexcept { sem_post(&pong); }
  void wait_pong() noexcept { sem_wait(&pong); }
};

template <class Sems>
struct Court {
  Sems sems;
  std::atomic<bool> stop{false};
};

template <class Sems>
void sem_partner(Court<Sems>* court) noexcept {
  for (;;) {
    court->sems.wait_ping();
    if (court->stop.load(std::memory_order_relaxed)) break;
    court->sems.post_pong();
  }
}

template <class Sems>
void* pthread_sem_partner(void* arg) {
  sem_partner(static_cast<Court<Sems>*>(arg));
  return nullptr;
}

template <class Sems>
double sem_round_trips(Court<Sems>& court, int rounds) {
  const std::int64_t start = now_ns();
  for (int i = 0; i < rounds; ++i) {
    court.sems.post_ping();
    court.sems.wait_pong();
  }
  return static_cast<double>(now_ns() - start) / 1e3 / rounds;
}

template <class Sems>
void sem_stop(Court<Sems>& court) {
  court.stop.store(true, std::memory_order_relaxed);
  court.sems.post_ping();
}

void sem_pingpong_interleaved(benchmark::State& state) {
  static Court<RawSems> raw;
  static Court<PthreadSems> pth;
  raw.stop = pth.stop = false;
  rawthread::Result<rawthread::Thread> thread =
      rawthread::start_joinable_thread([]() noexcept { sem_partner(&raw); });
  pthread_t pthread;
  if (!thread || pthread_create(&pthread, nullptr, pthread_sem_partner<PthreadSems>, &pth) != 0) {
    state.SkipWithError("could not start a thread");
    return;
  }
  in_turns(state, 1000, [](int rounds) { return sem_round_trips(raw, rounds); },
           [](int rounds) { return sem_round_trips(pth, rounds); });
  sem_stop(raw);
  sem_stop(pth);
  (void)thread->join();
  pthread_join(pthread, nullptr);
}

// ---- notify_all_4 --------------------------------------------------------------

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

// The main thread's side: `rounds` rounds, time per round in us.
template <class Sync>
double time_rounds(Round<Sync>& round, int rounds) {
  const std::int64_t start = now_ns();
  for (int i = 0; i < rounds; ++i) {
    round.sync.take();
    round.arrived = 0;
    ++round.generation;
    round.sync.wake_all();
    while (round.arrived != kWaiters) round.sync.wait_done();
    round.sync.give();
  }
  return static_cast<double>(now_ns() - start) / 1e3 / rounds;
}

template <class Sync>
void stop_all(Round<Sync>& round) {
  round.sync.take();
  round.stop = true;
  round.sync.wake_all();
  round.sync.give();
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
  in_turns(state, 200, [](int rounds) { return time_rounds(raw, rounds); },
           [](int rounds) { return time_rounds(pth, rounds); });
  stop_all(raw);
  stop_all(pth);
  for (auto& thread : threads) (void)thread->join();
  for (auto& thread : pthreads) pthread_join(thread, nullptr);
}

BENCHMARK(cond_pingpong_interleaved)->Name("cond_pingpong/interleaved")->Iterations(30);
BENCHMARK(sem_pingpong_interleaved)->Name("sem_pingpong/interleaved")->Iterations(30);
BENCHMARK(notify_all_4_interleaved)->Name("notify_all_4/interleaved")->Iterations(30);
BENCHMARK(notify_all_4_rawthread)->Name("notify_all_4/rawthread")->UseRealTime();
BENCHMARK(notify_all_4_pthread)->Name("notify_all_4/pthread")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
