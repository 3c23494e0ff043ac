// SPDX-License-Identifier: MIT
// bench/bench_threaded.cpp: rawthread side by side with pthread (and the
// std:: wrappers over it), every pair in the same process run, so that their
// ratio means something on a noisy machine. The process starts and joins a
// pthread before anything else, as any program with threads has: glibc then
// pays for its atomics (bench_single measures the process that never did).
//
//   uncontended/...   one acquire + release of a free lock (uncontended.hpp)
//   contended/...     2 and 4 threads doing lock, ++counter, unlock on one
//                     lock; items_per_second is increments per second, timed
//                     from the first thread's start to the last one's end
//   start_join/...    start a thread that does nothing and wait until it is
//                     gone; kernel_floor: a bare clone, exit and futex wait;
//                     rawthread_joinable+pthread: the two in turns
//                     (counters rawthread_us, pthread_us)
//   timed/...         a 10 ms timed acquire of a held lock: how late it
//                     returns, rawthread's and pthread's samples in turns
//                     (counters <lock>_overshoot_median_us, _p99_us)
//   memory/...        1,000 threads with 32 KiB stacks, all blocked on one
//                     lock: resident anonymous and mapped memory added per
//                     thread (counters rss_anon_kib_per_thread,
//                     vm_kib_per_thread), measured in a fork()ed child so
//                     that no earlier benchmark's memory (glibc's cache of
//                     stacks) is counted
//
// rawthread's threads run only rawthread, std::atomic and memory allocated
// before they started: no libc (see the README). The pthread side may use
// anything.
#include <benchmark/benchmark.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define BENCH_HAVE_SINGLE_THREADED 1
#endif

#include <rawthread/rawthread.hpp>

#include "threads.hpp"
#include "uncontended.hpp"

