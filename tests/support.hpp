// SPDX-License-Identifier: MIT
// tests/support.hpp: helpers shared by the GoogleTest suites.
//
// Two worlds meet in these tests:
//  - the main thread (and HelperThread helpers a test makes) may use anything:
//    libc, gtest, clock_gettime, nanosleep, /proc;
//  - the body of a thread started with rawthread::start_new_thread may use only
//    rawthread, std::atomic and memory allocated before it started: the
//    library's threads are invisible to libc. Such bodies record what they saw
//    in atomics and the main thread asserts on them.
// Helpers meant for thread bodies say so; every other helper is main-thread
// only. Every wait on the main thread has a deadline, so no test can hang.
//
// The same suites run against both backends (tests/meson.build passes
// RAWTHREAD_TEST_DUMMY). With -Dthread_backend=dummy no thread ever starts:
// start_new_thread runs the body to its end on the caller's stack before it
// returns, so a body that waits for the main thread would wait for itself.
// A case that needs a second thread running at the same time as the first
// begins with RT_REQUIRES_CONCURRENCY(); one that runs in both but expects
// something else of the dummy says so with `if (kDummy) { ... } else { ... }`.
#pragma once

#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <rawthread/rawthread.hpp>

#ifndef RAWTHREAD_TEST_DUMMY
#error "tests/meson.build defines RAWTHREAD_TEST_DUMMY (1: the dummy backend, 0: clone)"
#endif

namespace rt_test {

// Whether the library under test is the dummy backend.
inline constexpr bool kDummy = RAWTHREAD_TEST_DUMMY;

// First thing in a case that needs a second thread running at the same time
// (one that waits for another, or is waited for): skips it in the dummy build.
#define RT_REQUIRES_CONCURRENCY()                                                        \
  do {                                                                                   \
    if (::rt_test::kDummy)                                                               \
      GTEST_SKIP() << "dummy backend: needs a second thread running at the same time";   \
  } while (0)

// How long the main thread waits for something that should happen "soon"
// before it gives up and fails. Generous: the suite also runs under QEMU.
inline constexpr double kDeadline = 30.0;

// Iterations for a stress test: `native`, or `emulated` when RAWTHREAD_TEST_EMULATED=1 is in the
// environment (tests/meson.build sets it for cross builds, run under qemu-user; scripts/test for valgrind).
inline long iterations(long native, long emulated) {
  const char* emulated_env = std::getenv("RAWTHREAD_TEST_EMULATED");
  return emulated_env != nullptr && std::strcmp(emulated_env, "1") == 0 ? emulated : native;
}

// ---------------------------------------------------------------- thread bodies

// Sleeps the calling rawthread thread for about `seconds` without libc: a timed
// acquire of a private lock that is already held returns false after its
// timeout. Safe in thread bodies.
inline void body_sleep(double seconds) noexcept {
  if constexpr (kDummy) {
    // The body runs on the thread that started it and shares its interrupt
    // request, which a blocking acquire would consume and end early on:
    // sleep on the clock instead, which leaves a request alone.
    (void)rawthread::sys::sleep(seconds);
    return;
  }
  rawthread::Lock held;
  (void)held.acquire(false);
  (void)held.acquire(true, seconds);
}

// Writes one byte in every page of a `bytes` long stack array, from the top
// (highest address, nearest the caller's frame) down, so that running out of
// stack faults on the guard page first. Safe in thread bodies: no libc, no
// memset (the array is volatile and written page by page).
[[gnu::noinline]] inline void touch_stack_down(volatile char* base, std::size_t bytes) noexcept {
  for (std::size_t off = bytes; off > 0;) {
    off = off > 4096 ? off - 4096 : 0;
    base[off] = static_cast<char>(off);
  }
  base[bytes - 1] = 1;
}

// Whether an acquire took the lock / returned false, without the trap that
// value() on an error would be. Safe in thread bodies.
inline bool is_true(const rawthread::Result<bool>& r) noexcept { return r.has_value() && *r; }
inline bool is_false(const rawthread::Result<bool>& r) noexcept { return r.has_value() && !*r; }

// ---------------------------------------------------------------- main thread

inline std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline double seconds_since(std::int64_t start_ns) {
  return static_cast<double>(now_ns() - start_ns) / 1e9;
}

inline std::int64_t to_ns(double seconds) { return static_cast<std::int64_t>(seconds * 1e9); }

// Sleeps the whole time even when signal handlers run meanwhile.
inline void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

// Polls `pred` every millisecond until it holds or `seconds` have passed.
// Returns its last value.
template <class Pred>
bool wait_for(Pred pred, double seconds = kDeadline) {
  std::int64_t deadline = now_ns() + to_ns(seconds);
  for (;;) {
    if (pred()) return true;
    if (now_ns() >= deadline) return pred();
    sleep_ms(1);
  }
}

// Waits until thread_count() is `count`; returns whether it got there.
inline bool wait_thread_count(std::size_t count, double seconds = kDeadline) {
  return wait_for([count] { return rawthread::thread_count() == count; }, seconds);
}

// Waits for child `pid` up to `seconds`; kills it after that. Returns the
// wait status, -1 if it had to be killed, -2 if waitpid failed.
inline int wait_child(pid_t pid, double seconds) {
  std::int64_t deadline = now_ns() + to_ns(seconds);
  int status = 0;
  for (;;) {
    pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) return status;
    if (got < 0 && errno != EINTR) return -2;
    if (now_ns() >= deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return -1;
    }
    sleep_ms(2);
  }
}

