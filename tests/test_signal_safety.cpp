// SPDX-License-Identifier: MIT
// Async-signal safety: the calls rawthread documents as safe in a signal
// handler (Lock::release / unlock, Lock::locked, get_ident, request_interrupt,
// interrupt_main), each called from a handler and checked for its effect, in
// the main thread and in rawthread threads; then the same calls from handlers
// that interrupt code which is itself in the middle of them, under a stream
// of signals: nothing deadlocks and the books balance.
//
// Handlers go in without SA_RESTART. A signal a thread sends itself (tgkill to
// its own tid) runs the handler before tgkill returns; one for another thread
// is sent once /proc shows that thread asleep in the kernel.
#include <thread>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_interrupted;
using rt_test::g_handler_runs;
using rt_test::is_false;
using rt_test::is_true;
using rt_test::kDummy;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

class SignalSafetyTest : public rt_test::InterruptFixture {};

// Sends `sig` to the calling thread; its handler has run when this returns.
void signal_self(int sig) {
  ::syscall(SYS_tgkill, static_cast<long>(::getpid()), rt_test::gettid_now(), sig);
}

int signal_thread(long tid, int sig) {
  return static_cast<int>(::syscall(SYS_tgkill, static_cast<long>(::getpid()), tid, sig));
}

// What an acquire returned, as one number for an atomic: 1 interrupted,
// 2 true, 3 false, 4 another error. Safe in thread bodies.
int outcome(const Result<bool>& r) {
  if (!r.has_value()) return r.error().kind == Errc::interrupted ? 1 : 4;
  return *r ? 2 : 3;
}
constexpr const char* kOutcomes = "0 = not yet, 1 = interrupted, 2 = true, 3 = false, 4 = error";

// A rawthread thread asleep in an acquire of `lock` (its own `gate` unless
// given another), which the main thread holds: for a signal to find it
// there. Declare it static: the body gets a pointer to it and uses only
// rawthread and atomics. Call launch/wait_asleep/start in
// ASSERT_NO_FATAL_FAILURE.
struct Sleeper {
  Lock gate{};
  Lock& lock = gate;
  double timeout = -1;                     // the acquire's; -1: untimed
  bool release_after = true;               // an acquire that got the lock is released
  std::atomic<Ident> ident{0};             // get_ident() in the thread
  std::atomic<long> tid{0};                // get_native_id() in the thread
  std::atomic<std::int64_t> waited_ns{0};  // how long the acquire took
  std::atomic<int> result{0};              // outcome() of the acquire
  std::atomic<int> released{0};            // that release: 1 done, -1 an error
  Ident started = 0;                       // what start_new_thread returned

  static void body(Sleeper* s) {
    s->ident.store(get_ident());
    s->tid.store(get_native_id());
    std::int64_t t0 = *sys::monotonic_ns();
    Result<bool> r = s->lock.acquire(true, s->timeout);
    s->waited_ns.store(*sys::monotonic_ns() - t0);
    s->result.store(outcome(r));
    if (s->release_after && is_true(r)) s->released.store(s->lock.release().has_value() ? 1 : -1);
  }

  // Takes the lock and starts the thread.
  void launch() {
    ident = 0;
    tid = 0;
    waited_ns = 0;
    result = 0;
    released = 0;
    ASSERT_TRUE(is_true(lock.acquire(false)));
    Result<Ident> t = start_new_thread(body, this);
    ASSERT_TRUE(t.has_value());
    started = *t;
  }
  // Waits until /proc shows the thread asleep.
  void wait_asleep() {
    ASSERT_TRUE(wait_for([this] { return tid.load() != 0; }));
    ASSERT_TRUE(rt_test::wait_until_sleeping(tid.load()));
  }
  void start() {
    ASSERT_NO_FATAL_FAILURE(launch());
    wait_asleep();
  }
  // Whether the acquire has returned, waiting up to `seconds` for it.
  bool ended(double seconds = rt_test::kDeadline) {
    return wait_for([this] { return result.load() != 0; }, seconds);
  }
  // Main releases the lock: the thread's acquire gets it.
  void open() {
    EXPECT_TRUE(lock.release().has_value());
    EXPECT_TRUE(ended());
    EXPECT_EQ(result.load(), 2) << kOutcomes;
  }
};