namespace {

// ---- Helpers a rawthread thread may call ------------------------------------

inline void cpu_relax() noexcept {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#else
  asm volatile("" ::: "memory");
#endif
}

// CLOCK_MONOTONIC through rawthread (its vDSO reader, no libc): the same clock
// for every kind of thread, read once at each end of a thread's run.
inline std::int64_t thread_now_ns() noexcept { return *rawthread::sys::monotonic_ns(); }

// Spins a little, then sleeps in short steps, until `go` is set: waiting
// threads leave the CPU to the main thread that is still starting the others
// (which matters when everything is pinned to one CPU).
inline void wait_for(const std::atomic<bool>& go) noexcept {
  for (int spin = 0; !go.load(std::memory_order_acquire); ++spin) {
    if (spin < 1000)
      cpu_relax();
    else
      (void)rawthread::sys::sleep_ns(20'000);
  }
}

// The main thread's clock (libc's, through the vDSO).
std::int64_t clock_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

void sleep_main(long nanoseconds) {
  timespec step{0, nanoseconds};
  nanosleep(&step, nullptr);
}

struct PthreadMutex {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  void lock() noexcept { pthread_mutex_lock(&mutex); }
  void unlock() noexcept { pthread_mutex_unlock(&mutex); }
};

// ---- Contended throughput ---------------------------------------------------

constexpr int kMaxThreads = 4;
// Increments per iteration, over all the threads.
constexpr long kContendedOps = 1L << 19;

struct alignas(64) Stamp {
  std::int64_t ns = 0;
};

template <class L>
struct Arena {
  alignas(64) L lock;
  alignas(64) long counter = 0;
  alignas(64) std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  long ops_per_thread = 0;
  Stamp start[kMaxThreads];
  Stamp end[kMaxThreads];
};

// A thread body for every kind of thread: rawthread, std::atomic and the
// arena, allocated before the thread started.
template <class L>
void contend(Arena<L>* arena, int index) noexcept {
  arena->ready.fetch_add(1, std::memory_order_release);
  wait_for(arena->go);
  arena->start[index].ns = thread_now_ns();
  for (long i = arena->ops_per_thread; i > 0; --i) {
    arena->lock.lock();
    ++arena->counter;
    arena->lock.unlock();
  }
  arena->end[index].ns = thread_now_ns();
}

using RawthreadThreads = bench::RawthreadThreads<kMaxThreads>;
using Pthreads = bench::Pthreads<kMaxThreads>;

struct StdThreads {
  std::array<std::thread, kMaxThreads> threads;
  template <auto Body, class Arena>
  int start(Arena* arena, int n) {
    for (int i = 0; i < n; ++i) threads[static_cast<std::size_t>(i)] = std::thread(Body, arena, i);
    return n;
  }
  void join(int n) {
    for (int i = 0; i < n; ++i) threads[static_cast<std::size_t>(i)].join();
  }
};

template <class Threads, class L>
void contended(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const long per_thread = kContendedOps / n;
  for (auto _ : state) {
    auto arena = std::make_unique<Arena<L>>();
    arena->ops_per_thread = per_thread;
    Threads threads;
    const int started = threads.template start<contend<L>>(arena.get(), n);
    while (arena->ready.load(std::memory_order_acquire) < started) sched_yield();
    arena->go.store(true, std::memory_order_release);
    threads.join(started);
    if (started != n) {
      state.SkipWithError("could not start a thread");
      break;
    }
    if (arena->counter != n * per_thread) {
      state.SkipWithError("the lock lost increments");
      break;
    }
    std::int64_t first = arena->start[0].ns, last = arena->end[0].ns;
    for (int i = 1; i < n; ++i) {
      first = std::min(first, arena->start[i].ns);
      last = std::max(last, arena->end[i].ns);
    }
    state.SetIterationTime(static_cast<double>(last - first) / 1e9);
  }
  state.SetItemsProcessed(state.iterations() * n * per_thread);
}

// ---- Thread start + join ----------------------------------------------------

void start_join_rawthread(benchmark::State& state) {
  for (auto _ : state) {
    rawthread::Result<rawthread::Thread> thread = rawthread::start_joinable_thread([]() noexcept {});
    if (!thread) {
      state.SkipWithError(thread.error().message);
      break;
    }
    (void)thread->join();
  }
}

// start_new_thread has no handle: wait until thread_count() says the thread
// is gone, its stack unmapped.
void start_new_thread_rawthread(benchmark::State& state) {
  for (auto _ : state) {
    rawthread::Result<rawthread::Ident> ident = rawthread::start_new_thread([]() noexcept {});
    if (!ident) {
      state.SkipWithError(ident.error().message);
      break;
    }
    while (rawthread::thread_count() != 0) sched_yield();
  }
}

void* pthread_nothing(void*) { return nullptr; }

void start_join_pthread(benchmark::State& state) {
  for (auto _ : state) {
    pthread_t thread;
    if (pthread_create(&thread, nullptr, pthread_nothing, nullptr) != 0) {
      state.SkipWithError("pthread_create failed");
      break;
    }
    pthread_join(thread, nullptr);
  }
}

// ---- Samples of both in turns -------------------------------------------------

double median_of(std::vector<double>& samples) {
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

// Takes one sample of rawthread and one of pthread per iteration, each
// first in turn (so neither always runs right after the other), into `raw`
// and `pth`: both see the same drift of the machine, where two benchmarks
// run one after the other each see their own. A side returns its sample, or
// a negative number when it failed: then the benchmark ends with its error.
template <class Raw, class Pth>
void in_turns(benchmark::State& state, int samples, Raw raw_sample, Pth pth_sample,
              const char* raw_error, const char* pth_error, std::vector<double>& raw,
              std::vector<double>& pth) {
  raw.reserve(static_cast<std::size_t>(samples));
  pth.reserve(static_cast<std::size_t>(samples));
  bool raw_first = true;
  for (auto _ : state) {
    double r = 0, p = 0;
    if (raw_first) {
      r = raw_sample();
      p = pth_sample();
    } else {
      p = pth_sample();
      r = raw_sample();
    }
    raw_first = !raw_first;
    if (r < 0 || p < 0) {
      state.SkipWithError(r < 0 ? raw_error : pth_error);
      break;
    }
    raw.push_back(r);
    pth.push_back(p);
  }
}

// rawthread's start + join and pthread's in turns, each timed on its own:
// run as two benchmarks their ratio moved between runs even on a quiet
// machine (docs/performance.md). Counters: rawthread_us, pthread_us, the
// medians of kPairs each.
constexpr int kPairs = 10000;

void start_join_interleaved(benchmark::State& state) {
  std::vector<double> raw_us, pthread_us;
  in_turns(
      state, kPairs,
      [] {
        const std::int64_t begin = clock_ns();
        {
          rawthread::Result<rawthread::Thread> thread = rawthread::start_joinable_thread([]() noexcept {});
          if (!thread || !thread->join()) return -1.0;
        }
        return static_cast<double>(clock_ns() - begin) / 1e3;
      },
      [] {
        const std::int64_t begin = clock_ns();
        pthread_t thread;
        if (pthread_create(&thread, nullptr, pthread_nothing, nullptr) != 0) return -1.0;
        pthread_join(thread, nullptr);
        return static_cast<double>(clock_ns() - begin) / 1e3;
      },
      "start_joinable_thread or join failed", "pthread_create failed", raw_us, pthread_us);
  if (raw_us.empty() || pthread_us.empty()) return;
  state.counters["rawthread_us"] = median_of(raw_us);
  state.counters["pthread_us"] = median_of(pthread_us);
}

// The kernel's floor, which no library can beat: clone() with the thread
// flags rawthread and glibc both use, on a stack allocated once, of a child
// that makes the exit system call at once, and a futex wait until the kernel
// clears the tid word. What a library adds to this is its own work; what it
// saves against pthread can only come out of pthread's extra work.
alignas(64) char floor_stack[64 * 1024];
alignas(64) unsigned long floor_tls[64];  // the child's thread pointer: never read
std::atomic<int> floor_tid{0};

int floor_child(void*) {
  syscall(SYS_exit, 0);  // no libc state touched: syscall() sets errno only on failure
  return 0;
}

void start_join_kernel_floor(benchmark::State& state) {
  constexpr int kFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                         CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  floor_tls[0] = reinterpret_cast<unsigned long>(floor_tls);
  auto* tid = reinterpret_cast<int*>(&floor_tid);
  for (auto _ : state) {
    if (clone(floor_child, floor_stack + sizeof floor_stack, kFlags, nullptr, tid, floor_tls, tid) < 0) {
      state.SkipWithError("clone failed");
      break;
    }
    for (int t; (t = floor_tid.load(std::memory_order_acquire)) != 0;)
      syscall(SYS_futex, tid, FUTEX_WAIT, t, nullptr, nullptr, 0);
  }
}

void start_join_std_thread(benchmark::State& state) {
  for (auto _ : state) {
    std::thread thread([] {});
    thread.join();
  }
}

// ---- Timed acquire of a held lock --------------------------------------------

// Both locks' samples in turns (in_turns): how late a timed wait returns is
// the kernel's timer slack (50 us by default) and wake-up latency, the same
// for both, and it drifts with the machine's load over seconds. Two
// benchmarks run one after the other saw different drifts, and their ratio
// wandered from run to run (docs/performance.md).
constexpr int kTimedSamples = 100;  // of each lock, per repetition
constexpr std::int64_t kTimedNs = 10'000'000;  // 10 ms

struct Overshoot {
  double median_us = 0;
  double p99_us = 0;
};

Overshoot summarise(std::vector<double>& overshoot_us) {
  Overshoot out;
  out.median_us = median_of(overshoot_us);  // sorts them
  const std::size_t n = overshoot_us.size();
  // The nearest rank: the smallest sample with at least 99 % at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(n)));
  out.p99_us = overshoot_us[std::max<std::size_t>(rank, 1) - 1];
  return out;
}

// How late a 10 ms timed acquire of a held rawthread::Lock returns, in us;
// negative if it did not time out.
double overshoot_rawthread(rawthread::Lock& held) {
  const std::int64_t begin = clock_ns();
  rawthread::Result<bool> got = held.acquire(true, 0.010);
  const std::int64_t end = clock_ns();
  if (!got || *got) return -1;
  return static_cast<double>(end - begin - kTimedNs) / 1e3;
}

// The same for pthread_mutex_clocklock. The mutex is held by this thread: a
// normal mutex locked again by its owner waits (POSIX: deadlocks), here until
// the deadline.
double overshoot_pthread(pthread_mutex_t& held) {
  const std::int64_t begin = clock_ns();
  const std::int64_t at = begin + kTimedNs;
  const timespec deadline{static_cast<time_t>(at / 1'000'000'000), static_cast<long>(at % 1'000'000'000)};
  const int rc = pthread_mutex_clocklock(&held, CLOCK_MONOTONIC, &deadline);
  const std::int64_t end = clock_ns();
  if (rc != ETIMEDOUT) return -1;
  return static_cast<double>(end - begin - kTimedNs) / 1e3;
}

// Counters: rawthread_overshoot_median_us, rawthread_overshoot_p99_us,
// pthread_overshoot_median_us, pthread_overshoot_p99_us.
void timed_interleaved(benchmark::State& state) {
  rawthread::Lock lock;
  (void)lock.acquire();
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&mutex);
  std::vector<double> raw_us, pthread_us;
  in_turns(
      state, kTimedSamples, [&lock] { return overshoot_rawthread(lock); },
      [&mutex] { return overshoot_pthread(mutex); },
      "the timed acquire of a held Lock did not time out",
      "pthread_mutex_clocklock of a held mutex did not time out", raw_us, pthread_us);
  pthread_mutex_unlock(&mutex);
  (void)lock.release();
  if (raw_us.empty() || pthread_us.empty()) return;
  const Overshoot raw = summarise(raw_us), pth = summarise(pthread_us);
  state.counters["rawthread_overshoot_median_us"] = raw.median_us;
  state.counters["rawthread_overshoot_p99_us"] = raw.p99_us;
  state.counters["pthread_overshoot_median_us"] = pth.median_us;
  state.counters["pthread_overshoot_p99_us"] = pth.p99_us;
}

// ---- Memory per blocked thread ------------------------------------------------

constexpr int kMemoryThreads = 1000;
constexpr long kMemoryStack = 32768;

struct Memory {
  long anon_kib = 0;  // RssAnon: resident anonymous memory
  long vm_kib = 0;    // VmSize: mapped memory
};

// From /proc/self/status, read into a buffer on the stack (no malloc to move
// the numbers). Anonymous memory only: the pages of code and libraries that
// run for the first time meanwhile are file pages, and not the threads'.
bool read_memory(Memory& out) {
  char text[8192];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t got = 0, n = 0;
  while (got < static_cast<ssize_t>(sizeof text) - 1 &&
         (n = read(fd, text + got, sizeof text - 1 - static_cast<std::size_t>(got))) > 0)
    got += n;
  close(fd);
  if (got <= 0) return false;
  text[got] = '\0';
  const char* anon = std::strstr(text, "\nRssAnon:");
  const char* vm = std::strstr(text, "\nVmSize:");
  return anon && vm && std::sscanf(anon, "\nRssAnon: %ld", &out.anon_kib) == 1 &&
         std::sscanf(vm, "\nVmSize: %ld", &out.vm_kib) == 1;
}

struct MemoryResult {
  double anon_kib = 0;
  double vm_kib = 0;
  int started = 0;
  bool ok = false;
};

std::atomic<int> memory_arrived{0};
rawthread::Lock memory_gate_raw;
pthread_mutex_t memory_gate_pthread = PTHREAD_MUTEX_INITIALIZER;

// Waits until `n` threads said they are about to block, then a little longer
// for the last of them to be asleep.
void wait_arrived(int n) {
  while (memory_arrived.load(std::memory_order_acquire) < n) sleep_main(1'000'000);
  sleep_main(50'000'000);
}

MemoryResult per_thread(const Memory& before, const Memory& after, int started) {
  MemoryResult result;
  result.started = started;
  result.ok = started == kMemoryThreads;
  result.anon_kib = static_cast<double>(after.anon_kib - before.anon_kib) / started;
  result.vm_kib = static_cast<double>(after.vm_kib - before.vm_kib) / started;
  return result;
}

MemoryResult memory_rawthread_child() {
  // Every handle constructed (and so its page touched) before the baseline,
  // as pthread's vector below: 1,000 handles of 24 bytes are 6 pages that are
  // the benchmark's, not the threads'.
  std::vector<rawthread::Thread> threads(kMemoryThreads);
  if (!rawthread::stack_size(kMemoryStack)) return {};
  // The parent's cached stacks (of the default size, from start_join/...)
  // would be unmapped by the first starts here, and their pages taken off
  // the count: give them back before the baseline.
  rawthread::release_cached_stacks();
  memory_gate_raw.lock();
  Memory before, after;
  if (!read_memory(before)) return {};
  int started = 0;
  for (; started < kMemoryThreads; ++started) {
    rawthread::Result<rawthread::Thread> thread = rawthread::start_joinable_thread([]() noexcept {
      memory_arrived.fetch_add(1, std::memory_order_release);
      memory_gate_raw.lock();
      memory_gate_raw.unlock();
    });
    if (!thread) break;
    threads[static_cast<std::size_t>(started)] = std::move(*thread);
  }
  wait_arrived(started);
  const bool read = read_memory(after);
  memory_gate_raw.unlock();
  for (int i = 0; i < started; ++i) (void)threads[static_cast<std::size_t>(i)].join();
  if (!read || started == 0) return {};
  return per_thread(before, after, started);
}

void* memory_pthread_body(void*) {
  memory_arrived.fetch_add(1, std::memory_order_release);
  pthread_mutex_lock(&memory_gate_pthread);
  pthread_mutex_unlock(&memory_gate_pthread);
  return nullptr;
}

MemoryResult memory_pthread_child() {
  std::vector<pthread_t> threads(kMemoryThreads);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  // glibc adds its guard page (one page by default) to this size, and keeps
  // its thread descriptor and static TLS inside it.
  if (pthread_attr_setstacksize(&attr, kMemoryStack) != 0) return {};
  pthread_mutex_lock(&memory_gate_pthread);
  Memory before, after;
  if (!read_memory(before)) return {};
  int started = 0;
  while (started < kMemoryThreads &&
         pthread_create(&threads[static_cast<std::size_t>(started)], &attr, memory_pthread_body, nullptr) == 0)
    ++started;
  wait_arrived(started);
  const bool read = read_memory(after);
  pthread_mutex_unlock(&memory_gate_pthread);
  for (int i = 0; i < started; ++i) pthread_join(threads[static_cast<std::size_t>(i)], nullptr);
  pthread_attr_destroy(&attr);
  if (!read || started == 0) return {};
  return per_thread(before, after, started);
}

// Runs `measure` in a fork()ed child and hands its result back through a pipe.
bool in_child(MemoryResult (*measure)(), MemoryResult& out) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (pid == 0) {
    close(fds[0]);
    const MemoryResult result = measure();
    const bool sent = write(fds[1], &result, sizeof result) == static_cast<ssize_t>(sizeof result);
    _exit(sent ? 0 : 1);
  }
  close(fds[1]);
  std::size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&out);
  while (got < sizeof out) {
    const ssize_t n = read(fds[0], bytes + got, sizeof out - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return got == sizeof out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

template <MemoryResult (*Measure)()>
void memory(benchmark::State& state) {
  MemoryResult result;
  for (auto _ : state) {
    if (!in_child(Measure, result) || !result.ok) {
      state.SkipWithError("could not start 1000 threads with 32 KiB stacks");
      break;
    }
  }
  state.counters["threads"] = result.started;
  state.counters["rss_anon_kib_per_thread"] = result.anon_kib;
  state.counters["vm_kib_per_thread"] = result.vm_kib;
}

void register_all() {
  bench::register_uncontended();

  for (auto* b : {
           benchmark::RegisterBenchmark("contended/rawthread_threads+rawthread_lock",
                                        contended<RawthreadThreads, rawthread::Lock>),
           benchmark::RegisterBenchmark("contended/pthreads+pthread_mutex",
                                        contended<Pthreads, PthreadMutex>),
           benchmark::RegisterBenchmark("contended/std_threads+std_mutex",
                                        contended<StdThreads, std::mutex>),
           // The lock without the threads: rawthread's Lock in pthreads.
           benchmark::RegisterBenchmark("contended/pthreads+rawthread_lock",
                                        contended<Pthreads, rawthread::Lock>),
       })
    b->ArgName("threads")->Arg(2)->Arg(4)->UseManualTime()->Unit(benchmark::kMillisecond);

  for (auto* b : {
           benchmark::RegisterBenchmark("start_join/rawthread_joinable", start_join_rawthread),
           benchmark::RegisterBenchmark("start_join/rawthread_new_thread_count", start_new_thread_rawthread),
           benchmark::RegisterBenchmark("start_join/pthread", start_join_pthread),
           benchmark::RegisterBenchmark("start_join/std_thread", start_join_std_thread),
           benchmark::RegisterBenchmark("start_join/kernel_floor", start_join_kernel_floor),
       })
    b->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("start_join/rawthread_joinable+pthread", start_join_interleaved)
      ->Iterations(kPairs)
      ->Unit(benchmark::kMicrosecond);

  benchmark::RegisterBenchmark("timed/rawthread_lock+pthread_mutex_clocklock", timed_interleaved)
      ->Iterations(kTimedSamples)
      ->Unit(benchmark::kMillisecond);

  for (auto* b : {
           benchmark::RegisterBenchmark("memory/rawthread", memory<memory_rawthread_child>),
           benchmark::RegisterBenchmark("memory/pthread", memory<memory_pthread_child>),
       })
    b->Iterations(1)->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  // Make glibc multi-threaded for good (it never goes back), as in any
  // program that has started a thread.
  pthread_t first;
  if (pthread_create(&first, nullptr, pthread_nothing, nullptr) != 0) {
    std::fprintf(stderr, "bench_threaded: pthread_create failed\n");
    return 1;
  }
  pthread_join(first, nullptr);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::AddCustomContext("process", "threaded: started and joined a pthread first");
#if BENCH_HAVE_SINGLE_THREADED
  benchmark::AddCustomContext("libc_single_threaded", __libc_single_threaded ? "yes" : "no");
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
