// SPDX-License-Identifier: MIT
// Queue<T, Capacity>: CPython's Lib/test/test_queue.py (BaseQueueTestMixin:
// basic_queue_test, queue_join_test, test_queue_task_done,
// test_queue_join, test_negative_timeout_raises_exception, test_nowait,
// test_shrinking_queue; BaseSimpleQueueTest's feed / consume,
// consume_nonblock and consume_timeout) ported, each case naming its origin
// (python/cpython, read through the code search); FailingQueue does not
// apply (a move cannot fail). Then rawthread's own: a producer/consumer
// torture, construction and destruction balanced for a T with a
// destructor, every rejected call changing nothing, interrupts, and the
// dummy backend.
#include <type_traits>

#include "support.hpp"

using namespace rawthread;
using rt_test::body_sleep;
using rt_test::expect_error;
using rt_test::kDummy;
using rt_test::now_ns;
using rt_test::seconds_since;
using rt_test::wait_for;

namespace {

static_assert(!std::is_copy_constructible_v<Queue<int, 4>>);
static_assert(!std::is_move_constructible_v<Queue<int, 4>>);
static_assert(!std::is_copy_assignable_v<Queue<int, 4>>);
static_assert(!std::is_move_assignable_v<Queue<int, 4>>);
static_assert(std::is_nothrow_default_constructible_v<Queue<int, 4>>);

// A T whose constructions and destructions are counted: every object made
// is destroyed exactly once.
struct Counted {
  static inline std::atomic<long> live{0};
  int value;
  explicit Counted(int v) noexcept : value(v) { live.fetch_add(1); }
  Counted(Counted&& other) noexcept : value(other.value) {
    other.value = -1;
    live.fetch_add(1);
  }
  Counted& operator=(Counted&&) = delete;
  ~Counted() { live.fetch_sub(1); }
};

// Constant-initialised: no constructor runs for them.
constinit Queue<int, 8> g_static_ints;
constinit Queue<Counted, 4> g_static_counted;

constexpr std::size_t kQueueSize = 5;  // test_queue.py's QUEUE_SIZE
constexpr double kLong = 10.0;         // "they should never actually wait that long"

const char* const kFull = "queue is full";
const char* const kEmpty = "queue is empty";
const char* const kBadTimeout = "'timeout' must be a non-negative number";
const char* const kTooMany = "task_done() called too many times";
const char* const kJoinTimedOut = "join timed out";

// Wakes every futex word of a queue's core (its semaphores, its lock, its
// unfinished count): a main thread stuck after a lost wake-up gets out.
template <class Q>
void wake_queue(Q& q) {
  auto* words = reinterpret_cast<unsigned char*>(&q);
  for (std::size_t off = 0; off < sizeof(detail::QueueCore); off += 4)
    rt_test::wake_all(words + off);
}

class QueueTest : public rt_test::RawthreadTest {};

// ------------------------------------------------------------ test_queue.py, BaseQueueTestMixin

// _TriggerThread / do_blocking_test: a thread that waits 0.1 s, says it
// started, then runs the call that unblocks the main thread; the blocking
// call must not return before that.
struct Trigger {
  std::atomic<bool> started{false}, done{false};
};

template <class Fn>
bool start_trigger(Trigger& t, Fn fn) {
  t.started = false;
  t.done = false;
  return start_new_thread([&t, fn] {
           body_sleep(0.1);
           t.started.store(true);
           fn();
           t.done.store(true);
         })
      .has_value();
}

// basic_queue_test, run twice on the same queue as test_basic does.
void basic_queue_test(Queue<int, kQueueSize>& q) {
  ASSERT_EQ(q.qsize(), 0u) << "Call this function with an empty queue";
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.full());
  ASSERT_TRUE(q.put(111).has_value());
  ASSERT_TRUE(q.put(333).has_value());
  ASSERT_TRUE(q.put(222).has_value());
  EXPECT_EQ(*q.get(), 111);  // Queue's target order: FIFO
  EXPECT_EQ(*q.get(), 333);
  EXPECT_EQ(*q.get(), 222);
  for (std::size_t i = 0; i < kQueueSize - 1; ++i) {
    ASSERT_TRUE(q.put(static_cast<int>(i)).has_value());
    EXPECT_NE(q.qsize(), 0u) << "Queue should not be empty";
  }
  EXPECT_FALSE(q.full()) << "Queue should not be full";
  const int last = 2 * kQueueSize, full = 3 * 2 * kQueueSize;
  ASSERT_TRUE(q.put(last).has_value());
  EXPECT_TRUE(q.full()) << "Queue should be full";
  EXPECT_FALSE(q.empty());
  expect_error(q.put(full, false), Errc::full, kFull);
  const std::int64_t t0 = now_ns();
  expect_error(q.put(full, true, 0.01), Errc::full, kFull);
  EXPECT_GE(seconds_since(t0), 0.01);
  if (!kDummy) {
    // Test a blocking put, untimed and timed.
    static Queue<int, kQueueSize>* shared;
    shared = &q;
    for (double timeout : {-1.0, kLong}) {
      static Trigger t;
      ASSERT_TRUE(start_trigger(t, [] { (void)shared->get(); }));
      EXPECT_TRUE(q.put(full, true, timeout).has_value());
      EXPECT_TRUE(t.started.load()) << "blocking put appeared not to block";
      EXPECT_TRUE(wait_for([] { return t.done.load(); }));
    }
  }
  // Empty it.
  const std::size_t n = q.qsize();
  for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(q.get().has_value());
  EXPECT_EQ(q.qsize(), 0u) << "Queue should be empty";
  expect_error(q.get(false), Errc::empty, kEmpty);
  expect_error(q.get(true, 0.01), Errc::empty, kEmpty);
  if (!kDummy) {
    // Test a blocking get, untimed and timed.
    static Queue<int, kQueueSize>* shared;
    shared = &q;
    for (double timeout : {-1.0, kLong}) {
      static Trigger t;
      ASSERT_TRUE(start_trigger(t, [] { (void)shared->put(-7); }));
      Result<int> got = q.get(true, timeout);
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(*got, -7);
      EXPECT_TRUE(t.started.load()) << "blocking get appeared not to block";
      EXPECT_TRUE(wait_for([] { return t.done.load(); }));
    }
  }
  EXPECT_TRUE(q.empty());
}

