// SPDX-License-Identifier: MIT
// Joinable threads: start_joinable_thread and Thread. join before and after
// the thread ends, timed joins, every error, many joiners of one thread,
// detaching by destruction and by move (and a detached thread's exit leaving
// its old range alone), exit_thread, the stored copies, churns of 10,000
// threads, and signal handlers during a join.
//
// A joined thread's stack is given back by the joiner (cached for reuse, or
// unmapped) before join returns, so right after a join thread_count() and
// /proc/self/maps (counted with the cache released: rt_test::maps_lines) are
// exact; only a detached thread, which gives back its own, needs a wait. Handles that rawthread
// threads join are statics: if a join ever hung, the thread stuck in it
// would still read a live object after the test gave up on it.
#include <cmath>
#include <limits>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;
using rt_test::is_false;
using rt_test::is_true;
using rt_test::kDummy;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

class JoinableTest : public rt_test::RawthreadTest {
 protected:
  void TearDown() override {
    (void)stack_size(0L);
    rt_test::RawthreadTest::TearDown();
  }
};

// A lock the main thread holds while threads wait behind it. Opened at the end
// of the scope at the latest, so that a failed assertion leaves no thread
// blocked; open() may be called from a helper thread.
class Gate {
 public:
  explicit Gate(Lock& lock) : lock_(lock), held_(is_true(lock.acquire(false))) {}
  ~Gate() { open(); }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  bool held() const { return held_.load(); }
  void open() {
    if (held_.exchange(false)) (void)lock_.release();
  }

 private:
  Lock& lock_;
  std::atomic<bool> held_;
};

// Waits behind a gate: acquires and at once releases it. Safe in thread bodies.
void pass(Lock& gate) noexcept {
  (void)gate.acquire();
  (void)gate.release();
}

// What a join in a thread body returned, for the main thread to check.
struct Seen {
  std::atomic<int> outcome{0};  // 0: nothing yet, 1: true, 2: false, 3: an error
  std::atomic<int> kind{-1};
  std::atomic<int> sys_errno{-1};
  std::atomic<const char*> message{nullptr};

  void reset() {
    outcome = 0;
    kind = -1;
    sys_errno = -1;
    message = nullptr;
  }
  // Safe in thread bodies.
  void record(const Result<bool>& r) noexcept {
    if (r.has_value()) {
      outcome.store(*r ? 1 : 2);
      return;
    }
    kind.store(static_cast<int>(r.error().kind));
    sys_errno.store(r.error().sys_errno);
    message.store(r.error().message);
    outcome.store(3);
  }
};

void expect_seen_error(const Seen& seen, Errc kind, const char* message) {
  ASSERT_EQ(seen.outcome.load(), 3) << "no error (1: true, 2: false, 0: nothing recorded)";
  EXPECT_EQ(static_cast<Errc>(seen.kind.load()), kind);
  ASSERT_NE(seen.message.load(), nullptr);
  EXPECT_STREQ(seen.message.load(), message);
  EXPECT_EQ(seen.sys_errno.load(), 0);
}

// Spins (yielding) until thread_count() is at most `count`: the bound on live
// threads in the churns. The churns need it often, so it does not sleep.
bool wait_count_at_most(std::size_t count, double seconds = rt_test::kDeadline) {
  const std::int64_t deadline = now_ns() + rt_test::to_ns(seconds);
  while (thread_count() > count) {
    if (now_ns() >= deadline) return thread_count() <= count;
    std::this_thread::yield();
  }
  return true;
}

// ---------------------------------------------------------------- join

