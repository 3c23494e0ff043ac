// SPDX-License-Identifier: MIT
// Races: interrupts sent at random moments against the start of a blocking
// acquire, and a storm of signals through a lock many threads fight over.
//
//  - interrupt_main() from another thread, landing before, during and after
//    the main thread's acquire(true, 5.0) enters the kernel: every acquire
//    ends interrupted, none runs to its timeout (src/interrupt.hpp: the
//    request collapses the wait's deadline, so no moment loses it);
//  - the same with a handler that calls request_interrupt(), the signal sent
//    with tgkill at random moments; and again against the start of a
//    rawthread::sleep(5.0);
//  - four threads counting under one Lock, with untimed and short timed
//    acquires, while another thread sends them SIGUSR1 as fast as it can:
//    the count is exact, no timed acquire ends early, none is interrupted.
//
// Handlers go in without SA_RESTART (SignalGuard), as Python installs them.
// The random schedules are drawn on the main thread, from a fixed seed,
// before any thread starts; thread bodies only read them.
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <random>
#include <string_view>
#include <type_traits>

#include "support.hpp"

using namespace rawthread;
using rt_test::now_ns;

namespace {

using rt_test::count_only;
using rt_test::g_handler_runs;

// About `turns` turns of an empty loop: the delay both sides of a race wait
// before they act. Out of line, so both run the same code. Safe in thread
// bodies.
[[gnu::noinline]] void spin(long turns) noexcept {
  for (long k = 0; k < turns; ++k) asm volatile("" ::: "memory");
}

// The handlers of the races: count as count_only does, and stamp the time the
// handler last ran (clock_gettime is async-signal-safe). They run only in the
// main thread.
std::atomic<std::int64_t> g_handler_ns{0};
void stamp(int) {
  g_handler_ns.store(now_ns());
  g_handler_runs.fetch_add(1);
}
void stamp_and_request(int signum) {
  stamp(signum);
  rawthread::request_interrupt();
}

// The calling thread's voluntary context switches so far: one more after an
// acquire means it slept in the futex call. Main thread only.
long voluntary_switches() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nvcsw;
}

// Keeps a race's two threads on two different CPUs, when there are two: a
// thread started between pin_next_thread() and pin_main() runs on one, the
// main thread on the other, until the scope ends. Left to itself, the
// scheduler of a busy machine often queues both on one CPU, where they take
// turns instead of racing. Main thread only.
class PinApart {
 public:
  PinApart() {
    ok_ = ::sched_getaffinity(0, sizeof old_, &old_) == 0;
    for (int cpu = 0; ok_ && cpu < CPU_SETSIZE && second_ < 0; ++cpu) {
      if (!CPU_ISSET(cpu, &old_)) continue;
      (first_ < 0 ? first_ : second_) = cpu;
    }
  }
  ~PinApart() {
    if (ok_) ::sched_setaffinity(0, sizeof old_, &old_);
  }
  PinApart(const PinApart&) = delete;
  PinApart& operator=(const PinApart&) = delete;
  void pin_next_thread() { pin(first_); }
  void pin_main() { pin(second_); }

 private:
  void pin(int cpu) {
    if (!ok_ || second_ < 0) return;  // one CPU: nothing to keep apart
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ::sched_setaffinity(0, sizeof set, &set);
  }
  cpu_set_t old_;
  bool ok_ = false;
  int first_ = -1, second_ = -1;
};

