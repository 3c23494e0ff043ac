// SPDX-License-Identifier: MIT
// Interrupts: interrupt_main (argument errors, SIG_DFL / SIG_IGN, ending the
// main thread's blocking acquires), request_interrupt from a signal handler,
// handlers that request nothing, and pending requests.
//
// Handlers go in without SA_RESTART, as Python installs them, and every test
// restores the old disposition. An interrupter that must reach the main
// thread while it sleeps in the kernel first waits until /proc shows the main
// thread sleeping ('S') for several polls in a row.
#include <climits>
#include <limits>
#include <functional>
#include <thread>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;
using rt_test::kDummy;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

using rt_test::consume_pending_interrupt;
using rt_test::count_and_request;
using rt_test::count_only;
using rt_test::expect_interrupted;
using rt_test::expect_no_pending_request;
using rt_test::g_handler_runs;

class InterruptTest : public rt_test::InterruptFixture {};

// ---------------------------------------------------------------- argument errors

TEST_F(InterruptTest, SignalNumberOutOfRange) {
  rt_test::SignalGuard sig(SIGINT, count_only);
  ASSERT_TRUE(sig.ok());
  for (int signum : {0, 65, -1, 66, 128, 1000, INT_MIN, INT_MAX}) {
    SCOPED_TRACE(signum);
    expect_error(interrupt_main(signum), Errc::value_error, "signal number out of range");
  }
  rt_test::sleep_ms(20);
  EXPECT_EQ(g_handler_runs.load(), 0) << "a refused interrupt_main sent a signal";
  expect_no_pending_request();
}

// ---------------------------------------------------------------- SIG_DFL / SIG_IGN

TEST_F(InterruptTest, DefaultDispositionDoesNothing) {
  // SIGUSR2's default action would end the process: interrupt_main must not
  // send it, and must not leave a request behind.
  rt_test::SignalGuard sig(SIGUSR2, SIG_DFL);
  ASSERT_TRUE(sig.ok());
  Result<void> r = interrupt_main(SIGUSR2);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  rt_test::sleep_ms(20);
  expect_no_pending_request();
}

TEST_F(InterruptTest, IgnoredDispositionDoesNothing) {
  {
    rt_test::SignalGuard sig(SIGUSR2, SIG_IGN);
    ASSERT_TRUE(sig.ok());
    Result<void> r = interrupt_main(SIGUSR2);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    rt_test::sleep_ms(20);
    expect_no_pending_request();
  }
  {
    // signal 1, the lowest valid number
    rt_test::SignalGuard sig(SIGHUP, SIG_IGN);
    ASSERT_TRUE(sig.ok());
    Result<void> r = interrupt_main(SIGHUP);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    rt_test::sleep_ms(20);
    expect_no_pending_request();
  }
  {
    // SIGINT itself, ignored
    rt_test::SignalGuard sig(SIGINT, SIG_IGN);
    ASSERT_TRUE(sig.ok());
    Result<void> r = interrupt_main();
    EXPECT_TRUE(r.has_value()) << r.error().message;
    rt_test::sleep_ms(20);
    expect_no_pending_request();
  }
}

TEST_F(InterruptTest, DefaultDispositionFromAThreadDoesNothing) {
  rt_test::SignalGuard sig(SIGUSR2, SIG_DFL);
  ASSERT_TRUE(sig.ok());
  static std::atomic<int> result;
  result = 0;
  auto r = start_new_thread([] { result.store(interrupt_main(SIGUSR2).has_value() ? 1 : -1); });
  if (kDummy) {
    // In a started function the dummy sends no signal, whatever the
    // disposition: the interrupt is start_new_thread's to report once the
    // function is done.
    expect_error(r, Errc::interrupted, rt_test::kStartedInterruptedMessage, EINTR);
    EXPECT_EQ(result.load(), 1);
  } else {
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(wait_for([] { return result.load() != 0; }));
    EXPECT_EQ(result.load(), 1);
  }
  expect_no_pending_request();
}

// ---------------------------------------------------------------- interrupt_main during a wait

// A rawthread thread that holds `lock` until `gate` opens, then releases it
// and records whether that release succeeded (it must: main never took it).
struct Holder {
  static inline Lock lock, gate;
  static inline std::atomic<int> holding, release_result;