// ---------------------------------------------------------------- Lock::release

Lock g_release_lock;
std::atomic<int> g_release_result{0};
std::atomic<const char*> g_release_message{nullptr};
std::atomic<Ident> g_release_handler_ident{0};

// 1: released; 2: a thread_error (its message for the main thread to read);
// 3: another error. No libc: the handler may run in a rawthread thread.
void release_handler(int) {
  g_release_handler_ident.store(get_ident());
  Result<void> r = g_release_lock.release();
  if (r.has_value()) {
    g_release_result.store(1);
  } else {
    g_release_message.store(r.error().message);
    g_release_result.store(r.error().kind == Errc::thread_error ? 2 : 3);
  }
}

TEST_F(SignalSafetyTest, ReleaseInAHandlerFreesTheLock) {
  rt_test::SignalGuard sig(SIGUSR1, release_handler);
  ASSERT_TRUE(sig.ok());
  g_release_result = 0;
  ASSERT_TRUE(is_true(g_release_lock.acquire(false)));
  signal_self(SIGUSR1);
  EXPECT_EQ(g_release_result.load(), 1);
  EXPECT_FALSE(g_release_lock.locked());
  // On the now unlocked lock: the error, and the lock stays unlocked.
  g_release_result = 0;
  g_release_message = nullptr;
  signal_self(SIGUSR1);
  EXPECT_EQ(g_release_result.load(), 2) << "1 = released, 2 = thread_error, 3 = other";
  ASSERT_NE(g_release_message.load(), nullptr);
  EXPECT_STREQ(g_release_message.load(), "release unlocked lock");
  EXPECT_FALSE(g_release_lock.locked());
  EXPECT_TRUE(is_true(g_release_lock.acquire(false)));
  EXPECT_TRUE(g_release_lock.release().has_value());
}

TEST_F(SignalSafetyTest, UnlockInAHandlerFreesTheLock) {
  static Lock lock;
  static std::atomic<int> ran;
  ran = 0;
  rt_test::SignalGuard sig(SIGUSR1, [](int) {
    lock.unlock();
    ran.fetch_add(1);
  });
  ASSERT_TRUE(sig.ok());
  lock.lock();
  signal_self(SIGUSR1);
  EXPECT_EQ(ran.load(), 1);
  EXPECT_FALSE(lock.locked());
}

TEST_F(SignalSafetyTest, ReleaseInAMainThreadHandlerWakesAWaitingThread) {
  RT_REQUIRES_CONCURRENCY();  // a thread sleeps on the lock the handler releases
  static Sleeper s{.lock = g_release_lock};  // untimed: only the release ends it
  g_release_result = 0;
  ASSERT_NO_FATAL_FAILURE(s.start());

  rt_test::SignalGuard sig(SIGUSR1, release_handler);
  ASSERT_TRUE(sig.ok());
  signal_self(SIGUSR1);
  EXPECT_EQ(g_release_result.load(), 1);
  EXPECT_EQ(g_release_handler_ident.load(), get_ident());
  bool woke = s.ended();
  if (!woke) rt_test::rescue_lock(g_release_lock);  // a lost wake-up: fail, don't hang
  EXPECT_TRUE(woke) << "the release in the handler did not wake the waiting thread";
  EXPECT_EQ(s.result.load(), 2) << kOutcomes;
  EXPECT_TRUE(wait_for([] { return s.released.load() != 0; }));
  EXPECT_EQ(s.released.load(), 1);
  EXPECT_FALSE(g_release_lock.locked());
}