std::int64_t median(std::vector<std::int64_t> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// ------------------------------------------------ interrupts against the acquire's start

// One run of races. The main thread opens iteration i by storing go = i + 1;
// the sender, spinning on go, answers ack = i + 1, spins sender_spins[i],
// sends the interrupt and stores sent = i + 1; the main thread, spinning on
// ack, spins main_spins[i] and calls acquire(true, 5.0) on a lock it holds.
// Both spins start from the ack, when both threads are known to be running,
// so how the two delays compare decides the race, not how long the sender
// took to be scheduled. The main thread starts iteration i + 1 only once
// acquire i has returned, sent is i + 1 and the handler has run i + 1 times:
// each request is made and consumed within its own iteration (acquire i can
// return interrupted only by consuming request i, and no other request
// exists), so none leaks into the next.
struct Race {
  long n = 0;
  std::vector<long> main_spins, sender_spins;
  std::vector<int> signals;
  // The sender's CLOCK_MONOTONIC just before and just after its send, and
  // whether the send succeeded; published by `sent`.
  std::vector<std::int64_t> send_begin, send_end;
  std::vector<int> send_ok;
  std::atomic<long> go{0};    // i + 1: iteration i may start; -1: stop
  std::atomic<long> ack{0};   // i + 1: the sender saw go = i + 1 and starts its spin
  std::atomic<long> sent{0};  // i + 1: iteration i's interrupt has been sent
  std::atomic<bool> sender_done{false};

  void reset(long iterations) {
    n = iterations;
    main_spins.assign(n, 0);
    sender_spins.assign(n, 0);
    signals.assign(n, SIGUSR1);
    send_begin.assign(n, 0);
    send_end.assign(n, 0);
    send_ok.assign(n, 0);
    go = 0;
    ack = 0;
    sent = 0;
    sender_done = false;
  }
};

// When the other side is slow to answer (descheduled on a busy machine), a
// side stops spinning after this many looks and naps (the sender) or yields
// (the main thread) between looks instead.
constexpr long kLooksBeforeNapping = 100000;

// The sender's side. `send(signum)` interrupts the main thread, `clock()`
// reads CLOCK_MONOTONIC in ns. Safe in thread bodies when both are.
template <class Send, class Clock>
void sender_loop(Race& race, Send send, Clock clock) noexcept {
  for (long i = 0; i < race.n; ++i) {
    long go;
    for (long looks = 0; (go = race.go.load(std::memory_order_acquire)) == i; ++looks) {
      if (looks > kLooksBeforeNapping) rt_test::body_sleep(20e-6);
    }
    if (go < 0) break;
    race.ack.store(i + 1, std::memory_order_release);
    spin(race.sender_spins[i]);
    race.send_begin[i] = clock();
    race.send_ok[i] = send(race.signals[i]) ? 1 : 0;
    race.send_end[i] = clock();
    race.sent.store(i + 1, std::memory_order_release);
  }
  race.sender_done.store(true, std::memory_order_release);
}

// Stops the sender however the test leaves, so it never spins on after it.
struct StopSender {
  Race& race;
  ~StopSender() { race.go.store(-1, std::memory_order_release); }
};

// What the races cost on this machine, natively or under QEMU.
struct Calibration {
  double ns_per_spin = 1;
  // From acquire's call to its futex call: the slow path reads the clock for
  // its deadline (a system call) and enters the kernel, a few atomics aside;
  // two system calls' time, measured on rawthread::sys::monotonic_ns.
  std::int64_t entry_ns = 0;
  std::int64_t send_ns = 0;  // one send, and the handler it makes run
};

// Measures on the main thread. `send_to_self()` makes a request for the main
// thread (and runs the handler); the blocking call `blocking()` (an acquire
// of a held lock, a sleep) must then return interrupted at once.
template <class Blocking, class SendToSelf>
Calibration calibrate(Blocking blocking, SendToSelf send_to_self) {
  Calibration c;
  constexpr long kTurns = 200000;
  std::int64_t best = INT64_MAX;
  for (int i = 0; i < 5; ++i) {
    std::int64_t t0 = now_ns();
    spin(kTurns);
    best = std::min(best, now_ns() - t0);
  }
  c.ns_per_spin = std::max(0.01, static_cast<double>(best) / kTurns);

  std::vector<std::int64_t> syscall, send;
  for (int i = 0; i < 101; ++i) {
    std::int64_t t0 = now_ns();
    (void)rawthread::sys::monotonic_ns();
    syscall.push_back(now_ns() - t0);
  }
  for (int i = 0; i < 51; ++i) {
    std::int64_t t0 = now_ns();
    send_to_self();
    send.push_back(now_ns() - t0);
    Result<bool> r = blocking();
    EXPECT_TRUE(!r.has_value() && r.error().kind == Errc::interrupted)
        << "calibration: a request made by the main thread for itself was not consumed";
  }
  c.entry_ns = 2 * median(syscall);
  c.send_ns = median(send);
  return c;
}

// Draws the schedule: the sender's delay minus the main thread's spreads
// uniformly from "the send is over well before acquire starts" (three sends
// and two entries earlier) to "well after acquire entered the kernel" (two
// sends and two entries later), on top of a common random delay up to one
// entry.
void draw_schedule(Race& race, const Calibration& c, std::uint64_t seed, bool both_signals) {
  std::mt19937_64 rng(seed);
  const double hi = 2.0 * static_cast<double>(c.send_ns + c.entry_ns);
  const double lo = -hi - static_cast<double>(c.send_ns);
  std::uniform_real_distribution<double> offset(lo, hi);
  std::uniform_real_distribution<double> common(0, static_cast<double>(c.entry_ns));
  std::bernoulli_distribution coin(0.5);
  for (long i = 0; i < race.n; ++i) {
    double d = offset(rng), base = common(rng);
    double sender_ns = base + std::max(0.0, d), main_ns = base + std::max(0.0, -d);
    race.sender_spins[i] = static_cast<long>(sender_ns / c.ns_per_spin);
    race.main_spins[i] = static_cast<long>(main_ns / c.ns_per_spin);
    race.signals[i] = both_signals && coin(rng) ? SIGINT : SIGUSR1;
  }
}

// Where each acquire's interrupt was found, as far as cheap measurements
// (timestamps, the handler's among them, and context switches) tell:
//   pending:  the send was over before acquire began; its entry check found
//             the request;
//   unsignalled: the send overlapped the acquire, which ended before the
//             signal's handler ran: a check found the request, or the futex
//             call found its deadline collapsed;
//   in_kernel: the handler ran during the acquire, which slept in the kernel
//             (a voluntary context switch): the signal ended the futex wait
//             with EINTR, or the collapsed deadline ended it;
//   signalled: the handler ran during the acquire, which did not sleep.
struct Outcome {
  long pending = 0, unsignalled = 0, in_kernel = 0, signalled = 0, done = 0;
  std::vector<std::int64_t> elapsed;
  double seconds = 0;
};

// The main thread's side: runs race.n iterations against the sender (started
// by the caller). Stops at the first blocking call (`blocking()`: an acquire
// of a held lock, or a sleep, for 5 s) that does not end interrupted well
// before its timeout, or a sender that does not answer in time.
template <class Blocking>
Outcome drive(Race& race, Blocking blocking) {
  Outcome out;
  out.elapsed.reserve(race.n);
  const std::int64_t start = now_ns();
  for (long i = 0; i < race.n; ++i) {
    long switches = voluntary_switches();
    race.go.store(i + 1, std::memory_order_release);
    std::int64_t deadline = now_ns() + rt_test::to_ns(rt_test::kDeadline);
    for (long looks = 0; race.ack.load(std::memory_order_acquire) != i + 1; ++looks) {
      if (looks < kLooksBeforeNapping) continue;
      if (now_ns() > deadline) break;
      sched_yield();  // on a busy machine, the sender may need this CPU
    }
    if (race.ack.load(std::memory_order_acquire) != i + 1) {
      ADD_FAILURE() << "iteration " << i << ": the sender did not start within "
                    << rt_test::kDeadline << " s";
      break;
    }
    spin(race.main_spins[i]);
    std::int64_t t0 = now_ns();
    Result<bool> r = blocking();
    std::int64_t t1 = now_ns();
    bool slept = voluntary_switches() > switches;
    out.elapsed.push_back(t1 - t0);

    bool interrupted = !r.has_value() && r.error().kind == Errc::interrupted;
    if (!interrupted || t1 - t0 > rt_test::to_ns(2.5)) {
      ADD_FAILURE() << "iteration " << i << ": the 5 s blocking call returned "
                    << (r.has_value() ? (*r ? "true" : "false")
                                      : rawthread::name(r.error().kind))
                    << " after " << static_cast<double>(t1 - t0) / 1e6
                    << " ms, not interrupted at once (sender spun " << race.sender_spins[i]
                    << ", main " << race.main_spins[i] << ")";
      break;
    }
    // The request was this iteration's: wait for the sender to be done with
    // it and for its signal's handler, so nothing of it is left for the next.
    deadline = now_ns() + rt_test::to_ns(rt_test::kDeadline);
    while (race.sent.load(std::memory_order_acquire) != i + 1 ||
           g_handler_runs.load() != i + 1) {
      if (now_ns() > deadline) break;
      sched_yield();  // a system call, so a signal on its way is taken
    }
    if (race.sent.load(std::memory_order_acquire) != i + 1) {
      ADD_FAILURE() << "iteration " << i << ": the sender did not send within "
                    << rt_test::kDeadline << " s";
      break;
    }
    if (!race.send_ok[i]) {
      ADD_FAILURE() << "iteration " << i << ": the send failed";
      break;
    }
    if (g_handler_runs.load() != i + 1) {
      ADD_FAILURE() << "iteration " << i << ": the handler ran " << g_handler_runs.load()
                    << " times, expected " << i + 1;
      break;
    }
    std::int64_t handled = g_handler_ns.load();
    if (race.send_end[i] < t0)
      ++out.pending;
    else if (handled > t1)
      ++out.unsignalled;
    else if (slept)
      ++out.in_kernel;
    else
      ++out.signalled;
    ++out.done;
  }
  out.seconds = rt_test::seconds_since(start);
  return out;
}

void report(const char* what, const Outcome& out, const Calibration& c, std::uint64_t seed) {
  std::vector<std::int64_t> sorted = out.elapsed;
  std::sort(sorted.begin(), sorted.end());
  std::int64_t max = sorted.empty() ? 0 : sorted.back();
  std::printf(
      "%s: %ld iterations in %.2f s: pending=%ld unsignalled=%ld in_kernel=%ld "
      "signalled=%ld; acquire median=%.1fus max=%.1fus (spin %.3f ns, entry %.1f us, "
      "send %.1f us, seed %llu)\n",
      what, out.done, out.seconds, out.pending, out.unsignalled, out.in_kernel, out.signalled,
      static_cast<double>(median(out.elapsed)) / 1e3, static_cast<double>(max) / 1e3,
      c.ns_per_spin, static_cast<double>(c.entry_ns) / 1e3, static_cast<double>(c.send_ns) / 1e3,
      static_cast<unsigned long long>(seed));
  std::fflush(stdout);
}

class RacesTest : public rt_test::InterruptFixture {};

// Who sends a race's requests: interrupt_main() from a rawthread thread,
// with both handlers only counting (the request interrupt_main makes is what
// ends the wait); or tgkill(SIGUSR1) from a libc thread, whose handler calls
// request_interrupt() (that sender runs with the dummy backend too).
enum class Sender { interrupt_main, handler_request };

// One race: race.n rounds of the main thread's `blocking()`, a 5 s wait that
// only an interrupt should end, against a request sent at a random moment
// around its start (draw_schedule). A request that lands just before the
// futex call must still end the wait at once. `rescue` (or null, for a wait
// that ends by itself: a sleep) ends a wait that lost its deadline and would
// last for good (a token, the flag, the lock released), which then fails its
// round; the watchdog calls it after 120 s.
template <class Blocking>
void run_race(Sender sender, long main_tid, Blocking blocking, void (*rescue)(), const char* what,
              std::uint64_t seed) {
  const bool by_main = sender == Sender::interrupt_main;
  rt_test::SignalGuard usr1(SIGUSR1, by_main ? stamp : stamp_and_request), intr(SIGINT, stamp);
  ASSERT_TRUE(usr1.ok() && intr.ok());
  static Race race;
  static long tid;
  tid = main_tid;
  Calibration c = calibrate(blocking, [by_main] {
    if (by_main) {
      (void)interrupt_main(SIGUSR1);
    } else {
      rt_test::tgkill_main(tid, SIGUSR1);
    }
  });
  g_handler_runs = 0;
  // 10,000 rounds, under QEMU too (each round is short); under valgrind,
  // which runs one thread at a time and each round at a fraction of the
  // speed, 1,000 keep the suite within its time.
  race.reset(rt_test::under_valgrind() ? 1000 : 10000);
  draw_schedule(race, c, seed, /*both_signals=*/by_main);

  StopSender stop{race};
  PinApart pins;
  pins.pin_next_thread();
  auto watched_drive = [&] {
    if (rescue == nullptr) return drive(race, blocking);
    rt_test::Watchdog dog(120.0, rescue);
    Outcome out = drive(race, blocking);
    dog.dismiss();
    EXPECT_FALSE(dog.fired());
    return out;
  };
  Outcome out;
  if (by_main) {
    auto started = start_new_thread([] {
      sender_loop(
          race, [](int signum) { return interrupt_main(signum).has_value(); },
          [] { return *rawthread::sys::monotonic_ns(); });
    });
    pins.pin_main();
    ASSERT_TRUE(started.has_value()) << started.error().message;
    out = watched_drive();
    race.go = -1;
    EXPECT_TRUE(rt_test::wait_for([] { return race.sender_done.load(); }));
  } else {
    rt_test::HelperThread helper([] {
      sender_loop(
          race, [](int signum) { return rt_test::tgkill_main(tid, signum) == 0; },
          [] { return now_ns(); });
    });
    pins.pin_main();
    out = watched_drive();
    race.go = -1;
    helper.join();
  }
  report(what, out, c, seed);
  EXPECT_EQ(out.done, race.n);
  rt_test::expect_no_pending_request();
}

Lock g_held;  // held by the acquire races' main thread: only an interrupt ends its wait

TEST_F(RacesTest, InterruptMainAgainstTheStartOfAnAcquire) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  ASSERT_TRUE(g_held.try_lock());
  run_race(
      Sender::interrupt_main, main_tid_, [] { return g_held.acquire(true, 5.0); },
      [] { rt_test::rescue_lock(g_held); }, "interrupt_main races", 20240601);
  EXPECT_TRUE(g_held.locked());
  EXPECT_TRUE(g_held.release().has_value());
}