  static Result<Ident> start() {
    holding = 0;
    release_result = 0;
    (void)gate.acquire(false);
    return start_new_thread([] {
      if (rt_test::is_true(lock.acquire())) holding.store(1);
      (void)gate.acquire();
      (void)gate.release();
      release_result.store(lock.release().has_value() ? 1 : -1);
    });
  }
  static void finish() {
    (void)gate.release();
    EXPECT_TRUE(wait_for([] { return release_result.load() != 0; }));
    EXPECT_EQ(release_result.load(), 1) << "the holder could not release: someone else did";
    EXPECT_FALSE(lock.locked()) << "the lock is still held after its holder released it";
  }
};

TEST_F(InterruptTest, InterruptMainEndsAnUntimedAcquire) {
  RT_REQUIRES_CONCURRENCY();  // the holder thread waits at a gate while main waits
  rt_test::SignalGuard sig(SIGINT, count_only);
  ASSERT_TRUE(sig.ok());
  ASSERT_TRUE(Holder::start().has_value());
  ASSERT_TRUE(wait_for([] { return Holder::holding.load() == 1; }));

  std::atomic<int> interrupt_result{0};
  rt_test::HelperThread interrupter =
      when_main_sleeps([&] { interrupt_result = interrupt_main().has_value() ? 1 : -1; });
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(Holder::lock); });
  std::int64_t t0 = now_ns();
  Result<bool> r = Holder::lock.acquire();
  double elapsed = seconds_since(t0);
  dog.dismiss();
  interrupter.join();

  EXPECT_FALSE(dog.fired()) << "the untimed acquire was not interrupted";
  EXPECT_TRUE(sleeping_seen_.load()) << "main never slept in the acquire";
  expect_interrupted(r);
  EXPECT_LT(elapsed, 10.0);
  EXPECT_EQ(interrupt_result.load(), 1);
  EXPECT_EQ(g_handler_runs.load(), 1) << "the SIGINT handler did not run once";
  if (!dog.fired()) {
    EXPECT_TRUE(Holder::lock.locked()) << "the interrupted acquire changed the lock";
    Holder::finish();
  } else {
    (void)Holder::gate.release();
    wait_for([] { return Holder::release_result.load() != 0; });
  }
  expect_no_pending_request();
}

TEST_F(InterruptTest, InterruptMainEndsATimedAcquire) {
  RT_REQUIRES_CONCURRENCY();  // the holder thread waits at a gate while main waits
  rt_test::SignalGuard sig(SIGINT, count_only);
  ASSERT_TRUE(sig.ok());
  ASSERT_TRUE(Holder::start().has_value());
  ASSERT_TRUE(wait_for([] { return Holder::holding.load() == 1; }));

  rt_test::HelperThread interrupter = when_main_sleeps([] { (void)interrupt_main(); });
  std::int64_t t0 = now_ns();
  Result<bool> r = Holder::lock.acquire(true, 20.0);
  double elapsed = seconds_since(t0);
  interrupter.join();

  EXPECT_TRUE(sleeping_seen_.load());
  expect_interrupted(r);
  EXPECT_LT(elapsed, 10.0) << "the interrupt did not end the timed wait";
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_TRUE(Holder::lock.locked());
  Holder::finish();
  expect_no_pending_request();
}

TEST_F(InterruptTest, SubthreadInterruptsTheMainThread) {
  RT_REQUIRES_CONCURRENCY();  // the thread interrupts main while main waits
  // The seed: "A subthread can use this function to interrupt the main
  // thread." A rawthread thread sleeps ~0.3 s and calls interrupt_main().
  rt_test::SignalGuard sig(SIGINT, count_only);
  ASSERT_TRUE(sig.ok());
  static Lock lock;
  static std::atomic<int> result;
  result = 0;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  auto t = start_new_thread([] {
    rt_test::body_sleep(0.3);
    result.store(interrupt_main().has_value() ? 1 : -1);
  });
  ASSERT_TRUE(t.has_value());
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 20.0);
  double elapsed = seconds_since(t0);
  expect_interrupted(r);
  EXPECT_LT(elapsed, 10.0);
  EXPECT_TRUE(wait_for([] { return result.load() != 0; }));
  EXPECT_EQ(result.load(), 1);
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
  EXPECT_FALSE(lock.locked());
  expect_no_pending_request();
}

