// SPDX-License-Identifier: MIT
// Event: CPython's Lib/test/lock_tests.py EventTests ported (each case names
// its origin), then rawthread's own: argument errors, a set() from a signal
// handler, interrupts, and the dummy backend.
#include <type_traits>

#include "support.hpp"

using namespace rawthread;
using rt_test::body_sleep;
using rt_test::expect_error;
using rt_test::is_false;
using rt_test::is_true;
using rt_test::kDummy;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

static_assert(!std::is_copy_constructible_v<Event>);
static_assert(!std::is_copy_assignable_v<Event>);
static_assert(std::is_nothrow_default_constructible_v<Event>);
static_assert(sizeof(Event) == 4);

constinit Event g_static_event;

// Sets the event and wakes every sleeper on its word, for a watchdog.
void rescue(Event& event) {
  event.set();
  rt_test::wake_all(static_cast<void*>(&event));
}

class EventTest : public rt_test::RawthreadTest {};

// test_is_set
TEST_F(EventTest, IsSet) {
  Event evt;
  EXPECT_FALSE(evt.is_set());
  evt.set();
  EXPECT_TRUE(evt.is_set());
  evt.set();
  EXPECT_TRUE(evt.is_set());
  evt.clear();
  EXPECT_FALSE(evt.is_set());
  evt.clear();
  EXPECT_FALSE(evt.is_set());
  EXPECT_FALSE(g_static_event.is_set());
}

