// SPDX-License-Identifier: MIT
// stack_size(): default, round trips, errors that leave the setting alone,
// threads really running on the size set, the guard page, and a size too
// large to map making start_new_thread fail cleanly.
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <climits>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;
using rt_test::kDummy;
using rt_test::wait_for;

namespace {

// The dummy backend's answer to any size but 0: no thread ever gets a stack
// of its own (the function runs on its caller's).
constexpr const char* kNotSupported = rt_test::kStackSizeNotSupportedMessage;

// Every test that changes the setting puts 0 back, even when it fails.
class StackSizeTest : public rt_test::RawthreadTest {
 protected:
  void TearDown() override {
    Result<std::size_t> r = stack_size(0L);
    EXPECT_TRUE(r.has_value());
    EXPECT_EQ(stack_size(), 0u);
    rt_test::RawthreadTest::TearDown();
  }
};

TEST_F(StackSizeTest, DefaultIsZero) { EXPECT_EQ(stack_size(), 0u); }

TEST_F(StackSizeTest, RoundTrips) {
  if (kDummy) {
    // Every size the real backend would take is refused; the setting stays 0.
    for (long size : {262144L, 0x100000L, 100001L, static_cast<long>(MIN_STACK_SIZE), LONG_MAX}) {
      SCOPED_TRACE(size);
      expect_error(stack_size(size), Errc::thread_error, kNotSupported);
      EXPECT_EQ(stack_size(), 0u);
    }
    Result<std::size_t> r = stack_size(0L);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, 0u);
    EXPECT_EQ(stack_size(), 0u);
    return;
  }
  Result<std::size_t> r = stack_size(262144L);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(stack_size(), 262144u);

  r = stack_size(0x100000L);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 262144u);
  EXPECT_EQ(stack_size(), 0x100000u);

  // not a page multiple: returned unchanged, no rounding shown
  r = stack_size(100001L);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 0x100000u);
  EXPECT_EQ(stack_size(), 100001u);

  r = stack_size(static_cast<long>(MIN_STACK_SIZE));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 100001u);
  EXPECT_EQ(stack_size(), 32768u);

  // no upper bound when setting
  r = stack_size(LONG_MAX);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 32768u);
  EXPECT_EQ(stack_size(), static_cast<std::size_t>(LONG_MAX));

  r = stack_size(0L);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, static_cast<std::size_t>(LONG_MAX));
  EXPECT_EQ(stack_size(), 0u);
}

TEST_F(StackSizeTest, TooSmallIsRefusedAndLeavesTheSetting) {
  // In the dummy build the setting stays 0, and a too small size still gets
  // the real backend's error: its checks come first.
  const std::size_t setting = kDummy ? 0u : 262144u;
  if (kDummy) {
    expect_error(stack_size(262144L), Errc::thread_error, kNotSupported);
  } else {
    ASSERT_TRUE(stack_size(262144L).has_value());
  }
  for (long size : {1L, 4096L, 32767L, 16384L}) {
    SCOPED_TRACE(size);
    Result<std::size_t> r = stack_size(size);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, Errc::value_error);
    EXPECT_EQ(r.error().sys_errno, 0);
    ASSERT_NE(r.error().message, nullptr);
    EXPECT_EQ(std::strncmp(r.error().message, "size not valid", 14), 0)
        << "message: " << r.error().message;
    EXPECT_EQ(stack_size(), setting) << "a refused size changed the setting";
  }
  // also from the default
  ASSERT_TRUE(stack_size(0L).has_value());
  Result<std::size_t> r = stack_size(4096L);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, Errc::value_error);
  EXPECT_EQ(std::strncmp(r.error().message, "size not valid", 14), 0);
  EXPECT_EQ(stack_size(), 0u);
}