TEST_F(RacesTest, HandlerRequestAgainstTheStartOfAnAcquire) {
  ASSERT_TRUE(g_held.try_lock());
  run_race(
      Sender::handler_request, main_tid_, [] { return g_held.acquire(true, 5.0); },
      [] { rt_test::rescue_lock(g_held); }, "request_interrupt races", 7777);
  EXPECT_TRUE(g_held.locked());
  EXPECT_TRUE(g_held.release().has_value());
}

// An RLock's acquire, held by another thread: its own policy over the
// same wait loop.
TEST_F(RacesTest, InterruptMainAgainstTheStartOfAnRLockAcquire) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  static RLock rlock;
  static Lock gate;  // held by main: the holder keeps the RLock till then
  static std::atomic<int> holding{0};
  ASSERT_TRUE(gate.try_lock());
  auto holder = start_joinable_thread([] {
    rlock.lock();
    holding = 1;
    gate.lock();
    gate.unlock();
    rlock.unlock();
  });
  ASSERT_TRUE(holder.has_value()) << holder.error().message;
  ASSERT_TRUE(rt_test::wait_for([] { return holding.load() == 1; }));
  run_race(
      Sender::interrupt_main, main_tid_, [] { return rlock.acquire(true, 5.0); },
      [] { rt_test::rescue_lock(gate); }, "rlock interrupt_main races", 3131);
  EXPECT_FALSE(rlock.is_owned());
  gate.unlock();
  EXPECT_TRUE(rt_test::is_true(holder->join(rt_test::kDeadline)));
}