TEST_F(InterruptTest, InterruptMainWithAnotherSignal) {
  // Any signal with a handler works, here SIGUSR1 with a counting handler.
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  rt_test::HelperThread interrupter = when_main_sleeps([] { (void)interrupt_main(SIGUSR1); });
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 20.0);
  double elapsed = seconds_since(t0);
  interrupter.join();
  expect_interrupted(r);
  EXPECT_LT(elapsed, 10.0);
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_TRUE(lock.release().has_value());
  expect_no_pending_request();
}

// ---------------------------------------------------------------- handlers and request_interrupt

TEST_F(InterruptTest, HandlerRequestingAnInterruptEndsATimedAcquire) {
  // SIGUSR1's handler calls request_interrupt(); another thread sends SIGUSR1
  // to the main thread with tgkill while main waits.
  rt_test::SignalGuard sig(SIGUSR1, count_and_request);
  ASSERT_TRUE(sig.ok());
  Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  long tid = main_tid_;
  rt_test::HelperThread sender = when_main_sleeps([tid] { rt_test::tgkill_main(tid, SIGUSR1); });
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 20.0);
  double elapsed = seconds_since(t0);
  sender.join();
  EXPECT_TRUE(sleeping_seen_.load());
  expect_interrupted(r);
  EXPECT_LT(elapsed, 10.0);
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
  expect_no_pending_request();
}

TEST_F(InterruptTest, HandlerRequestingAnInterruptEndsAnUntimedAcquire) {
  rt_test::SignalGuard sig(SIGUSR1, count_and_request);
  ASSERT_TRUE(sig.ok());
  static Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  if (kDummy) {
    // No untimed wait to interrupt: with no thread of the library's to
    // release the lock, the dummy refuses the acquire at once.
    std::int64_t t0 = now_ns();
    expect_error(lock.acquire(), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
    EXPECT_LT(seconds_since(t0), 1.0);
    EXPECT_EQ(g_handler_runs.load(), 0);
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(lock.release().has_value());
    expect_no_pending_request();
    return;
  }
  long tid = main_tid_;
  rt_test::HelperThread sender = when_main_sleeps([tid] { rt_test::tgkill_main(tid, SIGUSR1); });
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(lock); });
  Result<bool> r = lock.acquire();
  dog.dismiss();
  sender.join();
  EXPECT_FALSE(dog.fired());
  expect_interrupted(r);
  EXPECT_EQ(g_handler_runs.load(), 1);
  if (!dog.fired()) {
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(lock.release().has_value());
  } else if (lock.locked()) {
    (void)lock.release();
  }
  expect_no_pending_request();
}

// The lock the next test's handler frees before it requests the interrupt.
Lock g_freed_by_handler;
void release_and_request(int) {
  g_handler_runs.fetch_add(1);
  (void)g_freed_by_handler.release();  // async-signal-safe
  request_interrupt();
}

TEST_F(InterruptTest, ARequestBeatsALockThatCameFreeInTheSameHandler) {
  // The handler that cuts the wait short frees the lock and then requests an
  // interrupt: when the wait returns EINTR the lock is free, and the request
  // must still win. The acquire returns interrupted, the lock stays free and
  // no request is left pending (taking the lock instead would leave one).
  RT_REQUIRES_CONCURRENCY();  // main must sleep on a held lock
  rt_test::SignalGuard sig(SIGUSR1, release_and_request);
  ASSERT_TRUE(sig.ok());
  ASSERT_TRUE(rt_test::is_true(g_freed_by_handler.acquire()));
  long tid = main_tid_;
  rt_test::HelperThread sender = when_main_sleeps([tid] { rt_test::tgkill_main(tid, SIGUSR1); });
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(g_freed_by_handler); });
  Result<bool> r = g_freed_by_handler.acquire();
  dog.dismiss();
  sender.join();
  EXPECT_FALSE(dog.fired());
  expect_interrupted(r);
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_FALSE(g_freed_by_handler.locked()) << "the acquire took the lock its handler freed";
  if (g_freed_by_handler.locked()) (void)g_freed_by_handler.release();
  expect_no_pending_request();
}

