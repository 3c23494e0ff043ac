// Thread churn: 2000 short threads, started in batches, all run and leave
// thread_count() and the process's mappings as they were. Threads release
// their stacks themselves just before they exit, so the main thread polls
// (with a deadline) for the count and the mappings to settle.
#include "support.hpp"

using namespace rawthread;
using rt_test::wait_for;

namespace {

class ChurnTest : public rt_test::RawthreadTest {
 protected:
  void TearDown() override {
    (void)stack_size(0L);
    rt_test::RawthreadTest::TearDown();
  }
};

TEST_F(ChurnTest, TwoThousandShortThreadsLeaveNothingBehind) {
  constexpr int kBatches = 20;
  constexpr int kPerBatch = 100;
  static std::atomic<int> ran;
  static std::atomic<long> ident_sum;
  ran = 0;
  ident_sum = 0;
  long maps_before = rt_test::maps_lines();
  ASSERT_GT(maps_before, 0);
  int started = 0, failed = 0;
  int first_errno = 0;
  for (int batch = 0; batch < kBatches; ++batch) {
    for (int i = 0; i < kPerBatch; ++i) {
      auto r = start_new_thread([] {
        ident_sum.fetch_add(static_cast<long>(get_ident() != 0));
        ran.fetch_add(1);
      });
      if (r.has_value()) {
        ++started;
      } else {
        ++failed;
        if (first_errno == 0) first_errno = r.error().sys_errno;
      }
    }
    ASSERT_TRUE(wait_for([&] { return ran.load() == started; }))
        << "batch " << batch << ": " << ran.load() << " of " << started << " ran";
    ASSERT_TRUE(rt_test::wait_thread_count(base_count_))
        << "batch " << batch << ": thread_count() stuck at " << thread_count();
  }
  EXPECT_EQ(failed, 0) << "start_new_thread failed, first errno " << first_errno;
  EXPECT_EQ(started, kBatches * kPerBatch);
  EXPECT_EQ(ran.load(), kBatches * kPerBatch);
  EXPECT_EQ(ident_sum.load(), kBatches * kPerBatch);
  EXPECT_TRUE(rt_test::maps_back_to(maps_before));
  EXPECT_EQ(thread_count(), base_count_);
}

TEST_F(ChurnTest, OverlappingShortThreadsWithDifferentStackSizes) {
  // Threads start while others are exiting, with the stack size changing
  // between batches; the mappings still all go away.
  static std::atomic<int> ran;
  ran = 0;
  long maps_before = rt_test::maps_lines();
  const long sizes[] = {0, 32768, 65536, 200000, 0x100000};
  int started = 0;
  for (int round = 0; round < 10; ++round) {
    Result<std::size_t> set = stack_size(sizes[round % 5]);
    if (rt_test::kDummy && sizes[round % 5] != 0) {
      // No thread gets a stack of its own: the sizes are refused, and the
      // threads run on the caller's.
      rt_test::expect_error(set, Errc::thread_error, rt_test::kStackSizeNotSupportedMessage);
      EXPECT_EQ(stack_size(), 0u);
    } else {
      ASSERT_TRUE(set.has_value());
    }
    for (int i = 0; i < 20; ++i) {
      auto r = start_new_thread([](int spin) {
        rt_test::body_sleep(spin * 0.0005);
        ran.fetch_add(1);
      }, i % 3);
      ASSERT_TRUE(r.has_value()) << r.error().message;
      ++started;
    }
  }
  ASSERT_TRUE(stack_size(0L).has_value());
  EXPECT_TRUE(wait_for([&] { return ran.load() == started; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_TRUE(rt_test::maps_back_to(maps_before));
}

TEST_F(ChurnTest, LockedCountsSurviveChurn) {
  // Short threads each take a shared lock once; the plain counter it guards
  // ends exact.
  static Lock lock;
  static long counter;
  static std::atomic<int> done;
  counter = 0;
  done = 0;
  constexpr int kThreads = 300;
  for (int i = 0; i < kThreads; ++i) {
    auto r = start_new_thread([] {
      lock.lock();
      counter = counter + 1;
      lock.unlock();
      done.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value()) << r.error().message;
    if (i % 50 == 49) {
      ASSERT_TRUE(wait_for([&] { return done.load() == i + 1; }));
    }
  }
  EXPECT_TRUE(wait_for([] { return done.load() == kThreads; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(counter, kThreads);
}

}  // namespace