// test_basic: twice on the same queue. (The puts leave unfinished tasks,
// as in Python; nothing here joins.)
TEST_F(QueueTest, Basic) {
  static Queue<int, kQueueSize> q;
  rt_test::Watchdog dog(60.0, [] {
    (void)q.put_nowait(0);
    wake_queue(q);
  });
  basic_queue_test(q);
  basic_queue_test(q);
  dog.dismiss();
  EXPECT_FALSE(dog.fired());
}

// queue_join_test, the body of test_queue_join: two workers sum what they
// get and task_done each item; join waits until the last is done; a -1
// tells a worker to stop; join twice.
struct JoinRun {
  Queue<int, 16> q;  // unbounded in Python: 16 makes the puts wait too
  std::atomic<long> cum{0};
  std::atomic<int> stopped{0};
};

void worker(JoinRun* run) {
  for (;;) {
    Result<int> x = run->q.get();
    if (!x) break;
    if (*x < 0) {
      (void)run->q.task_done();
      break;
    }
    run->cum.fetch_add(*x);
    (void)run->q.task_done();
  }
  run->stopped.fetch_add(1);
}

void queue_join_test(JoinRun& run) {
  run.cum = 0;
  run.stopped = 0;
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(start_new_thread(worker, &run).has_value());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(run.q.put(i, true, rt_test::kDeadline).has_value());
  ASSERT_TRUE(run.q.join(rt_test::kDeadline).has_value());
  EXPECT_EQ(run.cum.load(), 99 * 100 / 2) << "q.join() did not block until all tasks were done";
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(run.q.put(-1).has_value());  // stop the workers
  ASSERT_TRUE(run.q.join(rt_test::kDeadline).has_value());  // join twice
  EXPECT_TRUE(wait_for([&] { return run.stopped.load() == 2; }));
}

// test_queue_join
TEST_F(QueueTest, Join) {
  RT_REQUIRES_CONCURRENCY();
  static JoinRun run;
  queue_join_test(run);
  queue_join_test(run);
  expect_error(run.q.task_done(), Errc::value_error, kTooMany);
}

// test_queue_task_done: the count may not go below 0.
TEST_F(QueueTest, TaskDoneTooMany) {
  Queue<int, 4> q;
  expect_error(q.task_done(), Errc::value_error, kTooMany);
  ASSERT_TRUE(q.put(1).has_value());
  ASSERT_TRUE(q.get().has_value());
  EXPECT_TRUE(q.task_done().has_value());
  expect_error(q.task_done(), Errc::value_error, kTooMany);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_TRUE(q.join(0).has_value());
}

