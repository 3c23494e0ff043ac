// SPDX-License-Identifier: MIT
// The cache of ended threads' stacks: a burst of threads leaves at most
// MAX_CACHED_STACKS of them mapped, a start reuses one of exactly its size
// (and finds its control block, TLS and interrupt state fresh there), a
// start with another stack_size() gets none, release_cached_stacks()
// unmaps the ended threads' stacks and leaves running ones alone, and
// signals that reach threads as they end (on a stack they have cached
// already) do no harm. The fork cases are in test_fork.cpp.
//
// Every case starts from an empty cache and counts the mappings as they are
// (maps_lines_with_cache), cache included: a thread's stack is two lines of
// /proc/self/maps, its guard page and the rest, and at least one even where
// the rest merges with a neighbour.
#include "support.hpp"

using namespace rawthread;
using rt_test::is_true;
using rt_test::maps_lines_with_cache;
using rt_test::wait_for;

namespace {

constexpr long kBurst = 64;
constexpr long kMaxLinesPerStack = 2;
constexpr long kCacheBound = static_cast<long>(MAX_CACHED_STACKS);

class CacheTest : public rt_test::RawthreadTest {
 protected:
  void SetUp() override {
    rt_test::RawthreadTest::SetUp();
    if (rt_test::kDummy) GTEST_SKIP() << "dummy backend: no thread has a stack of its own";
    release_cached_stacks();
  }
  void TearDown() override {
    (void)stack_size(0L);
    rt_test::RawthreadTest::TearDown();
  }
};

// A case that counts mappings one by one: under valgrind maps_lines_with_cache
// is a constant (its own mappings fill /proc/self/maps), so there is nothing
// to count.
#define RT_REQUIRES_MAPPING_COUNTS() \
  if (rt_test::under_valgrind())     \
  GTEST_SKIP() << "under valgrind /proc/self/maps lists valgrind's mappings: no count to check"

// Waits behind a gate: acquires and at once releases it. Safe in thread bodies.
void pass(Lock& gate) noexcept {
  (void)gate.acquire();
  (void)gate.release();
}

// The mapping holding `address` (a local of a thread), and its size.
std::uintptr_t mapping_size_at(std::uintptr_t address) {
  rt_test::Mapping holding, below;
  bool has_below = false;
  if (!rt_test::find_mapping(address, &holding, &below, &has_below)) return 0;
  return holding.end - holding.start;
}

TEST_F(CacheTest, ABurstOfJoinedThreadsLeavesAtMostTheBoundCached) {
  RT_REQUIRES_MAPPING_COUNTS();
  static Lock gate;
  static Thread handles[kBurst];
  const long before = maps_lines_with_cache();
  ASSERT_TRUE(gate.try_lock());
  for (auto& handle : handles) {
    Result<Thread> r = start_joinable_thread([] { pass(gate); });
    if (!r.has_value()) gate.unlock();
    ASSERT_TRUE(r.has_value()) << r.error().message;
    handle = std::move(*r);
  }
  // All at once: each on a stack of its own, a guard page at least.
  EXPECT_GE(maps_lines_with_cache(), before + kBurst);
  gate.unlock();
  for (auto& handle : handles) EXPECT_TRUE(is_true(handle.join(rt_test::kDeadline)));
  EXPECT_EQ(thread_count(), base_count_);
  // The first joins filled the cache, the rest unmapped: exactly full.
  const long after = maps_lines_with_cache();
  EXPECT_LE(after, before + kCacheBound * kMaxLinesPerStack);
  EXPECT_GE(after, before + kCacheBound);
  release_cached_stacks();
  EXPECT_EQ(maps_lines_with_cache(), before);
}

TEST_F(CacheTest, ABurstOfDetachedThreadsLeavesAtMostTheBoundCached) {
  RT_REQUIRES_MAPPING_COUNTS();
  RT_REQUIRES_CONCURRENCY();  // the burst waits at a gate
  static Lock gate;
  static std::atomic<int> waiting, ran;
  waiting = 0;
  ran = 0;
  const long before = maps_lines_with_cache();
  ASSERT_TRUE(gate.try_lock());
  for (long i = 0; i < kBurst; ++i) {
    Result<Ident> r = start_new_thread([] {
      waiting.fetch_add(1);
      pass(gate);
      ran.fetch_add(1);
    });
    if (!r.has_value()) gate.unlock();
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  EXPECT_TRUE(wait_for([] { return waiting.load() == kBurst; }));
  EXPECT_GE(maps_lines_with_cache(), before + kBurst);
  gate.unlock();
  // A thread counts itself out after it cached its stack or unmapped it:
  // once the count is back, no mapping is in between.
  ASSERT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(ran.load(), kBurst);
  const long after = maps_lines_with_cache();
  EXPECT_LE(after, before + kCacheBound * kMaxLinesPerStack);
  EXPECT_GE(after, before + kCacheBound);
  release_cached_stacks();
  EXPECT_EQ(maps_lines_with_cache(), before);
}

// What a thread saw of itself: its ident, its native id, and whether it
// found a request pending when it began (it must not: each thread starts
// with none, whatever the thread before it on the same stack left).
struct Seen {
  std::atomic<Ident> ident{0};
  std::atomic<long> native_id{0};
  std::atomic<int> interrupted_at_start{-1};

  void reset() {
    ident = 0;
    native_id = 0;
    interrupted_at_start = -1;
  }
};

// A body that records what it sees, and requests an interrupt of itself
// as it ends, which no acquire consumes: the request dies with it.
void see_and_request(Seen* seen) noexcept {
  seen->ident.store(get_ident());
  seen->native_id.store(get_native_id());
  Lock held;
  (void)held.acquire(false);
  Result<bool> r = held.acquire(true, 0.01);  // times out, unless a request is pending
  seen->interrupted_at_start.store(!r.has_value() ? 1 : 0);
  request_interrupt();
}

TEST_F(CacheTest, AJoinedThreadsStackIsReusedAsNew) {
  RT_REQUIRES_MAPPING_COUNTS();
  static Seen first, second;
  first.reset();
  second.reset();
  const long before = maps_lines_with_cache();
  Result<Thread> a = start_joinable_thread(see_and_request, &first);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  const Ident first_ident = a->ident();
  ASSERT_TRUE(is_true(a->join(rt_test::kDeadline)));
  Result<Thread> b = start_joinable_thread(see_and_request, &second);
  ASSERT_TRUE(b.has_value()) << b.error().message;
  const Ident second_ident = b->ident();
  ASSERT_TRUE(is_true(b->join(rt_test::kDeadline)));
  // The same thread pointer: the same tp area in the same mapping.
  EXPECT_EQ(second_ident, first_ident) << "the second thread did not get the first one's stack";
  EXPECT_EQ(second.ident.load(), second_ident);
  // Its control block is its own: its tid, no request left over.
  EXPECT_NE(second.native_id.load(), first.native_id.load());
  EXPECT_GT(second.native_id.load(), 0);
  EXPECT_EQ(first.interrupted_at_start.load(), 0);
  EXPECT_EQ(second.interrupted_at_start.load(), 0);
  EXPECT_EQ(detail::pending_interrupts.load(), 0u) << "a request outlived its thread";
  // One stack cached, no more.
  EXPECT_LE(maps_lines_with_cache(), before + kMaxLinesPerStack);
  EXPECT_GE(maps_lines_with_cache(), before + 1);
}

TEST_F(CacheTest, ADetachedThreadsStackIsReused) {
  // The thread caches its own stack just before its exit system call; the
  // next start takes it once the kernel is done with the thread.
  static Seen first, second;
  first.reset();
  second.reset();
  Result<Ident> a = start_new_thread(see_and_request, &first);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  ASSERT_TRUE(rt_test::wait_thread_count(base_count_));
  Result<Ident> b = start_new_thread(see_and_request, &second);
  ASSERT_TRUE(b.has_value()) << b.error().message;
  ASSERT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(*b, *a) << "the second thread did not get the first one's stack";
  EXPECT_EQ(first.ident.load(), *a);
  EXPECT_EQ(second.ident.load(), *b);
  EXPECT_NE(second.native_id.load(), first.native_id.load());
  EXPECT_EQ(second.interrupted_at_start.load(), 0);
  EXPECT_EQ(detail::pending_interrupts.load(), 0u) << "a request outlived its thread";
}

TEST_F(CacheTest, AStartWithAnotherStackSizeGetsNoCachedStack) {
  RT_REQUIRES_CONCURRENCY();  // each thread waits at a gate while main reads the maps
  static Lock gate;
  static std::atomic<std::uintptr_t> local;
  // Starts a joinable thread, finds the mapping its stack is in, lets it
  // end and joins it (its stack then cached); returns that mapping's size.
  auto stack_mapping_of_a_thread = []() -> std::uintptr_t {
    local = 0;
    if (!gate.try_lock()) return 0;
    Result<Thread> t = start_joinable_thread([] {
      volatile char probe = 1;
      local.store(reinterpret_cast<std::uintptr_t>(&probe));
      pass(gate);
    });
    if (!t.has_value()) {
      gate.unlock();
      return 0;
    }
    std::uintptr_t size = wait_for([] { return local.load() != 0; }) ? mapping_size_at(local) : 0;
    gate.unlock();
    return is_true(t->join(rt_test::kDeadline)) ? size : 0;
  };
  const long before = maps_lines_with_cache();
  constexpr long kLarger = 256 * 1024;
  const std::uintptr_t default_size = stack_mapping_of_a_thread();
  ASSERT_GT(default_size, 0u);
  ASSERT_LT(default_size, static_cast<std::uintptr_t>(kLarger));
  ASSERT_TRUE(stack_size(kLarger).has_value());
  const std::uintptr_t larger_size = stack_mapping_of_a_thread();
  EXPECT_GE(larger_size, static_cast<std::uintptr_t>(kLarger))
      << "a thread started with a " << kLarger << "-byte stack_size() got a smaller stack";
  // The cached default-size stack was unmapped on the way, not kept: only
  // the larger one is cached now.
  EXPECT_LE(maps_lines_with_cache(), before + kMaxLinesPerStack);
  ASSERT_TRUE(stack_size(0L).has_value());
  const std::uintptr_t default_again = stack_mapping_of_a_thread();
  // (Not compared by ident: the fresh mapping may well end where the larger
  // one did, which puts its thread pointer at the same address.)
  EXPECT_EQ(default_again, default_size) << "back at the default size, a thread got another size";
  EXPECT_LE(maps_lines_with_cache(), before + kMaxLinesPerStack);
  release_cached_stacks();
  EXPECT_EQ(maps_lines_with_cache(), before);
}

TEST_F(CacheTest, ReleaseUnmapsOnlyTheStacksOfEndedThreads) {
  RT_REQUIRES_MAPPING_COUNTS();
  RT_REQUIRES_CONCURRENCY();  // three threads run at a gate while the cache is released
  constexpr int kRunning = 3;
  constexpr int kEnded = 4;
  static Lock running_gate, ended_gate;
  static std::atomic<std::uintptr_t> locals[kRunning];
  static std::atomic<int> used_stack;
  for (auto& l : locals) l = 0;
  used_stack = 0;
  const long before = maps_lines_with_cache();
  ASSERT_TRUE(running_gate.try_lock());
  ASSERT_TRUE(ended_gate.try_lock());
  Thread running[kRunning], ended[kEnded];
  for (int i = 0; i < kRunning; ++i) {
    Result<Thread> r = start_joinable_thread(
        [](int me) {
          volatile char probe[64] = {};
          locals[me].store(reinterpret_cast<std::uintptr_t>(&probe[0]));
          pass(running_gate);
          // After the release: its stack is there still, down to 16 KiB
          // below this frame.
          volatile char deeper[16 * 1024];
          rt_test::touch_stack_down(deeper, sizeof deeper);
          used_stack.fetch_add(1);
        },
        i);
    if (!r.has_value()) running_gate.unlock();
    ASSERT_TRUE(r.has_value()) << r.error().message;
    running[i] = std::move(*r);
  }
  // Started together, ended together: four stacks to cache.
  for (auto& t : ended) {
    Result<Thread> r = start_joinable_thread([] { pass(ended_gate); });
    ASSERT_TRUE(r.has_value()) << r.error().message;
    t = std::move(*r);
  }
  ended_gate.unlock();
  for (auto& t : ended) EXPECT_TRUE(is_true(t.join(rt_test::kDeadline)));
  ASSERT_TRUE(wait_for([] {
    for (auto& l : locals)
      if (l.load() == 0) return false;
    return true;
  }));
  EXPECT_EQ(thread_count(), base_count_ + kRunning);
  const long with_cache = maps_lines_with_cache();
  EXPECT_GE(with_cache, before + kRunning + kEnded);

  release_cached_stacks();
  const long released = maps_lines_with_cache();
  EXPECT_GE(released, before + kRunning) << "a running thread's stack was unmapped";
  EXPECT_LE(released, with_cache - kEnded) << "an ended thread's stack was left mapped";
  for (auto& l : locals) EXPECT_NE(mapping_size_at(l.load()), 0u) << "a running thread's stack is gone";
  EXPECT_EQ(thread_count(), base_count_ + kRunning);

  running_gate.unlock();
  for (auto& t : running) EXPECT_TRUE(is_true(t.join(rt_test::kDeadline)));
  EXPECT_EQ(used_stack.load(), kRunning);
  release_cached_stacks();
  EXPECT_EQ(maps_lines_with_cache(), before);
}

TEST_F(CacheTest, ReleaseWaitsForThreadsStillInTheirExit) {
  // Detached threads cache their own stacks and count themselves out before
  // their exit system call: a release right after the count came back must
  // wait for each of them, and then leave nothing of theirs mapped.
  static std::atomic<int> ran;
  const long before = maps_lines_with_cache();
  for (int round = 0; round < 50; ++round) {
    ran = 0;
    for (long i = 0; i < kCacheBound; ++i)
      ASSERT_TRUE(start_new_thread([] { ran.fetch_add(1); }).has_value());
    ASSERT_TRUE(rt_test::wait_thread_count(base_count_));
    release_cached_stacks();
    ASSERT_EQ(maps_lines_with_cache(), before) << "round " << round;
    ASSERT_EQ(ran.load(), kCacheBound);
  }
}

TEST_F(CacheTest, SignalsToThreadsAsTheyEndAreHarmless) {
  // A thread that caches its own stack exits with signals unblocked: a
  // handler may run on that stack until the exit system call, so the next
  // start must not take it before the kernel is done with the thread, and a
  // request a handler makes there must not outlive the thread. Threads end
  // one after the other under a storm of signals whose handler requests an
  // interrupt; they all run, and no request is left pending.
  RT_REQUIRES_CONCURRENCY();  // the storm comes from another thread
  rt_test::SignalGuard usr1(SIGUSR1, rt_test::count_and_request);
  ASSERT_TRUE(usr1.ok());
  rt_test::g_handler_runs = 0;
  static std::atomic<long> current_tid;
  static std::atomic<bool> stop;
  static std::atomic<long> ran, sent;
  current_tid = 0;
  stop = false;
  ran = 0;
  sent = 0;
  rt_test::HelperThread sender([] {
    const long pid = ::getpid();
    while (!stop.load(std::memory_order_relaxed)) {
      // The thread that last said hello, until the next one does: also
      // while it ends (ESRCH once it is gone).
      long tid = current_tid.load(std::memory_order_relaxed);
      if (tid != 0 && ::syscall(SYS_tgkill, pid, tid, SIGUSR1) == 0)
        sent.fetch_add(1, std::memory_order_relaxed);
    }
  });
  auto body = [] {
    current_tid.store(get_native_id());
    // Alive long enough for the storm to find it running, now and then
    // right as it ends.
    for (int spin = 0; spin < 20000; ++spin) __asm__ volatile("" ::: "memory");
    ran.fetch_add(1);
  };
  const long threads = rt_test::iterations(1500, 150);
  long started = 0;
  for (long i = 0; i < threads; ++i) {
    if (i % 2 == 0) {
      Result<Thread> t = start_joinable_thread(body);
      ASSERT_TRUE(t.has_value()) << t.error().message;
      ASSERT_TRUE(is_true(t->join(rt_test::kDeadline)));
    } else {
      ASSERT_TRUE(start_new_thread(body).has_value());
      ASSERT_TRUE(rt_test::wait_thread_count(base_count_));
    }
    ++started;
  }
  stop = true;
  sender.join();
  current_tid = 0;
  std::printf("signals to ending threads: %ld threads, %ld signals sent, %d handler runs\n",
              started, sent.load(), rt_test::g_handler_runs.load());
  std::fflush(stdout);
  EXPECT_EQ(ran.load(), threads);
  EXPECT_EQ(detail::pending_interrupts.load(), 0u) << "a request outlived its thread";
  rt_test::expect_no_pending_request();
}

}  // namespace
