// SPDX-License-Identifier: MIT
// Threads: start_new_thread (callables, arguments, stored copies), get_ident,
// get_native_id, thread_count and exit_thread.
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/single_threaded.h>
#include <sys/wait.h>

#include <memory>

#include "support.hpp"

using namespace rawthread;
using rt_test::body_sleep;
using rt_test::wait_for;

namespace {

class ThreadTest : public rt_test::RawthreadTest {};

// ---------------------------------------------------------------- starting

TEST_F(ThreadTest, TenThreadsAllRun) {
  constexpr int kThreads = 10;
  static std::atomic<int> ran[kThreads];
  static std::atomic<int> total;
  static int input[kThreads];  // plain memory written before the starts
  total = 0;
  for (int i = 0; i < kThreads; ++i) {
    ran[i] = 0;
    input[i] = 100 + i;
  }
  for (int i = 0; i < kThreads; ++i) {
    auto r = start_new_thread(
        [](int index) {
          ran[index].store(input[index]);
          total.fetch_add(1);
        },
        i);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_NE(*r, 0u);
  }
  EXPECT_TRUE(wait_for([] { return total.load() == kThreads; }));
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(ran[i].load(), 100 + i) << "thread " << i;
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(total.load(), kThreads) << "a thread ran twice";
}

TEST_F(ThreadTest, ReturnValueIsDiscarded) {
  static std::atomic<int> ran;
  ran = 0;
  auto r = start_new_thread([] {
    ran.store(1);
    return 42;
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return ran.load() == 1; }));
}

TEST_F(ThreadTest, ThreadStartsAThread) {
  // start_new_thread is a rawthread call, so a thread body may use it.
  static std::atomic<int> outer_ok, inner_ran;
  static std::atomic<Ident> inner_ident, inner_returned;
  outer_ok = 0;
  inner_ran = 0;
  inner_ident = 0;
  inner_returned = 0;
  auto r = start_new_thread([] {
    auto inner = start_new_thread([] {
      inner_ident.store(get_ident());
      inner_ran.store(1);
    });
    if (inner.has_value()) inner_returned.store(*inner);
    outer_ok.store(inner.has_value() ? 1 : -1);
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return outer_ok.load() != 0 && inner_ran.load() == 1; }));
  EXPECT_EQ(outer_ok.load(), 1);
  EXPECT_EQ(inner_ran.load(), 1);
  EXPECT_NE(inner_ident.load(), 0u);
  EXPECT_EQ(inner_ident.load(), inner_returned.load());
}

// ---------------------------------------------------------------- callables and arguments

// Move-only, no heap: the copy constructor is deleted.
struct MoveOnlyArg {
  int value;
  explicit MoveOnlyArg(int v) : value(v) {}
  MoveOnlyArg(MoveOnlyArg&& other) noexcept : value(other.value) { other.value = -1; }
  MoveOnlyArg& operator=(MoveOnlyArg&& other) noexcept {
    value = other.value;
    other.value = -1;
    return *this;
  }
  MoveOnlyArg(const MoveOnlyArg&) = delete;
  MoveOnlyArg& operator=(const MoveOnlyArg&) = delete;
};

std::atomic<int> g_move_only_seen;

// A move-only callable that can only be invoked as an rvalue.
struct MoveOnlyCallable {
  MoveOnlyArg base;
  explicit MoveOnlyCallable(int b) : base(b) {}
  void operator()(MoveOnlyArg arg) && { g_move_only_seen.store(base.value * 1000 + arg.value); }
  void operator()(MoveOnlyArg arg) & = delete;
  void operator()(MoveOnlyArg arg) const& = delete;
};

TEST_F(ThreadTest, MoveOnlyCallableAndArguments) {
  g_move_only_seen = 0;
  MoveOnlyArg arg(7);
  auto r = start_new_thread(MoveOnlyCallable(3), std::move(arg));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(arg.value, -1) << "the argument was not moved into the thread's storage";
  EXPECT_TRUE(wait_for([] { return g_move_only_seen.load() != 0; }));
  EXPECT_EQ(g_move_only_seen.load(), 3007);
}

TEST_F(ThreadTest, ArgumentsArePassedAsRvalues) {
  static std::atomic<int> seen;
  seen = 0;
  auto r = start_new_thread([](MoveOnlyArg&& a, MoveOnlyArg&& b) { seen.store(a.value + b.value); },
                            MoveOnlyArg(40), MoveOnlyArg(2));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return seen.load() != 0; }));
  EXPECT_EQ(seen.load(), 42);
}