inline long gettid_now() { return static_cast<long>(::syscall(SYS_gettid)); }

// Whether the suite runs under valgrind: scripts/test's valgrind
// configuration sets RAWTHREAD_TEST_VALGRIND=1.
inline bool under_valgrind() {
  const char* value = std::getenv("RAWTHREAD_TEST_VALGRIND");
  return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

// Number of lines in /proc/self/maps as they are, with the stacks of ended
// threads the library keeps for reuse: one per mapping (a thread's stack is
// two, its guard page and the rest). Reads with plain read() into a static
// buffer so counting allocates nothing.
//
// Under valgrind the file lists valgrind's own mappings as well: a stack for
// every thread slot it has used, memcheck's shadow of every range the program
// has touched. They appear as the program runs and stay, so the count says
// nothing about the program's own mappings: it is 1 there, a constant every
// comparison of two counts passes (not 0 or -1, which would read as no /proc).
inline long maps_lines_with_cache() {
  if (under_valgrind()) return 1;
  int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  static char buf[1 << 16];
  long lines = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n';
  }
  ::close(fd);
  return lines;
}

// The same once the stacks kept for reuse are released, so that a count
// taken before some threads ran and one taken after they ended compare
// equal: every mapping still there is a running thread's (or a leak).
inline long maps_lines() {
  rawthread::release_cached_stacks();
  return maps_lines_with_cache();
}

// Waits (with the usual deadline) until /proc/self/maps has `before` lines
// again (maps_lines: with the cache released each time it looks): every
// mapping a test's threads made is gone.
inline ::testing::AssertionResult maps_back_to(long before) {
  if (wait_for([before] { return maps_lines() == before; })) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "mappings left behind: " << maps_lines()
                                       << " lines in /proc/self/maps, was " << before;
}

// One line of /proc/self/maps: [start, end) and the permission letters.
struct Mapping {
  std::uintptr_t start = 0, end = 0;
  char perms[5] = {};
};

// Finds the mapping that contains `addr` and the one that ends exactly where
// it starts (the one directly below), if any. Main thread only.
inline bool find_mapping(std::uintptr_t addr, Mapping* containing, Mapping* below,
                         bool* has_below) {
  FILE* maps = std::fopen("/proc/self/maps", "re");
  if (maps == nullptr) return false;
  static Mapping all[8192];
  int count = 0;
  char line[512];
  while (count < 8192 && std::fgets(line, sizeof line, maps) != nullptr) {
    unsigned long start, end;
    char perms[5];
    if (std::sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3) {
      all[count].start = start;
      all[count].end = end;
      std::memcpy(all[count].perms, perms, sizeof perms);
      ++count;
    }
  }
  std::fclose(maps);
  bool found = false;
  for (int i = 0; i < count; ++i) {
    if (addr >= all[i].start && addr < all[i].end) {
      *containing = all[i];
      found = true;
    }
  }
  if (!found) return false;
  *has_below = false;
  for (int i = 0; i < count; ++i) {
    if (all[i].end == containing->start) {
      *below = all[i];
      *has_below = true;
    }
  }
  return true;
}

