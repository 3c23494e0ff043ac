// SPDX-License-Identifier: MIT
// Queue without libc: two producers and two consumers pass 20,000 items
// through a Queue<int, 4>, each exactly once and in order per producer;
// task_done and join; the same errors as in a hosted program.
#include <atomic>

#include <rawthread/rawthread.hpp>

#include "check.hpp"

TEST(queue_passes_items_between_threads) {
  constexpr int kProducers = 2, kConsumers = 2, kPerProducer = 10000;
  static rawthread::Queue<int, 4> queue;
  // int, not char: riscv64 has no byte-wide atomic add without libatomic
  static std::atomic<int> seen[kProducers * kPerProducer];
  static std::atomic<int> errors{0}, out_of_order{0}, got{0};
  static rawthread::Semaphore produced(0);  // one token per producer done
  for (auto& s : seen) s = 0;
  errors = out_of_order = got = 0;
  for (int c = 0; c < kConsumers; ++c) {
    REQUIRE(rawthread::start_new_thread([] {
              int last[kProducers] = {-1, -1};
              for (;;) {
                auto item = queue.get(true, 60.0);
                if (!item) {
                  errors.fetch_add(1);
                  return;
                }
                if (*item < 0) {
                  (void)queue.task_done();
                  return;
                }
                const int producer = *item / kPerProducer, seq = *item % kPerProducer;
                if (seq <= last[producer]) out_of_order.fetch_add(1);
                last[producer] = seq;
                if (seen[*item].fetch_add(1) != 0) errors.fetch_add(1);
                got.fetch_add(1);
                (void)queue.task_done();
              }
            }).has_value());
  }
  for (int p = 0; p < kProducers; ++p) {
    REQUIRE(rawthread::start_new_thread(
                [](int base) {
                  for (int i = 0; i < kPerProducer; ++i)
                    if (!queue.put(base + i, true, 60.0)) errors.fetch_add(1);
                  (void)produced.release();
                },
                p * kPerProducer)
                .has_value());
  }
  // join counts what was put: once the producers are done, it returns when
  // every item was got and task_done.
  for (int p = 0; p < kProducers; ++p) {
    auto done = produced.acquire(true, 120.0);
    CHECK(done && *done);
  }
  CHECK(queue.join(120.0).has_value());
  CHECK_EQ(got.load(), kProducers * kPerProducer);
  for (int c = 0; c < kConsumers; ++c) CHECK(queue.put(-1, true, 60.0).has_value());
  CHECK(queue.join(60.0).has_value());
  CHECK(check::wait_for_threads(0, 120));
  CHECK_EQ(errors.load(), 0);
  CHECK_EQ(out_of_order.load(), 0);
  int missing = 0;
  for (auto& s : seen) missing += s.load() != 1;
  CHECK_EQ(missing, 0);
  CHECK(queue.empty());

  auto empty = queue.get_nowait();
  CHECK(!empty && empty.error().kind == rawthread::Errc::empty &&
        check::same(empty.error().message, "queue is empty"));
  auto bad = queue.put(1, true, -2.0);
  CHECK(!bad && check::same(bad.error().message, "'timeout' must be a non-negative number"));
  auto too_many = queue.task_done();
  CHECK(!too_many && check::same(too_many.error().message, "task_done() called too many times"));
  auto timed_out = queue.get(true, 0.01);
  CHECK(!timed_out && timed_out.error().kind == rawthread::Errc::empty);
}
