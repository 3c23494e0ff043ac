// SPDX-License-Identifier: MIT
// fork(): the child of a process whose rawthread threads are running has only
// the thread that called fork(). It counts no threads, frees the locks the
// vanished threads held with at_fork_reinit(), keeps what its own thread
// held, knows its own kernel id, and starts, joins and interrupts threads of
// its own; the parent goes on as if nothing happened.
//
// A forked child may use only async-signal-safe calls and rawthread (the
// parent may have had other threads in libc when it forked). It reports
// through its exit status, one code per check (CHILD_CHECK), and writes the
// text of the check that failed into a page it shares with the parent, which
// asserts on both after wait_child.
#include <dirent.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "support.hpp"

using namespace rawthread;
using rt_test::is_false;
using rt_test::is_true;
using rt_test::kDummy;
using rt_test::wait_for;

namespace {

// ---------------------------------------------------------------- the child's side

// Shared between parent and child (MAP_SHARED): where the child failed.
struct ChildLog {
  int line;
  char what[240];
};
ChildLog* g_log = nullptr;

// Records a failed check (async-signal-safe: plain stores) and returns the
// exit code for it: 1 + its number, so that each check has its own.
int child_failed(int number, int line, const char* what) {
  if (g_log != nullptr) {
    g_log->line = line;
    std::size_t i = 0;
    for (; what[i] != '\0' && i + 1 < sizeof g_log->what; ++i) g_log->what[i] = what[i];
    g_log->what[i] = '\0';
  }
  return 1 + number % 250;
}

// In a child function returning int: ends it with its own code unless `cond`.
#define CHILD_CHECK(cond)                                                      \
  do {                                                                         \
    if (!(cond)) return child_failed(__COUNTER__, __LINE__, #cond);            \
  } while (0)

// Polls `pred` until it holds or `seconds` pass, on rawthread::sys's clock
// and sleep (async-signal-safe, unlike the parent's wait_for). In a child.
template <class Pred>
bool child_wait(Pred pred, double seconds = rt_test::kDeadline) {
  Result<std::int64_t> start = sys::monotonic_ns();
  if (!start) return pred();
  const std::int64_t deadline = *start + rt_test::to_ns(seconds);
  for (;;) {
    if (pred()) return true;
    Result<std::int64_t> now = sys::monotonic_ns();
    if (!now || *now >= deadline) return pred();
    (void)sys::sleep_ns(1000000);
  }
}

std::int64_t child_now_ns() {
  Result<std::int64_t> now = sys::monotonic_ns();
  return now ? *now : 0;
}

long raw_getpid() { return static_cast<long>(::syscall(SYS_getpid)); }

// ---------------------------------------------------------------- the platform

// Whether a child forked while another thread of its parent runs can start
// threads at all. Not under qemu-user 7.2 (Debian 12's): there the child
// aborts in its first clone ("qemu_plugin_vcpu_init_hook: assertion failed"),
// libc's pthread_create as much as rawthread's, because QEMU keeps the
// vanished threads' CPUs registered. Probed once with libc threads only, so
// that nothing of rawthread's decides it; where it fails, the checks that
// start threads in such a child are left out (and say so).
bool threads_start_in_child_of_threaded_process() {
  static const bool can = [] {
    std::atomic<bool> release{false};
    rt_test::HelperThread running([&release] {
      while (!release.load()) rt_test::sleep_ms(1);
    });
    pid_t pid = ::fork();
    if (pid == 0) {
      int null = ::open("/dev/null", O_WRONLY);  // QEMU's abort messages
      if (null >= 0) {
        ::dup2(null, 1);
        ::dup2(null, 2);
      }
      static std::atomic<int> ran{0};
      std::thread([] { ran.store(1); }).detach();
      for (int i = 0; i < 20000 && ran.load() == 0; ++i) rt_test::sleep_ms(1);
      ::_exit(ran.load() == 1 ? 0 : 1);
    }
    int status = pid < 0 ? -3 : rt_test::wait_child(pid, rt_test::kDeadline);
    release = true;
    running.join();
    bool ok = status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok)
      std::printf("    note: this platform cannot start threads in a child forked while other\n"
                  "    threads run (qemu-user): the checks that do so are left out\n");
    return ok;
  }();
  return can;
}

// ---------------------------------------------------------------- the parent's side

class ForkTest : public rt_test::RawthreadTest {
 protected:
  void SetUp() override {
    RawthreadTest::SetUp();
    void* page = ::mmap(nullptr, sizeof(ChildLog), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(page, MAP_FAILED);
    g_log = static_cast<ChildLog*>(page);
    g_log->line = 0;
    g_log->what[0] = '\0';
  }
  void TearDown() override {
    if (g_log != nullptr) ::munmap(g_log, sizeof(ChildLog));
    g_log = nullptr;
    RawthreadTest::TearDown();
  }

  // Forks; the child runs `child` and exits with what it returns. Returns the
  // child's wait status (wait_child's -1 / -2), or -3 if fork failed.
  template <class F>
  static int run_child(F&& child, double seconds = rt_test::kDeadline) {
    pid_t pid = ::fork();
    if (pid < 0) return -3;
    if (pid == 0) ::_exit(child());
    return rt_test::wait_child(pid, seconds);
  }

  static void expect_child_passed(int status) {
    ASSERT_NE(status, -3) << "fork failed: " << std::strerror(errno);
    ASSERT_NE(status, -2) << "waitpid failed";
    ASSERT_NE(status, -1) << "the child did not end within the deadline (killed)";
    ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0)
        << "the child failed check code " << WEXITSTATUS(status) << " at line " << g_log->line
        << ": CHILD_CHECK(" << g_log->what << ")";
  }
};

// Undoes what a test still holds when an ASSERT ends it early, so that its
// threads run to their end instead of outliving it.
class OnExit {
 public:
  explicit OnExit(std::function<void()> fn) : fn_(std::move(fn)) {}
  ~OnExit() { fn_(); }
  OnExit(const OnExit&) = delete;
  OnExit& operator=(const OnExit&) = delete;

