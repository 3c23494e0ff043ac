// SPDX-License-Identifier: MIT
// Lock and RLock's try_lock_for / try_lock_until with extreme std::chrono
// values, by rawthread/timeout.hpp's rules: time_point::min(), NaN, zero and
// negative durations are try_lock(); duration::max(), far time points
// (time_point<steady_clock, hours>::max()) and +infinity wait (TIMEOUT_MAX);
// a tiny positive duration is a short wait. Integer and floating
// representations, periods from attoseconds to hours and ratio<1, 3>.
//
// Another thread (a HelperThread, so this runs in the dummy build too) holds
// the lock. A call that must not wait runs under a watchdog that makes the
// holder let go, so one that waits anyway takes the lock and fails instead of
// hanging; a call that must wait has the holder let go only once main has
// slept in it for 50 ms, and must then return true.
#include <chrono>
#include <functional>
#include <limits>
#include <ratio>
#include <type_traits>
#include <vector>

#include "support.hpp"

using namespace rawthread;
using namespace std::chrono;

namespace {

using Thirds = duration<long long, std::ratio<1, 3>>;
using Hours = duration<long double, std::ratio<3600>>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();
constexpr long double kNaNl = std::numeric_limits<long double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr long double kInfl = std::numeric_limits<long double>::infinity();

// A timed call and the text that made it, for failure messages.
template <class L>
struct TimedCall {
  const char* text;
  std::function<bool(L&)> run;
};
#define RT_TIMED_CALL(expr) \
  TimedCall<L> { #expr, [](L& lock) { return expr; } }

// Calls that are try_lock() by the rules: a deadline reached, NaN, a duration
// zero or negative.
template <class L>
std::vector<TimedCall<L>> min_time_points() {
  return {
      RT_TIMED_CALL(lock.try_lock_until(steady_clock::time_point::min())),
      RT_TIMED_CALL(lock.try_lock_until(system_clock::time_point::min())),
      RT_TIMED_CALL(lock.try_lock_until(time_point<steady_clock, hours>::min())),
      RT_TIMED_CALL(lock.try_lock_until(time_point<system_clock, Thirds>::min())),
      RT_TIMED_CALL(lock.try_lock_until(time_point<steady_clock, duration<double>>::min())),
      RT_TIMED_CALL(lock.try_lock_until(time_point<steady_clock, duration<double>>(
          duration<double>(-kInf)))),
  };
}

template <class L>
std::vector<TimedCall<L>> nans() {
  return {
      RT_TIMED_CALL(lock.try_lock_for(duration<double>(kNaN))),
      RT_TIMED_CALL(lock.try_lock_for(duration<float, std::micro>(kNaNf))),
      RT_TIMED_CALL(lock.try_lock_for(duration<long double, std::ratio<1, 3>>(kNaNl))),
      RT_TIMED_CALL(lock.try_lock_until(time_point<steady_clock, duration<double>>(
          duration<double>(kNaN)))),
      RT_TIMED_CALL(lock.try_lock_until(time_point<system_clock, duration<float, std::milli>>(
          duration<float, std::milli>(kNaNf)))),
  };
}

template <class L>
std::vector<TimedCall<L>> non_positive_durations() {
  return {
      RT_TIMED_CALL(lock.try_lock_for(seconds(0))),
      RT_TIMED_CALL(lock.try_lock_for(duration<double>(-0.0))),
      RT_TIMED_CALL(lock.try_lock_for(duration<unsigned, std::milli>(0))),
      RT_TIMED_CALL(lock.try_lock_for(milliseconds(-5))),
      RT_TIMED_CALL(lock.try_lock_for(hours::min())),
      RT_TIMED_CALL(lock.try_lock_for(nanoseconds::min())),
      RT_TIMED_CALL(lock.try_lock_for(Thirds::min())),
      RT_TIMED_CALL(lock.try_lock_for(duration<double>::min())),  // -DBL_MAX
      RT_TIMED_CALL(lock.try_lock_for(duration<double>(-kInf))),
  };
}

// Calls that wait (TIMEOUT_MAX, or the time left, measured again after it):
// far beyond TIMEOUT_MAX, of every kind of representation.
template <class L>
std::vector<TimedCall<L>> far_deadlines() {
  return {
      RT_TIMED_CALL(lock.try_lock_until(time_point<steady_clock, hours>::max())),
      RT_TIMED_CALL(lock.try_lock_until(time_point<system_clock, seconds>::max())),
      RT_TIMED_CALL(lock.try_lock_until(time_point<steady_clock, Thirds>::max())),
      RT_TIMED_CALL(lock.try_lock_until(steady_clock::time_point::max())),
      RT_TIMED_CALL(lock.try_lock_until(system_clock::time_point::max())),
      RT_TIMED_CALL(lock.try_lock_until(time_point<steady_clock, duration<double>>::max())),
      RT_TIMED_CALL(lock.try_lock_until(time_point<steady_clock, duration<double>>(
          duration<double>(kInf)))),
      RT_TIMED_CALL(lock.try_lock_until(time_point<system_clock, Hours>(Hours(kInfl)))),
  };
}

template <class L>
std::vector<TimedCall<L>> huge_durations() {
  return {
      RT_TIMED_CALL(lock.try_lock_for(hours::max())),
      RT_TIMED_CALL(lock.try_lock_for(nanoseconds::max())),
      RT_TIMED_CALL(lock.try_lock_for(Thirds::max())),
      RT_TIMED_CALL(lock.try_lock_for(duration<unsigned long long, std::micro>::max())),
      RT_TIMED_CALL(lock.try_lock_for(duration<double>::max())),
      RT_TIMED_CALL(lock.try_lock_for(duration<float, std::nano>::max())),
      RT_TIMED_CALL(lock.try_lock_for(Hours::max())),
      RT_TIMED_CALL(lock.try_lock_for(duration<double>(kInf))),
      RT_TIMED_CALL(lock.try_lock_for(duration<double>(TIMEOUT_MAX * 4))),
  };
}

// Calls that wait, but so little that on a held lock they return false at
// once: positive durations far below a nanosecond, and one nanosecond.
template <class L>
std::vector<TimedCall<L>> tiny_durations() {
  return {
      RT_TIMED_CALL(lock.try_lock_for(duration<double>(1e-300))),
      RT_TIMED_CALL(lock.try_lock_for(
          duration<double, std::atto>(std::numeric_limits<double>::denorm_min()))),
      RT_TIMED_CALL(lock.try_lock_for(
          duration<float, std::nano>(std::numeric_limits<float>::denorm_min()))),
      RT_TIMED_CALL(
          lock.try_lock_for(duration<long double>(std::numeric_limits<long double>::min()))),
      RT_TIMED_CALL(lock.try_lock_for(nanoseconds(1))),
  };
}

#undef RT_TIMED_CALL

// Holds `lock` on another thread (a HelperThread: libc's, so the dummy build
// has it too) until let_go(), or, with kWhenMainSleeps, until main has slept
// for 50 ms (in the call under test, the only thing main sleeps in).
template <class L>
class Holder {
 public:
  enum Release { kOnLetGo, kWhenMainSleeps };

  Holder(L& lock, Release when) : main_tid_(rt_test::gettid_now()) {
    helper_ = rt_test::HelperThread([this, &lock, when] {
      lock.lock();
      holding_ = true;
      if (when == kWhenMainSleeps) {
        main_slept_ = rt_test::wait_until_sleeping(main_tid_);
        rt_test::sleep_ms(50);
      } else {
        rt_test::wait_for([this] { return go_.load(); }, 60.0);
      }
      released_ = true;
      lock.unlock();
    });
    rt_test::wait_for([this] { return holding_.load(); });
  }
  ~Holder() {
    let_go();
    helper_.join();
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  bool holding() const { return holding_.load(); }
  void let_go() { go_ = true; }  // any thread
  bool released() const { return released_.load(); }
  bool main_slept() const { return main_slept_.load(); }

 private:
  long main_tid_;
  std::atomic<bool> holding_{false}, go_{false}, released_{false}, main_slept_{false};
  rt_test::HelperThread helper_;
};

template <class L>
class ChronoLimitsTest : public rt_test::RawthreadTest {
 protected:
  // On a free lock: taken at once. Then given back.
  void expect_taken_when_free(const std::vector<TimedCall<L>>& calls) {
    for (const TimedCall<L>& call : calls) {
      EXPECT_TRUE(call.run(lock_)) << call.text;
      lock_.unlock();
    }
  }

  // On a lock another thread holds: false, without waiting. A call that
  // waits is let through by the watchdog: it takes the lock and fails.
  void expect_false_at_once_when_held(const std::vector<TimedCall<L>>& calls) {
    for (const TimedCall<L>& call : calls) {
      Holder<L> holder(lock_, Holder<L>::kOnLetGo);
      ASSERT_TRUE(holder.holding()) << call.text;
      rt_test::Watchdog dog(10.0, [&holder] { holder.let_go(); });
      const bool got = call.run(lock_);
      dog.dismiss();
      EXPECT_FALSE(got) << call.text;
      EXPECT_FALSE(dog.fired()) << call.text << " waited instead of acting as try_lock";
      if (got) lock_.unlock();
    }
  }

  // On a lock another thread holds and frees 50 ms after main sleeps in the
  // call: true, after the release (not false at once).
  void expect_waits_for_the_release(const std::vector<TimedCall<L>>& calls) {
    for (const TimedCall<L>& call : calls) {
      Holder<L> holder(lock_, Holder<L>::kWhenMainSleeps);
      ASSERT_TRUE(holder.holding()) << call.text;
      // a library that misses the wake-up would wait for good
      rt_test::Watchdog dog(20.0, [this] { rt_test::wake_all(&lock_); });
      const bool got = call.run(lock_);
      dog.dismiss();
      EXPECT_TRUE(got) << call.text << " returned false instead of waiting";
      EXPECT_FALSE(dog.fired()) << call.text << " was not woken by the release";
      if (got) {
        EXPECT_TRUE(holder.released()) << call.text << " took a lock still held";
        EXPECT_TRUE(holder.main_slept()) << call.text << ": main never slept in it";
        lock_.unlock();
      }
    }
  }

  L lock_;
};

using LockTypes = ::testing::Types<Lock, RLock>;
TYPED_TEST_SUITE(ChronoLimitsTest, LockTypes);

TYPED_TEST(ChronoLimitsTest, MinTimePointsActAsTryLock) {
  using L = TypeParam;
  this->expect_taken_when_free(min_time_points<L>());
  this->expect_false_at_once_when_held(min_time_points<L>());
}

TYPED_TEST(ChronoLimitsTest, NaNActsAsTryLock) {
  using L = TypeParam;
  this->expect_taken_when_free(nans<L>());
  this->expect_false_at_once_when_held(nans<L>());
}

TYPED_TEST(ChronoLimitsTest, NonPositiveDurationsActAsTryLock) {
  using L = TypeParam;
  this->expect_taken_when_free(non_positive_durations<L>());
  this->expect_false_at_once_when_held(non_positive_durations<L>());
}

TYPED_TEST(ChronoLimitsTest, TinyPositiveDurationsWaitBriefly) {
  using L = TypeParam;
  this->expect_taken_when_free(tiny_durations<L>());
  this->expect_false_at_once_when_held(tiny_durations<L>());
}

TYPED_TEST(ChronoLimitsTest, FarDeadlinesWaitForTheRelease) {
  using L = TypeParam;
  this->expect_taken_when_free(far_deadlines<L>());
  this->expect_waits_for_the_release(far_deadlines<L>());
}

TYPED_TEST(ChronoLimitsTest, HugeDurationsWaitForTheRelease) {
  using L = TypeParam;
  this->expect_taken_when_free(huge_durations<L>());
  this->expect_waits_for_the_release(huge_durations<L>());
}

}  // namespace