// rawthread::sleep (issue 15): its wait is the acquire's on a word nobody
// releases. Each sleep is 5 s: a lost request costs its round 5 s, and fails
// it; no rescue is needed.
TEST_F(RacesTest, HandlerRequestAgainstTheStartOfASleep) {
  // The result of a sleep as an acquire's: false when it ran its time out.
  auto sleep_5s = []() -> Result<bool> {
    Result<void> r = rawthread::sleep(5.0);
    if (r) return false;
    return r.error();
  };
  run_race(Sender::handler_request, main_tid_, sleep_5s, nullptr, "sleep races", 1515);
}

// rawthread::sys::poll (issue 17): ppoll's relative timeout is the armed
// deadline, collapsed by a request as a futex's absolute one is; a pipe
// nobody writes to keeps it waiting 5 s. The result as an acquire's.
int g_race_pipe[2] = {-1, -1};
Result<bool> poll_5s() {
  pollfd fd{g_race_pipe[0], POLLIN, 0};
  Result<int> r = sys::poll(&fd, 1, 5.0);
  if (r) return false;
  return r.error();
}

TEST_F(RacesTest, HandlerRequestAgainstTheStartOfAPoll) {
  ASSERT_EQ(::pipe2(g_race_pipe, O_CLOEXEC), 0);
  run_race(Sender::handler_request, main_tid_, poll_5s, nullptr, "poll races", 1717);
  ::close(g_race_pipe[0]);
  ::close(g_race_pipe[1]);
}