TEST_F(SignalSafetyTest, ReleaseInAThreadsHandlerWakesAnotherThread) {
  RT_REQUIRES_CONCURRENCY();  // two threads sleep while main signals one of them
  // Thread `waiter` sleeps on g_release_lock (held by main); thread `host`
  // sleeps on its own gate. The handler runs in `host`, interrupting its
  // wait, and releases the lock for `waiter`; `host` then waits on (the
  // handler requested no interrupt) until main opens its gate.
  static Sleeper waiter{.lock = g_release_lock};
  static Sleeper host{.timeout = rt_test::kDeadline};
  g_release_result = 0;
  g_release_handler_ident = 0;
  ASSERT_NO_FATAL_FAILURE(waiter.launch());
  ASSERT_NO_FATAL_FAILURE(host.launch());
  ASSERT_NO_FATAL_FAILURE(waiter.wait_asleep());
  ASSERT_NO_FATAL_FAILURE(host.wait_asleep());

  rt_test::SignalGuard sig(SIGUSR1, release_handler);
  ASSERT_TRUE(sig.ok());
  ASSERT_EQ(signal_thread(host.tid.load(), SIGUSR1), 0);
  bool woke = waiter.ended();
  if (!woke) rt_test::rescue_lock(g_release_lock);
  EXPECT_TRUE(woke) << "the release in the handler did not wake the waiting thread";
  // The handler records its result after the release, maybe after the wake.
  EXPECT_TRUE(wait_for([] { return g_release_result.load() != 0; }));
  EXPECT_EQ(g_release_result.load(), 1);
  EXPECT_EQ(g_release_handler_ident.load(), host.ident.load()) << "the handler ran elsewhere";
  EXPECT_TRUE(waiter.ended());
  EXPECT_EQ(waiter.result.load(), 2) << kOutcomes;
  // The host's own wait goes on: the handler ended nothing there.
  rt_test::sleep_ms(50);
  EXPECT_EQ(host.result.load(), 0) << kOutcomes;
  host.open();
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_FALSE(g_release_lock.locked());
}

// ---------------------------------------------------------------- Lock::locked

TEST_F(SignalSafetyTest, LockedInAHandler) {
  static Lock held, unheld;
  static std::atomic<int> seen_held, seen_unheld;
  seen_held = -1;
  seen_unheld = -1;
  rt_test::SignalGuard sig(SIGUSR1, [](int) {
    seen_held.store(held.locked() ? 1 : 0);
    seen_unheld.store(unheld.locked() ? 1 : 0);
  });
  ASSERT_TRUE(sig.ok());
  ASSERT_TRUE(is_true(held.acquire(false)));
  signal_self(SIGUSR1);
  EXPECT_EQ(seen_held.load(), 1);
  EXPECT_EQ(seen_unheld.load(), 0);
  // and after the states swap
  EXPECT_TRUE(held.release().has_value());
  ASSERT_TRUE(is_true(unheld.acquire(false)));
  signal_self(SIGUSR1);
  EXPECT_EQ(seen_held.load(), 0);
  EXPECT_EQ(seen_unheld.load(), 1);
  EXPECT_TRUE(unheld.release().has_value());
}

TEST_F(SignalSafetyTest, LockedInAThreadsHandlerSeesAnotherThreadsHold) {
  RT_REQUIRES_CONCURRENCY();  // the thread sleeps while main signals it
  // The handler runs in a thread sleeping on a lock main holds: it sees the
  // lock held, and a lock nobody holds free.
  static Sleeper s{.timeout = rt_test::kDeadline};  // s.gate is the held lock
  static Lock unheld;
  static std::atomic<int> seen_held, seen_unheld;
  seen_held = -1;
  seen_unheld = -1;
  ASSERT_NO_FATAL_FAILURE(s.start());
  rt_test::SignalGuard sig(SIGUSR1, [](int) {
    seen_held.store(s.gate.locked() ? 1 : 0);
    seen_unheld.store(unheld.locked() ? 1 : 0);
  });
  ASSERT_TRUE(sig.ok());
  ASSERT_EQ(signal_thread(s.tid.load(), SIGUSR1), 0);
  EXPECT_TRUE(wait_for([] { return seen_held.load() != -1; }));
  EXPECT_EQ(seen_held.load(), 1);
  EXPECT_EQ(seen_unheld.load(), 0);
  EXPECT_EQ(s.result.load(), 0) << "the handler ended the wait: " << kOutcomes;
  s.open();
}

