// SPDX-License-Identifier: MIT
// Joinable threads without libc: join and timed join, a churn of 1000
// joinable threads (joined or detached) that leaves no mapping behind, and
// thread_local destructors that have run by the time join returns.
#include <asm/unistd.h>

#include <atomic>
#include <utility>

#include <rawthread/rawthread.hpp>
#include <rawthread/sys.hpp>

#include "check.hpp"
#include "kernel.hpp"

namespace {

bool joined(rawthread::Thread& t, double timeout = 60) {
  rawthread::Result<bool> r = t.join(timeout);
  return r.has_value() && *r;
}

bool timed_out(rawthread::Thread& t, double timeout) {
  rawthread::Result<bool> r = t.join(timeout);
  return r.has_value() && !*r;
}

}  // namespace

TEST(join_waits_for_the_thread_and_sees_its_writes) {
  static rawthread::Lock gate;
  static std::atomic<int> started{0};
  static long written = 0;  // plain: the join alone makes it visible
  REQUIRE(gate.try_lock());
  auto r = rawthread::start_joinable_thread([] {
    started.store(1);
    gate.lock();
    gate.unlock();
    written = 99;
  });
  REQUIRE(r.has_value());
  rawthread::Thread t = std::move(*r);
  CHECK(t.ident() != 0);
  CHECK(check::wait_until([] { return started.load() == 1; }, 60));
  CHECK(!t.is_done());
  // Another thread opens the gate while main waits in join.
  REQUIRE(rawthread::start_new_thread([] {
            (void)rawthread::sys::sleep(0.05);
            gate.unlock();
          }).has_value());
  CHECK(joined(t));
  CHECK_EQ(written, 99);
  CHECK(t.is_done());
  CHECK(joined(t, 0));  // joining again is harmless
  CHECK(check::wait_for_threads(0, 60));
  CHECK_EQ(rawthread::thread_count(), 0);
}

TEST(timed_join_of_a_running_thread_times_out) {
  static rawthread::Lock gate;
  REQUIRE(gate.try_lock());
  auto r = rawthread::start_joinable_thread([] {
    gate.lock();
    gate.unlock();
  });
  REQUIRE(r.has_value());
  rawthread::Thread t = std::move(*r);
  const std::int64_t start = check::now_ns();
  CHECK(timed_out(t, 0.1));
  CHECK(check::now_ns() - start >= 100'000'000);
  CHECK(timed_out(t, 0));  // polls
  CHECK(!t.is_done());
  CHECK_EQ(rawthread::thread_count(), 1);
  gate.unlock();
  CHECK(joined(t));
  CHECK_EQ(rawthread::thread_count(), 0);  // reclaimed by the join itself
}

TEST(join_errors_are_the_hosted_ones) {
  rawthread::Thread empty;
  auto r = empty.join();
  REQUIRE(!r.has_value());
  CHECK(r.error().kind == rawthread::Errc::thread_error);
  CHECK_EQ(r.error().sys_errno, 0);
  static std::atomic<int> self_join{-1};
  static rawthread::Thread slot;
  static rawthread::Lock gate;
  REQUIRE(gate.try_lock());
  auto started = rawthread::start_joinable_thread([] {
    gate.lock();
    gate.unlock();
    auto own = slot.join();
    self_join.store(!own.has_value() && own.error().kind == rawthread::Errc::thread_error);
  });
  REQUIRE(started.has_value());
  slot = std::move(*started);
  auto negative = slot.join(-2);
  CHECK(!negative.has_value() && negative.error().kind == rawthread::Errc::value_error);
  gate.unlock();
  CHECK(joined(slot));
  CHECK_EQ(self_join.load(), 1);
}

TEST(thousand_joinable_threads_leave_no_mapping_behind) {
  constexpr int kThreads = 1000;
  constexpr int kRing = 15;
  static std::atomic<int> ran{0};
  REQUIRE(check::wait_for_threads(0, 60));
  // Warm up once, so that whatever the first thread maps for good is mapped.
  {
    auto r = rawthread::start_joinable_thread([] {});
    REQUIRE(r.has_value());
    REQUIRE(joined(*r));
  }
  const long before = check::count_mappings();
  REQUIRE(before > 0);
  // Thread i: joined at once (i % 4 == 0), detached at once (1), or joined
  // (2) or detached (3) when its ring slot comes round, kRing starts later.
  static rawthread::Thread ring[kRing];
  static bool join_later[kRing];
  int join_failures = 0;
  // Joins the handle in `slot` or lets it go, as its thread was meant to end.
  auto settle = [&](int slot) {
    if (join_later[slot] && !joined(ring[slot])) ++join_failures;
    ring[slot] = rawthread::Thread();  // detaches a thread not joined
  };
  for (int i = 0; i < kThreads; ++i) {
    const int slot = i % kRing;
    if (ring[slot].ident() != 0) settle(slot);
    // At most 16 at a time: the churn, not the peak, is under test.
    REQUIRE(check::wait_for_threads(15, 60));
    auto r = rawthread::start_joinable_thread([] { ran.fetch_add(1); });
    REQUIRE(r.has_value());
    if (i % 4 == 0) {
      if (!joined(*r)) ++join_failures;
    } else if (i % 4 != 1) {  // 1: the Result's handle detaches it as it goes
      ring[slot] = std::move(*r);
      join_later[slot] = i % 4 == 2;
    }
  }
  for (int slot = 0; slot < kRing; ++slot)
    if (ring[slot].ident() != 0) settle(slot);
  CHECK_EQ(join_failures, 0);
  CHECK(check::wait_for_threads(0, 120));
  CHECK_EQ(ran.load(), kThreads);
  CHECK_EQ(check::count_mappings(), before);
}

namespace {

std::atomic<int> constructed{0}, destroyed{0};

// A thread_local whose destructor takes a while: a join that returned before
// the thread's exit hooks ran would see it not destroyed yet.
struct SlowToDestroy {
  int value = 5;
  SlowToDestroy() { constructed.fetch_add(1); }
  ~SlowToDestroy() {
    (void)rawthread::sys::sleep(0.05);
    destroyed.fetch_add(1);
  }
};
thread_local SlowToDestroy slow;

}  // namespace

TEST(thread_local_destructors_run_before_join_returns) {
  const int destroyed_before = destroyed.load();
  static std::atomic<int> seen{0};
  auto r = rawthread::start_joinable_thread([] { seen.store(slow.value); });
  REQUIRE(r.has_value());
  rawthread::Thread t = std::move(*r);
  CHECK(joined(t));
  CHECK_EQ(seen.load(), 5);
  CHECK_EQ(destroyed.load() - destroyed_before, 1);

  // And through exit_thread too.
  auto e = rawthread::start_joinable_thread([] {
    slow.value = 6;
    rawthread::exit_thread();
  });
  REQUIRE(e.has_value());
  t = std::move(*e);
  CHECK(joined(t));
  CHECK_EQ(destroyed.load() - destroyed_before, 2);
  CHECK_EQ(rawthread::thread_count(), 0);
}