TEST_F(RacesTest, InterruptMainAgainstTheStartOfAPoll) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  ASSERT_EQ(::pipe2(g_race_pipe, O_CLOEXEC), 0);
  run_race(Sender::interrupt_main, main_tid_, poll_5s, nullptr, "poll interrupt_main races",
           1718);
  ::close(g_race_pipe[0]);
  ::close(g_race_pipe[1]);
}

// A Semaphore's acquire and an Event's wait: the same wait loop, so the
// same guarantee, checked on each.
TEST_F(RacesTest, InterruptMainAgainstTheStartOfASemaphoreAcquire) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  static Semaphore sem(0);
  run_race(
      Sender::interrupt_main, main_tid_, [] { return sem.acquire(true, 5.0); },
      [] {
        (void)sem.release();
        rt_test::wake_all(&sem);
      },
      "semaphore interrupt_main races", 20261202);
  EXPECT_TRUE(rt_test::is_false(sem.acquire(false))) << "an interrupted acquire took a token";
}

TEST_F(RacesTest, InterruptMainAgainstTheStartOfAnEventWait) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  static Event event;
  run_race(
      Sender::interrupt_main, main_tid_, [] { return event.wait(5.0); },
      [] {
        event.set();
        rt_test::wake_all(&event);
      },
      "event interrupt_main races", 1350200);
  EXPECT_FALSE(event.is_set());
}

// A Condition's wait: a request that lands as the waiter gives up the lock
// and links itself must end the wait, with the lock held again.
TEST_F(RacesTest, InterruptMainAgainstTheStartOfAConditionWait) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  static Lock lock;
  static Condition cond(lock);
  ASSERT_TRUE(lock.try_lock());
  run_race(
      Sender::interrupt_main, main_tid_,
      [] {
        Result<bool> r = cond.wait(5.0);
        if (!lock.locked()) return Result<bool>(true);  // fails the round: the lock not held
        return r;
      },
      [] {
        lock.lock();
        (void)cond.notify_all();
        lock.unlock();
      },
      "condition interrupt_main races", 4242);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.release().has_value());
}