// ---------------------------------------------------------------- get_ident

std::atomic<Ident> g_handler_ident{0};
std::atomic<int> g_ident_runs{0};
void ident_handler(int) {
  g_handler_ident.store(get_ident());
  g_ident_runs.fetch_add(1);
}

TEST_F(SignalSafetyTest, GetIdentInAHandlerInTheMainThread) {
  rt_test::SignalGuard sig(SIGUSR1, ident_handler);
  ASSERT_TRUE(sig.ok());
  g_handler_ident = 0;
  g_ident_runs = 0;
  signal_self(SIGUSR1);
  EXPECT_EQ(g_ident_runs.load(), 1);
  EXPECT_EQ(g_handler_ident.load(), get_ident());
  EXPECT_NE(g_handler_ident.load(), 0u);
}

TEST_F(SignalSafetyTest, GetIdentInAHandlerInAThread) {
  RT_REQUIRES_CONCURRENCY();  // the thread sleeps while main signals it
  // The handler runs in a rawthread thread sleeping at a gate: get_ident()
  // there is that thread's, as start_new_thread returned it; the wait goes
  // on afterwards.
  static Sleeper s;
  g_handler_ident = 0;
  g_ident_runs = 0;
  ASSERT_NO_FATAL_FAILURE(s.start());
  rt_test::SignalGuard sig(SIGUSR1, ident_handler);
  ASSERT_TRUE(sig.ok());
  ASSERT_EQ(signal_thread(s.tid.load(), SIGUSR1), 0);
  EXPECT_TRUE(wait_for([] { return g_ident_runs.load() == 1; }));
  EXPECT_EQ(g_handler_ident.load(), s.ident.load());
  EXPECT_EQ(g_handler_ident.load(), s.started);
  EXPECT_NE(g_handler_ident.load(), get_ident());
  rt_test::sleep_ms(20);
  EXPECT_EQ(s.result.load(), 0) << "the handler ended the untimed wait: " << kOutcomes;
  s.open();
}

TEST_F(SignalSafetyTest, GetIdentInAHandlerInALibcThread) {
  // A thread rawthread did not start has an ident too, in its handlers as well.
  rt_test::SignalGuard sig(SIGUSR1, ident_handler);
  ASSERT_TRUE(sig.ok());
  g_handler_ident = 0;
  g_ident_runs = 0;
  std::atomic<Ident> helper_ident{0};
  {
    rt_test::HelperThread helper([&] {
      helper_ident = get_ident();
      signal_self(SIGUSR1);
    });
  }
  EXPECT_EQ(g_ident_runs.load(), 1);
  EXPECT_EQ(g_handler_ident.load(), helper_ident.load());
  if (!kDummy) {
    EXPECT_NE(g_handler_ident.load(), get_ident());  // the dummy has one ident for all
  }
}

// ---------------------------------------------------------------- request_interrupt

TEST_F(SignalSafetyTest, RequestInterruptInAHandlerEndsAThreadsUntimedAcquire) {
  RT_REQUIRES_CONCURRENCY();  // the thread sleeps while main signals it
  static Sleeper s{.release_after = false};
  ASSERT_NO_FATAL_FAILURE(s.start());
  rt_test::SignalGuard sig(SIGUSR2, rt_test::count_and_request);
  ASSERT_TRUE(sig.ok());
  std::int64_t t0 = now_ns();
  ASSERT_EQ(signal_thread(s.tid.load(), SIGUSR2), 0);
  bool ended = s.ended(20.0);
  double elapsed = seconds_since(t0);
  if (!ended) (void)s.gate.release();  // let it finish: the test fails anyway
  EXPECT_TRUE(ended) << "the request did not end the thread's untimed acquire";
  EXPECT_EQ(s.result.load(), 1) << kOutcomes;
  EXPECT_LT(elapsed, 10.0);
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  if (ended) {
    EXPECT_TRUE(s.gate.locked()) << "the interrupted acquire changed the lock";
    EXPECT_TRUE(s.gate.release().has_value());
  }
  // The request was the thread's: the main thread has none.
  rt_test::expect_no_pending_request();
}

