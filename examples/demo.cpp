// SPDX-License-Identifier: MIT
// demo: Python's _thread at work, in C++ on rawthread.
//
//   1. four threads share a counter under a Lock (Python: `with lock:`),
//      and the main thread waits for them with a deadline;
//   2. get_ident() in each thread equals what start_new_thread returned;
//   3. a timed acquire of a held lock gives up after its timeout;
//   4. interrupt_main() from a thread ends a blocking acquire in the main
//      thread (Python: KeyboardInterrupt).
//
// The rule that shapes this file: rawthread's threads are invisible to libc.
// A thread body uses only rawthread, std::atomic and memory that existed
// before it started: no printf, no new, no libc sleep, no thread_local. So
// the threads only record what they saw, and the main thread prints it.
//
// Exits 0 when everything behaved as described, 1 otherwise.

#include <rawthread/rawthread.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <unistd.h>

namespace {

constexpr int kWorkers = 4;
constexpr long kIncrements = 100000;

// Shared by the workers. A Lock has a constexpr constructor, so a static one
// is ready before main runs.
rawthread::Lock counter_lock;
long counter = 0;
rawthread::Ident seen_ident[kWorkers];  // each worker writes its own slot
std::atomic<int> workers_done{0};

int failures = 0;

void check(bool ok, const char* what) {
  std::printf("  [%s] %s\n", ok ? " ok " : "FAIL", what);
  if (!ok) ++failures;
}

double monotonic_seconds() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Main thread only: polls `done` every millisecond until it holds or
// `seconds` have passed.
template <class Pred>
bool wait_until(Pred done, double seconds) {
  const double deadline = monotonic_seconds() + seconds;
  while (!done()) {
    if (monotonic_seconds() > deadline) return false;
    timespec tick{0, 1000000};
    nanosleep(&tick, nullptr);
  }
  return true;
}

// A thread body: rawthread and std::atomic only.
void worker(int slot) {
  seen_ident[slot] = rawthread::get_ident();
  for (long i = 0; i < kIncrements; ++i) {
    std::lock_guard<rawthread::Lock> guard(counter_lock);  // Python: with counter_lock:
    ++counter;
  }
  workers_done.fetch_add(1, std::memory_order_release);
}

// SIGINT handler, installed without SA_RESTART as Python installs its
// handlers. It needs to do nothing: interrupt_main() has already requested
// the interrupt, and running the handler is what cuts the wait short.
void on_sigint(int) {}

}  // namespace