// Thread::join of a thread that does not end: the join sleeps on the
// thread's tid word, interruptible as an acquire is.
TEST_F(RacesTest, InterruptMainAgainstTheStartOfAJoin) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  static Lock gate;  // held by main: the thread waits on it till the end
  ASSERT_TRUE(gate.try_lock());
  auto started = start_joinable_thread([] { gate.lock(); });
  ASSERT_TRUE(started.has_value()) << started.error().message;
  static Thread* thread;
  thread = &*started;
  run_race(
      Sender::interrupt_main, main_tid_, [] { return thread->join(5.0); },
      [] { rt_test::rescue_lock(gate); }, "join interrupt_main races", 9090);
  EXPECT_FALSE(thread->is_done());
  gate.unlock();
  EXPECT_TRUE(rt_test::is_true(thread->join(rt_test::kDeadline)));
}

// A Queue's blocking calls: a get of an empty queue, a put to a full one,
// a join with a task not done. Each wait is a Condition's or lock_wait's,
// behind the queue's own checks. The rescue makes the call succeed and
// wakes every futex word of the queue's core.
template <class Q>
void wake_every_word(Q& queue) {
  auto* bytes = reinterpret_cast<unsigned char*>(&queue);
  for (std::size_t offset = 0; offset < sizeof(detail::QueueCore); offset += 4)
    rt_test::wake_all(bytes + offset);
}

// A get's or put's Result as an acquire's: done is true, full/empty false.
template <class R>
Result<bool> as_acquire(const R& r) {
  if (r) return true;
  if (r.error().kind == Errc::empty || r.error().kind == Errc::full) return false;
  return r.error();
}

Queue<int, 1> g_queue;

TEST_F(RacesTest, InterruptMainAgainstTheStartOfAQueueGet) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  run_race(
      Sender::interrupt_main, main_tid_, [] { return as_acquire(g_queue.get(true, 5.0)); },
      [] {
        (void)g_queue.put_nowait(0);
        wake_every_word(g_queue);
      },
      "queue get interrupt_main races", 15050015);
  EXPECT_TRUE(g_queue.empty()) << "an interrupted get changed the queue";
  EXPECT_EQ(g_queue.unfinished_tasks(), 0u);
}

TEST_F(RacesTest, InterruptMainAgainstTheStartOfAQueuePut) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  ASSERT_TRUE(g_queue.put_nowait(1).has_value());
  run_race(
      Sender::interrupt_main, main_tid_, [] { return as_acquire(g_queue.put(2, true, 5.0)); },
      [] {
        (void)g_queue.get_nowait();
        wake_every_word(g_queue);
      },
      "queue put interrupt_main races", 26060026);
  EXPECT_EQ(g_queue.qsize(), 1u) << "an interrupted put changed the queue";
  EXPECT_EQ(g_queue.unfinished_tasks(), 1u);
  Result<int> got = g_queue.get_nowait();
  EXPECT_TRUE(got.has_value() && *got == 1);
  EXPECT_TRUE(g_queue.task_done().has_value());
}

TEST_F(RacesTest, InterruptMainAgainstTheStartOfAQueueJoin) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  ASSERT_TRUE(g_queue.put_nowait(1).has_value());
  ASSERT_TRUE(g_queue.get_nowait().has_value());  // one task not done
  run_race(
      Sender::interrupt_main, main_tid_,
      [] {
        Result<void> r = g_queue.join(5.0);
        if (r) return Result<bool>(true);
        if (std::string_view(r.error().message) == "join timed out") return Result<bool>(false);
        return Result<bool>(r.error());
      },
      [] {
        (void)g_queue.task_done();
        wake_every_word(g_queue);
      },
      "queue join interrupt_main races", 37070037);
  EXPECT_EQ(g_queue.unfinished_tasks(), 1u) << "an interrupted join changed the count";
  EXPECT_TRUE(g_queue.task_done().has_value());
}

// A Barrier's wait, of 2, the main thread alone: an interrupted wait leaves
// it unbroken, one party fewer, so it can be waited on again. The rescue
// aborts it (the wait then returns broken_barrier, failing its round).
Barrier g_barrier(2);