 private:
  std::function<void()> fn_;
};

// ---------------------------------------------------------------- fork with threads running

std::atomic<int> g_child_sigusr1{0};
void child_count_sigusr1(int) { g_child_sigusr1.fetch_add(1); }

TEST_F(ForkTest, ChildOfAProcessWithThreadsRunning) {
  RT_REQUIRES_CONCURRENCY();  // threads stay blocked while main forks
  // Three threads wait on `blocker`, which main holds; a fourth holds
  // `held_by_worker` and `rlock_by_worker` and waits at `worker_gate`, which
  // main holds too. Main also owns `rlock_by_main` twice. Then main forks.
  static Lock blocker, held_by_worker, worker_gate;
  static RLock rlock_by_worker, rlock_by_main;
  static std::atomic<int> blockers_waiting, blockers_got, blockers_done;
  static std::atomic<int> worker_holding, worker_rlock_release, worker_lock_release, worker_done;
  static std::atomic<long> tids[4];
  blockers_waiting = 0;
  blockers_got = 0;
  blockers_done = 0;
  worker_holding = 0;
  worker_rlock_release = 0;
  worker_lock_release = 0;
  worker_done = 0;
  for (auto& tid : tids) tid = 0;

  bool main_holds_blocker = false, main_holds_gate = false;
  int main_rlock_depth = 0;
  OnExit cleanup([&] {
    if (main_holds_gate) (void)worker_gate.release();
    if (main_holds_blocker) (void)blocker.release();
    while (main_rlock_depth-- > 0) (void)rlock_by_main.release();
  });
  ASSERT_TRUE(is_true(blocker.acquire(false)));
  main_holds_blocker = true;
  ASSERT_TRUE(is_true(worker_gate.acquire(false)));
  main_holds_gate = true;
  ASSERT_TRUE(is_true(rlock_by_main.acquire()));
  ++main_rlock_depth;
  ASSERT_TRUE(is_true(rlock_by_main.acquire()));
  ++main_rlock_depth;

  for (int i = 0; i < 3; ++i) {
    auto r = start_new_thread(
        [](int index) {
          tids[index].store(get_native_id());
          blockers_waiting.fetch_add(1);
          if (is_true(blocker.acquire())) {
            blockers_got.fetch_add(1);
            (void)blocker.release();  // the next one in the chain
          }
          blockers_done.fetch_add(1);
        },
        i);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  auto w = start_new_thread([] {
    bool ok = is_true(held_by_worker.acquire()) && is_true(rlock_by_worker.acquire());
    tids[3].store(get_native_id());
    worker_holding.store(ok ? 1 : -1);
    (void)worker_gate.acquire();
    (void)worker_gate.release();
    worker_rlock_release.store(rlock_by_worker.release().has_value() ? 1 : -1);
    worker_lock_release.store(held_by_worker.release().has_value() ? 1 : -1);
    worker_done.store(1);
  });
  ASSERT_TRUE(w.has_value()) << w.error().message;
  ASSERT_TRUE(wait_for([] { return blockers_waiting.load() == 3 && worker_holding.load() != 0; }));
  ASSERT_EQ(worker_holding.load(), 1);
  // All four asleep in the kernel, on the futex words the child will copy.
  for (auto& tid : tids) EXPECT_TRUE(rt_test::wait_until_sleeping(tid.load())) << tid.load();
  ASSERT_EQ(thread_count(), base_count_ + 4);

  const bool can_start = threads_start_in_child_of_threaded_process();
  const Ident parent_ident = get_ident();
  const long parent_pid = ::getpid();
  static Lock child_gate;
  static std::atomic<long> child_thread_tid;
  static std::atomic<int> child_thread_ran, child_joinable_ran, child_interrupter;
  child_thread_tid = 0;
  child_thread_ran = 0;
  child_joinable_ran = 0;
  child_interrupter = 0;

  int status = run_child([&]() -> int {
    // Only this thread came along: none of the four counts here.
    CHILD_CHECK(thread_count() == 0);
    // The child's own kernel id; the ident stays the forking thread's.
    CHILD_CHECK(get_native_id() == raw_getpid());
    CHILD_CHECK(get_native_id() != parent_pid);
    CHILD_CHECK(get_ident() == parent_ident);

    // A Lock main held: still held, and main may release it (its waiters
    // are gone, the release wakes nobody).
    CHILD_CHECK(blocker.locked());
    CHILD_CHECK(blocker.release().has_value());
    CHILD_CHECK(!blocker.locked());
    CHILD_CHECK(is_true(blocker.acquire(false)));
    CHILD_CHECK(blocker.release().has_value());

    // A Lock a vanished worker held: held for good until at_fork_reinit.
    CHILD_CHECK(held_by_worker.locked());
    CHILD_CHECK(is_false(held_by_worker.acquire(false)));
    held_by_worker.at_fork_reinit();
    CHILD_CHECK(!held_by_worker.locked());
    CHILD_CHECK(is_true(held_by_worker.acquire(false)));
    CHILD_CHECK(held_by_worker.locked());
    CHILD_CHECK(held_by_worker.release().has_value());
    CHILD_CHECK(!held_by_worker.locked());

    // An RLock the worker owned: not this thread's, and not free either.
    CHILD_CHECK(!rlock_by_worker.is_owned());
    CHILD_CHECK(rlock_by_worker.recursion_count() == 0);
    CHILD_CHECK(is_false(rlock_by_worker.acquire(false)));
    CHILD_CHECK(!rlock_by_worker.release().has_value());
    rlock_by_worker.at_fork_reinit();
    CHILD_CHECK(!rlock_by_worker.is_owned());
    CHILD_CHECK(rlock_by_worker.recursion_count() == 0);
    CHILD_CHECK(is_true(rlock_by_worker.acquire()));
    CHILD_CHECK(rlock_by_worker.is_owned());
    CHILD_CHECK(rlock_by_worker.recursion_count() == 1);
    CHILD_CHECK(rlock_by_worker.release().has_value());
    CHILD_CHECK(!rlock_by_worker.is_owned());

    // The RLock main owned twice: still main's, at the same depth.
    CHILD_CHECK(rlock_by_main.is_owned());
    CHILD_CHECK(rlock_by_main.recursion_count() == 2);
    CHILD_CHECK(is_true(rlock_by_main.acquire(false)));
    CHILD_CHECK(rlock_by_main.recursion_count() == 3);
    CHILD_CHECK(rlock_by_main.release().has_value());
    CHILD_CHECK(rlock_by_main.release().has_value());
    CHILD_CHECK(rlock_by_main.release().has_value());
    CHILD_CHECK(!rlock_by_main.is_owned());
    CHILD_CHECK(!rlock_by_main.release().has_value());

    // A timed acquire waits its timeout on the monotonic clock.
    {
      Lock held;
      CHILD_CHECK(is_true(held.acquire(false)));
      std::int64_t t0 = child_now_ns();
      Result<bool> r = held.acquire(true, 0.1);
      std::int64_t waited = child_now_ns() - t0;
      CHILD_CHECK(is_false(r));
      CHILD_CHECK(waited >= 100000000);
    }

    CHILD_CHECK(sys::set_signal_handler(SIGUSR1, child_count_sigusr1, 0).has_value());
    if (!can_start) {
      // interrupt_main from the child's main thread itself: the request is
      // the child's main thread's, and so is the signal (the child's pid).
      CHILD_CHECK(interrupt_main(SIGUSR1).has_value());
      CHILD_CHECK(g_child_sigusr1.load() == 1);
      Lock held;
      CHILD_CHECK(is_true(held.acquire(false)));
      Result<bool> r = held.acquire(true, 20.0);
      CHILD_CHECK(!r.has_value());
      CHILD_CHECK(r.error().kind == Errc::interrupted);
      return 0;  // the rest starts threads
    }

    // A new thread: it runs, it is the child's (its tid is in the child's
    // thread group), and it alone counts.
    CHILD_CHECK(is_true(child_gate.acquire(false)));
    Result<Ident> started = start_new_thread([] {
      child_thread_tid.store(get_native_id());
      child_thread_ran.store(1);
      (void)child_gate.acquire();
      (void)child_gate.release();
    });
    CHILD_CHECK(started.has_value());
    CHILD_CHECK(child_wait([] { return child_thread_ran.load() == 1; }));
    CHILD_CHECK(thread_count() == 1);
    CHILD_CHECK(child_thread_tid.load() != raw_getpid());
    CHILD_CHECK(::syscall(SYS_tgkill, raw_getpid(), child_thread_tid.load(), 0) == 0);
    CHILD_CHECK(child_gate.release().has_value());
    CHILD_CHECK(child_wait([] { return thread_count() == 0; }));

    // A joinable one, joined.
    Result<Thread> joinable = start_joinable_thread([] { child_joinable_ran.store(1); });
    CHILD_CHECK(joinable.has_value());
    CHILD_CHECK(joinable->ident() != 0);
    CHILD_CHECK(is_true(joinable->join(rt_test::kDeadline)));
    CHILD_CHECK(child_joinable_ran.load() == 1);
    CHILD_CHECK(thread_count() == 0);

    // interrupt_main from a thread of the child ends the child's main
    // thread's blocking acquire: the pid it signals is the child's.
    {
      Lock held;
      CHILD_CHECK(is_true(held.acquire(false)));
      Result<Ident> interrupter = start_new_thread([] {
        rt_test::body_sleep(0.2);
        child_interrupter.store(interrupt_main(SIGUSR1).has_value() ? 1 : -1);
      });
      CHILD_CHECK(interrupter.has_value());
      Result<bool> r = held.acquire(true, 20.0);
      CHILD_CHECK(!r.has_value());
      CHILD_CHECK(r.error().kind == Errc::interrupted);
      CHILD_CHECK(child_wait([] { return child_interrupter.load() != 0; }));
      CHILD_CHECK(child_interrupter.load() == 1);
      CHILD_CHECK(g_child_sigusr1.load() == 1);
      CHILD_CHECK(child_wait([] { return thread_count() == 0; }));
    }
    return 0;
  });
  expect_child_passed(status);

  // The parent: its threads are all still there and blocked as they were.
  EXPECT_EQ(thread_count(), base_count_ + 4);
  EXPECT_TRUE(blocker.locked());
  EXPECT_TRUE(held_by_worker.locked());
  EXPECT_FALSE(rlock_by_worker.is_owned());
  EXPECT_TRUE(rlock_by_main.is_owned());
  EXPECT_EQ(rlock_by_main.recursion_count(), 2u);
  EXPECT_EQ(blockers_got.load(), 0);
  EXPECT_EQ(worker_done.load(), 0);

  // The worker goes on: it releases what it held.
  main_holds_gate = false;
  ASSERT_TRUE(worker_gate.release().has_value());
  EXPECT_TRUE(wait_for([] { return worker_done.load() == 1; }));
  EXPECT_EQ(worker_rlock_release.load(), 1);
  EXPECT_EQ(worker_lock_release.load(), 1);
  EXPECT_FALSE(held_by_worker.locked());

  // The blockers take the lock one after the other.
  main_holds_blocker = false;
  ASSERT_TRUE(blocker.release().has_value());
  EXPECT_TRUE(wait_for([] { return blockers_done.load() == 3; }));
  EXPECT_EQ(blockers_got.load(), 3);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_FALSE(blocker.locked());

  while (main_rlock_depth > 0) {
    EXPECT_TRUE(rlock_by_main.release().has_value());
    --main_rlock_depth;
  }
  EXPECT_FALSE(rlock_by_main.is_owned());

  // And new threads start in the parent as before.
  static std::atomic<int> after;
  after = 0;
  auto r = start_new_thread([] { after.store(1); });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return after.load() == 1; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
}

// ---------------------------------------------------------------- fork with no threads

TEST_F(ForkTest, ChildOfAProcessWithNoThreads) {
  // No thread of rawthread's is live when main forks (some were, before):
  // the child counts none and starts its own.
  static std::atomic<int> earlier;
  earlier = 0;
  ASSERT_TRUE(start_new_thread([] { earlier.store(1); }).has_value());
  ASSERT_TRUE(wait_for([] { return earlier.load() == 1; }));
  ASSERT_TRUE(rt_test::wait_thread_count(0)) << "threads of earlier tests are still running";

  static std::atomic<int> ran, joined_ran;
  ran = 0;
  joined_ran = 0;
  int status = run_child([]() -> int {
    CHILD_CHECK(thread_count() == 0);
    CHILD_CHECK(get_native_id() == raw_getpid());
    Result<Ident> r = start_new_thread([] { ran.store(1); });
    CHILD_CHECK(r.has_value());
    CHILD_CHECK(child_wait([] { return ran.load() == 1; }));
    CHILD_CHECK(child_wait([] { return thread_count() == 0; }));
    Result<Thread> t = start_joinable_thread([] { joined_ran.store(1); });
    CHILD_CHECK(t.has_value());
    CHILD_CHECK(is_true(t->join(rt_test::kDeadline)));
    CHILD_CHECK(joined_ran.load() == 1);
    CHILD_CHECK(thread_count() == 0);
    return 0;
  });
  expect_child_passed(status);
  EXPECT_EQ(ran.load(), 0) << "the child's thread wrote the parent's memory";
  EXPECT_EQ(thread_count(), 0u);
}

TEST_F(ForkTest, GrandchildOfAChildWithAThreadRunning) {
  RT_REQUIRES_CONCURRENCY();  // the child's thread waits while the child forks
  // A child that has started a thread of its own forks again: the grandchild
  // counts none of the child's threads, and the child still counts its own.
  static Lock gate;
  static std::atomic<int> waiting, grandchild_ran;
  waiting = 0;
  grandchild_ran = 0;
  const bool can_start = threads_start_in_child_of_threaded_process();
  int status = run_child([can_start]() -> int {
    CHILD_CHECK(is_true(gate.acquire(false)));
    Result<Ident> r = start_new_thread([] {
      waiting.store(1);
      (void)gate.acquire();
      (void)gate.release();
    });
    CHILD_CHECK(r.has_value());
    CHILD_CHECK(child_wait([] { return waiting.load() == 1; }));
    CHILD_CHECK(thread_count() == 1);
    pid_t pid = ::fork();
    CHILD_CHECK(pid >= 0);
    if (pid == 0) {
      // The grandchild: the gate is main's here too; the waiter is not.
      if (thread_count() != 0) ::_exit(2);
      if (get_native_id() != raw_getpid()) ::_exit(3);
      if (!can_start) ::_exit(0);  // the rest starts a thread
      if (!start_new_thread([] { grandchild_ran.store(1); })) ::_exit(4);
      if (!child_wait([] { return grandchild_ran.load() == 1 && thread_count() == 0; })) ::_exit(5);
      ::_exit(0);
    }
    int grandchild = 0;
    bool reaped = child_wait([&] {
      pid_t got = ::waitpid(pid, &grandchild, WNOHANG);
      return got == pid;
    });
    if (!reaped) ::kill(pid, SIGKILL);
    CHILD_CHECK(reaped);
    CHILD_CHECK(WIFEXITED(grandchild));
    CHILD_CHECK(WEXITSTATUS(grandchild) != 2);  // the grandchild counted the child's thread
    CHILD_CHECK(WEXITSTATUS(grandchild) != 3);  // its native id was not its pid
    CHILD_CHECK(WEXITSTATUS(grandchild) != 4);  // it could not start a thread
    CHILD_CHECK(WEXITSTATUS(grandchild) != 5);  // its thread did not run or end
    CHILD_CHECK(WEXITSTATUS(grandchild) == 0);
    CHILD_CHECK(thread_count() == 1);
    CHILD_CHECK(gate.release().has_value());
    CHILD_CHECK(child_wait([] { return thread_count() == 0; }));
    return 0;
  });
  expect_child_passed(status);
}

// ---------------------------------------------------------------- the cache of stacks

TEST_F(ForkTest, ChildReusesAStackItsParentCached) {
  // The parent joins a thread, whose stack goes into the cache; the child
  // has a copy of the cache and of that stack, and its first thread runs
  // on the copy (the same thread pointer). The parent's cache is its own.
  if (kDummy) GTEST_SKIP() << "dummy backend: no thread has a stack of its own";
  release_cached_stacks();
  static std::atomic<int> ran;
  static std::atomic<Ident> seen;
  ran = 0;
  seen = 0;
  Result<Thread> first = start_joinable_thread([] { ran.fetch_add(1); });
  ASSERT_TRUE(first.has_value());
  const Ident cached = first->ident();
  ASSERT_TRUE(is_true(first->join(rt_test::kDeadline)));
  int status = run_child([cached]() -> int {
    Result<Thread> t = start_joinable_thread([] {
      seen.store(get_ident());
      ran.fetch_add(1);
    });
    CHILD_CHECK(t.has_value());
    CHILD_CHECK(t->ident() == cached);
    CHILD_CHECK(is_true(t->join(rt_test::kDeadline)));
    CHILD_CHECK(ran.load() == 2);
    CHILD_CHECK(seen.load() == cached);
    CHILD_CHECK(thread_count() == 0);
    // A detached one on it again, which caches it itself.
    CHILD_CHECK(start_new_thread([] { ran.fetch_add(1); }).has_value());
    CHILD_CHECK(child_wait([] { return ran.load() == 3 && thread_count() == 0; }));
    release_cached_stacks();
    return 0;
  });
  expect_child_passed(status);
  EXPECT_EQ(ran.load(), 1) << "the child's threads wrote the parent's memory";
  Result<Thread> again = start_joinable_thread([] { ran.fetch_add(1); });
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->ident(), cached) << "the parent's cached stack was not reused";
  EXPECT_TRUE(is_true(again->join(rt_test::kDeadline)));
  EXPECT_EQ(ran.load(), 2);
}

TEST_F(ForkTest, ChildReusesTheCopyOfARunningThreadsStack) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits at a gate while main forks
  // In the child, the handle of a thread still running in the parent joins
  // at once and gives the copy of its stack to the child's cache. The tid
  // word in that copy never clears here (the thread exits in the parent
  // only): the child's next start must take the copy without waiting for it.
  release_cached_stacks();
  static Lock gate;
  static std::atomic<int> waiting, ran;
  waiting = 0;
  ran = 0;
  ASSERT_TRUE(gate.try_lock());
  bool main_holds = true;
  OnExit cleanup([&] {
    if (main_holds) (void)gate.release();
  });
  Result<Thread> running = start_joinable_thread([] {
    waiting.store(1);
    (void)gate.acquire();
    (void)gate.release();
  });
  ASSERT_TRUE(running.has_value());
  ASSERT_TRUE(wait_for([] { return waiting.load() == 1; }));
  const Ident running_ident = running->ident();
  const bool can_start = threads_start_in_child_of_threaded_process();
  int status = run_child([&running, running_ident, can_start]() -> int {
    CHILD_CHECK(is_true(running->join(0)));
    CHILD_CHECK(thread_count() == 0);
    if (!can_start) return 0;  // the rest starts a thread
    Result<Thread> t = start_joinable_thread([] { ran.fetch_add(1); });
    CHILD_CHECK(t.has_value());
    CHILD_CHECK(t->ident() == running_ident);
    CHILD_CHECK(is_true(t->join(rt_test::kDeadline)));
    CHILD_CHECK(ran.load() == 1);
    CHILD_CHECK(thread_count() == 0);
    release_cached_stacks();
    return 0;
  });
  expect_child_passed(status);
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(thread_count(), base_count_ + 1);
  main_holds = false;
  ASSERT_TRUE(gate.release().has_value());
  EXPECT_TRUE(is_true(running->join(rt_test::kDeadline)));
}