TEST_F(SignalSafetyTest, RequestInterruptInAHandlerEndsAThreadsTimedAcquire) {
  RT_REQUIRES_CONCURRENCY();  // the thread sleeps while main signals it
  static Sleeper s{.timeout = 20.0, .release_after = false};
  ASSERT_NO_FATAL_FAILURE(s.start());
  rt_test::SignalGuard sig(SIGUSR2, rt_test::count_and_request);
  ASSERT_TRUE(sig.ok());
  ASSERT_EQ(signal_thread(s.tid.load(), SIGUSR2), 0);
  EXPECT_TRUE(s.ended());
  EXPECT_EQ(s.result.load(), 1) << kOutcomes;
  EXPECT_LT(s.waited_ns.load(), rt_test::to_ns(10.0));
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_TRUE(s.gate.locked());
  EXPECT_TRUE(s.gate.release().has_value());
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
}

// ---------------------------------------------------------------- interrupt_main

std::atomic<int> g_interrupt_main_result{0};
std::atomic<Ident> g_interrupt_main_ident{0};
// Runs wherever SIGUSR2 is sent; simulates SIGUSR1 in the main thread.
void interrupt_main_handler(int) {
  g_interrupt_main_ident.store(get_ident());
  g_interrupt_main_result.store(interrupt_main(SIGUSR1).has_value() ? 1 : -1);
}

TEST_F(SignalSafetyTest, InterruptMainInAHandlerInTheMainThread) {
  // The handler's interrupt_main leaves a request for the main thread and
  // runs SIGUSR1's handler; the next blocking acquire is interrupted.
  rt_test::SignalGuard usr1(SIGUSR1, rt_test::count_only);
  rt_test::SignalGuard usr2(SIGUSR2, interrupt_main_handler);
  ASSERT_TRUE(usr1.ok() && usr2.ok());
  g_interrupt_main_result = 0;
  signal_self(SIGUSR2);
  EXPECT_EQ(g_interrupt_main_result.load(), 1);
  EXPECT_TRUE(wait_for([] { return g_handler_runs.load() == 1; }));
  Lock held;
  ASSERT_TRUE(is_true(held.acquire(false)));
  expect_interrupted(held.acquire(true, 5.0));
  rt_test::expect_no_pending_request();
}

TEST_F(SignalSafetyTest, InterruptMainInAThreadsHandlerEndsMainsAcquire) {
  RT_REQUIRES_CONCURRENCY();  // a thread sleeps while main waits
  // A rawthread thread sleeps at a gate. While main sleeps in an untimed
  // acquire, a helper sends the thread SIGUSR2, whose handler there calls
  // interrupt_main(SIGUSR1): main's acquire returns interrupted; the thread's
  // wait goes on.
  rt_test::SignalGuard usr1(SIGUSR1, rt_test::count_only);
  rt_test::SignalGuard usr2(SIGUSR2, interrupt_main_handler);
  ASSERT_TRUE(usr1.ok() && usr2.ok());
  g_interrupt_main_result = 0;
  g_interrupt_main_ident = 0;
  static Sleeper s;
  static Lock main_lock;
  ASSERT_NO_FATAL_FAILURE(s.start());

  ASSERT_TRUE(is_true(main_lock.acquire(false)));
  long thread_tid = s.tid.load();
  rt_test::HelperThread sender =
      when_main_sleeps([thread_tid] { signal_thread(thread_tid, SIGUSR2); });
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(main_lock); });
  std::int64_t t0 = now_ns();
  Result<bool> r = main_lock.acquire();
  double elapsed = seconds_since(t0);
  dog.dismiss();
  sender.join();

  EXPECT_FALSE(dog.fired()) << "main's untimed acquire was not interrupted";
  EXPECT_TRUE(sleeping_seen_.load());
  expect_interrupted(r);
  EXPECT_LT(elapsed, 10.0);
  // The handler stores interrupt_main's result after the call, whose signal
  // may already have ended main's acquire: the thread may not be there yet.
  EXPECT_TRUE(wait_for([] { return g_interrupt_main_result.load() != 0; }));
  EXPECT_EQ(g_interrupt_main_result.load(), 1);
  EXPECT_EQ(g_interrupt_main_ident.load(), s.ident.load()) << "the handler ran elsewhere";
  EXPECT_EQ(g_handler_runs.load(), 1) << "SIGUSR1's handler did not run once";
  if (main_lock.locked()) {
    EXPECT_TRUE(main_lock.release().has_value());
  }
  EXPECT_EQ(s.result.load(), 0) << "the thread's wait ended: " << kOutcomes;
  s.open();
  rt_test::expect_no_pending_request();
}