TEST_F(InterruptTest, HandlerWithoutRequestDoesNotEndTheWait) {
  // A handler that requests nothing: the timed acquire waits its full time
  // (EINTR, then it waits again until the same deadline).
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  long tid = main_tid_;
  rt_test::HelperThread sender = when_main_sleeps([tid] { rt_test::tgkill_main(tid, SIGUSR1); });
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 1.0);
  std::int64_t t1 = now_ns();
  sender.join();
  ASSERT_TRUE(r.has_value()) << "acquire returned " << rawthread::name(r.error().kind)
                             << " though no interrupt was requested";
  EXPECT_FALSE(*r);
  EXPECT_GE(t1 - t0, rt_test::to_ns(1.0)) << "the signal cut the wait short";
  EXPECT_LT(t1 - t0, rt_test::to_ns(1.0 + 5.0));
  EXPECT_EQ(g_handler_runs.load(), 1) << "the handler did not run";
  EXPECT_TRUE(sleeping_seen_.load());
  EXPECT_LT(acted_at_ns_.load(), t1) << "the signal came only after the wait (test not meaningful)";
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
  expect_no_pending_request();
}

TEST_F(InterruptTest, RepeatedSignalsDoNotStretchTheWait) {
  // Signals every 100 ms through a 2 s timed acquire: each EINTR resumes the
  // wait until the same deadline; a wait restarted with the full timeout
  // after each signal would last as long as the signals keep coming (15 s).
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  long tid = main_tid_;
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  rt_test::HelperThread sender([&] {
    rt_test::wait_until_sleeping(tid);
    std::int64_t give_up = now_ns() + rt_test::to_ns(15.0);
    while (!stop.load() && now_ns() < give_up) {
      rt_test::tgkill_main(tid, SIGUSR1);
      sent.fetch_add(1);
      rt_test::sleep_ms(100);
    }
  });
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 2.0);
  std::int64_t elapsed = now_ns() - t0;
  stop = true;
  sender.join();
  ASSERT_TRUE(r.has_value()) << rawthread::name(r.error().kind);
  EXPECT_FALSE(*r);
  EXPECT_GE(elapsed, rt_test::to_ns(2.0));
  EXPECT_LT(elapsed, rt_test::to_ns(2.0 + 5.0)) << "the signals stretched the wait";
  EXPECT_GE(g_handler_runs.load(), 2);
  EXPECT_TRUE(lock.release().has_value());
  // let any signal still in flight land before the next check
  rt_test::sleep_ms(20);
  expect_no_pending_request();
}

TEST_F(InterruptTest, RequestInAHandlerWhileMainIsNotWaitingStaysPending) {
  // SIGUSR1 (handler requests an interrupt) arrives while main sleeps in
  // nanosleep, not in an acquire: the request waits for the next blocking
  // acquire, which ends at once.
  rt_test::SignalGuard sig(SIGUSR1, count_and_request);
  ASSERT_TRUE(sig.ok());
  long tid = main_tid_;
  rt_test::HelperThread sender([tid] { rt_test::tgkill_main(tid, SIGUSR1); });
  sender.join();
  EXPECT_TRUE(wait_for([] { return g_handler_runs.load() == 1; }));
  Lock lock;
  ASSERT_TRUE(lock.try_lock());  // acquire() would consume the request
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 20.0);
  expect_interrupted(r);
  EXPECT_LT(seconds_since(t0), 10.0);
  EXPECT_TRUE(lock.release().has_value());
  expect_no_pending_request();
}

// ---------------------------------------------------------------- pending requests

TEST_F(InterruptTest, PendingRequestEndsTheNextAcquireOfAFreeLock) {
  // The request ends the next blocking acquire at once even though the lock
  // is free: untimed and timed alike, the lock is not taken.
  Lock lock;
  request_interrupt();
  expect_interrupted(lock.acquire());
  EXPECT_FALSE(lock.locked());
  request_interrupt();
  expect_interrupted(lock.acquire(true, 5.0));
  EXPECT_FALSE(lock.locked());
  expect_no_pending_request();
}

TEST_F(InterruptTest, PendingRequestEndsTheNextUntimedAcquire) {
  static Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  request_interrupt();
  rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(lock); });
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire();
  double elapsed = seconds_since(t0);
  dog.dismiss();
  EXPECT_FALSE(dog.fired()) << "a pending request did not end the untimed acquire";
  expect_interrupted(r);
  EXPECT_LT(elapsed, 10.0);
  if (!dog.fired()) {
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(lock.release().has_value());
  } else if (lock.locked()) {
    (void)lock.release();
  }
  // consumed: the next acquire behaves normally
  expect_no_pending_request();
}