// The scheduler state letter of thread `tid` of this process ('R', 'S', ...),
// from the field after the ")" in /proc/self/task/<tid>/stat; '?' if unreadable.
inline char thread_state(long tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return '?';
  char buf[512];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf - 1);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0) return '?';
  buf[n] = '\0';
  const char* paren = std::strrchr(buf, ')');
  if (paren == nullptr || paren[1] != ' ') return '?';
  return paren[2];
}

// Waits until thread `tid` has been sleeping ('S') for `polls` consecutive
// polls a millisecond apart: then it is inside a blocking system call, not
// between a check and the call. Returns false after `seconds`, and at once
// for the calling thread itself, which is running while it looks: in the
// dummy build a body's get_native_id() is the main thread's.
inline bool wait_until_sleeping(long tid, int polls = 5, double seconds = 20.0) {
  if (tid == gettid_now()) return false;
  std::int64_t deadline = now_ns() + to_ns(seconds);
  int in_a_row = 0;
  while (now_ns() < deadline) {
    in_a_row = thread_state(tid) == 'S' ? in_a_row + 1 : 0;
    if (in_a_row >= polls) return true;
    sleep_ms(1);
  }
  return false;
}

// The voluntary context switches of thread `tid` so far (one each time it
// blocks, a futex sleep included); -1 if unreadable. Main thread only.
inline long voluntary_switches(long tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%ld/status", tid);
  FILE* status = std::fopen(path, "re");
  if (status == nullptr) return -1;
  long switches = -1;
  char line[256];
  while (std::fgets(line, sizeof line, status) != nullptr)
    if (std::sscanf(line, "voluntary_ctxt_switches: %ld", &switches) == 1) break;
  std::fclose(status);
  return switches;
}

inline int tgkill_main(long main_tid, int sig) {
  return static_cast<int>(::syscall(SYS_tgkill, static_cast<long>(::getpid()), main_tid, sig));
}