// ---------------------------------------------------------------- stress

// The main thread loops over Lock operations on `a` while a helper floods it
// with SIGUSR1. The handler, interrupting those operations anywhere, reads
// a.locked(), checks get_ident(), releases `b` if it is held (only the
// handler releases b, only the loop takes it) and requests an interrupt,
// which the loop's next blocking acquire of `a` consumes.
struct MainStress {
  static inline Lock a, b;
  static inline Ident main_ident = 0;
  static inline std::atomic<long> runs{0}, bad_ident{0}, b_released{0}, b_release_failed{0},
      b_bogus_release{0};

  static void handler(int) {
    runs.fetch_add(1, std::memory_order_relaxed);
    if (get_ident() != main_ident) bad_ident.fetch_add(1, std::memory_order_relaxed);
    (void)a.locked();
    if (b.locked()) {
      // Nobody else releases b: this release must succeed.
      if (b.release().has_value())
        b_released.fetch_add(1, std::memory_order_relaxed);
      else
        b_release_failed.fetch_add(1, std::memory_order_relaxed);
    } else if (b.release().has_value()) {
      b_bogus_release.fetch_add(1, std::memory_order_relaxed);  // released a free lock
    }
    request_interrupt();
  }
};

TEST_F(SignalSafetyTest, StressHandlersInterruptingTheSameOperationsInMain) {
  using S = MainStress;
  S::main_ident = get_ident();
  S::runs = 0;
  S::bad_ident = 0;
  S::b_released = 0;
  S::b_release_failed = 0;
  S::b_bogus_release = 0;
  rt_test::SignalGuard sig(SIGUSR1, S::handler);
  ASSERT_TRUE(sig.ok());

  std::atomic<bool> stop{false};
  long main_tid = main_tid_;
  rt_test::HelperThread flood([&stop, main_tid] {
    while (!stop.load()) {
      rt_test::tgkill_main(main_tid, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });

  long iterations = 0, interrupted = 0, bad = 0, b_taken = 0;
  const std::int64_t end = now_ns() + rt_test::to_ns(1.0);
  while (now_ns() < end || S::runs.load() < 20) {
    if (seconds_since(end - rt_test::to_ns(1.0)) > rt_test::kDeadline) break;  // no progress
    for (int round = 0; round < 100; ++round) {
      ++iterations;
      Result<bool> r = round % 2 == 0 ? S::a.acquire() : S::a.acquire(true, 5.0);
      if (!r.has_value()) {
        if (r.error().kind == Errc::interrupted) ++interrupted; else ++bad;
        if (S::a.locked()) ++bad;  // an interrupted acquire takes nothing
        continue;
      }
      if (!*r || !S::a.locked()) ++bad;
      if (!S::a.release().has_value()) ++bad;
      S::a.lock();  // never interrupted
      if (!S::a.locked()) ++bad;
      S::a.unlock();
      if (S::a.try_lock()) {
        S::a.unlock();
      } else {
        ++bad;
      }
      if (S::a.locked()) ++bad;
      Result<bool> nb = S::a.acquire(false);  // never consumes a request
      if (!is_true(nb)) ++bad;
      if (!S::a.release().has_value()) ++bad;
      if (is_true(S::b.acquire(false))) ++b_taken;
      if (get_ident() != S::main_ident) ++bad;
    }
  }
  stop = true;
  flood.join();
  bool leftover = rt_test::consume_pending_interrupt();

  EXPECT_EQ(bad, 0) << "inconsistent results in " << iterations << " iterations";
  EXPECT_GT(S::runs.load(), 0);
  EXPECT_EQ(S::bad_ident.load(), 0) << "get_ident() in the handler was not main's";
  EXPECT_EQ(S::b_release_failed.load(), 0) << "a release of a held lock failed in the handler";
  EXPECT_EQ(S::b_bogus_release.load(), 0) << "a release of a free lock succeeded in the handler";
  EXPECT_EQ(b_taken - S::b_released.load(), S::b.locked() ? 1 : 0)
      << "b taken " << b_taken << " times, released " << S::b_released.load() << " times";
  // Every request is consumed once by the next blocking acquire, or is left.
  long consumed = interrupted + (leftover ? 1 : 0);
  EXPECT_GE(consumed, 1);
  EXPECT_LE(consumed, S::runs.load());
  EXPECT_FALSE(S::a.locked());
  if (S::b.locked()) (void)S::b.release();
  std::printf("    %ld iterations, %ld handler runs, %ld interrupted acquires\n", iterations,
              S::runs.load(), interrupted);
}

// Three rawthread threads contend for `a` (real futex sleeps) while main
// floods them with SIGUSR1. The handler, in whichever thread it lands, checks
// that get_ident() is one of the three, reads a.locked(), releases `b` if
// held (the threads take it; handlers in several threads may race for one
// hold, so a failed release is allowed, a double one is not), requests an
// interrupt and now and then calls interrupt_main(SIGUSR2).
struct ThreadStress {
  static constexpr int kThreads = 3;
  static inline Lock a, b;
  static inline std::atomic<Ident> idents[kThreads];
  static inline std::atomic<long> tids[kThreads];
  static inline std::atomic<bool> stop{false};
  static inline std::atomic<int> finished{0}, in_critical{0};
  static inline std::atomic<long> iterations{0}, interrupted{0}, bad{0}, b_taken{0};
  static inline std::atomic<long> runs{0}, bad_ident{0}, b_released{0}, interrupt_main_calls{0},
      interrupt_main_failed{0};
  static inline std::atomic<long> main_runs{0};

  static void reset() {
    for (auto& i : idents) i = 0;
    for (auto& t : tids) t = 0;
    stop = false;
    finished = 0;
    in_critical = 0;
    iterations = interrupted = bad = b_taken = 0;
    runs = bad_ident = b_released = interrupt_main_calls = interrupt_main_failed = 0;
    main_runs = 0;
  }

  static void handler(int) {
    long run = runs.fetch_add(1, std::memory_order_relaxed);
    Ident me = get_ident();
    bool known = false;
    for (auto& i : idents) known = known || i.load(std::memory_order_relaxed) == me;
    if (!known) bad_ident.fetch_add(1, std::memory_order_relaxed);
    (void)a.locked();
    if (b.locked() && b.release().has_value()) b_released.fetch_add(1, std::memory_order_relaxed);
    request_interrupt();
    if (run % 16 == 0) {
      interrupt_main_calls.fetch_add(1, std::memory_order_relaxed);
      if (!interrupt_main(SIGUSR2).has_value())
        interrupt_main_failed.fetch_add(1, std::memory_order_relaxed);
    }
  }
  static void main_handler(int) { main_runs.fetch_add(1, std::memory_order_relaxed); }

  static void body(int index) {
    idents[index].store(get_ident());
    tids[index].store(get_native_id());
    while (!stop.load(std::memory_order_relaxed)) {
      iterations.fetch_add(1, std::memory_order_relaxed);
      Result<bool> r = iterations.load(std::memory_order_relaxed) % 2 == 0 ? a.acquire()
                                                                            : a.acquire(true, 5.0);
      if (!r.has_value()) {
        if (r.error().kind == Errc::interrupted)
          interrupted.fetch_add(1, std::memory_order_relaxed);
        else
          bad.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (!*r) {
        bad.fetch_add(1, std::memory_order_relaxed);  // 5 s without the lock: stuck
        continue;
      }
      if (in_critical.fetch_add(1) != 0) bad.fetch_add(1, std::memory_order_relaxed);
      if (!a.locked()) bad.fetch_add(1, std::memory_order_relaxed);
      in_critical.fetch_sub(1);
      if (!a.release().has_value()) bad.fetch_add(1, std::memory_order_relaxed);
      if (is_true(b.acquire(false))) b_taken.fetch_add(1, std::memory_order_relaxed);
    }
    // Out of the flood: no handler runs here from now on, and a request
    // still pending is consumed (a non-waiting acquire of a held lock).
    (void)sys::change_signal_mask(sys::MaskHow::block, sys::SignalSet{}.add(SIGUSR1));
    Lock held;
    (void)held.acquire(false);
    (void)held.acquire(true, 0);
    finished.fetch_add(1);
  }
};

TEST_F(SignalSafetyTest, StressHandlersInterruptingTheSameOperationsInThreads) {
  RT_REQUIRES_CONCURRENCY();  // three threads run beside main
  using S = ThreadStress;
  S::reset();
  rt_test::SignalGuard usr1(SIGUSR1, S::handler);
  rt_test::SignalGuard usr2(SIGUSR2, S::main_handler);
  ASSERT_TRUE(usr1.ok() && usr2.ok());
  for (int i = 0; i < S::kThreads; ++i) ASSERT_TRUE(start_new_thread(S::body, i).has_value());
  ASSERT_TRUE(wait_for([] {
    for (auto& t : S::tids)
      if (t.load() == 0) return false;
    return true;
  }));

  long sent = 0;
  const std::int64_t start = now_ns();
  while (seconds_since(start) < 1.0 || S::runs.load() < 30) {
    if (seconds_since(start) > 20.0) break;
    for (auto& t : S::tids) sent += signal_thread(t.load(), SIGUSR1) == 0;
    timespec pause{0, 100000};
    ::nanosleep(&pause, nullptr);  // a main handler may cut it short: fine
  }
  S::stop = true;
  bool ended = wait_for([] { return S::finished.load() == S::kThreads; });
  if (!ended) rt_test::rescue_lock(S::a);
  EXPECT_TRUE(ended) << "the threads did not finish: a lost wake-up or a deadlock";
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  rt_test::consume_pending_interrupt();  // main's, from the handlers' interrupt_main

  EXPECT_EQ(S::bad.load(), 0);
  EXPECT_GT(S::runs.load(), 0);
  EXPECT_EQ(S::bad_ident.load(), 0) << "get_ident() in a handler was none of the threads'";
  EXPECT_EQ(S::b_taken.load() - S::b_released.load(), S::b.locked() ? 1 : 0)
      << "b taken " << S::b_taken.load() << " times, released " << S::b_released.load()
      << " times";
  EXPECT_LE(S::interrupted.load(), S::runs.load()) << "more interrupted acquires than requests";
  EXPECT_EQ(S::interrupt_main_failed.load(), 0);
  EXPECT_GE(S::interrupt_main_calls.load(), 1);
  EXPECT_GE(S::main_runs.load(), 1) << "interrupt_main from the handlers never reached main";
  EXPECT_LE(S::main_runs.load(), S::interrupt_main_calls.load());
  EXPECT_FALSE(S::a.locked());
  if (S::b.locked()) (void)S::b.release();
  std::printf("    %ld signals sent, %ld handler runs, %ld iterations, %ld interrupted\n", sent,
              S::runs.load(), S::iterations.load(), S::interrupted.load());
}

}  // namespace