TEST_F(InterruptTest, PendingRequestEndsTheNextTimedAcquire) {
  static Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  for (double timeout : {20.0, 1e9, TIMEOUT_MAX}) {
    SCOPED_TRACE(timeout);
    request_interrupt();
    // a library that misses the request would wait ~forever: release after 20 s
    rt_test::Watchdog dog(20.0, [] { rt_test::rescue_lock(lock); });
    std::int64_t t0 = now_ns();
    Result<bool> r = lock.acquire(true, timeout);
    dog.dismiss();
    EXPECT_FALSE(dog.fired());
    expect_interrupted(r);
    EXPECT_LT(seconds_since(t0), 10.0);
    if (!lock.locked()) {
      ASSERT_TRUE(lock.try_lock());
    }
  }
  EXPECT_TRUE(lock.release().has_value());
  expect_no_pending_request();
}

TEST_F(InterruptTest, InterruptMainFromMainLeavesARequestPending) {
  // interrupt_main() on the main thread itself, not waiting: the handler runs
  // and the request waits for the next blocking acquire. Non-blocking and
  // Lockable calls leave it alone.
  rt_test::SignalGuard sig(SIGINT, count_only);
  ASSERT_TRUE(sig.ok());
  Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  Result<void> sent = interrupt_main();
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  EXPECT_TRUE(wait_for([] { return g_handler_runs.load() == 1; }));

  Result<bool> nb = lock.acquire(false);
  ASSERT_TRUE(nb.has_value()) << "a non-blocking acquire consumed the request";
  EXPECT_FALSE(*nb);
  EXPECT_FALSE(lock.try_lock());
  std::int64_t t0 = now_ns();
  EXPECT_FALSE(lock.try_lock_for(std::chrono::milliseconds(50)));
  EXPECT_GE(now_ns() - t0, rt_test::to_ns(0.05));
  EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() +
                                   std::chrono::milliseconds(20)));

  t0 = now_ns();
  Result<bool> r = lock.acquire(true, 20.0);
  expect_interrupted(r);
  EXPECT_LT(seconds_since(t0), 10.0);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
  expect_no_pending_request();
}

TEST_F(InterruptTest, InterruptMainFromAThreadWhileMainIsNotWaiting) {
  rt_test::SignalGuard sig(SIGINT, count_only);
  ASSERT_TRUE(sig.ok());
  static std::atomic<int> result;
  result = 0;
  auto t = start_new_thread([] { result.store(interrupt_main().has_value() ? 1 : -1); });
  if (kDummy) {
    // In a started function no signal is sent: start_new_thread reports the
    // interrupt once the function is done, and no request is left behind.
    expect_error(t, Errc::interrupted, rt_test::kStartedInterruptedMessage, EINTR);
    EXPECT_EQ(result.load(), 1);
    rt_test::sleep_ms(20);
    EXPECT_EQ(g_handler_runs.load(), 0) << "a signal was sent";
    expect_no_pending_request();
    return;
  }
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(wait_for([] { return result.load() != 0 && g_handler_runs.load() == 1; }));
  EXPECT_EQ(result.load(), 1);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  Lock lock;
  ASSERT_TRUE(lock.try_lock());  // acquire() would consume the request
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 20.0);
  expect_interrupted(r);
  EXPECT_LT(seconds_since(t0), 10.0);
  EXPECT_TRUE(lock.release().has_value());
  expect_no_pending_request();
}

TEST_F(InterruptTest, ErrorsDoNotConsumeAPendingRequest) {
  Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  request_interrupt();
  EXPECT_FALSE(lock.acquire(true, std::numeric_limits<double>::quiet_NaN()).has_value());
  EXPECT_FALSE(lock.acquire(true, -5).has_value());
  EXPECT_FALSE(lock.acquire(true, std::numeric_limits<double>::infinity()).has_value());
  EXPECT_FALSE(lock.acquire(false, 5).has_value());
  Lock unlocked;
  EXPECT_FALSE(unlocked.release().has_value());
  EXPECT_FALSE(interrupt_main(0).has_value());
  EXPECT_TRUE(lock.locked());
  std::int64_t t0 = now_ns();
  Result<bool> r = lock.acquire(true, 20.0);
  expect_interrupted(r);
  EXPECT_LT(seconds_since(t0), 10.0);
  EXPECT_TRUE(lock.release().has_value());
  expect_no_pending_request();
}

