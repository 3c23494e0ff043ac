// SPDX-License-Identifier: MIT
// Barrier without libc: four threads (the main one and three started) pass
// one Barrier in lockstep for some hundreds of cycles, each cycle handing
// out every index once and running the action once; a timed wait of a
// lone party breaks it, reset() mends it.
#include <atomic>

#include <rawthread/rawthread.hpp>

#include "check.hpp"

namespace {

constexpr unsigned kParties = 4;
constexpr int kCycles = 500;
std::atomic<int> g_actions{0};
std::atomic<unsigned> g_seen[kCycles];  // per cycle, a bit per index
std::atomic<int> g_errors{0};
rawthread::Barrier g_barrier(kParties, [] { g_actions.fetch_add(1); }, 60);

void pass_all_cycles() {
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    auto index = g_barrier.wait();
    if (!index || *index >= kParties) {
      g_errors.fetch_add(1);
      return;
    }
    // The action of this cycle ran before anyone returned, the next not yet.
    if (g_actions.load() != cycle + 1) g_errors.fetch_add(1);
    if ((g_seen[cycle].fetch_or(1u << *index) & (1u << *index)) != 0) g_errors.fetch_add(1);
  }
}

}  // namespace

TEST(barrier_four_threads_in_lockstep) {
  for (unsigned k = 1; k < kParties; ++k)
    REQUIRE(rawthread::start_new_thread([] { pass_all_cycles(); }).has_value());
  pass_all_cycles();
  CHECK(check::wait_for_threads(0, 120));
  CHECK_EQ(g_errors.load(), 0);
  CHECK_EQ(g_actions.load(), kCycles);
  int complete = 0;
  for (auto& bits : g_seen) complete += bits.load() == (1u << kParties) - 1;
  CHECK_EQ(complete, kCycles);
  CHECK(!g_barrier.broken());
  CHECK_EQ(g_barrier.n_waiting(), 0u);
}

TEST(barrier_timed_out_wait_breaks_it_until_reset) {
  rawthread::Barrier barrier(2);
  const std::int64_t start = check::now_ns();
  auto got = barrier.wait(0.1);
  CHECK(!got.has_value() && got.error().kind == rawthread::Errc::broken_barrier);
  CHECK(check::now_ns() - start >= 100'000'000);
  CHECK(barrier.broken());
  barrier.reset();
  CHECK(!barrier.broken());
  rawthread::Barrier none(0);
  auto refused = none.wait();
  CHECK(!refused.has_value() && refused.error().kind == rawthread::Errc::value_error);
}