TEST_F(ThreadTest, MutableLambdaWithMoveOnlyCapture) {
  static std::atomic<int> seen;
  seen = 0;
  MoveOnlyArg captured(11);
  auto r = start_new_thread([c = std::move(captured)]() mutable {
    c.value += 1;
    seen.store(c.value);
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return seen.load() != 0; }));
  EXPECT_EQ(seen.load(), 12);
}

TEST_F(ThreadTest, UniquePtrArgumentIsMovedNotFreedByUs) {
  // A std::unique_ptr made on the main thread is moved in; the thread hands
  // the pointer back through an atomic instead of deleting it (free() is
  // libc), and main deletes it.
  static std::atomic<int*> handed_back;
  static std::atomic<int> seen;
  handed_back = nullptr;
  seen = 0;
  auto owned = std::make_unique<int>(55);
  int* raw = owned.get();
  auto r = start_new_thread(
      [](std::unique_ptr<int>&& p) {
        seen.store(*p);
        handed_back.store(p.release());
      },
      std::move(owned));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(owned, nullptr);
  EXPECT_TRUE(wait_for([] { return handed_back.load() != nullptr; }));
  EXPECT_EQ(seen.load(), 55);
  EXPECT_EQ(handed_back.load(), raw);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  delete handed_back.load();
}

TEST_F(ThreadTest, ReferenceArgumentsAreCopied) {
  RT_REQUIRES_CONCURRENCY();  // the thread waits behind a gate main opens
  static Lock gate;
  static int original;
  static std::atomic<const int*> seen_address;
  static std::atomic<int> seen_value;
  original = 5;
  seen_address = nullptr;
  seen_value = 0;
  int& ref = original;
  ASSERT_TRUE(rt_test::is_true(gate.acquire()));
  auto r = start_new_thread(
      [](const int& copy) {
        (void)gate.acquire();
        seen_value.store(copy);
        seen_address.store(&copy);
        (void)gate.release();
      },
      ref);
  ASSERT_TRUE(r.has_value());
  original = 7;  // after the start: the thread must see the copy made at start
  EXPECT_TRUE(gate.release().has_value());
  EXPECT_TRUE(wait_for([] { return seen_address.load() != nullptr; }));
  EXPECT_NE(seen_address.load(), &original);
  EXPECT_EQ(seen_value.load(), 5);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
}

TEST_F(ThreadTest, StdRefPassesAReference) {
  static int target;
  static std::atomic<int> done;
  target = 1;
  done = 0;
  auto r = start_new_thread(
      [](int& t) {
        t = 42;
        done.store(1);
      },
      std::ref(target));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return done.load() == 1; }));
  EXPECT_EQ(target, 42);
}

void plain_function(std::atomic<int>* out, int value, const char* text) {
  out->store(value + (text[0] == 'h' ? 1 : 0));
}

struct WithMethod {
  std::atomic<int> seen{0};
  void method(int v) { seen.store(v); }
};

TEST_F(ThreadTest, FunctionsArraysAndMemberPointersDecay) {
  static std::atomic<int> out;
  static std::atomic<const char*> seen_text;
  static const char text[] = "hello";
  out = 0;
  seen_text = nullptr;
  // a function (not a pointer) decays to a function pointer, an array to a pointer
  auto r = start_new_thread(plain_function, &out, 9, text);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return out.load() != 0; }));
  EXPECT_EQ(out.load(), 10);

  r = start_new_thread([](const char* p) { seen_text.store(p); }, text);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return seen_text.load() != nullptr; }));
  EXPECT_EQ(seen_text.load(), static_cast<const char*>(text));

  // std::invoke semantics: a member function pointer and an object pointer
  static WithMethod object;
  object.seen = 0;
  r = start_new_thread(&WithMethod::method, &object, 31);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return object.seen.load() != 0; }));
  EXPECT_EQ(object.seen.load(), 31);
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
}