TEST_F(StackSizeTest, NegativeIsRefusedAndLeavesTheSetting) {
  // As for too small sizes: the dummy's setting stays 0, the error is the real one.
  const std::size_t setting = kDummy ? 0u : 0x100000u;
  if (kDummy) {
    expect_error(stack_size(0x100000L), Errc::thread_error, kNotSupported);
  } else {
    ASSERT_TRUE(stack_size(0x100000L).has_value());
  }
  for (long size : {-1L, -4096L, -32768L, LONG_MIN}) {
    SCOPED_TRACE(size);
    expect_error(stack_size(size), Errc::value_error, "size must be 0 or a positive value");
    EXPECT_EQ(stack_size(), setting);
  }
  ASSERT_TRUE(stack_size(0L).has_value());
  expect_error(stack_size(-1L), Errc::value_error, "size must be 0 or a positive value");
  EXPECT_EQ(stack_size(), 0u);
}

TEST_F(StackSizeTest, MinimumIsAccepted) {
  Result<std::size_t> r = stack_size(32768L);
  if (kDummy) {
    // Refused like any size but 0; the thread below runs on main's stack.
    expect_error(r, Errc::thread_error, kNotSupported);
    EXPECT_EQ(stack_size(), 0u);
  } else {
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, 0u);
    EXPECT_EQ(stack_size(), 32768u);
  }
  // and a thread runs on it, using a few KiB of its stack
  static std::atomic<int> done;
  done = 0;
  auto t = start_new_thread([] {
    volatile char buf[8 * 1024];
    rt_test::touch_stack_down(buf, sizeof buf);
    done.store(1);
  });
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_TRUE(wait_for([] { return done.load() == 1; }));
}

// Recurses `depth` frames of just over 1 KiB each. The asm makes the whole
// array escape, so no compiler can shrink the frame.
[[gnu::noinline]] int use_stack_recursively(int depth) {
  volatile char frame[1024];
  asm volatile("" : : "r"(frame) : "memory");
  frame[0] = static_cast<char>(depth);
  frame[1023] = static_cast<char>(depth);
  if (depth == 0) return frame[0];
  return use_stack_recursively(depth - 1) + frame[1023] - frame[1023];
}