// test_negative_timeout_raises_exception, with NaN and the other timeout
// errors, and join's; block == false ignores the timeout (queue.py).
TEST_F(QueueTest, NegativeTimeout) {
  Queue<int, kQueueSize> q;
  const double nan = __builtin_nan("");
  for (double bad : {-0.5, -2.0, -1e300, -__builtin_inf(), nan}) {
    SCOPED_TRACE(bad);
    expect_error(q.put(1, true, bad), Errc::value_error, kBadTimeout);
    expect_error(q.get(true, bad), Errc::value_error, kBadTimeout);
    expect_error(q.join(bad), Errc::value_error, kBadTimeout);
    EXPECT_TRUE(q.put(1, false, bad).has_value());
    EXPECT_EQ(*q.get(false, bad), 1);
    EXPECT_TRUE(q.task_done().has_value());
    // ignored on the slow paths too: an empty queue, a full one
    expect_error(q.get(false, bad), Errc::empty, kEmpty);
    for (std::size_t i = 0; i < kQueueSize; ++i) ASSERT_TRUE(q.put_nowait(0).has_value());
    expect_error(q.put(1, false, bad), Errc::full, kFull);
    for (std::size_t i = 0; i < kQueueSize; ++i) {
      ASSERT_TRUE(q.get_nowait().has_value());
      ASSERT_TRUE(q.task_done().has_value());
    }
  }
  for (double big : {TIMEOUT_MAX * 2, __builtin_inf()}) {
    expect_error(q.put(1, true, big), Errc::overflow_error, rt_test::kTooLargeMessage);
    expect_error(q.get(true, big), Errc::overflow_error, rt_test::kTooLargeMessage);
    expect_error(q.join(big), Errc::overflow_error, rt_test::kTooLargeMessage);
  }
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
}

// test_nowait
TEST_F(QueueTest, Nowait) {
  Queue<int, kQueueSize> q;
  for (std::size_t i = 0; i < kQueueSize; ++i) ASSERT_TRUE(q.put_nowait(1).has_value());
  expect_error(q.put_nowait(1), Errc::full, kFull);
  for (std::size_t i = 0; i < kQueueSize; ++i) ASSERT_TRUE(q.get_nowait().has_value());
  expect_error(q.get_nowait(), Errc::empty, kEmpty);
}

// test_shrinking_queue (issue 10110): a full queue refuses a put_nowait and
// keeps its size. (maxsize is the template's Capacity: it cannot shrink.)
TEST_F(QueueTest, ShrinkingQueue) {
  Queue<int, 3> q;
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(q.put(i).has_value());
  expect_error(q.put_nowait(4), Errc::full, kFull);
  EXPECT_EQ(q.qsize(), 3u);
  EXPECT_TRUE(q.full());
}

// ------------------------------------------------------------ the torture, BaseSimpleQueueTest

// 4 producers and 4 consumers pass items through a Queue<int, 8>: each item
// is the producer's id in the high bits and its sequence number below. Every
// item must arrive exactly once, and each consumer must see each producer's
// items in increasing order (FIFO). The consumers get as test_queue.py's
// BaseSimpleQueueTest does: two with consume (blocking get), one with
// consume_nonblock (get(false) until one comes), one with consume_timeout
// (get with a 10 us timeout until one comes). A -1 stops a consumer.
constexpr int kProducers = 4, kConsumers = 4, kSeqBits = 24;
constexpr long kMaxItems = 1000000;

struct Torture {
  Queue<int, 8> q;
  long per_producer = 0;
  std::atomic<unsigned char> seen[kMaxItems] = {};
  std::atomic<long> duplicates{0}, out_of_order{0}, bad_items{0}, errors{0}, got{0};
  std::atomic<int> producers_done{0}, consumers_done{0};
};

void produce(Torture* t, int id) {
  for (long seq = 0; seq < t->per_producer; ++seq) {
    if (!t->q.put(static_cast<int>((static_cast<long>(id) << kSeqBits) | seq))) t->errors++;
  }
  t->producers_done.fetch_add(1);
}

Result<int> consume_one(Torture* t, int kind) {
  for (;;) {
    Result<int> r = kind == 2 ? t->q.get(false) : kind == 3 ? t->q.get(true, 1e-5) : t->q.get();
    if (r || r.error().kind != Errc::empty || kind < 2) return r;
  }
}