// ---------------------------------------------------------------- joinable handles across fork

TEST_F(ForkTest, AHandleAJoinerWasInsideIsDoneInTheChild) {
  RT_REQUIRES_CONCURRENCY();  // a joiner sleeps in join() while main forks
  // Issue 13: a thread of the parent's was inside join() of the handle as
  // main forked. The child's copy of the handle counts that joiner, which
  // the child does not have: before the fix, the child's join became the
  // reclaimer and waited for it for ever, timeout or not.
  static Lock gate;
  static std::atomic<long> joiner_tid;
  static std::atomic<int> joiner_result;
  static Thread* handle = nullptr;
  joiner_tid = 0;
  joiner_result = 0;
  ASSERT_TRUE(is_true(gate.acquire(false)));
  bool holds_gate = true;
  OnExit cleanup([&] {
    if (holds_gate) (void)gate.release();
  });
  Result<Thread> target = start_joinable_thread([] {
    (void)gate.acquire();
    (void)gate.release();
  });
  ASSERT_TRUE(target.has_value()) << target.error().message;
  handle = &*target;
  ASSERT_TRUE(start_new_thread([] {
                joiner_tid.store(get_native_id());
                Result<bool> joined = handle->join();
                joiner_result.store(is_true(joined) ? 1 : -1);
              }).has_value());
  ASSERT_TRUE(wait_for([] { return joiner_tid.load() != 0; }));
  ASSERT_TRUE(rt_test::wait_until_sleeping(joiner_tid.load()));  // inside join, a reader

  // join with a timeout, then without, then the handle's destructor.
  int status = run_child([]() -> int {
    const std::int64_t start = child_now_ns();
    CHILD_CHECK(handle->is_done());
    CHILD_CHECK(is_true(handle->join(20.0)));
    CHILD_CHECK(child_now_ns() - start < rt_test::to_ns(10.0));  // at once, not at the timeout
    CHILD_CHECK(is_true(handle->join()));
    CHILD_CHECK(thread_count() == 0);
    { Thread moved = std::move(*handle); }  // detaches nothing: it is joined
    return 0;
  });
  expect_child_passed(status);
  // The destructor alone, on a handle whose copy a joiner is inside.
  status = run_child([]() -> int {
    { Thread moved = std::move(*handle); }
    CHILD_CHECK(thread_count() == 0);
    return 0;
  });
  expect_child_passed(status);

  // The parent is untouched: its joiner returns once the thread ends.
  (void)gate.release();
  holds_gate = false;
  EXPECT_TRUE(wait_for([] { return joiner_result.load() != 0; }));
  EXPECT_EQ(joiner_result.load(), 1);
  EXPECT_TRUE(is_true(target->join(rt_test::kDeadline)));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
}