TEST_F(StackSizeTest, ThreadsRunOnTheSizeSet) {
  // 1 MiB set: a thread writes every page of a 700 KiB local array, and
  // another recurses ~600 frames of over 1 KiB. The dummy refuses the size
  // and runs both on the caller's stack, which is larger.
  if (kDummy) {
    expect_error(stack_size(0x100000L), Errc::thread_error, kNotSupported);
  } else {
    ASSERT_TRUE(stack_size(0x100000L).has_value());
  }
  static std::atomic<int> array_done, recursion_done;
  array_done = 0;
  recursion_done = 0;
  auto r = start_new_thread([] {
    volatile char big[700 * 1024];
    rt_test::touch_stack_down(big, sizeof big);
    array_done.store(1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  r = start_new_thread([] {
    use_stack_recursively(600);
    recursion_done.store(1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(wait_for([] { return array_done.load() == 1 && recursion_done.load() == 1; }));
  EXPECT_EQ(array_done.load(), 1);
  EXPECT_EQ(recursion_done.load(), 1);
  EXPECT_EQ(stack_size(), kDummy ? 0u : 0x100000u) << "starting threads changed the setting";
}

TEST_F(StackSizeTest, ThreadRunsOnTheDefaultStack) {
  ASSERT_EQ(stack_size(), 0u);
  static std::atomic<int> done;
  done = 0;
  auto r = start_new_thread([] {
    volatile char buf[16 * 1024];
    rt_test::touch_stack_down(buf, sizeof buf);
    done.store(1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(wait_for([] { return done.load() == 1; }));
}

TEST_F(StackSizeTest, SettingDoesNotAffectRunningThreads) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits at a gate while main changes the setting
  // A thread started with 1 MiB keeps it when the setting changes meanwhile.
  static Lock gate;
  static std::atomic<int> done;
  done = 0;
  ASSERT_TRUE(stack_size(0x100000L).has_value());
  ASSERT_TRUE(rt_test::is_true(gate.acquire()));
  auto r = start_new_thread([] {
    (void)gate.acquire();
    volatile char big[700 * 1024];
    rt_test::touch_stack_down(big, sizeof big);
    (void)gate.release();
    done.store(1);
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_TRUE(stack_size(32768L).has_value());
  EXPECT_TRUE(gate.release().has_value());
  EXPECT_TRUE(wait_for([] { return done.load() == 1; }));
}

TEST_F(StackSizeTest, SizeTooLargeToMapFailsCleanly) {
  if (kDummy) {
    // No size is too large to map when none is mapped: the sizes are
    // refused, and a thread started after that runs, leaving nothing.
    for (long size : {1L << 60, LONG_MAX}) {
      SCOPED_TRACE(size);
      expect_error(stack_size(size), Errc::thread_error, kNotSupported);
      EXPECT_EQ(stack_size(), 0u);
      std::size_t count_before = thread_count();
      long maps_before = rt_test::maps_lines();
      static std::atomic<int> ran;
      ran = 0;
      Result<Ident> r = start_new_thread([] { ran.store(1); });
      ASSERT_TRUE(r.has_value()) << r.error().message;
      EXPECT_EQ(ran.load(), 1);
      EXPECT_EQ(thread_count(), count_before);
      EXPECT_EQ(rt_test::maps_lines(), maps_before);
    }
    return;
  }
  for (long size : {1L << 60, LONG_MAX}) {
    SCOPED_TRACE(size);
    ASSERT_TRUE(stack_size(size).has_value());
    std::size_t count_before = thread_count();
    long maps_before = rt_test::maps_lines();
    static std::atomic<int> ran;
    ran = 0;
    Result<Ident> r = start_new_thread([] { ran.store(1); });
    ASSERT_FALSE(r.has_value()) << "a thread started with a stack of " << size << " bytes";
    EXPECT_EQ(r.error().kind, Errc::thread_error);
    ASSERT_NE(r.error().message, nullptr);
    EXPECT_STREQ(r.error().message, "can't start new thread");
    EXPECT_GT(r.error().sys_errno, 0);
    if (size == (1L << 60)) {
      EXPECT_EQ(r.error().sys_errno, ENOMEM);
    }
    EXPECT_EQ(thread_count(), count_before) << "a failed start changed thread_count";
    EXPECT_EQ(rt_test::maps_lines(), maps_before) << "a failed start left a mapping behind";
    EXPECT_EQ(stack_size(), static_cast<std::size_t>(size)) << "a failed start changed the setting";
    rt_test::sleep_ms(20);
    EXPECT_EQ(ran.load(), 0);
  }
  // reset: threads start again
  ASSERT_TRUE(stack_size(0L).has_value());
  static std::atomic<int> ok;
  ok = 0;
  auto r = start_new_thread([] { ok.store(1); });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return ok.load() == 1; }));
}

TEST_F(StackSizeTest, FailedStartDestroysTheStoredCopies) {
  // When no thread starts, the copies of fn and args made for it are not
  // leaked half-built: a counted argument's destructor runs exactly once.
  struct CountedArg {
    std::atomic<int>* destroyed;
    bool live = true;
    explicit CountedArg(std::atomic<int>* d) : destroyed(d) {}
    CountedArg(CountedArg&& o) noexcept : destroyed(o.destroyed), live(o.live) { o.live = false; }
    ~CountedArg() {
      if (live) destroyed->fetch_add(1);
    }
  };
  static std::atomic<int> destroyed;
  destroyed = 0;
  if (kDummy) {
    // The size that makes the real start fail is refused: this start runs
    // the function, and its copies are destroyed exactly once all the same.
    expect_error(stack_size(LONG_MAX), Errc::thread_error, kNotSupported);
    Result<Ident> r = start_new_thread([](CountedArg&&) {}, CountedArg(&destroyed));
    EXPECT_TRUE(r.has_value());
  } else {
    ASSERT_TRUE(stack_size(LONG_MAX).has_value());
    Result<Ident> r = start_new_thread([](CountedArg&&) {}, CountedArg(&destroyed));
    EXPECT_FALSE(r.has_value());
  }
  EXPECT_EQ(destroyed.load(), 1) << "the argument's copies were leaked or destroyed twice";
}

TEST_F(StackSizeTest, GuardPageLiesDirectlyBelowTheStack) {
  RT_REQUIRES_CONCURRENCY();  // the thread stays at a gate while main reads its maps
  // A thread reports the address of a local; /proc/self/maps must show its
  // stack's mapping with a PROT_NONE ("---") page directly below, and at least
  // the size set (less what the frames above the local use) below the local.
  for (long size : {0L, 65536L, 0x100000L, 300000L}) {
    SCOPED_TRACE(size);
    ASSERT_TRUE(stack_size(size).has_value());
    static Lock gate;
    static std::atomic<std::uintptr_t> local_address;
    local_address = 0;
    ASSERT_TRUE(gate.try_lock());
    auto r = start_new_thread([] {
      volatile char probe = 1;
      local_address.store(reinterpret_cast<std::uintptr_t>(&probe));
      (void)gate.acquire();  // stay alive while main reads the maps
      (void)gate.release();
    });
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_TRUE(wait_for([] { return local_address.load() != 0; }));
    rt_test::Mapping stack_map, below;
    bool has_below = false;
    bool found = rt_test::find_mapping(local_address.load(), &stack_map, &below, &has_below);
    gate.unlock();
    EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
    ASSERT_TRUE(found) << "no mapping holds the thread's stack";
    EXPECT_EQ(std::strncmp(stack_map.perms, "rw", 2), 0) << stack_map.perms;
    ASSERT_TRUE(has_below) << "nothing mapped directly below the stack: no guard page";
    EXPECT_EQ(std::strncmp(below.perms, "---", 3), 0)
        << "the mapping directly below the stack is " << below.perms << ", not PROT_NONE";
    EXPECT_GE(below.end - below.start, 4096u);
    std::size_t usable = local_address.load() - stack_map.start;
    std::size_t expected = size == 0 ? MIN_STACK_SIZE : static_cast<std::size_t>(size);
    EXPECT_GE(usable + 16 * 1024, expected)
        << "only " << usable << " bytes of stack below a local in the thread's first frame";
  }
}

std::atomic<int> g_recursion_done;

TEST_F(StackSizeTest, StackOverflowFaultsOnTheGuardPage) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits at a gate while main maps below its stack
  // In a forked child: a thread with a 64 KiB stack recurses through ~1.2 MB
  // of frames of ~1 KiB each, so each new access lies less than a page below
  // the last. Below its guard page the child maps 4 MiB of writable memory:
  // without a guard the recursion would run on into it and finish; with one,
  // the first access past the stack faults and the child dies of SIGSEGV.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    if (!stack_size(65536L)) ::_exit(2);
    static Lock gate;
    static std::atomic<std::uintptr_t> local_address;
    local_address = 0;
    g_recursion_done = 0;
    (void)gate.try_lock();
    auto r = start_new_thread([] {
      volatile char probe = 1;
      local_address.store(reinterpret_cast<std::uintptr_t>(&probe));
      (void)gate.acquire();
      use_stack_recursively(1100);
      g_recursion_done.store(1);
    });
    if (!r) ::_exit(3);
    if (!wait_for([] { return local_address.load() != 0; }, 10.0)) ::_exit(4);
    rt_test::Mapping stack_map, below;
    bool has_below = false;
    if (rt_test::find_mapping(local_address.load(), &stack_map, &below, &has_below)) {
      std::uintptr_t floor =
          has_below && std::strncmp(below.perms, "---", 3) == 0 ? below.start : stack_map.start;
      constexpr std::size_t kRunway = 4u << 20;
      void* want = reinterpret_cast<void*>(floor - kRunway);
      void* got = ::mmap(want, kRunway, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      if (got != MAP_FAILED && got != want) ::munmap(got, kRunway);
    }
    gate.unlock();
    wait_for([] { return g_recursion_done.load() != 0; }, 10.0);
    ::_exit(g_recursion_done.load() != 0 ? 0 : 5);  // 0: the overflow did not fault
  }
  int status = rt_test::wait_child(pid, 30.0);
  ASSERT_GE(status, 0) << "the child did not end (killed)";
  if (WIFEXITED(status)) {
    ADD_FAILURE() << "the child exited with status " << WEXITSTATUS(status)
                  << " (0 = the overflowing thread ran past its stack without a fault)";
  } else {
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  }
}

}  // namespace