void consume(Torture* t, int kind) {
  long last[kProducers];
  for (long& l : last) l = -1;
  for (;;) {
    Result<int> r = consume_one(t, kind);
    if (!r) {
      t->errors++;
      break;
    }
    if (*r < 0) break;
    const int producer = *r >> kSeqBits;
    const long seq = *r & ((1L << kSeqBits) - 1);
    if (producer >= kProducers || seq >= t->per_producer) {
      t->bad_items++;
      continue;
    }
    if (seq <= last[producer]) t->out_of_order++;
    last[producer] = seq;
    if (t->seen[producer * t->per_producer + seq].fetch_add(1) != 0) t->duplicates++;
    t->got++;
  }
  t->consumers_done.fetch_add(1);
}

TEST_F(QueueTest, ProducerConsumerTorture) {
  RT_REQUIRES_CONCURRENCY();
  static Torture t;  // 1 MB of flags: static
  // Under valgrind, which runs one thread at a time, every hand-off is a
  // trip through its scheduler: 10,000 items, not 100,000.
  const long total = rt_test::under_valgrind() ? kMaxItems / 100
                                               : rt_test::iterations(kMaxItems, kMaxItems / 10);
  t.per_producer = total / kProducers;
  for (int c = 0; c < kConsumers; ++c)
    ASSERT_TRUE(start_new_thread(consume, &t, c).has_value());
  for (int p = 0; p < kProducers; ++p)
    ASSERT_TRUE(start_new_thread(produce, &t, p).has_value());
  rt_test::Watchdog dog(240.0, [] { wake_queue(t.q); });
  EXPECT_TRUE(wait_for([] { return t.producers_done.load() == kProducers; }, 200.0))
      << t.got.load() << " items got";
  for (int c = 0; c < kConsumers; ++c)
    ASSERT_TRUE(t.q.put(-1, true, rt_test::kDeadline).has_value());
  EXPECT_TRUE(wait_for([] { return t.consumers_done.load() == kConsumers; }));
  dog.dismiss();
  EXPECT_FALSE(dog.fired()) << "a wake-up was lost";
  EXPECT_EQ(t.errors.load(), 0);
  EXPECT_EQ(t.bad_items.load(), 0);
  EXPECT_EQ(t.duplicates.load(), 0);
  EXPECT_EQ(t.out_of_order.load(), 0);
  EXPECT_EQ(t.got.load(), kProducers * t.per_producer);
  long missing = 0;
  for (long i = 0; i < kProducers * t.per_producer; ++i) missing += t.seen[i].load() == 0;
  EXPECT_EQ(missing, 0);
  EXPECT_TRUE(t.q.empty());
  EXPECT_EQ(t.q.unfinished_tasks(), static_cast<std::uint64_t>(total + kConsumers));
}

// ------------------------------------------------------------ items: construction and destruction

TEST_F(QueueTest, ItemsConstructedAndDestroyedOnce) {
  Counted::live = 0;
  {
    Queue<Counted, 4> q;
    EXPECT_EQ(Counted::live.load(), 0) << "the constructor made no T";
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(q.put(Counted(i)).has_value());
    EXPECT_EQ(Counted::live.load(), 4);
    // A rejected put consumes its parameter only.
    expect_error(q.put(Counted(9), false), Errc::full, kFull);
    EXPECT_EQ(Counted::live.load(), 4);
    {
      Result<Counted> got = q.get();
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(got->value, 0);
      EXPECT_EQ(Counted::live.load(), 4) << "the item moved out, its slot destroyed";
    }
    EXPECT_EQ(Counted::live.load(), 3);
    // Around the ring's end: head and tail wrap.
    for (int i = 4; i < 11; ++i) {
      ASSERT_TRUE(q.put(Counted(i)).has_value());
      Result<Counted> got = q.get();
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(got->value, i - 3);
    }
    EXPECT_EQ(Counted::live.load(), 3);
  }
  EXPECT_EQ(Counted::live.load(), 0) << "~Queue destroys the items still queued";
  // The static one, constructed without a constructor run, works.
  ASSERT_TRUE(g_static_counted.put(Counted(5)).has_value());
  EXPECT_EQ(g_static_counted.get()->value, 5);
  EXPECT_EQ(Counted::live.load(), 0);
  ASSERT_TRUE(g_static_ints.put(7).has_value());
  EXPECT_EQ(*g_static_ints.get(), 7);
}