// Installs a signal disposition for the scope of a test and restores the old
// one after. Handlers go in without SA_RESTART, as Python installs them.
class SignalGuard {
 public:
  SignalGuard(int sig, void (*handler)(int)) : sig_(sig) {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART
    ok_ = ::sigaction(sig, &sa, &old_) == 0;
  }
  ~SignalGuard() {
    if (ok_) ::sigaction(sig_, &old_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
  bool ok() const { return ok_; }

 private:
  int sig_;
  bool ok_ = false;
  struct sigaction old_;
};

// A libc thread for test-side helpers (they may use libc, /proc, signals).
// It is detached and joined by waiting, with a deadline, for the flag it sets
// as its last act: glibc's pthread_join sleeps with FUTEX_CLOCK_REALTIME, and
// the suite is checked under strace for that flag, which rawthread never uses.
class HelperThread {
 public:
  HelperThread() = default;
  template <class F>
  explicit HelperThread(F&& fn) : done_(std::make_shared<std::atomic<bool>>(false)) {
    std::thread([done = done_, fn = std::forward<F>(fn)]() mutable {
      fn();
      done->store(true);
    }).detach();
  }
  HelperThread(HelperThread&&) = default;
  HelperThread& operator=(HelperThread&& other) {
    join();
    done_ = std::move(other.done_);
    return *this;
  }
  ~HelperThread() { join(); }

  bool joinable() const { return done_ != nullptr; }
  void join() {
    if (!done_) return;
    if (!wait_for([this] { return done_->load(); }))
      ADD_FAILURE() << "a helper thread did not finish within " << kDeadline << " s";
    done_.reset();
  }

 private:
  std::shared_ptr<std::atomic<bool>> done_;
};

// Runs `rescue` on a HelperThread if it is not dismissed within `seconds`:
// a test that blocks the main thread in an untimed wait arms one that releases
// the lock, so a library that misses a wake-up fails the test instead of
// hanging it. The destructor dismisses and joins.
class Watchdog {
 public:
  Watchdog(double seconds, std::function<void()> rescue)
      : thread_([this, seconds, rescue = std::move(rescue)] {
          std::unique_lock<std::mutex> guard(mutex_);
          if (!cv_.wait_for(guard, std::chrono::duration<double>(seconds),
                            [this] { return dismissed_; })) {
            fired_ = true;
            guard.unlock();
            rescue();
          }
        }) {}
  ~Watchdog() { dismiss(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void dismiss() {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      dismissed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // Whether the rescue ran (valid after dismiss()).
  bool fired() const { return fired_; }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool dismissed_ = false;
  std::atomic<bool> fired_{false};
  HelperThread thread_;  // last: starts after the members it uses exist
};

// Wakes every sleeper on the futex word at `word` (private and shared), so a
// main thread stuck in an untimed wait after a lost wake-up gets out.
inline void wake_all(void* word) {
  ::syscall(SYS_futex, word, FUTEX_WAKE, 0x7fffffff, nullptr, nullptr, 0);
  ::syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 0x7fffffff, nullptr, nullptr, 0);
}

// Last resort for a watchdog: releases `lock` and wakes every sleeper on its
// word, so a main thread stuck in an untimed wait after a lost wake-up gets
// out and the test fails instead of hanging.
inline void rescue_lock(rawthread::Lock& lock) {
  (void)lock.release();
  wake_all(static_cast<void*>(&lock));
}

// Base fixture: every test ends with thread_count() back where it started, so
// no thread of one test outlives it into the next.
class RawthreadTest : public ::testing::Test {
 protected:
  void SetUp() override { base_count_ = rawthread::thread_count(); }
  void TearDown() override {
    EXPECT_TRUE(wait_thread_count(base_count_))
        << "threads still running at the end of the test: thread_count() = "
        << rawthread::thread_count() << ", expected " << base_count_;
  }
  std::size_t base_count_ = 0;
};

// Expects `r` to hold the error (kind, message, sys_errno).
template <class R>
void expect_error(const R& r, rawthread::Errc kind, const char* message, int sys_errno = 0) {
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().kind, kind);
  ASSERT_NE(r.error().message, nullptr);
  EXPECT_STREQ(r.error().message, message);
  EXPECT_EQ(r.error().sys_errno, sys_errno);
}

// ---------------------------------------------------------------- acquire's argument errors

inline constexpr const char* kNonBlockingMessage =
    "can't specify a timeout for a non-blocking call";
inline constexpr const char* kNegativeMessage = "timeout value must be a non-negative number";
inline constexpr const char* kTooLargeMessage = "timeout value is too large";

// An acquire(blocking, timeout) that must fail with (kind, message).
struct BadAcquire {
  bool blocking;
  double timeout;
  rawthread::Errc kind;
  const char* message;
};

// Every kind of bad argument, in the order Python checks them; Lock and RLock
// give the same answers.
inline std::vector<BadAcquire> bad_acquires() {
  using rawthread::Errc;
  using rawthread::TIMEOUT_MAX;
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  return {
      // 1. non-blocking with a timeout: checked first, whatever the timeout
      {false, 0.0, Errc::value_error, kNonBlockingMessage},
      {false, 1.0, Errc::value_error, kNonBlockingMessage},
      {false, -5.0, Errc::value_error, kNonBlockingMessage},
      {false, -0.5, Errc::value_error, kNonBlockingMessage},
      {false, nan, Errc::value_error, kNonBlockingMessage},
      {false, inf, Errc::value_error, kNonBlockingMessage},
      {false, -inf, Errc::value_error, kNonBlockingMessage},
      {false, TIMEOUT_MAX * 2, Errc::value_error, kNonBlockingMessage},
      // 2. negative other than -1, or NaN: before the size check
      {true, -5.0, Errc::value_error, kNegativeMessage},
      {true, -0.5, Errc::value_error, kNegativeMessage},
      {true, -2.0, Errc::value_error, kNegativeMessage},
      {true, std::nextafter(-1.0, -2.0), Errc::value_error, kNegativeMessage},
      {true, std::nextafter(-1.0, 0.0), Errc::value_error, kNegativeMessage},
      {true, -1e300, Errc::value_error, kNegativeMessage},
      {true, -inf, Errc::value_error, kNegativeMessage},
      {true, nan, Errc::value_error, kNegativeMessage},
      {true, -nan, Errc::value_error, kNegativeMessage},
      {true, -std::numeric_limits<double>::denorm_min(), Errc::value_error, kNegativeMessage},
      // 3. too large, infinity included
      {true, std::nextafter(TIMEOUT_MAX, inf), Errc::overflow_error, kTooLargeMessage},
      {true, TIMEOUT_MAX * 2, Errc::overflow_error, kTooLargeMessage},
      {true, 1e300, Errc::overflow_error, kTooLargeMessage},
      {true, std::numeric_limits<double>::max(), Errc::overflow_error, kTooLargeMessage},
      {true, inf, Errc::overflow_error, kTooLargeMessage},
  };
}

// ---------------------------------------------------------------- the dummy backend's errors

// An untimed blocking acquire of a lock held by another thread: EDEADLK.
inline constexpr const char* kWouldDeadlockMessage =
    "acquire would deadlock: no other thread can release the lock";
// start_new_thread's error after interrupt_main() in the function: EINTR.
inline constexpr const char* kStartedInterruptedMessage =
    "interrupt_main() was called in the started function";
// stack_size(n) for any valid n but 0.
inline constexpr const char* kStackSizeNotSupportedMessage =
    "setting thread stack size not supported";

// "acquire(true, -5)", for SCOPED_TRACE.
inline std::string describe(const BadAcquire& c) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "acquire(%s, %.17g)", c.blocking ? "true" : "false", c.timeout);
  return buf;
}

// ---------------------------------------------------------------- interrupts

// How often count_only / count_and_request ran; InterruptFixture zeroes it.
inline std::atomic<int> g_handler_runs{0};

// Signal handlers (async-signal-safe): one that only counts, one that also
// requests an interrupt, as a Python handler that raises would.
inline void count_only(int) { g_handler_runs.fetch_add(1); }
inline void count_and_request(int) {
  g_handler_runs.fetch_add(1);
  rawthread::request_interrupt();
}

// Ends a pending interrupt request of the calling (main) thread, if any:
// returns true if there was one. A blocking timed acquire of a held private
// lock: interrupted if a request was pending, false after 50 ms if not.
inline bool consume_pending_interrupt() {
  rawthread::Lock held;
  (void)held.acquire(false);
  rawthread::Result<bool> r = held.acquire(true, 0.05);
  return !r.has_value() && r.error().kind == rawthread::Errc::interrupted;
}

// No request pending: a blocking timed acquire (0.25 s) of a held lock times
// out normally instead of returning interrupted.
inline void expect_no_pending_request() {
  rawthread::Lock held;
  ASSERT_TRUE(is_true(held.acquire(false)));
  std::int64_t t0 = now_ns();
  rawthread::Result<bool> r = held.acquire(true, 0.25);
  std::int64_t elapsed = now_ns() - t0;
  ASSERT_TRUE(r.has_value()) << "a request was left pending: acquire returned "
                             << rawthread::name(r.error().kind);
  EXPECT_FALSE(*r);
  EXPECT_GE(elapsed, to_ns(0.25));
}

// Expects `r` to be Errc::interrupted.
inline void expect_interrupted(const rawthread::Result<bool>& r) {
  ASSERT_FALSE(r.has_value()) << "acquire returned " << (r.has_value() && *r ? "true" : "false")
                              << " instead of interrupted";
  EXPECT_EQ(r.error().kind, rawthread::Errc::interrupted);
}

// Fixture for tests that interrupt the main thread: g_handler_runs starts at
// 0, no request is pending at the start or left over at the end, and
// when_main_sleeps lets an interrupter act while main sleeps in the kernel.
class InterruptFixture : public RawthreadTest {
 protected:
  void SetUp() override {
    RawthreadTest::SetUp();
    g_handler_runs = 0;
    main_tid_ = gettid_now();
    // start clean even if an earlier test failed and left a request
    for (int i = 0; i < 3 && consume_pending_interrupt(); ++i) {
    }
  }
  void TearDown() override {
    // a test that passes leaves nothing pending; don't let a failing one
    // spill into the next
    consume_pending_interrupt();
    RawthreadTest::TearDown();
  }

  // Starts a helper thread that waits until the main thread sleeps in the
  // kernel, waits 50 ms more, records the time and runs `action`.
  HelperThread when_main_sleeps(std::function<void()> action) {
    sleeping_seen_ = false;
    acted_at_ns_ = 0;
    return HelperThread([this, action = std::move(action)] {
      sleeping_seen_ = wait_until_sleeping(main_tid_);
      sleep_ms(50);
      acted_at_ns_ = now_ns();
      action();
    });
  }

  long main_tid_ = 0;
  std::atomic<bool> sleeping_seen_{false};
  std::atomic<std::int64_t> acted_at_ns_{0};
};

// A file descriptor number that is not open: a pipe's, after closing it.
inline int closed_fd() {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  return fds[1];
}

}  // namespace rt_test

namespace rawthread {
// Lets gtest print an Errc in failure messages.
inline void PrintTo(Errc e, std::ostream* os) { *os << name(e); }
}  // namespace rawthread