TEST_F(RacesTest, InterruptMainAgainstTheStartOfABarrierWait) {
  RT_REQUIRES_CONCURRENCY();  // the sender thread spins while main waits
  g_barrier.reset();
  run_race(
      Sender::interrupt_main, main_tid_,
      [] {
        Result<unsigned> index = g_barrier.wait(5.0);
        if (!index) return Result<bool>(index.error());
        return Result<bool>(true);  // released: a failure, as a taken token
      },
      [] {
        g_barrier.abort();
        auto* bytes = reinterpret_cast<unsigned char*>(&g_barrier);
        for (std::size_t offset = 0; offset + 4 <= sizeof g_barrier; offset += 4)
          rt_test::wake_all(bytes + offset);
      },
      "barrier interrupt_main races", 20261203);
  EXPECT_FALSE(g_barrier.broken()) << "an interrupted wait broke the barrier";
  EXPECT_EQ(g_barrier.n_waiting(), 0u) << "an interrupted wait stayed counted";
}

// ------------------------------------------------ a signal storm through a contended lock

// The plan of one acquire: untimed (timeout < 0) or timed, with the
// timeout in seconds and in whole nanoseconds, rounded up.
struct Step {
  double timeout;
  std::int64_t min_ns;
};

TEST_F(RacesTest, SignalStormThroughAContendedLock) {
  RT_REQUIRES_CONCURRENCY();  // four workers share the lock at once
  rt_test::SignalGuard usr1(SIGUSR1, count_only);
  ASSERT_TRUE(usr1.ok());
  constexpr int kWorkers = 4;
  // The same under QEMU, where the whole takes well under a second too.
  const long per_worker = 50000;

  struct Shared {
    Lock lock;
    long counter = 0;  // plain: only the lock makes it exact
    Lock gate;         // held by main until every worker is ready
    std::atomic<long> tids[kWorkers];
    std::atomic<int> ready{0}, finished{0};
    std::atomic<long> timed{0}, untimed{0}, timeouts{0}, early{0}, interrupted{0}, errors{0};
    std::atomic<long> gave_up{0}, unpaced{0};
    const Step* plan = nullptr;
    long per_worker = 0;
  };
  static Shared s;
  s.counter = 0;
  s.ready = 0;
  s.finished = 0;
  for (auto& tid : s.tids) tid = 0;
  for (auto* a : {&s.timed, &s.untimed, &s.timeouts, &s.early, &s.interrupted, &s.errors,
                  &s.gave_up, &s.unpaced})
    *a = 0;

  // A third of the acquires untimed, the rest timed with 0.5 .. 2 ms.
  static std::vector<Step> plan;  // static: read by workers that may outlive a failed test
  plan.assign(kWorkers * per_worker, Step{});
  std::mt19937_64 rng(4242);
  std::uniform_real_distribution<double> timeout(0.0005, 0.002);
  std::uniform_int_distribution<int> kind(0, 2);
  for (Step& step : plan) {
    if (kind(rng) == 0) {
      step = {-1, -1};
    } else {
      double t = timeout(rng);
      double ns = t * 1e9;
      auto whole = static_cast<std::int64_t>(ns);
      step = {t, static_cast<double>(whole) < ns ? whole + 1 : whole};
    }
  }
  s.plan = plan.data();
  s.per_worker = per_worker;
  ASSERT_TRUE(s.gate.try_lock());

  for (int w = 0; w < kWorkers; ++w) {
    auto started = start_new_thread([](int me) {
      s.tids[me].store(get_native_id());
      s.ready.fetch_add(1);
      s.gate.lock();  // never interrupted
      s.gate.unlock();
      // An error, or false from an untimed acquire: recorded, and the worker
      // stops rather than spin on a broken lock.
      auto give_up = [me](const Result<bool>& r) {
        if (!r.has_value() && r.error().kind == Errc::interrupted) s.interrupted.fetch_add(1);
        s.errors.fetch_add(1);
        s.gave_up.fetch_add(1);
        s.tids[me].store(0);
        s.finished.fetch_add(1);
      };
      const Step* mine = s.plan + me * s.per_worker;
      // Paced: at 64 checkpoints a worker waits (20 ms at most) for the
      // handler to have run again since its last one, so that the storm
      // overlaps the work however fast the work is (an optimised build is
      // done with it quickly) and however late the sender gets a CPU.
      const long pace = s.per_worker / 64;
      int handler_runs_seen = g_handler_runs.load();
      for (long k = 0; k < s.per_worker; ++k) {
        if (k % pace == pace - 1) {
          const std::int64_t until = *rawthread::sys::monotonic_ns() + 20'000'000;
          while (g_handler_runs.load() == handler_runs_seen) {
            if (*rawthread::sys::monotonic_ns() > until) {
              s.unpaced.fetch_add(1);
              break;
            }
          }
          handler_runs_seen = g_handler_runs.load();
        }
        const Step step = mine[k];
        if (step.timeout < 0) {
          Result<bool> r = s.lock.acquire();
          if (!rt_test::is_true(r)) return give_up(r);
          s.untimed.fetch_add(1, std::memory_order_relaxed);
        } else {
          for (;;) {  // until the lock is taken, each try waiting its full timeout
            std::int64_t t0 = *rawthread::sys::monotonic_ns();
            Result<bool> r = s.lock.acquire(true, step.timeout);
            std::int64_t t1 = *rawthread::sys::monotonic_ns();
            if (rt_test::is_true(r)) break;
            if (!r.has_value()) return give_up(r);
            s.timeouts.fetch_add(1, std::memory_order_relaxed);
            if (t1 - t0 < step.min_ns) s.early.fetch_add(1);
          }
          s.timed.fetch_add(1, std::memory_order_relaxed);
        }
        s.counter = s.counter + 1;
        if (!s.lock.release().has_value()) s.errors.fetch_add(1);
      }
      s.tids[me].store(0);  // no more signals for this tid
      s.finished.fetch_add(1);
    }, w);
    if (!started.has_value()) {
      s.gate.unlock();  // let the workers already started run to their end
      FAIL() << "worker " << w << ": " << started.error().message;
    }
  }
  EXPECT_TRUE(rt_test::wait_for([] { return s.ready.load() == kWorkers; }))
      << "not every worker started";

  static std::atomic<bool> stop;
  static std::atomic<long> sent, send_failed;
  stop = false;
  sent = 0;
  send_failed = 0;
  rt_test::HelperThread sender([] {
    const long pid = ::getpid();
    while (!stop.load(std::memory_order_relaxed)) {
      for (auto& tid_slot : s.tids) {
        long tid = tid_slot.load(std::memory_order_relaxed);
        if (tid == 0) continue;
        if (::syscall(SYS_tgkill, pid, tid, SIGUSR1) == 0)
          sent.fetch_add(1, std::memory_order_relaxed);
        else if (errno != ESRCH)  // ESRCH: the worker has just ended
          send_failed.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });
  // The storm begins while the workers wait at the gate, asleep in lock()'s
  // untimed futex wait, which no handler may end: a hundred handler runs
  // each before the gate opens. Once they work, their checkpoints keep the
  // storm on them (signals sent to a worker that waits for a CPU still merge
  // into one).
  EXPECT_TRUE(rt_test::wait_for([] { return g_handler_runs.load() >= 100 * kWorkers; }))
      << "the handler ran only " << g_handler_runs.load() << " times";
  const int runs_at_gate = g_handler_runs.load();
  const std::int64_t t0 = now_ns();
  s.gate.unlock();

  bool finished = rt_test::wait_for([] { return s.finished.load() == kWorkers; }, 120.0);
  double seconds = rt_test::seconds_since(t0);
  stop = true;
  sender.join();
  ASSERT_TRUE(finished) << "the workers did not finish within 120 s: " << s.finished.load()
                        << " of " << kWorkers << ", counter " << s.counter;
  const int runs_at_work = g_handler_runs.load() - runs_at_gate;
  std::printf(
      "signal storm: %d workers x %ld increments in %.2f s; %ld signals sent, the handler ran "
      "%d times at the gate and %d while they worked; %ld untimed, %ld timed acquires, "
      "%ld timeouts; %ld of %d checkpoints saw no handler run within 20 ms\n",
      kWorkers, per_worker, seconds, sent.load(), runs_at_gate, runs_at_work, s.untimed.load(),
      s.timed.load(), s.timeouts.load(), s.unpaced.load(), 64 * kWorkers);
  std::fflush(stdout);

  EXPECT_EQ(s.counter, kWorkers * per_worker);
  EXPECT_EQ(s.untimed.load() + s.timed.load(), kWorkers * per_worker);
  EXPECT_EQ(s.early.load(), 0) << "timed acquires that returned false before their timeout";
  EXPECT_EQ(s.interrupted.load(), 0) << "acquires that returned interrupted; none was requested";
  EXPECT_EQ(s.errors.load(), 0);
  EXPECT_EQ(s.gave_up.load(), 0);
  EXPECT_EQ(send_failed.load(), 0);
  EXPECT_GE(runs_at_gate, 100 * kWorkers) << "the storm hardly reached the workers";
  // Valgrind runs one thread at a time and delivers signals only where it
  // switches between them: there the storm reaches working threads a few
  // times, not the hundreds it does natively and under QEMU.
  EXPECT_GT(runs_at_work, rt_test::under_valgrind() ? 3 : 50)
      << "the storm hardly reached the workers while they worked";
  EXPECT_FALSE(s.lock.locked());
  // signals still on their way to the main thread: none, they went to workers
  rt_test::expect_no_pending_request();
}

}  // namespace