TEST_F(QueueTest, OverAlignedItems) {
  struct alignas(64) Wide {
    int v;
  };
  Queue<Wide, 3> q;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.put(Wide{i}).has_value());
  for (int i = 0; i < 3; ++i) {
    Result<Wide> w = q.get();
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(w->v, i);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&*w) % 64, 0u);
  }
}

// ------------------------------------------------------------ rejected calls change nothing

TEST_F(QueueTest, RejectedCallsChangeNothing) {
  Queue<int, 2> q;
  ASSERT_TRUE(q.put(10).has_value());
  auto unchanged = [&q](std::size_t size, std::uint64_t tasks) {
    EXPECT_EQ(q.qsize(), size);
    EXPECT_EQ(q.unfinished_tasks(), tasks);
  };
  expect_error(q.put(1, true, -3), Errc::value_error, kBadTimeout);
  expect_error(q.get(true, -3), Errc::value_error, kBadTimeout);
  expect_error(q.join(-3), Errc::value_error, kBadTimeout);
  expect_error(q.put(1, true, TIMEOUT_MAX * 2), Errc::overflow_error, rt_test::kTooLargeMessage);
  unchanged(1, 1);
  ASSERT_TRUE(q.put(11).has_value());
  expect_error(q.put(1, false), Errc::full, kFull);
  expect_error(q.put(1, true, 0), Errc::full, kFull);
  expect_error(q.put_nowait(1), Errc::full, kFull);
  unchanged(2, 2);
  const std::int64_t t0 = now_ns();
  expect_error(q.join(0.05), Errc::thread_error, kJoinTimedOut);
  EXPECT_GE(seconds_since(t0), 0.05);
  expect_error(q.join(0), Errc::thread_error, kJoinTimedOut);
  unchanged(2, 2);
  EXPECT_EQ(*q.get(), 10);
  EXPECT_EQ(*q.get(), 11);
  expect_error(q.get(false), Errc::empty, kEmpty);
  expect_error(q.get(true, 0), Errc::empty, kEmpty);
  expect_error(q.get_nowait(), Errc::empty, kEmpty);
  unchanged(0, 2);
  EXPECT_TRUE(q.task_done().has_value());
  EXPECT_TRUE(q.task_done().has_value());
  expect_error(q.task_done(), Errc::value_error, kTooMany);
  unchanged(0, 0);
  EXPECT_TRUE(q.join().has_value());
  EXPECT_TRUE(q.join(0).has_value());
  // Still works, in order.
  ASSERT_TRUE(q.put(12).has_value());
  EXPECT_EQ(*q.get(), 12);
}

// A timed get waits its timeout out (never less) and reports empty; a put
// that comes first ends it with the item.
TEST_F(QueueTest, TimedGetAndJoin) {
  Queue<int, 1> q;
  std::int64_t t0 = now_ns();
  expect_error(q.get(true, 0.1), Errc::empty, kEmpty);
  EXPECT_GE(seconds_since(t0), 0.1);
  ASSERT_TRUE(q.put(1).has_value());
  t0 = now_ns();
  expect_error(q.put(2, true, 0.1), Errc::full, kFull);
  EXPECT_GE(seconds_since(t0), 0.1);
  t0 = now_ns();
  expect_error(q.join(0.1), Errc::thread_error, kJoinTimedOut);
  EXPECT_GE(seconds_since(t0), 0.1);
}

TEST_F(QueueTest, JoinWokenByTheLastTaskDone) {
  RT_REQUIRES_CONCURRENCY();
  static Queue<int, 4> q;
  static std::atomic<bool> done_called{false};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.put(i).has_value());
  // Timed from before the thread starts: its 0.1 s may begin at once.
  const std::int64_t t0 = now_ns();
  ASSERT_TRUE(start_new_thread([] {
                body_sleep(0.1);
                for (int i = 0; i < 3; ++i) {
                  (void)q.get();
                  if (i == 2) done_called = true;
                  (void)q.task_done();
                }
              }).has_value());
  rt_test::Watchdog dog(30.0, [] { wake_queue(q); });
  EXPECT_TRUE(q.join().has_value());
  dog.dismiss();
  EXPECT_FALSE(dog.fired()) << "the last task_done did not wake join";
  EXPECT_TRUE(done_called.load());
  EXPECT_GE(seconds_since(t0), 0.1);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
}

// ------------------------------------------------------------ interrupts

class QueueInterruptTest : public rt_test::InterruptFixture {};

Result<void> as_void(const Result<int>& r) {
  if (r) return {};
  return r.error();
}