// _check_notify: 5 threads wait twice; a set() lets every wait through.
void check_notify(Event& evt) {
  static Event* event;
  static std::atomic<int> started, first, second;
  event = &evt;
  started = first = second = 0;
  constexpr int kThreads = 5;
  for (int i = 0; i < kThreads; ++i) {
    auto r = start_new_thread([] {
      started.fetch_add(1);
      if (is_true(event->wait())) first.fetch_add(1);
      if (is_true(event->wait())) second.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value());
  }
  ASSERT_TRUE(wait_for([] { return started.load() == kThreads; }));
  rt_test::sleep_ms(50);
  EXPECT_EQ(first.load(), 0);
  rt_test::Watchdog dog(30.0, [] { rescue(*event); });
  evt.set();
  EXPECT_TRUE(wait_for([] { return second.load() == kThreads; }));
  dog.dismiss();
  EXPECT_FALSE(dog.fired()) << "a waiter missed the set()";
  EXPECT_EQ(first.load(), kThreads);
  EXPECT_EQ(second.load(), kThreads);
}

// test_notify
TEST_F(EventTest, Notify) {
  RT_REQUIRES_CONCURRENCY();
  Event evt;
  check_notify(evt);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  // another turn after a reset
  evt.set();
  evt.clear();
  check_notify(evt);
}

// test_timeout: wait(0) and a timed wait on a clear event are false, after
// at least their timeout; once set, true.
TEST_F(EventTest, Timeout) {
  static Event evt;
  static std::atomic<int> zero_false, timed_false, done;
  static std::atomic<std::int64_t> shortest_ns;
  zero_false = timed_false = done = 0;
  shortest_ns = INT64_MAX;
  constexpr int kThreads = 5;
  for (int i = 0; i < kThreads; ++i) {
    auto r = start_new_thread([] {
      if (is_false(evt.wait(0.0))) zero_false.fetch_add(1);
      const std::int64_t t0 = *sys::monotonic_ns();
      if (is_false(evt.wait(0.5))) timed_false.fetch_add(1);
      const std::int64_t took = *sys::monotonic_ns() - t0;
      std::int64_t seen = shortest_ns.load();
      while (took < seen && !shortest_ns.compare_exchange_weak(seen, took)) {
      }
      done.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value());
  }
  EXPECT_TRUE(wait_for([] { return done.load() == kThreads; }));
  EXPECT_EQ(zero_false.load(), kThreads);
  EXPECT_EQ(timed_false.load(), kThreads);
  EXPECT_GE(shortest_ns.load(), 500000000) << "a timed-out wait returned early";
  evt.set();
  EXPECT_TRUE(is_true(evt.wait(0.5)));
  EXPECT_TRUE(is_true(evt.wait(0)));
}

// test_set_and_clear (CPython issue #13502): a waiter woken by set() returns
// true even though clear() ran before it looked again.
TEST_F(EventTest, SetAndClear) {
  RT_REQUIRES_CONCURRENCY();
  static Event evt;
  static std::atomic<int> started, yes, done;
  started = yes = done = 0;
  constexpr int kThreads = 5;
  for (int i = 0; i < kThreads; ++i) {
    auto r = start_new_thread([] {
      started.fetch_add(1);
      if (is_true(evt.wait(20.0))) yes.fetch_add(1);
      done.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value());
  }
  ASSERT_TRUE(wait_for([] { return started.load() == kThreads; }));
  rt_test::sleep_ms(200);
  evt.set();
  evt.clear();
  EXPECT_TRUE(wait_for([] { return done.load() == kThreads; }));
  EXPECT_EQ(yes.load(), kThreads) << "a waiter woken by set() reported a timeout";
  EXPECT_FALSE(evt.is_set());
}

// Lock's argument checks for a blocking call; nothing changes.
TEST_F(EventTest, WaitArgumentErrors) {
  Event evt;
  for (const rt_test::BadAcquire& c : rt_test::bad_acquires()) {
    if (!c.blocking) continue;  // wait has no blocking argument
    SCOPED_TRACE(rt_test::describe(c));
    expect_error(evt.wait(c.timeout), c.kind, c.message);
  }
  EXPECT_FALSE(evt.is_set());
  evt.set();
  for (const rt_test::BadAcquire& c : rt_test::bad_acquires()) {
    if (!c.blocking) continue;
    expect_error(evt.wait(c.timeout), c.kind, c.message);
  }
  EXPECT_TRUE(evt.is_set());
}

// set() is async-signal-safe: a handler sets the event the main thread waits
// on, the interrupted wait itself.
Event g_handler_event;
void set_in_handler(int) { g_handler_event.set(); }

TEST_F(EventTest, SetFromASignalHandler) {
  g_handler_event.clear();
  rt_test::SignalGuard sig(SIGUSR2, set_in_handler);
  ASSERT_TRUE(sig.ok());
  const long main_tid = rt_test::gettid_now();
  rt_test::HelperThread sender([main_tid] {
    rt_test::wait_until_sleeping(main_tid);
    rt_test::tgkill_main(main_tid, SIGUSR2);
  });
  const std::int64_t t0 = now_ns();
  EXPECT_TRUE(is_true(g_handler_event.wait(20.0)));
  EXPECT_LT(seconds_since(t0), 10.0);
  sender.join();
}

// A set() from another thread ends an untimed wait (the main thread's).
TEST_F(EventTest, SetWakesAnUntimedWait) {
  RT_REQUIRES_CONCURRENCY();
  static Event evt;
  auto r = start_new_thread([] {
    body_sleep(0.1);
    evt.set();
  });
  ASSERT_TRUE(r.has_value());
  rt_test::Watchdog dog(20.0, [] { rescue(evt); });
  EXPECT_TRUE(is_true(evt.wait()));
  dog.dismiss();
  EXPECT_FALSE(dog.fired()) << "the wait missed the set()";
}

// ------------------------------------------------------------ interrupts

class EventInterruptTest : public rt_test::InterruptFixture {};

// A pending request ends the next wait at once, even on a set event.
TEST_F(EventInterruptTest, PendingRequestEndsTheNextWait) {
  Event evt;
  rt_test::Watchdog dog(20.0, [&] { rescue(evt); });
  request_interrupt();
  rt_test::expect_interrupted(evt.wait());
  request_interrupt();
  rt_test::expect_interrupted(evt.wait(TIMEOUT_MAX));
  request_interrupt();
  rt_test::expect_interrupted(evt.wait(0));
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
  EXPECT_FALSE(evt.is_set());
  evt.set();
  request_interrupt();
  rt_test::expect_interrupted(evt.wait());
  EXPECT_TRUE(evt.is_set());
  rt_test::expect_no_pending_request();
}

// A request that comes while the wait sleeps ends it, untimed or timed.
TEST_F(EventInterruptTest, InterruptMainEndsASleepingWait) {
  rt_test::SignalGuard sig(SIGINT, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  static Event evt;
  for (double timeout : {-1.0, 20.0}) {
    SCOPED_TRACE(timeout);
    if (kDummy && timeout == -1) continue;  // the dummy's deadlock error instead
    rt_test::g_handler_runs = 0;
    rt_test::HelperThread interrupter = when_main_sleeps([] { (void)interrupt_main(); });
    rt_test::Watchdog dog(20.0, [] { rescue(evt); });
    const std::int64_t t0 = now_ns();
    Result<bool> r = evt.wait(timeout);
    const double elapsed = seconds_since(t0);
    dog.dismiss();
    interrupter.join();
    EXPECT_FALSE(dog.fired()) << "the wait was not interrupted";
    EXPECT_TRUE(sleeping_seen_.load());
    rt_test::expect_interrupted(r);
    EXPECT_LT(elapsed, 10.0);
    EXPECT_EQ(rt_test::g_handler_runs.load(), 1);
    EXPECT_FALSE(evt.is_set());
  }
  rt_test::expect_no_pending_request();
}

// ------------------------------------------------------------ the dummy backend

// An untimed wait on a clear event is the deadlock error there; a timed one
// waits its time out; a set() before the wait makes it true.
TEST_F(EventTest, DummyBackend) {
  Event evt;
  if (kDummy) {
    expect_error(evt.wait(), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
  }
  const std::int64_t t0 = now_ns();
  EXPECT_TRUE(is_false(evt.wait(0.1)));
  EXPECT_GE(seconds_since(t0), 0.1);
  evt.set();
  EXPECT_TRUE(is_true(evt.wait()));
  EXPECT_TRUE(is_true(evt.wait(0.1)));
  evt.clear();
  EXPECT_TRUE(is_false(evt.wait(0)));
}

}  // namespace
