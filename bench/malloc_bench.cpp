// SPDX-License-Identifier: MIT
// malloc_bench: one source, three heaps. Built three ways (bench/meson.build):
//
//   malloc_bench_glibc  glibc's malloc, pthreads
//   malloc_bench_musl   musl's malloc (mallocng), pthreads, static (x86_64)
//   malloc_bench_rt     librawthread_rt's heap, rawthread threads, no libc
//
//   malloc_bench small THREADS [REPS]  alloc+free pairs, 16-256 B, 64 live blocks
//                                      per thread: best rate of REPS, ops/s
//   malloc_bench cross [REPS]          one thread allocates, another frees what
//                                      it is handed: best rate of REPS, blocks/s
//   malloc_bench rss                   100 MiB of 16-256 B blocks allocated and
//                                      all freed: resident bytes (VmRSS) after -
//                                      before
//
// Each prints one line, `<name> <integer>`, which bench/compare.py reads.
// Google Benchmark is not used: musl and the libc-free build cannot link it.
// The C library is reached through plain C headers only (no libstdc++
// header, atomics are the compiler's builtins), so that the musl build can
// compile against musl's headers with nothing of glibc's.
//
// One workload per process: what an earlier one left in the heap (cached
// blocks, grown arenas) would change the next one's figures, RSS above all.
// malloc_trim is called by none of the three: the figures are what a program
// gets by default (musl has no malloc_trim).

#include <stddef.h>
#include <stdint.h>

#if defined(MALLOC_BENCH_RT)
#include <linux/fcntl.h>

#include <rawthread/joinable.hpp>
#include <rawthread/sys.hpp>

#include "kernel.hpp"  // openat, close: rawthread::sys has no open (yet)
extern "C" {
void* malloc(size_t size);
void free(void* block);
}
#else
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#endif