TEST_F(InterruptTest, ARequestIsConsumedOnce) {
  // The first blocking acquire consumes the request; the second times out
  // normally.
  Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  request_interrupt();
  Result<bool> r = lock.acquire(true, 5.0);
  expect_interrupted(r);
  std::int64_t t0 = now_ns();
  r = lock.acquire(true, 0.25);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(*r);
  EXPECT_GE(now_ns() - t0, rt_test::to_ns(0.25));
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(InterruptTest, RequestsArePerThread) {
  // A rawthread thread requests an interrupt for itself: its own blocking
  // acquire is interrupted; the main thread's is not.
  static Lock lock;
  static std::atomic<int> thread_result;
  thread_result = 0;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  auto t = start_new_thread([] {
    request_interrupt();
    Result<bool> r = lock.acquire(true, 20.0);
    thread_result.store(r.has_value() ? (*r ? 2 : 3)
                                      : (r.error().kind == Errc::interrupted ? 1 : 4));
  });
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(wait_for([] { return thread_result.load() != 0; }, 15.0));
  EXPECT_EQ(thread_result.load(), 1) << "1 = interrupted, 2 = true, 3 = timed out, 4 = error";
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_TRUE(lock.locked());
  expect_no_pending_request();
  EXPECT_TRUE(lock.release().has_value());
}

TEST_F(InterruptTest, ARequestPendingAsAThreadEndsDiesWithIt) {
  // A thread that ends with its request unconsumed must not leave the
  // process-wide count raised: that would send every later acquire, in
  // every thread, off its inline path for good.
  RT_REQUIRES_CONCURRENCY();
  ASSERT_EQ(detail::pending_interrupts.load(), 0u);
  static std::atomic<int> requested;
  requested = 0;
  auto t = start_new_thread([] {
    request_interrupt();
    requested.store(detail::pending_interrupts.load() == 1 ? 1 : 2);
  });
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(requested.load(), 1) << "the request was not pending inside the thread";
  EXPECT_EQ(detail::pending_interrupts.load(), 0u);
}

TEST_F(InterruptTest, InterruptMainDoesNotInterruptTheCaller) {
  // A rawthread thread waits 1 s on a held lock and calls interrupt_main()
  // first: the request is the main thread's, so the thread's wait runs out
  // normally, and main finds the request pending.
  rt_test::SignalGuard sig(SIGINT, count_only);
  ASSERT_TRUE(sig.ok());
  static Lock lock;
  static std::atomic<int> thread_result;
  thread_result = 0;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  auto t = start_new_thread([] {
    if (!interrupt_main().has_value()) {
      thread_result.store(5);
      return;
    }
    Result<bool> r = lock.acquire(true, 0.5);
    thread_result.store(r.has_value() ? (*r ? 2 : 3)
                                      : (r.error().kind == Errc::interrupted ? 1 : 4));
  });
  if (kDummy) {
    // The interrupt goes to start_new_thread, reported once the function is
    // done; the function's own wait ran out normally, and no signal or
    // request reached main.
    expect_error(t, Errc::interrupted, rt_test::kStartedInterruptedMessage, EINTR);
    EXPECT_EQ(thread_result.load(), 3)
        << "1 = interrupted, 2 = true, 3 = timed out, 4 = error, 5 = interrupt_main failed";
    EXPECT_EQ(g_handler_runs.load(), 0);
    EXPECT_FALSE(consume_pending_interrupt()) << "a request was left for main";
  } else {
    ASSERT_TRUE(t.has_value());
    EXPECT_TRUE(wait_for([] { return thread_result.load() != 0; }));
    EXPECT_EQ(thread_result.load(), 3)
        << "1 = interrupted, 2 = true, 3 = timed out, 4 = error, 5 = interrupt_main failed";
    EXPECT_EQ(g_handler_runs.load(), 1);
    EXPECT_TRUE(consume_pending_interrupt()) << "the main thread's request was lost";
  }
  EXPECT_TRUE(lock.release().has_value());
}

}  // namespace
