// SPDX-License-Identifier: MIT
// rawthread/sys.hpp's processes, clocks, environment and thread settings in
// a program with no libc: environ and getenv from the start-up's initial
// stack (meson.build passes RAWTHREAD_PROC_CHECK=a=b), the clocks against
// each other and std::chrono, thread names and affinity, and fork: a child
// that allocates, starts a thread and exits while the parent's other
// threads allocate, free, trim and come and go, taking the heap's locks, as
// the fork happens. Without the fork hook (src/rt/fork.cpp), a child forked
// while another thread held the heaps' lock waits for ever on it when it
// trims or its new thread takes a heap: with the hook's store taken out of
// the start-up, this test fails in every run (the deadline catches it).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>  // exit

#include <rawthread/rawthread.hpp>
#include <rawthread/sys.hpp>

#include "check.hpp"

extern "C" {
extern char** environ;
char* getenv(const char* name) noexcept;
void* malloc(std::size_t size) noexcept;
void free(void* pointer) noexcept;
int malloc_trim(std::size_t pad) noexcept;
}

namespace sys = rawthread::sys;

namespace {

bool equal(const char* a, const char* b) { return a != nullptr && check::same(a, b); }

// Waits for `pid` for at most `seconds` (kNoHang polls); kills it past that.
sys::WaitStatus wait_child(int pid, double seconds = 60) {
  sys::WaitStatus none;
  const std::int64_t end = check::now_ns() + static_cast<std::int64_t>(seconds * 1e9);
  for (;;) {
    rawthread::Result<sys::WaitStatus> w = sys::wait4(pid, sys::kNoHang);
    if (!CHECK(w.has_value())) return none;
    if (w->pid == pid) return *w;
    if (check::now_ns() > end) {
      CHECK(!"child still running at its deadline");
      (void)sys::kill(pid, 9);
      (void)sys::wait4(pid);
      return none;
    }
    (void)sys::sleep(0.001);
  }
}

}  // namespace

// glibc's <stdlib.h>, which <cstdlib> brings in, declares getenv's argument
// nonnull, so a call with null through it is undefined (ubsan traps on it).
// The runtime's getenv is defined without that promise and returns NULL;
// this reaches the same symbol through a declaration that makes none.
extern "C" char* getenv_taking_null(const char* name) noexcept __asm__("getenv");

TEST(environ_is_the_initial_stacks) {
  CHECK(environ == check::envp);
  CHECK(equal(getenv("RAWTHREAD_PROC_CHECK"), "a=b"));  // the value runs to the end
  CHECK(getenv("RAWTHREAD_PROC") == nullptr);           // a prefix is not a name
  CHECK(getenv("RAWTHREAD_PROC_CHECK_") == nullptr);
  CHECK(getenv("RAWTHREAD_PROC_CHECK=a") == nullptr);   // '=' in a name
  CHECK(getenv("") == nullptr);
  const char* volatile null_name = nullptr;
  CHECK(getenv_taking_null(null_name) == nullptr);
  // getenv finds what environ holds, first match first.
  int found = 0;
  for (char** e = environ; *e != nullptr; ++e) ++found;
  CHECK(found > 0);
}