// ---------------------------------------------------------------- fork in a thread rawthread started

// What the child of a fork() made in a rawthread thread reports, in memory
// that parent and child share.
struct ForkedThreadReport {
  std::atomic<int> stage;  // 1: the forked thread is done; 2: the parent saw it gone; 3: all done
  std::atomic<long> native_id, tid;           // the forked thread's, in the child
  std::atomic<long> count_at_fork, count_with_worker;
  std::atomic<long> worker_native_id, worker_tid;
  std::atomic<long> count_after_forked_ended;  // the worker's view
};
ForkedThreadReport* g_report = nullptr;

// The number of threads of process `pid` that have not exited: entries of
// /proc/PID/task but the zombie that a thread group leader stays while other
// threads of its group run.
long live_task_count(long pid) {
  char path[96];
  std::snprintf(path, sizeof path, "/proc/%ld/task", pid);
  DIR* dir = ::opendir(path);
  if (dir == nullptr) return -1;
  long count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char stat_path[512], stat[512] = {};
    std::snprintf(stat_path, sizeof stat_path, "%s/%s/stat", path, entry->d_name);
    if (FILE* f = std::fopen(stat_path, "re")) {
      std::size_t got = std::fread(stat, 1, sizeof stat - 1, f);
      std::fclose(f);
      stat[got] = '\0';
      const char* state = std::strrchr(stat, ')');  // after the command name
      if (state != nullptr && state[1] == ' ' && state[2] != 'Z' && state[2] != 'X') ++count;
    }
  }
  ::closedir(dir);
  return count;
}