namespace {

// ---- What differs between the builds: clock, output, files, threads --------

#if defined(MALLOC_BENCH_RT)
namespace sys = rawthread::sys;

int64_t now_ns() { return sys::monotonic_ns().value_or(0); }
void put(const char* text, size_t size) { (void)sys::write_all(1, text, size); }
long read_file(const char* path, char* buffer, size_t size) {
  namespace kernel = rawthread::kernel;
  const long fd = kernel::call(__NR_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  auto got = sys::read(static_cast<int>(fd), buffer, size);
  kernel::call(__NR_close, fd);
  return got ? static_cast<long>(*got) : -1;
}
void yield() { (void)sys::sleep(0); }

// Runs body(i) for i in [0, n) on n threads and waits for them all.
bool run_threads(int n, void (*body)(int)) {
  rawthread::Thread threads[8];
  for (int i = 0; i < n; ++i) {
    auto started = rawthread::start_joinable_thread(body, i);
    if (!started) return false;
    threads[i] = static_cast<rawthread::Thread&&>(*started);
  }
  bool ok = true;
  for (int i = 0; i < n; ++i) ok = threads[i].join().has_value() && ok;
  return ok;
}
#else
int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
void put(const char* text, size_t size) {
  while (size > 0) {
    const ssize_t done = write(1, text, size);
    if (done <= 0) return;
    text += done, size -= static_cast<size_t>(done);
  }
}
long read_file(const char* path, char* buffer, size_t size) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const ssize_t got = read(fd, buffer, size);
  close(fd);
  return got;
}
void yield() { sched_yield(); }

struct Start {
  void (*body)(int);
  int index;
};
void* pthread_body(void* arg) {
  auto* start = static_cast<Start*>(arg);
  start->body(start->index);
  return nullptr;
}
bool run_threads(int n, void (*body)(int)) {
  pthread_t threads[8];
  Start starts[8];
  for (int i = 0; i < n; ++i) {
    starts[i] = {body, i};
    if (pthread_create(&threads[i], nullptr, pthread_body, &starts[i]) != 0) return false;
  }
  for (int i = 0; i < n; ++i) pthread_join(threads[i], nullptr);
  return true;
}
#endif

void put(const char* text) {
  size_t size = 0;
  while (text[size]) ++size;
  put(text, size);
}
void put(int64_t value) {
  char digits[24];
  int at = 24;
  const bool negative = value < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  do digits[--at] = static_cast<char>('0' + magnitude % 10), magnitude /= 10;
  while (magnitude);
  if (negative) digits[--at] = '-';
  put(digits + at, static_cast<size_t>(24 - at));
}
void result(const char* name, int64_t value) { put(name), put(" "), put(value), put("\n"); }

long parse(const char* text) {
  long value = 0;
  for (; *text >= '0' && *text <= '9'; ++text) value = value * 10 + (*text - '0');
  return value;
}

bool same(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

// ---- The workloads ------------------------------------------------------------

// xorshift64: the same sizes in every build and every repetition.
struct Random {
  uint64_t state;
  uint64_t next() {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  }
  size_t size() { return 16 + next() % 241; }  // 16..256 bytes
};

template <class T> T load(const T& x) { return __atomic_load_n(&x, __ATOMIC_ACQUIRE); }
template <class T> void store(T& x, T v) { __atomic_store_n(&x, v, __ATOMIC_RELEASE); }

void pause() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

// Threads wait for `go` once all are ready, so that thread start-up is not
// timed; each writes its end time, and the run lasts from go to the last end.
int ready = 0;
int go = 0;
int64_t ends[8];
int64_t go_time = 0;

void wait_for_go() {
  __atomic_fetch_add(&ready, 1, __ATOMIC_ACQ_REL);
  for (unsigned spins = 0; !load(go); ++spins) (spins & 1023) ? pause() : yield();
}

int64_t timed_run(int threads, void (*body)(int)) {
  ready = 0, go = 0;
  // One more thread than workers opens the gate: the same thread body for
  // all, so that run_threads needs no second kind of thread.
  static int n;
  static void (*work)(int);
  n = threads, work = body;
  auto gate = [](int index) {
    if (index == n) {  // the gatekeeper: not a worker
      for (unsigned spins = 0; load(ready) < n; ++spins) (spins & 1023) ? pause() : yield();
      go_time = now_ns();
      store(go, 1);
      return;
    }
    wait_for_go();
    work(index);
    ends[index] = now_ns();
  };
  if (!run_threads(threads + 1, gate)) return -1;
  int64_t last = 0;
  for (int i = 0; i < threads; ++i) last = ends[i] > last ? ends[i] : last;
  return last - go_time;
}

// malloc_small: alloc+free pairs of random sizes, 64 blocks live per thread.
constexpr int kWindow = 64;
long small_pairs = 0;  // per thread

void small_body(int index) {
  Random random{0x9e3779b97f4a7c15ull ^ (static_cast<uint64_t>(index + 1) * 0x2545f4914f6cdd1dull)};
  void* live[kWindow];
  for (auto& block : live) {
    block = malloc(random.size());
    *static_cast<volatile char*>(block) = 1;
  }
  for (long i = 0; i < small_pairs; ++i) {
    const uint64_t r = random.next();
    void*& slot = live[r % kWindow];
    free(slot);
    slot = malloc(16 + (r >> 32) % 241);
    *static_cast<volatile char*>(slot) = 1;  // the block is used, as a program would
  }
  for (auto& block : live) free(block);
}

// malloc_cross: the producer allocates, the consumer frees, through a
// single-producer single-consumer ring of pointers in static memory.
constexpr unsigned kRing = 1024;
constexpr long kCrossBlocks = 1000000;
void* ring[kRing];
unsigned long head = 0;  // written by the consumer
unsigned long tail = 0;  // written by the producer

void cross_body(int index) {
  if (index == 0) {  // producer
    Random random{0x853c49e6748fea9bull};
    for (long i = 0; i < kCrossBlocks; ++i) {
      void* block = malloc(random.size());
      *static_cast<volatile char*>(block) = 1;
      // The slot is free once the consumer's head has passed it (acquire:
      // its free() of the old pointer is done before the slot is reused).
      for (unsigned spins = 0; tail - load(head) == kRing; ++spins) (spins & 1023) ? pause() : yield();
      ring[tail % kRing] = block;
      store(tail, tail + 1);  // release: the pointer is visible before the count
    }
  } else {  // consumer
    for (long i = 0; i < kCrossBlocks; ++i) {
      for (unsigned spins = 0; load(tail) == head; ++spins) (spins & 1023) ? pause() : yield();
      free(ring[head % kRing]);
      store(head, head + 1);
    }
  }
}

// The resident set: VmRSS in /proc/self/status (kB, whatever the page size).
int64_t resident_bytes() {
  char text[4096];
  const long got = read_file("/proc/self/status", text, sizeof text - 1);
  if (got <= 0) return -1;
  text[got] = 0;
  for (const char* line = text; *line;) {
    if (line[0] == 'V' && line[1] == 'm' && line[2] == 'R' && line[3] == 'S' && line[4] == 'S' &&
        line[5] == ':') {
      const char* digits = line + 6;
      while (*digits == ' ' || *digits == '\t') ++digits;
      return parse(digits) * 1024;
    }
    while (*line && *line != '\n') ++line;
    if (*line) ++line;
  }
  return -1;
}

// malloc_rss: the blocks are chained through their first word, so the list
// of them costs no memory beyond the blocks.
int64_t rss_run() {
  constexpr size_t kTotal = size_t{100} << 20;
  const int64_t before = resident_bytes();
  Random random{0x2545f4914f6cdd1dull};
  void* chain = nullptr;
  for (size_t total = 0; total < kTotal;) {
    const size_t size = random.size();
    void** block = static_cast<void**>(malloc(size));
    *block = chain;
    chain = block;
    total += size;
  }
  while (chain) {
    void* next = *static_cast<void**>(chain);
    free(chain);
    chain = next;
  }
  return resident_bytes() - before;
}

int usage() {
  put("usage: malloc_bench small THREADS [REPS] | cross [REPS] | rss\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  if (same(argv[1], "small") && argc >= 3) {
    const int threads = static_cast<int>(parse(argv[2]));
    const long reps = argc >= 4 ? parse(argv[3]) : 5;
    if (threads < 1 || threads > 7 || reps < 1) return usage();
    small_pairs = 4000000 / threads;
    int64_t best = 0;
    for (long rep = 0; rep < reps; ++rep) {
      const int64_t ns = timed_run(threads, small_body);
      if (ns <= 0) return 1;
      const int64_t rate = static_cast<int64_t>(static_cast<double>(small_pairs) * threads * 1e9 / ns);
      best = rate > best ? rate : best;
    }
    result(threads == 1 ? "malloc_small_1" : threads == 4 ? "malloc_small_4" : "malloc_small_n", best);
    return 0;
  }
  if (same(argv[1], "cross")) {
    const long reps = argc >= 3 ? parse(argv[2]) : 5;
    if (reps < 1) return usage();
    int64_t best = 0;
    for (long rep = 0; rep < reps; ++rep) {
      head = tail = 0;
      const int64_t ns = timed_run(2, cross_body);
      if (ns <= 0) return 1;
      const int64_t rate = static_cast<int64_t>(static_cast<double>(kCrossBlocks) * 1e9 / ns);
      best = rate > best ? rate : best;
    }
    result("malloc_cross", best);
    return 0;
  }
  if (same(argv[1], "rss")) {
    result("malloc_rss", rss_run());
    return 0;
  }
  return usage();
}
