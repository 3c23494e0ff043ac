// SPDX-License-Identifier: MIT
// Timed acquires never end early: 1000 timed acquires of a held lock, with
// timeouts drawn uniformly from 0 to 20 ms (0 itself and some tiny ones
// included), each returns false after at least its timeout, rounded up to a
// whole nanosecond. Eight threads share them, so the whole takes about 1/8 of
// the sum of the timeouts; sleeping, not computing, so QEMU runs all of them.
// How far past its timeout each one ended is printed, never asserted: it is
// the scheduler's and the timer slack's, not the library's.
#include <algorithm>
#include <iterator>
#include <random>

#include "support.hpp"

using namespace rawthread;

namespace {

class OvershootTest : public rt_test::RawthreadTest {};

TEST_F(OvershootTest, TimedAcquiresNeverEndEarly) {
  constexpr int kThreads = 8;
  // The dummy backend runs each body to its end inside start_new_thread, one
  // after the other: 1000 would be 10 s of sleeping there.
  constexpr int kTotal = rt_test::kDummy ? 125 : 1000;
  constexpr double kMaxTimeout = 0.020;

  struct Shared {
    Lock lock;  // held by main throughout
    double timeout[kTotal];
    std::int64_t min_ns[kTotal];  // the timeout in ns, rounded up
    std::int64_t elapsed_ns[kTotal];
    int result[kTotal];  // 1 false, 2 true, 3 an error
    std::atomic<int> done{0};
  };
  static Shared s;
  s.done = 0;

  std::mt19937_64 rng(31337);
  std::uniform_real_distribution<double> uniform(0.0, kMaxTimeout);
  // 0 itself, tiny and sub-millisecond timeouts, and the largest; the rest uniform.
  const double fixed[] = {0.0,  1e-9,   1e-7, 1e-6,    1e-5,       5e-5,
                          1e-4, 2.5e-4, 5e-4, 9.99e-4, kMaxTimeout};
  for (int i = 0; i < kTotal; ++i) {
    double t = i < static_cast<int>(std::size(fixed)) ? fixed[i] : uniform(rng);
    double ns = t * 1e9;
    auto whole = static_cast<std::int64_t>(ns);
    s.timeout[i] = t;
    s.min_ns[i] = static_cast<double>(whole) < ns ? whole + 1 : whole;
    s.elapsed_ns[i] = -1;
    s.result[i] = 0;
  }
  ASSERT_TRUE(s.lock.try_lock());

  const std::int64_t t0 = rt_test::now_ns();
  for (int j = 0; j < kThreads; ++j) {
    auto started = start_new_thread([](int first) {
      for (int i = first; i < kTotal; i += kThreads) {  // thread j: j, j + 8, j + 16, ...
        std::int64_t begin = *rawthread::sys::monotonic_ns();
        Result<bool> r = s.lock.acquire(true, s.timeout[i]);
        std::int64_t end = *rawthread::sys::monotonic_ns();
        s.elapsed_ns[i] = end - begin;
        s.result[i] = rt_test::is_false(r) ? 1 : rt_test::is_true(r) ? 2 : 3;
      }
      s.done.fetch_add(1);
    }, j);
    ASSERT_TRUE(started.has_value()) << started.error().message;
  }
  ASSERT_TRUE(rt_test::wait_for([] { return s.done.load() == kThreads; }))
      << s.done.load() << " of " << kThreads << " threads finished";
  const double seconds = rt_test::seconds_since(t0);

  int early = 0, wrong = 0;
  std::vector<std::int64_t> overshoot;
  for (int i = 0; i < kTotal; ++i) {
    if (s.result[i] != 1) {
      ++wrong;
      ADD_FAILURE() << "acquire(true, " << s.timeout[i] << ") of a held lock: "
                    << (s.result[i] == 2 ? "took it" : "an error");
    }
    if (s.elapsed_ns[i] < s.min_ns[i]) {
      ++early;
      ADD_FAILURE() << "acquire(true, " << s.timeout[i] << ") ended after " << s.elapsed_ns[i]
                    << " ns, before its timeout (" << s.min_ns[i] << " ns)";
    }
    overshoot.push_back(s.elapsed_ns[i] - s.min_ns[i]);
  }
  EXPECT_EQ(early, 0);
  EXPECT_EQ(wrong, 0);
  EXPECT_TRUE(s.lock.locked());
  EXPECT_TRUE(s.lock.release().has_value());

  std::sort(overshoot.begin(), overshoot.end());
  auto at = [&](double q) {
    std::size_t k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(overshoot.size())));
    return static_cast<double>(overshoot[k == 0 ? 0 : k - 1]) / 1e3;
  };
  std::printf(
      "overshoot: n=%d median=%.0fus p90=%.0fus p99=%.0fus max=%.0fus (%d threads, %.2f s)\n",
      kTotal, at(0.5), at(0.9), at(0.99), at(1.0), kThreads, seconds);
  std::fflush(stdout);
}

}  // namespace