TEST(clocks_agree) {
  rawthread::Result<std::int64_t> real = sys::realtime_ns();
  REQUIRE(real.has_value());
  CHECK(*real > 1'600'000'000LL * 1'000'000'000);  // after 2020
  const std::int64_t chrono_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
  CHECK(chrono_ns >= *real && chrono_ns - *real < 5'000'000'000LL);
  for (int i = 0; i < 1000; ++i) {
    rawthread::Result<std::int64_t> mono = sys::monotonic_ns();
    rawthread::Result<std::int64_t> boot = sys::boottime_ns();
    REQUIRE(mono.has_value() && boot.has_value());
    REQUIRE(*boot >= *mono);
  }
}

TEST(thread_names) {
  char original[16];
  REQUIRE(sys::thread_name(original).has_value());
  REQUIRE(sys::set_thread_name("rt-main").has_value());
  char name[16];
  REQUIRE(sys::thread_name(name).has_value());
  CHECK(check::same(name, "rt-main"));
  CHECK(!sys::set_thread_name("sixteen-bytes-xy").has_value());
  CHECK(!sys::set_thread_name(nullptr).has_value());
  REQUIRE(sys::thread_name(name).has_value());
  CHECK(check::same(name, "rt-main"));

  static std::atomic<bool> other_ok{false};
  auto t = rawthread::start_joinable_thread([] {
    char n[16];
    other_ok.store(sys::set_thread_name("rt-worker").has_value() &&
                   sys::thread_name(n).has_value() && check::same(n, "rt-worker"));
  });
  REQUIRE(t.has_value());
  rawthread::Result<bool> joined = t->join(60);
  CHECK(joined.has_value() && *joined);
  CHECK(other_ok.load());
  REQUIRE(sys::thread_name(name).has_value());
  CHECK(check::same(name, "rt-main"));
  CHECK(sys::set_thread_name(original).has_value());
}

TEST(affinity_round_trip) {
  rawthread::Result<sys::CpuSet> mine = sys::affinity();
  REQUIRE(mine.has_value());
  REQUIRE(mine->count() > 0);
  int first = 0;
  while (!mine->contains(first)) ++first;
  static int first_cpu;
  first_cpu = first;
  static std::atomic<bool> ok{false};
  auto t = rawthread::start_joinable_thread([] {
    sys::CpuSet one;
    one.add(first_cpu);
    const bool set = sys::set_affinity(one).has_value();
    rawthread::Result<sys::CpuSet> now = sys::affinity();
    ok.store(set && now.has_value() && *now == one &&
             !sys::set_affinity(sys::CpuSet{}).has_value());
  });
  REQUIRE(t.has_value());
  rawthread::Result<bool> joined = t->join(60);
  CHECK(joined.has_value() && *joined);
  CHECK(ok.load());
  rawthread::Result<sys::CpuSet> after = sys::affinity();
  CHECK(after.has_value() && *after == *mine);  // this thread's stayed
}

TEST(scheduling_is_readable) {
  rawthread::Result<sys::Scheduling> s = sys::scheduling();
  REQUIRE(s.has_value());
  CHECK(s->policy == sys::SchedPolicy::other || s->policy == sys::SchedPolicy::batch ||
        s->policy == sys::SchedPolicy::idle);
  sys::Scheduling bad = *s;
  bad.nice = 20;
  CHECK(!sys::set_scheduling(bad).has_value());
}

TEST(fork_exit_statuses) {
  rawthread::Result<int> pid = sys::fork();
  REQUIRE(pid.has_value());
  if (*pid == 0) sys::exit_group(5);
  sys::WaitStatus w = wait_child(*pid);
  CHECK(w.exited());
  CHECK_EQ(w.exit_code(), 5);

  // exit(), with its handlers, works in the child too.
  pid = sys::fork();
  REQUIRE(pid.has_value());
  if (*pid == 0) exit(6);
  w = wait_child(*pid);
  CHECK(w.exited());
  CHECK_EQ(w.exit_code(), 6);

  CHECK(!sys::wait4(-1).has_value());  // ECHILD: every child reaped
}

namespace {

std::atomic<bool> churn_stop{false};
std::atomic<long> churn_rounds{0};

// Allocates and frees small and large blocks; started and ended over and
// over, so that heaps are taken and abandoned under the heaps' lock, and
// large blocks go through the spares' lock.
void churn() {
  for (int i = 0; i < 200 && !churn_stop.load(std::memory_order_relaxed); ++i) {
    void* small = malloc(static_cast<std::size_t>(16 + i % 512));
    void* large = malloc(static_cast<std::size_t>(3) << 20);
    free(small);
    free(large);
  }
  churn_rounds.fetch_add(1, std::memory_order_relaxed);
}

// QEMU user mode (7.2) cannot start a thread in the child of a guest that
// had several: its own state after the fork fails assertions
// (qemu_plugin_vcpu_init_hook, cpu_exec's cpu == current_cpu) and the child
// dies or hangs. There the child takes the heap's locks through malloc_trim
// only.
bool emulated() { return equal(getenv("RAWTHREAD_TEST_EMULATED"), "1"); }

int child_allocates() {
  // The forking thread's heap; malloc_trim takes the heaps' lock and the
  // spares' lock.
  void* blocks[64];
  for (int i = 0; i < 64; ++i) {
    blocks[i] = malloc(static_cast<std::size_t>(8) << (i % 20));
    if (blocks[i] == nullptr) return 20;
  }
  for (void* b : blocks) free(b);
  (void)malloc_trim(0);
  void* large = malloc(static_cast<std::size_t>(3) << 20);
  if (large == nullptr) return 24;
  free(large);
  if (emulated()) return 42;
  // A new thread takes a heap under the heaps' lock.
  static std::atomic<int> thread_ok{0};
  auto t = rawthread::start_joinable_thread([] {
    void* p = malloc(1000);
    void* q = malloc(static_cast<std::size_t>(5) << 20);
    thread_ok.store(p != nullptr && q != nullptr ? 1 : 2);
    free(p);
    free(q);
  });
  if (!t.has_value()) return 21;
  rawthread::Result<bool> joined = t->join(30);
  if (!joined.has_value() || !*joined) return 22;
  return thread_ok.load() == 1 ? 42 : 23;
}

}  // namespace

TEST(fork_while_other_threads_use_the_heap) {
  constexpr int kChurners = 3;
  constexpr int kForks = 40;
  churn_stop.store(false);
  // Each churner thread restarts itself: a loop of short-lived threads.
  static std::atomic<int> live{0};
  struct Spawner {
    static void run() {
      while (!churn_stop.load(std::memory_order_relaxed)) {
        auto t = rawthread::start_joinable_thread(churn);
        if (!t.has_value()) break;
        (void)t->join(60);
      }
      live.fetch_sub(1);
    }
  };
  for (int i = 0; i < kChurners; ++i) {
    live.fetch_add(1);
    REQUIRE(rawthread::start_new_thread(Spawner::run).has_value());
  }
  // And one that trims all the while: malloc_trim gives back every ended
  // thread's heap under the heaps' lock, holding it for the longest.
  live.fetch_add(1);
  REQUIRE(rawthread::start_new_thread([] {
            while (!churn_stop.load(std::memory_order_relaxed)) (void)malloc_trim(0);
            live.fetch_sub(1);
          }).has_value());
  int good = 0;
  for (int i = 0; i < kForks; ++i) {
    rawthread::Result<int> pid = sys::fork();
    if (!CHECK(pid.has_value())) break;
    if (*pid == 0) sys::exit_group(child_allocates());
    // A child that waits on a lock the parent's threads held waits for
    // ever: one is enough to know, so the first failure ends the loop.
    sys::WaitStatus w = wait_child(*pid, 20);
    if (!CHECK(w.exited()) || !CHECK_EQ(w.exit_code(), 42)) break;
    ++good;
  }
  churn_stop.store(true);
  CHECK(check::wait_until([] { return live.load() == 0; }, 60));
  CHECK(check::wait_for_threads(0, 60));
  CHECK_EQ(good, kForks);
  CHECK(churn_rounds.load() > 0);
}

TEST(ids_and_signals) {
  rawthread::Result<int> pid = sys::getpid();
  rawthread::Result<int> tid = sys::gettid();
  REQUIRE(pid.has_value() && tid.has_value());
  CHECK_EQ(*pid, *tid);  // the main thread
  CHECK(sys::kill(*pid, 0).has_value());
  CHECK(sys::tgkill(*pid, *tid, 0).has_value());
  rawthread::Result<void> r = sys::kill(0x3ffffff0, 0);
  CHECK(!r.has_value() && r.error().sys_errno == 3);  // ESRCH
  CHECK(!sys::kill(*pid, 65).has_value());
}