// A pending request ends the next blocking put, get or join at once, even
// one that could go ahead; nothing changes. Non-blocking calls leave it
// pending.
TEST_F(QueueInterruptTest, PendingRequestEndsTheNextBlockingCall) {
  Queue<int, 2> q;
  ASSERT_TRUE(q.put(1).has_value());
  request_interrupt();
  EXPECT_TRUE(q.put(2, false).has_value());  // leaves it pending
  EXPECT_EQ(*q.get(false), 1);
  expect_error(q.put(3), Errc::interrupted, "lock acquire interrupted", EINTR);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.unfinished_tasks(), 2u);
  request_interrupt();
  expect_error(q.get(true, 5.0), Errc::interrupted, "lock acquire interrupted", EINTR);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_TRUE(q.task_done().has_value());
  EXPECT_TRUE(q.task_done().has_value());
  request_interrupt();
  expect_error(q.join(), Errc::interrupted, "lock acquire interrupted", EINTR);  // even at 0
  EXPECT_EQ(*q.get(), 2);
  rt_test::expect_no_pending_request();
}

// A request that comes while put, get or join sleeps ends it; nothing
// changes.
TEST_F(QueueInterruptTest, InterruptMainEndsASleepingCall) {
  RT_REQUIRES_CONCURRENCY();
  rt_test::SignalGuard sig(SIGINT, rt_test::count_only);
  ASSERT_TRUE(sig.ok());
  static Queue<int, 1> q;
  for (int call = 0; call < 3; ++call) {
    for (double timeout : {-1.0, 20.0}) {
      SCOPED_TRACE(testing::Message() << "call " << call << " timeout " << timeout);
      // get on an empty queue; put and join on a full one with one task
      if (call == 0) {
        ASSERT_TRUE(q.empty());
      } else if (q.empty()) {
        ASSERT_TRUE(q.put(5).has_value());
      }
      rt_test::g_handler_runs = 0;
      rt_test::HelperThread interrupter = when_main_sleeps([] { (void)interrupt_main(); });
      rt_test::Watchdog dog(20.0, [] { wake_queue(q); });
      const std::int64_t t0 = now_ns();
      Result<void> r = call == 0   ? as_void(q.get(true, timeout))
                       : call == 1 ? q.put(6, true, timeout)
                                   : q.join(timeout);
      const double elapsed = seconds_since(t0);
      dog.dismiss();
      interrupter.join();
      EXPECT_FALSE(dog.fired()) << "not interrupted";
      EXPECT_TRUE(sleeping_seen_.load());
      expect_error(r, Errc::interrupted, "lock acquire interrupted", EINTR);
      EXPECT_LT(elapsed, 10.0);
      EXPECT_EQ(rt_test::g_handler_runs.load(), 1);
      EXPECT_EQ(q.qsize(), call == 0 ? 0u : 1u);
      EXPECT_EQ(q.unfinished_tasks(), call == 0 ? 0u : 1u);
    }
    if (call == 2) {
      // the interrupted waiters left the queue working
      EXPECT_EQ(*q.get(false), 5);
      EXPECT_TRUE(q.task_done().has_value());
      EXPECT_TRUE(q.join(0).has_value());
    }
  }
  rt_test::expect_no_pending_request();
}

// ------------------------------------------------------------ the dummy backend

// No other thread exists to put, get or task_done: untimed waits that only
// another thread could end are the deadlock error; timed ones wait their
// time out.
TEST_F(QueueTest, DummyBackend) {
  Queue<int, 1> q;
  if (kDummy) {
    expect_error(q.get(), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
  }
  ASSERT_TRUE(q.put(1).has_value());
  if (kDummy) {
    expect_error(q.put(2), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
    expect_error(q.join(), Errc::thread_error, rt_test::kWouldDeadlockMessage, EDEADLK);
  }
  std::int64_t t0 = now_ns();
  expect_error(q.put(2, true, 0.1), Errc::full, kFull);
  EXPECT_GE(seconds_since(t0), 0.1);
  t0 = now_ns();
  expect_error(q.join(0.1), Errc::thread_error, kJoinTimedOut);
  EXPECT_GE(seconds_since(t0), 0.1);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  EXPECT_EQ(*q.get(), 1);
  EXPECT_TRUE(q.task_done().has_value());
  EXPECT_TRUE(q.join().has_value());
  t0 = now_ns();
  expect_error(q.get(true, 0.1), Errc::empty, kEmpty);
  EXPECT_GE(seconds_since(t0), 0.1);
}

}  // namespace