int main() {
  // Watchdog: if something hangs, SIGALRM's default action ends the process
  // with a failure instead of a hung demo.
  alarm(60);

  std::printf("rawthread demo: main thread ident %lu, native id %ld, TIMEOUT_MAX %.0f s\n",
              rawthread::get_ident(), rawthread::get_native_id(), rawthread::TIMEOUT_MAX);

  // 1 + 2: four workers on a lock-protected counter.
  std::printf("\n%d threads, %ld increments each, under one Lock:\n", kWorkers, kIncrements);
  rawthread::Ident started[kWorkers] = {};
  int running = 0;
  // Hold the lock while starting them, so that all four are alive together
  // (an ident may be reused once its thread has ended).
  counter_lock.lock();
  for (int slot = 0; slot < kWorkers; ++slot) {
    rawthread::Result<rawthread::Ident> ident = rawthread::start_new_thread(worker, slot);
    if (!ident) {
      std::printf("  start_new_thread: %s: %s (errno %d)\n", rawthread::name(ident.error().kind),
                  ident.error().message, ident.error().sys_errno);
      ++failures;
      continue;
    }
    started[slot] = *ident;
    ++running;
  }
  counter_lock.unlock();
  const bool finished = wait_until(
      [&] { return workers_done.load(std::memory_order_acquire) == running; }, 20.0);
  check(running == kWorkers, "start_new_thread started all four threads");
  check(finished, "all threads finished before the 20 s deadline");
  check(wait_until([] { return rawthread::thread_count() == 0; }, 5.0),
        "thread_count() fell back to 0 once they ended");
  {
    std::lock_guard<rawthread::Lock> guard(counter_lock);
    std::printf("  counter = %ld (expected %ld)\n", counter, kWorkers * kIncrements);
    check(counter == kWorkers * kIncrements, "no increment was lost");
  }
  for (int slot = 0; slot < kWorkers; ++slot) {
    std::printf("  thread %d: start_new_thread returned %lu, get_ident() in it said %lu\n", slot,
                started[slot], seen_ident[slot]);
  }
  bool idents_match = true, idents_distinct = true;
  for (int slot = 0; slot < kWorkers; ++slot) {
    if (started[slot] == 0 || started[slot] != seen_ident[slot]) idents_match = false;
    for (int other = 0; other < slot; ++other) {
      if (started[other] == started[slot]) idents_distinct = false;
    }
  }
  check(idents_match, "each thread's get_ident() equals the ident it was started with");
  check(idents_distinct, "threads alive at the same time have different idents");

  // 3: a timed acquire of a held lock.
  std::printf("\nTimed acquire of a held lock:\n");
  rawthread::Lock held = rawthread::allocate_lock();
  check(held.acquire().value_or(false), "acquire() on a free lock returns true");
  const double before = monotonic_seconds();
  rawthread::Result<bool> timed = held.acquire(true, 0.2);
  const double waited = monotonic_seconds() - before;
  std::printf("  acquire(true, 0.2) -> %s after %.3f s\n",
              timed ? (*timed ? "true" : "false") : rawthread::name(timed.error().kind), waited);
  check(timed.has_value() && !*timed && waited >= 0.2,
        "it returns false after waiting at least 0.2 s");
  rawthread::Result<bool> no_timeout = held.acquire(false, 1.0);
  std::printf("  acquire(false, 1.0) -> %s \"%s\"\n",
              no_timeout ? "a value" : rawthread::name(no_timeout.error().kind),
              no_timeout ? "" : no_timeout.error().message);
  check(!no_timeout && no_timeout.error().kind == rawthread::Errc::value_error,
        "a timeout on a non-blocking call is a value_error (Python: ValueError)");
  check(held.release().has_value() && !held.locked(), "release() unlocks it");
  rawthread::Result<void> again = held.release();
  std::printf("  release() of an unlocked lock -> %s \"%s\"\n",
              again ? "ok" : rawthread::name(again.error().kind),
              again ? "" : again.error().message);
  check(!again && again.error().kind == rawthread::Errc::thread_error,
        "releasing an unlocked lock is a thread_error (Python: _thread.error)");

  // 4: interrupt_main() ends a blocking acquire in the main thread.
  std::printf("\ninterrupt_main() from a thread, main thread blocked in acquire():\n");
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART
  check(sigaction(SIGINT, &action, nullptr) == 0, "SIGINT handler installed");

  rawthread::Lock blocker = rawthread::allocate_lock();
  (void)blocker.acquire();                // held: main's acquire below must wait
  std::atomic<int> interrupt_status{0};  // 0 not yet, 1 interrupt_main ok, 2 error
  rawthread::Result<rawthread::Ident> interrupter =
      rawthread::start_new_thread([&interrupt_status] {
        // "Sleep" 200 ms without libc: a timed acquire of a private held lock.
        rawthread::Lock nap;
        (void)nap.acquire();
        (void)nap.acquire(true, 0.2);
        interrupt_status.store(rawthread::interrupt_main() ? 1 : 2, std::memory_order_release);
      });
  check(interrupter.has_value(), "interrupter thread started");
  if (interrupter) {
    const double blocked_at = monotonic_seconds();
    rawthread::Result<bool> blocked = blocker.acquire();  // blocking, no timeout
    const double blocked_for = monotonic_seconds() - blocked_at;
    std::printf("  acquire() -> %s after %.3f s\n",
                blocked ? (*blocked ? "true" : "false") : rawthread::name(blocked.error().kind),
                blocked_for);
    check(!blocked && blocked.error().kind == rawthread::Errc::interrupted,
          "the blocking acquire returned Errc::interrupted (Python: KeyboardInterrupt)");
    check(blocker.locked(), "the lock was not taken by the interrupted acquire");
    check(wait_until([&] { return interrupt_status.load(std::memory_order_acquire) != 0; }, 5.0) &&
              interrupt_status.load() == 1,
          "interrupt_main() returned success in the thread");
    check(wait_until([] { return rawthread::thread_count() == 0; }, 5.0),
          "the interrupter thread ended");
  }
  (void)blocker.release();

  if (failures == 0) {
    std::printf("\ndemo: everything behaved as expected\n");
    return 0;
  }
  std::printf("\ndemo: %d unexpected result%s\n", failures, failures == 1 ? "" : "s");
  return 1;
}