// Counts destructions of live (not moved-from) objects; its destructor runs in
// the library thread, so it touches only atomics.
struct Counted {
  std::atomic<int>* destroyed;
  std::atomic<int>* calls;
  std::atomic<int>* destroyed_seen_at_call;
  bool live = true;
  Counted(std::atomic<int>* d, std::atomic<int>* c, std::atomic<int>* s)
      : destroyed(d), calls(c), destroyed_seen_at_call(s) {}
  Counted(Counted&& o) noexcept
      : destroyed(o.destroyed), calls(o.calls), destroyed_seen_at_call(o.destroyed_seen_at_call),
        live(o.live) {
    o.live = false;
  }
  Counted(const Counted&) = delete;
  ~Counted() {
    if (live) destroyed->fetch_add(1);
  }
  void operator()() && {
    destroyed_seen_at_call->store(destroyed->load());
    calls->fetch_add(1);
  }
};

TEST_F(ThreadTest, StoredCallableIsDestroyedAfterItReturns) {
  static std::atomic<int> destroyed, calls, seen_at_call;
  destroyed = 0;
  calls = 0;
  seen_at_call = -1;
  {
    auto r = start_new_thread(Counted(&destroyed, &calls, &seen_at_call));
    ASSERT_TRUE(r.has_value());
  }
  EXPECT_TRUE(wait_for([] { return destroyed.load() >= 1; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(seen_at_call.load(), 0) << "the stored callable was destroyed before it ran";
  EXPECT_EQ(destroyed.load(), 1) << "the stored callable must be destroyed exactly once";
}

TEST_F(ThreadTest, StoredArgumentsAreDestroyed) {
  static std::atomic<int> destroyed, calls, seen_at_call, arg_destroyed, unused;
  destroyed = 0;
  calls = 0;
  seen_at_call = -1;
  arg_destroyed = 0;
  unused = 0;
  {
    auto r = start_new_thread(
        [](Counted&&) {
          // the stored argument is still alive while the callable runs
          seen_at_call.store(arg_destroyed.load());
          calls.fetch_add(1);
        },
        Counted(&arg_destroyed, &unused, &unused));
    ASSERT_TRUE(r.has_value());
  }
  EXPECT_TRUE(wait_for([] { return arg_destroyed.load() >= 1; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(seen_at_call.load(), 0);
  EXPECT_EQ(arg_destroyed.load(), 1);
}

// A decay-copy that throws (issue 13): the exception propagates unchanged,
// and neither a thread nor a mapping is left behind, for a callable and for
// an argument, started detached and joinable. Before the fix, five such
// starts left ten mappings that release_cached_stacks() could not free.
struct CopyFailed {
  int serial;
};

struct ThrowsWhenCopied {
  int serial;
  explicit ThrowsWhenCopied(int n) : serial(n) {}
  ThrowsWhenCopied(const ThrowsWhenCopied& other) : serial(other.serial) {
    throw CopyFailed{other.serial};
  }
  ThrowsWhenCopied& operator=(const ThrowsWhenCopied&) = delete;
  void operator()() const {}
};

std::atomic<int> g_ran_after_throw{0};

// Runs `start(serial)`, which must throw the CopyFailed it was given.
template <class Start>
void expect_copy_failed(Start start, int serial) {
  try {
    start(serial);
    ADD_FAILURE() << "the start did not throw";
  } catch (const CopyFailed& failed) {
    EXPECT_EQ(failed.serial, serial) << "the exception did not propagate unchanged";
  }
}

TEST_F(ThreadTest, AThrowingCopyLeavesNoThreadAndNoMapping) {
  if (rt_test::under_valgrind())
    GTEST_SKIP() << "under valgrind /proc/self/maps lists valgrind's mappings: no count to check";
  const long before = rt_test::maps_lines();
  for (int i = 0; i < 5; ++i) {
    const ThrowsWhenCopied fn(i);
    expect_copy_failed([&fn](int) { (void)start_new_thread(fn); }, i);
    expect_copy_failed([&fn](int) { (void)start_joinable_thread(fn); }, i);
    expect_copy_failed(
        [&fn](int) { (void)start_new_thread([](const ThrowsWhenCopied&) {}, fn); }, i);
    expect_copy_failed(
        [&fn](int) { (void)start_joinable_thread([](const ThrowsWhenCopied&) {}, fn); }, i);
  }
  EXPECT_EQ(thread_count(), base_count_);
  EXPECT_TRUE(rt_test::maps_back_to(before));
  // The mappings given back serve the next starts.
  g_ran_after_throw = 0;
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(start_new_thread([] { g_ran_after_throw.fetch_add(1); }).has_value());
  EXPECT_TRUE(wait_for([] { return g_ran_after_throw.load() == 4; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_TRUE(rt_test::maps_back_to(before));
}

// ---------------------------------------------------------------- idents

// libstdc++'s headers update shared_ptr counts with plain loads and stores
// while glibc's __libc_single_threaded is 1, and glibc clears it only in
// pthread_create: a start must clear it too, or counts shared with the new
// thread race. In a child, where the flag is set back to 1 as in a process
// that never started a thread.
TEST_F(ThreadTest, AStartClearsGlibcsSingleThreadedFlag) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    __libc_single_threaded = 1;
    std::atomic<int> ran{0};
    if (!start_new_thread([&ran] { ran.store(1); })) _exit(2);
    for (int i = 0; i < 3000 && ran.load() == 0; ++i) usleep(10000);
    // The dummy backend runs the body in the call: still one thread.
    _exit(ran.load() == 1 && __libc_single_threaded == (rt_test::kDummy ? 1 : 0) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(ThreadTest, MainIdentIsNonzeroAndStable) {
  Ident a = get_ident();
  Ident b = get_ident();
  EXPECT_NE(a, 0u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(get_ident(), a);
}

TEST_F(ThreadTest, MainNativeIdIsGettid) {
  long id = get_native_id();
  EXPECT_GT(id, 0);
  EXPECT_EQ(id, rt_test::gettid_now());
  EXPECT_EQ(id, static_cast<long>(::getpid())) << "gtest runs tests on the process's main thread";
  EXPECT_EQ(get_native_id(), id);
}

TEST_F(ThreadTest, IdentsAndNativeIdsOfLiveThreads) {
  RT_REQUIRES_CONCURRENCY();  // four threads alive at once, held at a gate
  constexpr int kThreads = 4;
  static Lock gate;
  static std::atomic<Ident> ident1[kThreads], ident2[kThreads];
  static std::atomic<long> native[kThreads];
  static std::atomic<int> ready;
  ready = 0;
  for (int i = 0; i < kThreads; ++i) {
    ident1[i] = 0;
    ident2[i] = 0;
    native[i] = 0;
  }
  ASSERT_TRUE(rt_test::is_true(gate.acquire()));
  Ident returned[kThreads] = {};
  for (int i = 0; i < kThreads; ++i) {
    auto r = start_new_thread(
        [](int index) {
          ident1[index].store(get_ident());
          native[index].store(get_native_id());
          ident2[index].store(get_ident());
          ready.fetch_add(1);
          // stay alive until main has compared everything
          (void)gate.acquire();
          (void)gate.release();
        },
        i);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    returned[i] = *r;
  }
  EXPECT_TRUE(wait_for([] { return ready.load() == kThreads; }));
  Ident main_ident = get_ident();
  long main_native = get_native_id();
  for (int i = 0; i < kThreads; ++i) {
    SCOPED_TRACE(i);
    EXPECT_NE(ident1[i].load(), 0u);
    EXPECT_EQ(ident1[i].load(), ident2[i].load()) << "get_ident changed within one thread";
    EXPECT_EQ(ident1[i].load(), returned[i]) << "get_ident differs from start_new_thread's ident";
    EXPECT_NE(ident1[i].load(), main_ident);
    EXPECT_GT(native[i].load(), 0);
    EXPECT_NE(native[i].load(), main_native);
    for (int j = 0; j < i; ++j) {
      EXPECT_NE(ident1[i].load(), ident1[j].load()) << "two live threads share an ident";
      EXPECT_NE(native[i].load(), native[j].load()) << "two live threads share a native id";
    }
  }
  EXPECT_TRUE(gate.release().has_value());
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
}

// ---------------------------------------------------------------- thread_count

TEST_F(ThreadTest, ThreadCountRisesAndFalls) {
  RT_REQUIRES_CONCURRENCY();  // five threads blocked at a gate main holds
  constexpr int kThreads = 5;
  static Lock gate;
  static std::atomic<int> passed;
  passed = 0;
  ASSERT_TRUE(rt_test::is_true(gate.acquire()));
  for (int i = 0; i < kThreads; ++i) {
    auto r = start_new_thread([] {
      (void)gate.acquire();
      (void)gate.release();
      passed.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value()) << r.error().message;
    // started and blocked on the gate: counted from the moment it is started
    EXPECT_EQ(thread_count(), base_count_ + i + 1);
  }
  rt_test::sleep_ms(50);
  EXPECT_EQ(thread_count(), base_count_ + kThreads) << "blocked threads must still be counted";
  EXPECT_EQ(passed.load(), 0);
  EXPECT_TRUE(gate.release().has_value());
  EXPECT_TRUE(wait_for([] { return passed.load() == kThreads; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_EQ(thread_count(), base_count_);
}

// ---------------------------------------------------------------- exit_thread

struct NoteDestruction {
  std::atomic<int>* counter;
  ~NoteDestruction() { counter->fetch_add(1); }
};

std::atomic<int> g_exit_before, g_exit_after, g_exit_destroyed;

// GCC sees every path recurse or end in a [[noreturn]] call.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
[[gnu::noinline]] void exit_from_nested_call(int depth) {
  if (depth > 0) {
    exit_from_nested_call(depth - 1);
    g_exit_after.fetch_add(1);  // must never run
    return;
  }
  exit_thread();
}
#pragma GCC diagnostic pop

TEST_F(ThreadTest, ExitThreadEndsTheThreadAtOnce) {
  g_exit_before = 0;
  g_exit_after = 0;
  g_exit_destroyed = 0;
  long maps_before = rt_test::maps_lines();
  auto r = start_new_thread([] {
    NoteDestruction local{&g_exit_destroyed};
    g_exit_before.store(1);
    exit_thread();
    g_exit_after.store(1);  // must never run
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return g_exit_before.load() == 1; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_)) << "exit_thread did not count the thread out";
  EXPECT_TRUE(rt_test::maps_back_to(maps_before));
  rt_test::sleep_ms(50);
  EXPECT_EQ(g_exit_after.load(), 0) << "code after exit_thread() ran";
  EXPECT_EQ(g_exit_destroyed.load(), 0) << "exit_thread destroyed objects on the thread's stack";
}

TEST_F(ThreadTest, ExitThreadFromANestedCall) {
  g_exit_before = 0;
  g_exit_after = 0;
  auto r = start_new_thread([] {
    g_exit_before.store(1);
    exit_from_nested_call(5);
    g_exit_after.fetch_add(100);  // must never run
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(wait_for([] { return g_exit_before.load() == 1; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  rt_test::sleep_ms(50);
  EXPECT_EQ(g_exit_after.load(), 0) << "code after exit_thread() ran";
}

TEST_F(ThreadTest, ManyThreadsExitThread) {
  constexpr int kThreads = 50;
  g_exit_before = 0;
  g_exit_after = 0;
  long maps_before = rt_test::maps_lines();
  for (int i = 0; i < kThreads; ++i) {
    auto r = start_new_thread([] {
      g_exit_before.fetch_add(1);
      exit_thread();
      g_exit_after.fetch_add(1);
    });
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  EXPECT_TRUE(wait_for([] { return g_exit_before.load() == kThreads; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base_count_));
  EXPECT_TRUE(rt_test::maps_back_to(maps_before));
  EXPECT_EQ(g_exit_after.load(), 0);
}

TEST_F(ThreadTest, ExitThreadInMainEndsOnlyTheMainThread) {
  // In a forked child: main starts a thread that sleeps ~0.2 s and then sets a
  // flag in shared memory, and calls exit_thread(). The thread must finish its
  // work after main is gone, and the process must exit with status 0 when it
  // ends.
  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  auto* flags = static_cast<std::atomic<int>*>(page);
  new (&flags[0]) std::atomic<int>(0);  // the thread finished its work
  new (&flags[1]) std::atomic<int>(0);  // code after exit_thread() in main ran

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto r = start_new_thread(
        [](std::atomic<int>* shared) {
          body_sleep(0.2);
          shared[0].store(1);
        },
        flags);
    if (!r) ::_exit(2);
    exit_thread();
    flags[1].store(1);  // unreachable
    ::_exit(3);
  }
  int status = rt_test::wait_child(pid, 20.0);
  ASSERT_GE(status, 0) << "the child did not exit within 20 s (killed)";
  EXPECT_TRUE(WIFEXITED(status)) << "child ended by signal " << WTERMSIG(status);
  if (WIFEXITED(status)) {
    EXPECT_NE(WEXITSTATUS(status), 2) << "start_new_thread failed in the child";
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  EXPECT_EQ(flags[0].load(), 1) << "the other thread did not run to its end after main exited";
  EXPECT_EQ(flags[1].load(), 0) << "code after exit_thread() ran in main";
  ::munmap(page, 4096);
}

}  // namespace