// In the child, on a rawthread thread: waits until the stage is `stage`.
bool child_wait_stage(int stage) {
  return child_wait([stage] { return g_report->stage.load() == stage; });
}

TEST_F(ForkTest, ChildOfAForkInARawthreadThread) {
  RT_REQUIRES_CONCURRENCY();
  // Issue 13: a thread rawthread started calls fork(). In the child it is
  // the only thread: its native id is the child's tid (before the fix, the
  // parent's), and once it has started a worker and ended, the worker is
  // still counted (before the fix the forked thread counted itself out of a
  // count it was never in, and a running worker read 0).
  if (!threads_start_in_child_of_threaded_process())
    GTEST_SKIP() << "this platform cannot start threads in a child forked while other threads "
                    "run (qemu-user)";
  void* page = ::mmap(nullptr, sizeof(ForkedThreadReport), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  g_report = ::new (page) ForkedThreadReport{};
  static std::atomic<long> child_pid;
  child_pid = 0;
  ASSERT_TRUE(start_new_thread([] {
                // fork() by its system call: libc does not know this thread.
                long pid = ::syscall(SYS_clone, SIGCHLD, 0L, 0L, 0L, 0L);
                if (pid != 0) {
                  child_pid.store(pid);
                  return;
                }
                ForkedThreadReport& report = *g_report;
                report.native_id.store(get_native_id());
                report.tid.store(::syscall(SYS_gettid));
                report.count_at_fork.store(static_cast<long>(thread_count()));
                Result<Ident> worker = start_new_thread([] {
                  ForkedThreadReport& r = *g_report;
                  // The parent says when the forked thread is gone.
                  if (child_wait_stage(2)) {
                    r.count_after_forked_ended.store(static_cast<long>(thread_count()));
                    r.worker_native_id.store(get_native_id());
                    r.worker_tid.store(::syscall(SYS_gettid));
                  }
                  r.stage.store(3);
                });  // the child ends with its last thread, this one
                report.count_with_worker.store(worker ? static_cast<long>(thread_count()) : -1);
                report.stage.store(1);
              }).has_value());
  ASSERT_TRUE(wait_for([] { return child_pid.load() != 0; }));
  const long pid = child_pid.load();
  ASSERT_GT(pid, 0) << "fork failed";
  EXPECT_TRUE(wait_for([] { return g_report->stage.load() == 1; }));
  EXPECT_TRUE(wait_for([pid] { return live_task_count(pid) == 1; })) << "the forked thread did not end";
  g_report->stage.store(2);
  EXPECT_TRUE(wait_for([] { return g_report->stage.load() == 3; }));
  int status = rt_test::wait_child(static_cast<pid_t>(pid), rt_test::kDeadline);
  EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  const ForkedThreadReport& report = *g_report;
  EXPECT_EQ(report.tid.load(), pid);  // the child's only thread
  EXPECT_EQ(report.native_id.load(), report.tid.load());
  EXPECT_EQ(report.count_at_fork.load(), 0);
  EXPECT_EQ(report.count_with_worker.load(), 1);
  EXPECT_EQ(report.count_after_forked_ended.load(), 1);
  EXPECT_EQ(report.worker_native_id.load(), report.worker_tid.load());
  ::munmap(page, sizeof(ForkedThreadReport));
  g_report = nullptr;
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
}

// ---------------------------------------------------------------- at_fork_reinit

TEST_F(ForkTest, AtForkReinitFreesLocksTheChildsThreadHeld) {
  // at_fork_reinit() frees a lock whoever held it, this thread too, and an
  // RLock at any depth: the next acquire starts from scratch.
  static Lock lock;
  static RLock rlock;
  ASSERT_TRUE(is_true(lock.acquire()));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(is_true(rlock.acquire()));
  int status = run_child([]() -> int {
    CHILD_CHECK(lock.locked());
    lock.at_fork_reinit();
    CHILD_CHECK(!lock.locked());
    CHILD_CHECK(is_true(lock.acquire(false)));
    CHILD_CHECK(lock.release().has_value());
    CHILD_CHECK(!lock.release().has_value());  // free: one release, not two

    CHILD_CHECK(rlock.recursion_count() == 3);
    rlock.at_fork_reinit();
    CHILD_CHECK(!rlock.is_owned());
    CHILD_CHECK(rlock.recursion_count() == 0);
    CHILD_CHECK(!rlock.release().has_value());
    CHILD_CHECK(is_true(rlock.acquire()));
    CHILD_CHECK(rlock.recursion_count() == 1);
    CHILD_CHECK(rlock.release().has_value());
    CHILD_CHECK(!rlock.is_owned());

    // On a free lock it changes nothing.
    lock.at_fork_reinit();
    rlock.at_fork_reinit();
    CHILD_CHECK(!lock.locked());
    CHILD_CHECK(is_true(rlock.acquire(false)));
    CHILD_CHECK(rlock.release().has_value());
    return 0;
  });
  expect_child_passed(status);
  // The parent's are untouched.
  EXPECT_TRUE(lock.locked());
  EXPECT_EQ(rlock.recursion_count(), 3u);
  EXPECT_TRUE(lock.release().has_value());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rlock.release().has_value());
  EXPECT_FALSE(rlock.is_owned());
}

