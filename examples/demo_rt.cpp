// SPDX-License-Identifier: MIT
// demo_rt: the demo as a program with no libc at all, linked with
// librawthread_rt (rawthread's own _start, TLS and exit).
//
//   1. four threads share a counter under a Lock;
//   2. a timed acquire of a held lock gives up after its timeout;
//   3. interrupt_main() from a thread ends a blocking acquire in the main
//      thread, through a SIGINT handler installed with rawthread::sys.
//
// Without libc there is no printf: rawthread::sys writes text and numbers to
// file descriptors. Exits 0 when everything behaved as described.
//
// The same object file also links against glibc or musl (scripts/sizes
// compares the three): nothing in it needs more than rawthread.
#include <rawthread/rawthread.hpp>

#include <atomic>
#include <mutex>

namespace sys = rawthread::sys;

namespace {

constexpr int kWorkers = 4;
constexpr long kIncrements = 100000;

rawthread::Lock counter_lock;
long counter = 0;
std::atomic<int> workers_done{0};
int failures = 0;

void say(const char* text) { (void)sys::write_str(1, text); }
void say(long long value) { (void)sys::write_int(1, value); }

void check(bool ok, const char* what) {
  say(ok ? "  [ ok ] " : "  [FAIL] "), say(what), say("\n");
  if (!ok) ++failures;
}

std::int64_t now_ns() { return sys::monotonic_ns().value_or(0); }

template <class Pred>
bool wait_until(Pred done, double seconds) {
  const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(seconds * 1e9);
  while (!done()) {
    if (now_ns() > deadline) return false;
    (void)sys::sleep(0.001);
  }
  return true;
}

void worker() {
  for (long i = 0; i < kIncrements; ++i) {
    std::lock_guard<rawthread::Lock> guard(counter_lock);  // Python: with counter_lock:
    ++counter;
  }
  workers_done.fetch_add(1, std::memory_order_release);
}

void on_sigint(int) { rawthread::request_interrupt(); }

}  // namespace

int main() {
  say("rawthread demo_rt (no libc): main thread ident "), say(rawthread::get_ident());
  say(", native id "), say(rawthread::get_native_id()), say("\n");

  // 1. Four workers on a lock-protected counter.
  say("\n"), say(kWorkers), say(" threads, "), say(kIncrements), say(" increments each:\n");
  int running = 0;
  for (int i = 0; i < kWorkers; ++i) running += rawthread::start_new_thread(worker).has_value();
  check(running == kWorkers, "start_new_thread started all four threads");
  check(wait_until([&] { return workers_done.load(std::memory_order_acquire) == running; }, 20),
        "all threads finished before the 20 s deadline");
  check(wait_until([] { return rawthread::thread_count() == 0; }, 5),
        "thread_count() fell back to 0, their stacks unmapped");
  say("  counter = "), say(counter), say("\n");
  check(counter == kWorkers * kIncrements, "no increment was lost");

  // 2. A timed acquire of a held lock.
  say("\nTimed acquire of a held lock:\n");
  rawthread::Lock held = rawthread::allocate_lock();
  (void)held.acquire();
  const std::int64_t before = now_ns();
  rawthread::Result<bool> timed = held.acquire(true, 0.2);
  const std::int64_t waited_us = (now_ns() - before) / 1000;
  say("  acquire(true, 0.2) gave up after "), say(waited_us), say(" us\n");
  check(timed.has_value() && !*timed && waited_us >= 200000, "false after at least 0.2 s");
  rawthread::Result<bool> bad = held.acquire(false, 1.0);
  say("  acquire(false, 1.0): "), say(bad ? "no error" : bad.error().message), say("\n");
  check(!bad && bad.error().kind == rawthread::Errc::value_error, "a value_error, as in Python");

  // 3. interrupt_main() ends a blocking acquire in the main thread.
  say("\ninterrupt_main() from a thread, main thread blocked in acquire():\n");
  check(sys::set_signal_handler(2, on_sigint, 0).has_value(), "SIGINT handler installed");
  static std::atomic<int> sent{0};
  check(rawthread::start_new_thread([] {
          (void)sys::sleep(0.2);
          sent.store(rawthread::interrupt_main() ? 1 : 2);
        }).has_value(),
        "interrupter thread started");
  const std::int64_t blocked_at = now_ns();
  rawthread::Result<bool> blocked = held.acquire();  // blocking, no timeout
  say("  acquire() returned after "), say((now_ns() - blocked_at) / 1000), say(" us: ");
  say(blocked ? "acquired" : blocked.error().message), say("\n");
  check(!blocked && blocked.error().kind == rawthread::Errc::interrupted,
        "the blocking acquire returned Errc::interrupted (Python: KeyboardInterrupt)");
  check(wait_until([] { return sent.load() != 0; }, 5) && sent.load() == 1,
        "interrupt_main() succeeded in the thread");
  (void)held.release();
  check(wait_until([] { return rawthread::thread_count() == 0; }, 5), "every thread ended");

  say(failures == 0 ? "\ndemo_rt: everything behaved as expected\n" : "\ndemo_rt: FAILED\n");
  return failures == 0 ? 0 : 1;
}
