// SPDX-License-Identifier: MIT
// Issue 15 without libc: rawthread::sleep (never early, a pending request
// ends it) and Thread::interrupt ending a thread's sleep.
#include <atomic>
#include <utility>

#include <rawthread/rawthread.hpp>
#include <rawthread/sys.hpp>

#include "check.hpp"

namespace {

std::int64_t now_ns() { return *rawthread::sys::monotonic_ns(); }

std::atomic<int> usr1_runs{0};
void on_usr1(int) { usr1_runs.fetch_add(1); }

constexpr int kSigusr1 = 10;  // on x86_64, aarch64 and riscv64

}  // namespace

TEST(sleep_never_returns_early_and_a_pending_request_ends_it) {
  std::int64_t t0 = now_ns();
  CHECK(rawthread::sleep(0.05).has_value());
  CHECK(now_ns() - t0 >= 50'000'000);
  rawthread::request_interrupt();
  t0 = now_ns();
  rawthread::Result<void> r = rawthread::sleep(60);
  CHECK(!r.has_value() && r.error().kind == rawthread::Errc::interrupted);
  CHECK(now_ns() - t0 < 30'000'000'000);
  CHECK(rawthread::sleep(0.01).has_value());  // consumed
}

TEST(thread_interrupt_ends_a_threads_sleep) {
  static std::atomic<int> outcome{0};  // 1 interrupted, 2 anything else
  outcome = 0;
  usr1_runs = 0;
  CHECK(rawthread::sys::set_signal_handler(kSigusr1, on_usr1).has_value());
  auto started = rawthread::start_joinable_thread([] {
    rawthread::Result<void> r = rawthread::sleep(-1);
    outcome.store(!r.has_value() && r.error().kind == rawthread::Errc::interrupted ? 1 : 2);
  });
  if (!CHECK(started.has_value())) return;
  rawthread::Thread t = std::move(*started);
  // Before the sleep began or during it: either way it ends it.
  CHECK(t.interrupt(kSigusr1).has_value());
  rawthread::Result<bool> joined = t.join(60);
  CHECK(joined.has_value() && *joined);
  CHECK_EQ(outcome.load(), 1);
  // The kernel delivers the signal before the thread leaves its end's wait
  // for the signaller; valgrind, which delivers signals at points of its
  // own, may let the thread exit with it still pending, and drop it.
  if (!check::under_valgrind()) CHECK_EQ(usr1_runs.load(), 1);
  CHECK(t.interrupt(kSigusr1).has_value());  // ended: nothing to do
  CHECK(rawthread::sys::set_signal_default(kSigusr1).has_value());
}