TEST_F(JoinableTest, JoinAThreadThatHasEnded) {
  static std::atomic<int> ran;
  static int written;  // plain: join alone makes the thread's write visible
  ran = 0;
  written = 0;
  long maps_before = rt_test::maps_lines();
  auto r = start_joinable_thread([] {
    written = 42;
    ran.store(1, std::memory_order_relaxed);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  EXPECT_NE(t.ident(), 0u);
  if (kDummy) {
    // The function ran as the thread that started it, and is done already.
    EXPECT_EQ(t.ident(), get_ident());
    EXPECT_TRUE(t.is_done());
  } else {
    EXPECT_NE(t.ident(), get_ident());
  }
  ASSERT_TRUE(wait_for([&] { return t.is_done(); })) << "is_done() never became true";
  EXPECT_EQ(ran.load(), 1);
  if (kDummy) {
    // No stack of its own waits for the handle: nothing counts.
    EXPECT_EQ(thread_count(), base_count_);
  } else {
    // Ended but not joined: its stack waits for the handle and still counts.
    EXPECT_EQ(thread_count(), base_count_ + 1);
  }
  Result<bool> joined = t.join();
  ASSERT_TRUE(joined.has_value()) << joined.error().message;
  EXPECT_TRUE(*joined);
  EXPECT_EQ(written, 42);
  EXPECT_EQ(thread_count(), base_count_) << "join returned before the stack was reclaimed";
  EXPECT_EQ(rt_test::maps_lines(), maps_before);
  EXPECT_TRUE(t.is_done());
  // Joining again is harmless, timed or not.
  EXPECT_TRUE(is_true(t.join()));
  EXPECT_TRUE(is_true(t.join(0)));
  EXPECT_TRUE(is_true(t.join(1.5)));
  EXPECT_TRUE(t.is_done());
  EXPECT_EQ(thread_count(), base_count_);
}

TEST_F(JoinableTest, JoinWaitsForAThreadThatEndsLater) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits at a gate while main joins
  static Lock lock;
  static std::atomic<int> started, ran;
  static int written;
  started = 0;
  ran = 0;
  written = 0;
  Gate gate(lock);
  ASSERT_TRUE(gate.held());
  auto r = start_joinable_thread([] {
    started.store(1);
    pass(lock);
    written = 7;
    ran.store(1, std::memory_order_relaxed);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  ASSERT_TRUE(wait_for([] { return started.load() == 1; }));
  EXPECT_FALSE(t.is_done()) << "a thread blocked on a lock is not done";
  rt_test::sleep_ms(20);
  EXPECT_FALSE(t.is_done());
  EXPECT_EQ(thread_count(), base_count_ + 1);

  // The gate opens only once main sleeps in join.
  const long main_tid = rt_test::gettid_now();
  std::atomic<bool> sleeping_seen{false};
  std::atomic<std::int64_t> opened_at{0};
  rt_test::HelperThread opener([&] {
    sleeping_seen = rt_test::wait_until_sleeping(main_tid);
    opened_at = now_ns();
    gate.open();
  });
  Result<bool> joined = t.join(rt_test::kDeadline);
  const std::int64_t returned_at = now_ns();
  opener.join();
  ASSERT_TRUE(joined.has_value()) << joined.error().message;
  EXPECT_TRUE(*joined);
  EXPECT_TRUE(sleeping_seen.load());
  EXPECT_GE(returned_at, opened_at.load()) << "join returned before the thread could end";
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(written, 7);
  EXPECT_TRUE(t.is_done());
  EXPECT_EQ(thread_count(), base_count_);
  EXPECT_TRUE(is_true(t.join()));
}

TEST_F(JoinableTest, TimedJoinOfARunningThreadTimesOut) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits at a gate while main joins
  static Lock lock;
  static std::atomic<int> started, ran;
  started = 0;
  ran = 0;
  Gate gate(lock);
  ASSERT_TRUE(gate.held());
  auto r = start_joinable_thread([] {
    started.store(1);
    pass(lock);
    ran.store(1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  ASSERT_TRUE(wait_for([] { return started.load() == 1; }));

  std::int64_t t0 = now_ns();
  Result<bool> joined = t.join(0.2);
  double elapsed = seconds_since(t0);
  ASSERT_TRUE(joined.has_value()) << joined.error().message;
  EXPECT_FALSE(*joined);
  EXPECT_GE(elapsed, 0.2) << "a timed-out join waited less than its timeout";
  EXPECT_LT(elapsed, rt_test::kDeadline);
  // The thread runs on, still joinable.
  EXPECT_FALSE(t.is_done());
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(thread_count(), base_count_ + 1);

  // join(0) polls.
  t0 = now_ns();
  EXPECT_TRUE(is_false(t.join(0)));
  EXPECT_TRUE(is_false(t.join(0.0)));
  EXPECT_LT(seconds_since(t0), rt_test::kDeadline);
  EXPECT_FALSE(t.is_done());

  gate.open();
  ASSERT_TRUE(wait_for([&] { return t.is_done(); }));
  EXPECT_EQ(thread_count(), base_count_ + 1) << "an unjoined thread gave its stack away";
  EXPECT_TRUE(is_true(t.join(0))) << "join(0) of an ended thread joins it";
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(thread_count(), base_count_);
  EXPECT_TRUE(is_true(t.join(0.1)));
}

TEST_F(JoinableTest, TimedJoinReturnsTrueOnceTheThreadEnds) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits at a gate while main joins
  static Lock lock;
  static std::atomic<int> ran;
  ran = 0;
  Gate gate(lock);
  ASSERT_TRUE(gate.held());
  auto r = start_joinable_thread([] {
    pass(lock);
    ran.store(1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  rt_test::HelperThread opener([&] {
    rt_test::sleep_ms(100);
    gate.open();
  });
  // A long timeout: true as soon as the thread ends, not at the timeout.
  std::int64_t t0 = now_ns();
  Result<bool> joined = t.join(rt_test::kDeadline);
  double elapsed = seconds_since(t0);
  opener.join();
  ASSERT_TRUE(joined.has_value()) << joined.error().message;
  EXPECT_TRUE(*joined);
  EXPECT_LT(elapsed, rt_test::kDeadline);
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(thread_count(), base_count_);
}

TEST_F(JoinableTest, AThreadJoinsAThreadItStarted) {
  // start_joinable_thread and join are rawthread calls: a thread body may
  // use them, with the handle on its own stack.
  static std::atomic<int> inner_ran, outcome;
  static std::atomic<std::size_t> count_after;
  inner_ran = 0;
  outcome = 0;
  count_after = 0;
  auto r = start_joinable_thread([] {
    auto inner = start_joinable_thread([] {
      rt_test::body_sleep(0.02);
      inner_ran.store(1);
    });
    if (!inner) {
      outcome.store(-1);
      return;
    }
    Thread t = std::move(*inner);
    Result<bool> j = t.join();
    count_after.store(thread_count());
    outcome.store(is_true(j) ? 1 : -2);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  EXPECT_TRUE(is_true(t.join(rt_test::kDeadline)));
  EXPECT_EQ(outcome.load(), 1);
  EXPECT_EQ(inner_ran.load(), 1);
  EXPECT_EQ(count_after.load(), base_count_ + 1) << "only the outer thread was left";
  EXPECT_EQ(thread_count(), base_count_);
}

// ---------------------------------------------------------------- errors

TEST_F(JoinableTest, FailedStartLeavesNothing) {
  // The same error as start_new_thread's; the stored copies are destroyed
  // and no thread or mapping is left.
  static std::atomic<int> ran, destroyed;
  ran = 0;
  destroyed = 0;
  struct Noted {
    std::atomic<int>* counter;
    bool live = true;
    explicit Noted(std::atomic<int>* c) : counter(c) {}
    Noted(Noted&& o) noexcept : counter(o.counter), live(o.live) { o.live = false; }
    ~Noted() {
      if (live) counter->fetch_add(1);
    }
  };
  if (kDummy) {
    // The function runs on the caller's stack: no size can be too large to
    // map, and setting one is refused, so the start goes ahead. It leaves
    // nothing either.
    expect_error(stack_size(1L << 60), Errc::thread_error,
                 rt_test::kStackSizeNotSupportedMessage);
    EXPECT_EQ(stack_size(), 0u);
    long maps_before = rt_test::maps_lines();
    Result<Thread> r = start_joinable_thread([](Noted&&) { ran.store(1); }, Noted(&destroyed));
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(ran.load(), 1);
    EXPECT_EQ(destroyed.load(), 1) << "the stored argument, destroyed once";
    EXPECT_EQ(thread_count(), base_count_);
    EXPECT_EQ(rt_test::maps_lines(), maps_before);
    return;
  }
  ASSERT_TRUE(stack_size(1L << 60).has_value());
  long maps_before = rt_test::maps_lines();
  Result<Thread> r = start_joinable_thread([](Noted&&) { ran.store(1); }, Noted(&destroyed));
  ASSERT_FALSE(r.has_value()) << "a thread started with a stack of 2^60 bytes";
  expect_error(r, Errc::thread_error, "can't start new thread", ENOMEM);
  EXPECT_EQ(destroyed.load(), 1) << "the stored argument, destroyed once";
  EXPECT_EQ(thread_count(), base_count_);
  EXPECT_EQ(rt_test::maps_lines(), maps_before);
  ASSERT_TRUE(stack_size(0L).has_value());
  rt_test::sleep_ms(20);
  EXPECT_EQ(ran.load(), 0);
}

TEST_F(JoinableTest, EmptyHandleCannotBeJoined) {
  Thread empty;
  EXPECT_EQ(empty.ident(), 0u);
  EXPECT_FALSE(empty.is_done());
  const char* kNotStarted = "cannot join thread before it is started";
  expect_error(empty.join(), Errc::thread_error, kNotStarted);
  expect_error(empty.join(0), Errc::thread_error, kNotStarted);
  expect_error(empty.join(1.0), Errc::thread_error, kNotStarted);
  // The empty handle comes first, before the timeout's checks.
  expect_error(empty.join(-2), Errc::thread_error, kNotStarted);
  expect_error(empty.join(std::numeric_limits<double>::infinity()), Errc::thread_error,
               kNotStarted);
  EXPECT_EQ(empty.ident(), 0u);
  EXPECT_FALSE(empty.is_done());

  // A moved-from handle is empty too.
  static std::atomic<int> ran;
  ran = 0;
  auto r = start_joinable_thread([] { ran.store(1); });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  const Ident ident = t.ident();
  Thread other(std::move(t));
  EXPECT_EQ(t.ident(), 0u);  // a moved-from handle is empty
  EXPECT_FALSE(t.is_done());
  expect_error(t.join(), Errc::thread_error, kNotStarted);
  expect_error(t.join(0.5), Errc::thread_error, kNotStarted);
  EXPECT_EQ(other.ident(), ident);
  EXPECT_TRUE(is_true(other.join(rt_test::kDeadline)));
  EXPECT_EQ(ran.load(), 1);
  // And still empty after the thread it lost was joined.
  expect_error(t.join(), Errc::thread_error, kNotStarted);
  EXPECT_EQ(thread_count(), base_count_);
}

TEST_F(JoinableTest, BadTimeoutsAreErrorsThatLeaveTheThreadJoinable) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits at a gate main opens
  static Lock lock;
  static std::atomic<int> ran;
  ran = 0;
  Gate gate(lock);
  ASSERT_TRUE(gate.held());
  auto r = start_joinable_thread([] {
    pass(lock);
    ran.store(1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  const Ident ident = t.ident();
  const double inf = std::numeric_limits<double>::infinity();
  const char* kNegative = "timeout value must be a non-negative number";
  const char* kTooLarge = "timeout value is too large";

  auto expect_unchanged = [&] {
    EXPECT_EQ(t.ident(), ident);
    EXPECT_EQ(thread_count(), base_count_ + 1);
  };
  // Once while the thread runs, once after it ended unjoined: an error never
  // waits and never joins.
  for (int phase = 0; phase < 2; ++phase) {
    SCOPED_TRACE(phase == 0 ? "running" : "ended, not joined");
    std::int64_t t0 = now_ns();
    for (double bad : {-2.0, -0.5, -1e-9, -inf, std::nan("")}) {
      SCOPED_TRACE(bad);
      expect_error(t.join(bad), Errc::value_error, kNegative);
      expect_unchanged();
    }
    for (double bad : {TIMEOUT_MAX * 2, std::nextafter(TIMEOUT_MAX, inf), 1e300, inf}) {
      SCOPED_TRACE(bad);
      expect_error(t.join(bad), Errc::overflow_error, kTooLarge);
      expect_unchanged();
    }
    EXPECT_LT(seconds_since(t0), rt_test::kDeadline);
    EXPECT_EQ(t.is_done(), phase == 1);
    if (phase == 0) {
      EXPECT_EQ(ran.load(), 0);
      gate.open();
      ASSERT_TRUE(wait_for([&] { return t.is_done(); }));
    }
  }
  // TIMEOUT_MAX itself is a valid timeout.
  EXPECT_TRUE(is_true(t.join(TIMEOUT_MAX)));
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(thread_count(), base_count_);
  // After the join the argument checks still come first.
  expect_error(t.join(-2), Errc::value_error, kNegative);
  expect_error(t.join(inf), Errc::overflow_error, kTooLarge);
  EXPECT_TRUE(is_true(t.join()));
}

TEST_F(JoinableTest, ThreadCannotJoinItself) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits for main to hand it its own handle
  // The thread gets its own handle through a slot the main thread fills
  // before it opens the gate.
  static Lock lock;
  static Thread slot;
  static Seen untimed, timed, polled, bad_timeout;
  static std::atomic<int> done_inside;
  static std::atomic<Ident> ident_inside;
  untimed.reset();
  timed.reset();
  polled.reset();
  bad_timeout.reset();
  done_inside = -1;
  ident_inside = 0;
  Gate gate(lock);
  ASSERT_TRUE(gate.held());
  auto r = start_joinable_thread([] {
    pass(lock);
    ident_inside.store(slot.ident());
    untimed.record(slot.join());
    timed.record(slot.join(5.0));
    polled.record(slot.join(0));
    // The timeout's checks come before the self-join check.
    bad_timeout.record(slot.join(-2));
    done_inside.store(slot.is_done() ? 1 : 0);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  slot = std::move(*r);
  const Ident ident = slot.ident();
  gate.open();
  ASSERT_TRUE(wait_for([] { return done_inside.load() != -1; }));
  EXPECT_EQ(ident_inside.load(), ident);
  const char* kSelf = "cannot join current thread";
  {
    SCOPED_TRACE("join()");
    expect_seen_error(untimed, Errc::thread_error, kSelf);
  }
  {
    SCOPED_TRACE("join(5.0)");
    expect_seen_error(timed, Errc::thread_error, kSelf);
  }
  {
    SCOPED_TRACE("join(0)");
    expect_seen_error(polled, Errc::thread_error, kSelf);
  }
  {
    SCOPED_TRACE("join(-2)");
    expect_seen_error(bad_timeout, Errc::value_error,
                      "timeout value must be a non-negative number");
  }
  EXPECT_EQ(done_inside.load(), 0) << "is_done() in the running thread itself";
  // The errors left it joinable.
  EXPECT_TRUE(is_true(slot.join(rt_test::kDeadline)));
  EXPECT_EQ(slot.ident(), ident);
  EXPECT_EQ(thread_count(), base_count_);
}

// ---------------------------------------------------------------- many joiners

constexpr int kJoiners = 8;

// One long-running thread, joined by kJoiners rawthread threads and by main
// at once, over several rounds. Every join returns true, and the thread's
// stack is reclaimed exactly once: a second reclaim would count the thread
// out twice (thread_count() below its old value) and unmap the range again,
// taking whatever was mapped there since.
struct ManyJoiners {
  static inline Lock lock;
  static inline Thread target;
  static inline Seen seen[kJoiners];
  static inline std::atomic<long> native[kJoiners];
  static inline std::atomic<int> ready, target_ran;
  static inline std::atomic<long> timeouts;

  // Joins the target untimed.
  static void join_untimed(int i) noexcept {
    native[i].store(get_native_id());
    ready.fetch_add(1);
    seen[i].record(target.join());
  }
  // Joins the target with a 1 ms timeout over and over, asking is_done() in
  // between, until a join returns true or an error.
  static void join_polling(int i) noexcept {
    native[i].store(get_native_id());
    ready.fetch_add(1);
    for (;;) {
      Result<bool> r = target.join(0.001);
      if (!is_false(r)) {
        seen[i].record(r);
        return;
      }
      timeouts.fetch_add(1);
      (void)target.is_done();  // one more reader of the thread's mapping
    }
  }

  static void run(void (*joiner)(int) noexcept, bool main_polls, int rounds) {
    const std::size_t base = thread_count();
    const long maps_before = rt_test::maps_lines();
    timeouts = 0;
    for (int round = 0; round < rounds; ++round) {
      SCOPED_TRACE(round);
      ready = 0;
      target_ran = 0;
      for (int i = 0; i < kJoiners; ++i) {
        seen[i].reset();
        native[i] = 0;
      }
      Gate gate(lock);
      ASSERT_TRUE(gate.held());
      auto r = start_joinable_thread([] {
        pass(lock);
        target_ran.store(1);
      });
      ASSERT_TRUE(r.has_value()) << r.error().message;
      target = std::move(*r);
      for (int i = 0; i < kJoiners; ++i) {
        auto j = start_new_thread(joiner, i);
        ASSERT_TRUE(j.has_value()) << j.error().message;
      }
      ASSERT_TRUE(wait_for([] { return ready.load() == kJoiners; }));
      if (joiner == &join_untimed) {
        // All of them asleep in join when the target ends.
        for (int i = 0; i < kJoiners; ++i) EXPECT_TRUE(rt_test::wait_until_sleeping(native[i]));
      } else {
        rt_test::sleep_ms(20);  // a few timeouts each first
      }
      // The gate opens while main, too, waits in join.
      const long main_tid = rt_test::gettid_now();
      rt_test::HelperThread opener([&] {
        if (!main_polls) rt_test::wait_until_sleeping(main_tid);
        rt_test::sleep_ms(10);
        gate.open();
      });
      bool main_joined = false;
      if (main_polls) {
        const std::int64_t deadline = now_ns() + rt_test::to_ns(rt_test::kDeadline);
        while (!main_joined && now_ns() < deadline) {
          Result<bool> m = target.join(0.002);
          ASSERT_TRUE(m.has_value()) << m.error().message;
          main_joined = *m;
        }
      } else {
        Result<bool> m = target.join(rt_test::kDeadline);
        ASSERT_TRUE(m.has_value()) << m.error().message;
        main_joined = *m;
      }
      opener.join();
      EXPECT_TRUE(main_joined);
      EXPECT_EQ(target_ran.load(), 1);
      EXPECT_TRUE(wait_for([] {
        for (const Seen& s : seen)
          if (s.outcome.load() == 0) return false;
        return true;
      })) << "a joiner never returned";
      for (int i = 0; i < kJoiners; ++i)
        EXPECT_EQ(seen[i].outcome.load(), 1) << "joiner " << i << " (2: false, 3: error)";
      // The joiners end and unmap themselves; the target is long gone.
      EXPECT_TRUE(rt_test::wait_thread_count(base))
          << "thread_count() " << thread_count() << ", expected " << base;
      EXPECT_TRUE(rt_test::maps_back_to(maps_before));
      EXPECT_TRUE(is_true(target.join(0)));
    }
  }
};

TEST_F(JoinableTest, ManyThreadsJoinOneThreadAtOnce) {
  RT_REQUIRES_CONCURRENCY();  // joiners wait while the target waits at a gate
  ManyJoiners::run(&ManyJoiners::join_untimed, /*main_polls=*/false, 5);
}

TEST_F(JoinableTest, ManyThreadsJoinOneThreadWithShortTimeouts) {
  RT_REQUIRES_CONCURRENCY();  // joiners wait while the target waits at a gate
  ManyJoiners::run(&ManyJoiners::join_polling, /*main_polls=*/true, 5);
  EXPECT_GT(ManyJoiners::timeouts.load(), 0) << "no join timed out: the test proved little";
}

// ---------------------------------------------------------------- detaching

TEST_F(JoinableTest, DestroyingTheHandleOfARunningThreadDetachesIt) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits at a gate main opens
  static Lock lock;
  static std::atomic<int> ran;
  ran = 0;
  long maps_before = rt_test::maps_lines();
  Gate gate(lock);
  ASSERT_TRUE(gate.held());
  {
    auto r = start_joinable_thread([] {
      pass(lock);
      ran.store(1);
    });
    ASSERT_TRUE(r.has_value()) << r.error().message;
    Thread t = std::move(*r);
  }  // both the Result and t destroyed here
  EXPECT_EQ(thread_count(), base_count_ + 1) << "the detached thread is still running";
  EXPECT_EQ(ran.load(), 0);
  gate.open();
  EXPECT_TRUE(wait_for([] { return ran.load() == 1; }));
  // It unmaps its own stack as it exits.
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_TRUE(rt_test::maps_back_to(maps_before));
}

TEST_F(JoinableTest, DestroyingTheHandleOfAnEndedThreadReclaimsIt) {
  static std::atomic<int> ran;
  ran = 0;
  long maps_before = rt_test::maps_lines();
  {
    auto r = start_joinable_thread([] { ran.store(1); });
    ASSERT_TRUE(r.has_value()) << r.error().message;
    Thread t = std::move(*r);
    ASSERT_TRUE(wait_for([&] { return t.is_done(); }));
    rt_test::sleep_ms(10);
    if (kDummy) {
      EXPECT_EQ(thread_count(), base_count_) << "no stack of its own waits for the handle";
    } else {
      EXPECT_EQ(thread_count(), base_count_ + 1) << "the ended thread's stack waits for its handle";
    }
  }
  // The destructor unmapped it, before it returned.
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(thread_count(), base_count_);
  EXPECT_EQ(rt_test::maps_lines(), maps_before);
}

TEST_F(JoinableTest, MovingAHandle) {
  RT_REQUIRES_CONCURRENCY();  // the threads wait at a gate main opens
  static Lock lock;
  static std::atomic<int> ran[3];
  for (auto& r : ran) r = 0;
  long maps_before = rt_test::maps_lines();
  Gate gate(lock);
  ASSERT_TRUE(gate.held());
  auto body = [](int i) {
    pass(lock);
    ran[i].store(1);
  };
  auto ra = start_joinable_thread(body, 0);
  auto rb = start_joinable_thread(body, 1);
  auto rc = start_joinable_thread(body, 2);
  ASSERT_TRUE(ra.has_value() && rb.has_value() && rc.has_value());
  Thread a = std::move(*ra), b = std::move(*rb), c = std::move(*rc);
  const Ident ia = a.ident(), ib = b.ident(), ic = c.ident();
  EXPECT_NE(ia, ib);
  EXPECT_NE(ib, ic);
  EXPECT_NE(ia, ic);

  // Move construction: the ident goes along, the source is empty.
  Thread moved(std::move(a));
  EXPECT_EQ(moved.ident(), ia);
  EXPECT_EQ(a.ident(), 0u);
  EXPECT_FALSE(a.is_done());
  expect_error(a.join(0), Errc::thread_error, "cannot join thread before it is started");
  EXPECT_FALSE(moved.is_done());

  // Move assignment over a live, unjoined handle detaches its thread.
  moved = std::move(b);
  EXPECT_EQ(moved.ident(), ib);
  EXPECT_EQ(b.ident(), 0u);
  expect_error(b.join(0), Errc::thread_error, "cannot join thread before it is started");
  EXPECT_EQ(thread_count(), base_count_ + 3) << "a detached thread runs on";

  // Into an empty handle, and back: nothing to detach.
  a = std::move(c);
  EXPECT_EQ(a.ident(), ic);
  EXPECT_EQ(c.ident(), 0u);
  // Assigning a handle to itself changes nothing.
  Thread& alias = a;
  a = std::move(alias);
  EXPECT_EQ(a.ident(), ic);
  EXPECT_EQ(thread_count(), base_count_ + 3);

  gate.open();
  EXPECT_TRUE(is_true(moved.join(rt_test::kDeadline)));
  EXPECT_EQ(ran[1].load(), 1);
  EXPECT_TRUE(is_true(a.join(rt_test::kDeadline)));
  EXPECT_EQ(ran[2].load(), 1);
  // A joined handle can be moved and assigned over: it has nothing to detach
  // and stays joined wherever it goes.
  Thread joined(std::move(a));
  EXPECT_EQ(joined.ident(), ic);
  EXPECT_TRUE(joined.is_done());
  EXPECT_TRUE(is_true(joined.join(0)));
  joined = std::move(moved);
  EXPECT_EQ(joined.ident(), ib);
  EXPECT_TRUE(is_true(joined.join(0)));
  // The thread detached by the assignment ends and unmaps itself.
  EXPECT_TRUE(wait_for([] { return ran[0].load() == 1; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_TRUE(rt_test::maps_back_to(maps_before));
}

TEST_F(JoinableTest, MoveAssigningOverAnEndedThreadReclaimsIt) {
  static std::atomic<int> ran;
  ran = 0;
  long maps_before = rt_test::maps_lines();
  auto r = start_joinable_thread([] { ran.fetch_add(1); });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  ASSERT_TRUE(wait_for([&] { return t.is_done(); }));
  t = Thread();
  EXPECT_EQ(t.ident(), 0u);
  EXPECT_EQ(thread_count(), base_count_);
  EXPECT_EQ(rt_test::maps_lines(), maps_before);
}

TEST_F(JoinableTest, DetachedThreadsDoNotWriteIntoTheirOldStacks) {
  RT_REQUIRES_CONCURRENCY();  // threads wait at a gate while others end
  // A detached thread unmaps its own stack as it exits when the cache of
  // stacks is full (16 detached threads a round, 8 slots). Its range is
  // free at once and the next thread started may get it, with its tid word
  // at the same place. The exiting thread must leave that word alone: the kernel
  // clearing the old tid there (CLONE_CHILD_CLEARTID) would make the new
  // thread look ended while it runs, and its joiner unmap a live stack.
  // Detached threads end while blocked ones start, and the blocked ones must
  // all look running.
  constexpr int kRounds = 200;
  constexpr int kPerRound = 16;
  static Lock lock;
  static std::atomic<int> detached_ran;
  detached_ran = 0;
  long maps_before = rt_test::maps_lines();
  int looked_done = 0, join_failures = 0, checked = 0;
  for (int round = 0; round < kRounds; ++round) {
    Gate gate(lock);
    ASSERT_TRUE(gate.held());
    Thread blocked[kPerRound];
    for (auto& t : blocked) {
      {
        auto r = start_joinable_thread([] { detached_ran.fetch_add(1); });
        ASSERT_TRUE(r.has_value()) << r.error().message;
      }  // the handle destroyed at once, most likely while the thread runs
      auto r = start_joinable_thread([] { pass(lock); });
      ASSERT_TRUE(r.has_value()) << r.error().message;
      t = std::move(*r);
    }
    // The detached threads count themselves out once their stacks are gone;
    // give their exits a moment more to finish.
    ASSERT_TRUE(wait_count_at_most(base_count_ + kPerRound));
    rt_test::sleep_ms(1);
    for (auto& t : blocked) {
      ++checked;
      if (t.is_done()) {
        // Joining would unmap the stack of a thread still blocked on the
        // gate: let it go instead, it unmaps its own stack when it ends.
        ++looked_done;
        t = Thread();
      }
    }
    gate.open();
    for (auto& t : blocked)
      if (t.ident() != 0 && !is_true(t.join(rt_test::kDeadline))) ++join_failures;
  }
  EXPECT_EQ(looked_done, 0) << "of " << checked
                            << " threads blocked on a lock, these looked ended";
  EXPECT_EQ(join_failures, 0);
  EXPECT_TRUE(wait_for([] { return detached_ran.load() == kRounds * kPerRound; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_TRUE(rt_test::maps_back_to(maps_before));
}

// ---------------------------------------------------------------- ends of a thread

std::atomic<int> g_exit_before, g_exit_after, g_exit_destroyed;

struct NoteDestruction {
  std::atomic<int>* counter;
  ~NoteDestruction() { counter->fetch_add(1); }
};

TEST_F(JoinableTest, ExitThreadInAJoinableThread) {
  g_exit_before = 0;
  g_exit_after = 0;
  g_exit_destroyed = 0;
  long maps_before = rt_test::maps_lines();
  auto r = start_joinable_thread([] {
    NoteDestruction local{&g_exit_destroyed};
    rt_test::body_sleep(0.02);  // so that join is likely to wait
    g_exit_before.store(1);
    exit_thread();
    g_exit_after.store(1);  // must never run
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  EXPECT_TRUE(is_true(t.join(rt_test::kDeadline)));
  EXPECT_EQ(g_exit_before.load(), 1);
  EXPECT_TRUE(t.is_done());
  EXPECT_EQ(thread_count(), base_count_);
  EXPECT_EQ(rt_test::maps_lines(), maps_before);
  rt_test::sleep_ms(20);
  EXPECT_EQ(g_exit_after.load(), 0) << "code after exit_thread() ran";
  EXPECT_EQ(g_exit_destroyed.load(), 0) << "exit_thread destroyed objects on the thread's stack";
}

// Bumps a counter when a live (not moved-from) instance is destroyed, after
// a short sleep: a join that returned before the stored copies were gone
// would see the count still 0.
struct SlowToDestroy {
  std::atomic<int>* destroyed;
  bool live = true;
  explicit SlowToDestroy(std::atomic<int>* d) : destroyed(d) {}
  SlowToDestroy(SlowToDestroy&& o) noexcept : destroyed(o.destroyed), live(o.live) {
    o.live = false;
  }
  SlowToDestroy(const SlowToDestroy&) = delete;
  SlowToDestroy& operator=(const SlowToDestroy&) = delete;
  ~SlowToDestroy() {
    if (!live) return;
    rt_test::body_sleep(0.03);
    destroyed->fetch_add(1);
  }
};

TEST_F(JoinableTest, StoredCopiesAreDestroyedBeforeJoinReturns) {
  static std::atomic<int> callable_destroyed, arg_destroyed, calls, seen_at_call;
  callable_destroyed = 0;
  arg_destroyed = 0;
  calls = 0;
  seen_at_call = -1;
  auto r = start_joinable_thread(
      [held = SlowToDestroy(&callable_destroyed)](SlowToDestroy&& arg) {
        (void)held;
        (void)arg;
        seen_at_call.store(callable_destroyed.load() + arg_destroyed.load());
        calls.fetch_add(1);
      },
      SlowToDestroy(&arg_destroyed));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  EXPECT_TRUE(is_true(t.join(rt_test::kDeadline)));
  // No waiting: join returned, so the copies are gone.
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(seen_at_call.load(), 0) << "a stored copy was destroyed before the call";
  EXPECT_EQ(callable_destroyed.load(), 1) << "the stored callable, destroyed once";
  EXPECT_EQ(arg_destroyed.load(), 1) << "the stored argument, destroyed once";
}

// ---------------------------------------------------------------- churn

// What happens to the handle of each thread of a churn.
enum class Fate { join_now, join_later, detach_now, detach_later };

// Starts `total` joinable threads, at most kLive alive (or ended and not yet
// reclaimed) at a time. Thread i meets fates[i % 4]: joined or detached right
// after its start (most likely while it runs), or once kRing younger threads
// have started (most likely after it ended). Everything is counted, nothing
// asserted inside the loop, so a failure reports totals.
void churn(int total, const Fate (&fates)[4]) {
  constexpr int kRing = 24;
  constexpr std::size_t kLive = 32;
  static std::atomic<int> ran;
  ran = 0;
  const std::size_t base = thread_count();
  // Warm up once, so whatever a first thread maps for good is mapped.
  {
    auto r = start_joinable_thread([] {});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_TRUE(is_true(r->join(rt_test::kDeadline)));
  }
  const long maps_before = rt_test::maps_lines();
  Thread ring[kRing];
  Fate ring_fate[kRing] = {};
  int started = 0, start_failures = 0, joined = 0, join_failures = 0, detached = 0;
  int first_errno = 0;
  bool stuck = false;
  auto finish = [&](Thread& t, Fate fate) {
    if (fate == Fate::join_now || fate == Fate::join_later) {
      if (is_true(t.join(rt_test::kDeadline)))
        ++joined;
      else
        ++join_failures;
    } else {
      t = Thread();
      ++detached;
    }
  };
  for (int i = 0; i < total && !stuck; ++i) {
    const Fate fate = fates[i % 4];
    Thread& slot = ring[i % kRing];
    if (slot.ident() != 0) finish(slot, ring_fate[i % kRing]);
    if (!wait_count_at_most(base + kLive - 1)) stuck = true;
    auto r = start_joinable_thread([] { ran.fetch_add(1, std::memory_order_relaxed); });
    if (!r) {
      ++start_failures;
      if (first_errno == 0) first_errno = r.error().sys_errno;
      continue;
    }
    ++started;
    if (fate == Fate::join_now || fate == Fate::detach_now) {
      finish(*r, fate);
    } else {
      slot = std::move(*r);
      ring_fate[i % kRing] = fate;
    }
  }
  for (int k = 0; k < kRing; ++k)
    if (ring[k].ident() != 0) finish(ring[k], ring_fate[k]);
  EXPECT_FALSE(stuck) << "thread_count() stayed at " << thread_count();
  EXPECT_EQ(start_failures, 0) << "start_joinable_thread failed, first errno " << first_errno;
  EXPECT_EQ(started, total);
  EXPECT_EQ(join_failures, 0);
  EXPECT_EQ(joined + detached, started);
  EXPECT_TRUE(wait_for([&] { return ran.load() == started; }))
      << ran.load() << " of " << started << " ran";
  EXPECT_TRUE(rt_test::wait_thread_count(base))
      << "thread_count() " << thread_count() << ", expected " << base;
  EXPECT_TRUE(rt_test::maps_back_to(maps_before));
}

TEST_F(JoinableTest, TenThousandJoinedThreadsLeaveNothingBehind) {
  churn(10000, {Fate::join_now, Fate::join_later, Fate::join_later, Fate::join_now});
}

TEST_F(JoinableTest, TenThousandThreadsHalfDetachedLeaveNothingBehind) {
  churn(10000, {Fate::join_now, Fate::detach_now, Fate::join_later, Fate::detach_later});
}

// ---------------------------------------------------------------- signals

std::atomic<int> g_handler_runs;

extern "C" void count_only(int) { g_handler_runs.fetch_add(1); }

TEST_F(JoinableTest, SignalHandlersDoNotEndAJoin) {
  RT_REQUIRES_CONCURRENCY();  // main joins a thread that waits at a gate
  // A handler that requests no interrupt: join waits on. (One that requests
  // an interrupt ends the join: test_thread_interrupt.cpp.)
  g_handler_runs = 0;
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  static Lock lock;
  static std::atomic<int> ran;
  ran = 0;
  Gate gate(lock);
  ASSERT_TRUE(gate.held());
  auto r = start_joinable_thread([] {
    pass(lock);
    ran.store(1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  const long main_tid = rt_test::gettid_now();
  std::atomic<int> sent{0};
  std::atomic<std::int64_t> opened_at{0};
  rt_test::HelperThread sender([&] {
    for (int i = 0; i < 3; ++i) {
      // Each signal finds main asleep in join again.
      if (!rt_test::wait_until_sleeping(main_tid)) break;
      rt_test::tgkill_main(main_tid, SIGUSR1);
      sent.fetch_add(1);
      wait_for([&] { return g_handler_runs.load() > i; }, 10.0);
    }
    rt_test::wait_until_sleeping(main_tid);
    opened_at = now_ns();
    gate.open();
  });
  Result<bool> joined = t.join(rt_test::kDeadline);
  const std::int64_t returned_at = now_ns();
  sender.join();
  ASSERT_TRUE(joined.has_value()) << "join returned " << rawthread::name(joined.error().kind);
  EXPECT_TRUE(*joined);
  EXPECT_EQ(sent.load(), 3);
  EXPECT_EQ(g_handler_runs.load(), 3) << "the handler did not run in the joining thread";
  EXPECT_GE(returned_at, opened_at.load()) << "a signal ended the join early";
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(thread_count(), base_count_);
}

TEST_F(JoinableTest, SignalHandlersDoNotShortenATimedJoin) {
  RT_REQUIRES_CONCURRENCY();  // main joins a thread that waits at a gate
  g_handler_runs = 0;
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  static Lock lock;
  Gate gate(lock);
  ASSERT_TRUE(gate.held());
  auto r = start_joinable_thread([] { pass(lock); });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  Thread t = std::move(*r);
  const long main_tid = rt_test::gettid_now();
  std::atomic<bool> stop{false};
  rt_test::HelperThread sender([&] {
    rt_test::wait_until_sleeping(main_tid);
    const std::int64_t give_up = now_ns() + rt_test::to_ns(10.0);
    while (!stop.load() && now_ns() < give_up) {
      rt_test::tgkill_main(main_tid, SIGUSR1);
      rt_test::sleep_ms(50);
    }
  });
  std::int64_t t0 = now_ns();
  Result<bool> joined = t.join(0.5);
  double elapsed = seconds_since(t0);
  stop = true;
  sender.join();
  ASSERT_TRUE(joined.has_value()) << rawthread::name(joined.error().kind);
  EXPECT_FALSE(*joined);
  EXPECT_GE(elapsed, 0.5) << "a signal cut the timed join short";
  EXPECT_LT(elapsed, 0.5 + 5.0) << "the signals stretched the wait";
  EXPECT_GE(g_handler_runs.load(), 1);
  EXPECT_FALSE(t.is_done());
  gate.open();
  EXPECT_TRUE(is_true(t.join(rt_test::kDeadline)));
}

TEST_F(JoinableTest, SignalHandlersDoNotEndAnUntimedJoinInAThread) {
  RT_REQUIRES_CONCURRENCY();  // a thread joins one that waits at a gate
  // A rawthread thread waits in an untimed join; signals sent to it run
  // their handler there and the join waits on.
  g_handler_runs = 0;
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  static Lock lock;
  static Thread target;
  static Seen seen;
  static std::atomic<long> joiner_tid;
  static std::atomic<int> target_ran;
  seen.reset();
  joiner_tid = 0;
  target_ran = 0;
  Gate gate(lock);
  ASSERT_TRUE(gate.held());
  auto r = start_joinable_thread([] {
    pass(lock);
    target_ran.store(1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  target = std::move(*r);
  auto j = start_new_thread([] {
    joiner_tid.store(get_native_id());
    seen.record(target.join());
  });
  ASSERT_TRUE(j.has_value()) << j.error().message;
  ASSERT_TRUE(wait_for([] { return joiner_tid.load() != 0; }));
  const long tid = joiner_tid.load();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(rt_test::wait_until_sleeping(tid));
    ASSERT_EQ(rt_test::tgkill_main(tid, SIGUSR1), 0);
    ASSERT_TRUE(wait_for([&] { return g_handler_runs.load() > i; }));
  }
  ASSERT_TRUE(rt_test::wait_until_sleeping(tid)) << "the joiner is not waiting any more";
  EXPECT_EQ(seen.outcome.load(), 0) << "a signal ended the join (1: true, 2: false, 3: error)";
  gate.open();
  EXPECT_TRUE(wait_for([] { return seen.outcome.load() != 0; }));
  EXPECT_EQ(seen.outcome.load(), 1);
  EXPECT_EQ(target_ran.load(), 1);
  EXPECT_TRUE(is_true(target.join(0)));
}

}  // namespace