TEST_F(ForkTest, AtForkReinitFreesALockWithSleepingWaiters) {
  RT_REQUIRES_CONCURRENCY();  // threads sleep on the lock while main forks
  // The word of a lock with sleepers says so (contended); in the child there
  // are none, and after at_fork_reinit the lock is plainly free: taken and
  // released without waking anyone, and a timed acquire of the held lock
  // waits and times out as usual.
  static Lock lock;
  static RLock rlock;
  static std::atomic<int> started, done;
  static std::atomic<long> tids[2];
  started = 0;
  done = 0;
  bool main_holds = false;
  OnExit cleanup([&] {
    if (main_holds) (void)lock.release();
  });
  ASSERT_TRUE(is_true(lock.acquire()));
  main_holds = true;
  // One thread owns the RLock and sleeps on the Lock; another sleeps on the
  // RLock.
  auto a = start_new_thread([] {
    (void)rlock.acquire();
    tids[0].store(get_native_id());
    started.fetch_add(1);
    (void)lock.acquire();
    (void)lock.release();
    (void)rlock.release();
    done.fetch_add(1);
  });
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(wait_for([] { return started.load() == 1; }));
  auto b = start_new_thread([] {
    tids[1].store(get_native_id());
    started.fetch_add(1);
    (void)rlock.acquire();
    (void)rlock.release();
    done.fetch_add(1);
  });
  ASSERT_TRUE(b.has_value());
  ASSERT_TRUE(wait_for([] { return started.load() == 2; }));
  for (auto& tid : tids) EXPECT_TRUE(rt_test::wait_until_sleeping(tid.load()));

  int status = run_child([]() -> int {
    CHILD_CHECK(!rlock.is_owned());
    lock.at_fork_reinit();
    rlock.at_fork_reinit();
    for (int i = 0; i < 3; ++i) {
      CHILD_CHECK(is_true(lock.acquire()));
      std::int64_t t0 = child_now_ns();
      CHILD_CHECK(is_false(lock.acquire(true, 0.05)));
      CHILD_CHECK(child_now_ns() - t0 >= 50000000);
      CHILD_CHECK(lock.release().has_value());
      CHILD_CHECK(is_true(rlock.acquire()));
      CHILD_CHECK(rlock.is_owned());
      CHILD_CHECK(rlock.recursion_count() == 1);
      CHILD_CHECK(rlock.release().has_value());
    }
    return 0;
  });
  expect_child_passed(status);

  main_holds = false;
  ASSERT_TRUE(lock.release().has_value());
  EXPECT_TRUE(wait_for([] { return done.load() == 2; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_FALSE(lock.locked());
}

}  // namespace
