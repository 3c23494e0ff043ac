// SPDX-License-Identifier: MIT
// rawthread/sys.hpp's processes, clocks and the calling thread's settings:
// each call's success against what libc or the kernel reads back, and each
// documented failure with its kind, errno and message, changing nothing.
//
// Children are forked by sys::fork here; until they execve or exit they make
// only raw system calls (async-signal-safe), as sys.hpp requires of a hosted
// program's child. Every wait for a child has a deadline (wait_child).
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <rawthread/sys.hpp>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;

namespace {

constexpr int kNoSuchPid = 0x3ffffff0;  // above any pid_max Linux allows

// Waits for `pid` with kNoHang polls for at most `seconds`; kills it and
// fails the test past that.
sys::WaitStatus wait_child(int pid, double seconds = 60, sys::ResourceUsage* usage = nullptr) {
  const std::int64_t end = rt_test::now_ns() + static_cast<std::int64_t>(seconds * 1e9);
  for (;;) {
    Result<sys::WaitStatus> w = sys::wait4(pid, sys::kNoHang, usage);
    if (!w) {
      ADD_FAILURE() << "wait4: " << w.error().message << " errno " << w.error().sys_errno;
      return {};
    }
    if (w->pid == pid) return *w;
    if (rt_test::now_ns() > end) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ADD_FAILURE() << "child " << pid << " still running after " << seconds << " s";
      return {};
    }
    ::usleep(1000);
  }
}

std::string comm_of_this_thread() {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%ld/comm", static_cast<long>(::gettid()));
  char buf[32] = {};
  int fd = ::open(path, O_RDONLY);
  if (fd < 0) return "?";
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  std::string s(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::atomic<int> usr1_count{0};
std::atomic<std::uintptr_t> handler_stack_address{0};
void on_usr1(int) {
  int local = 0;
  handler_stack_address.store(reinterpret_cast<std::uintptr_t>(&local));
  usr1_count.fetch_add(1);
}

}  // namespace

// ---------------------------------------------------------------- ids, kill

TEST(SysProcess, IdsAreTheKernels) {
  EXPECT_EQ(*sys::getpid(), ::getpid());
  EXPECT_EQ(*sys::gettid(), ::gettid());
  int other = 0;
  std::thread t([&] { other = *sys::gettid(); });
  t.join();
  EXPECT_NE(other, ::gettid());
  EXPECT_GT(other, 0);
}

TEST(SysProcess, KillAndTgkill) {
  EXPECT_TRUE(sys::kill(::getpid(), 0));
  expect_error(sys::kill(kNoSuchPid, 0), Errc::os_error, "kill failed", ESRCH);
  expect_error(sys::kill(::getpid(), 65), Errc::value_error, "signal number out of range");
  expect_error(sys::kill(::getpid(), -1), Errc::value_error, "signal number out of range");
  EXPECT_TRUE(sys::tgkill(::getpid(), ::gettid(), 0));
  expect_error(sys::tgkill(::getpid(), kNoSuchPid, 0), Errc::os_error, "tgkill failed", ESRCH);
  expect_error(sys::tgkill(0, ::gettid(), 0), Errc::os_error, "tgkill failed", EINVAL);
  expect_error(sys::tgkill(::getpid(), ::gettid(), 65), Errc::value_error,
               "signal number out of range");

  struct sigaction old {};
  struct sigaction act {};
  act.sa_handler = on_usr1;
  ASSERT_EQ(::sigaction(SIGUSR1, &act, &old), 0);
  usr1_count = 0;
  ASSERT_TRUE(sys::tgkill(::getpid(), ::gettid(), SIGUSR1));
  EXPECT_EQ(usr1_count.load(), 1);  // a signal to oneself arrives before the call returns
  ASSERT_TRUE(sys::kill(::getpid(), SIGUSR1));
  EXPECT_TRUE(rt_test::wait_for([] { return usr1_count.load() == 2; }, 10));
  ::sigaction(SIGUSR1, &old, nullptr);
}

// ---------------------------------------------------------------- sigaltstack

TEST(SysProcess, AltStackSetQueryDisable) {
  stack_t saved{};
  ASSERT_EQ(::sigaltstack(nullptr, &saved), 0);

  expect_error(sys::set_alt_stack(nullptr, 1 << 16), Errc::value_error,
               "alternate signal stack must not be null");
  static char tiny[64];
  expect_error(sys::set_alt_stack(tiny, sizeof tiny), Errc::os_error, "sigaltstack failed", ENOMEM);
  stack_t now{};
  ASSERT_EQ(::sigaltstack(nullptr, &now), 0);
  EXPECT_EQ(now.ss_sp, saved.ss_sp);  // the rejected calls changed nothing
  EXPECT_EQ(now.ss_flags, saved.ss_flags);

  std::vector<char> stack(256 * 1024);
  Result<sys::AltStack> before = sys::set_alt_stack(stack.data(), stack.size());
  ASSERT_TRUE(before);
  EXPECT_EQ(before->base, saved.ss_sp);
  EXPECT_EQ(before->flags, saved.ss_flags);
  Result<sys::AltStack> q = sys::alt_stack();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->base, stack.data());
  EXPECT_EQ(q->size, stack.size());
  EXPECT_EQ(q->flags, 0);

  // A handler installed with kOnStack runs on it.
  struct sigaction old {};
  ASSERT_EQ(::sigaction(SIGUSR1, nullptr, &old), 0);
  ASSERT_TRUE(sys::set_signal_handler(SIGUSR1, on_usr1, sys::kRestart | sys::kOnStack));
  handler_stack_address = 0;
  ASSERT_TRUE(sys::tgkill(::getpid(), ::gettid(), SIGUSR1));
  const std::uintptr_t at = handler_stack_address.load();
  EXPECT_GE(at, reinterpret_cast<std::uintptr_t>(stack.data()));
  EXPECT_LT(at, reinterpret_cast<std::uintptr_t>(stack.data() + stack.size()));
  ::sigaction(SIGUSR1, &old, nullptr);

  Result<sys::AltStack> was = sys::disable_alt_stack();
  ASSERT_TRUE(was);
  EXPECT_EQ(was->base, stack.data());
  q = sys::alt_stack();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->flags, sys::kAltStackDisabled);
  if ((saved.ss_flags & SS_DISABLE) == 0) ::sigaltstack(&saved, nullptr);
}

// ---------------------------------------------------------------- fork, execve, wait4

TEST(SysProcess, ForkExitStatuses) {
  Result<int> pid = sys::fork();
  ASSERT_TRUE(pid);
  if (*pid == 0) sys::exit_group(7);
  sys::WaitStatus w = wait_child(*pid);
  EXPECT_EQ(w.pid, *pid);
  EXPECT_TRUE(w.exited());
  EXPECT_FALSE(w.signaled());
  EXPECT_EQ(w.exit_code(), 7);

  pid = sys::fork();
  ASSERT_TRUE(pid);
  if (*pid == 0) {
    // Default disposition: the child ends by the signal.
    (void)sys::set_signal_default(SIGTERM);
    (void)sys::tgkill(*sys::getpid(), *sys::gettid(), SIGTERM);
    sys::exit_group(99);
  }
  w = wait_child(*pid);
  EXPECT_FALSE(w.exited());
  EXPECT_TRUE(w.signaled());
  EXPECT_EQ(w.term_signal(), SIGTERM);
  EXPECT_FALSE(w.core_dumped());
}

TEST(SysProcess, ForkChildHasItsOwnPid) {
  // The child's pid is its own, and equals its tid: it is its process's
  // only thread. It reports through its exit status.
  Result<int> pid = sys::fork();
  ASSERT_TRUE(pid);
  if (*pid == 0) {
    const int self = *sys::getpid();
    sys::exit_group(self == *sys::gettid() && self != 0 ? 0 : 1);
  }
  sys::WaitStatus w = wait_child(*pid);
  EXPECT_TRUE(w.exited());
  EXPECT_EQ(w.exit_code(), 0);
  EXPECT_NE(*pid, ::getpid());
}

TEST(SysProcess, ExecveTrueAndMissingPath) {
  char true_path[] = "/bin/true";
  char* argv[] = {true_path, nullptr};
  char* envp[] = {nullptr};
  Result<int> pid = sys::fork();
  ASSERT_TRUE(pid);
  if (*pid == 0) {
    (void)sys::execve(true_path, argv, envp);
    sys::exit_group(127);
  }
  sys::ResourceUsage usage{};
  sys::WaitStatus w = wait_child(*pid, 60, &usage);
  EXPECT_TRUE(w.exited());
  EXPECT_EQ(w.exit_code(), 0);
  EXPECT_GE(usage.maxrss, 0);

  // A missing file: ENOENT, reported back in the child's status.
  char missing[] = "/nonexistent/rawthread-no-such-program";
  pid = sys::fork();
  ASSERT_TRUE(pid);
  if (*pid == 0) {
    Result<void> r = sys::execve(missing, argv, envp);
    sys::exit_group(!r && r.error().kind == Errc::os_error ? r.error().sys_errno : 200);
  }
  w = wait_child(*pid);
  EXPECT_TRUE(w.exited());
  EXPECT_EQ(w.exit_code(), ENOENT);

  // And in this process, which the failed call leaves running.
  expect_error(sys::execve(missing, argv, envp), Errc::os_error, "execve failed", ENOENT);
  expect_error(sys::execve(nullptr, argv, envp), Errc::value_error,
               "execve argument must not be null");
  expect_error(sys::execve(true_path, nullptr, envp), Errc::value_error,
               "execve argument must not be null");
  expect_error(sys::execve(true_path, argv, nullptr), Errc::value_error,
               "execve argument must not be null");
}

TEST(SysProcess, Wait4NoHangOptionsAndNoChild) {
  expect_error(sys::wait4(-1), Errc::os_error, "wait4 failed", ECHILD);
  expect_error(sys::wait4(kNoSuchPid, sys::kNoHang), Errc::os_error, "wait4 failed", ECHILD);
  expect_error(sys::wait4(-1, 0x1000), Errc::value_error, "unsupported wait options");

  // A child that waits until it is killed: kNoHang sees nothing, then the
  // kill.
  Result<int> pid = sys::fork();
  ASSERT_TRUE(pid);
  if (*pid == 0) {
    for (;;) (void)sys::sleep(1);
  }
  Result<sys::WaitStatus> w = sys::wait4(*pid, sys::kNoHang);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->pid, 0);
  ASSERT_TRUE(sys::kill(*pid, SIGKILL));
  sys::WaitStatus done = wait_child(*pid);
  EXPECT_TRUE(done.signaled());
  EXPECT_EQ(done.term_signal(), SIGKILL);
  expect_error(sys::wait4(*pid), Errc::os_error, "wait4 failed", ECHILD);  // reaped

  // Stopped and continued.
  pid = sys::fork();
  ASSERT_TRUE(pid);
  if (*pid == 0) {
    for (;;) (void)sys::sleep(1);
  }
  ASSERT_TRUE(sys::kill(*pid, SIGSTOP));
  const std::int64_t end = rt_test::now_ns() + 60'000'000'000;
  sys::WaitStatus stopped;
  while (rt_test::now_ns() < end) {
    w = sys::wait4(*pid, sys::kNoHang | sys::kUntraced);
    ASSERT_TRUE(w);
    if (w->pid == *pid) {
      stopped = *w;
      break;
    }
    ::usleep(1000);
  }
  EXPECT_TRUE(stopped.stopped());
  EXPECT_EQ(stopped.stop_signal(), SIGSTOP);
  ASSERT_TRUE(sys::kill(*pid, SIGCONT));
  sys::WaitStatus continued;
  while (rt_test::now_ns() < end) {
    w = sys::wait4(*pid, sys::kNoHang | sys::kContinued);
    ASSERT_TRUE(w);
    if (w->pid == *pid) {
      continued = *w;
      break;
    }
    ::usleep(1000);
  }
  EXPECT_TRUE(continued.continued());
  ASSERT_TRUE(sys::kill(*pid, SIGKILL));
  EXPECT_TRUE(wait_child(*pid).signaled());
}

// ---------------------------------------------------------------- clocks

TEST(SysProcess, RealtimeIsLibcs) {
  timespec before{}, after{};
  ::clock_gettime(CLOCK_REALTIME, &before);
  Result<std::int64_t> ns = sys::realtime_ns();
  ::clock_gettime(CLOCK_REALTIME, &after);
  ASSERT_TRUE(ns);
  const std::int64_t lo = before.tv_sec * 1'000'000'000LL + before.tv_nsec;
  const std::int64_t hi = after.tv_sec * 1'000'000'000LL + after.tv_nsec;
  // Between the two reads, give or take a clock step made meanwhile.
  EXPECT_GE(*ns, lo - 1'000'000'000);
  EXPECT_LE(*ns, hi + 1'000'000'000);
  EXPECT_GT(*ns, 1'600'000'000LL * 1'000'000'000);  // after 2020
}

TEST(SysProcess, BoottimeNotBelowMonotonic) {
  for (int i = 0; i < 1000; ++i) {
    Result<std::int64_t> mono = sys::monotonic_ns();
    Result<std::int64_t> boot = sys::boottime_ns();
    ASSERT_TRUE(mono && boot);
    ASSERT_GE(*boot, *mono);
  }
  timespec libc_boot{};
  ::clock_gettime(CLOCK_BOOTTIME, &libc_boot);
  Result<std::int64_t> boot = sys::boottime_ns();
  ASSERT_TRUE(boot);
  EXPECT_GE(*boot, libc_boot.tv_sec * 1'000'000'000LL + libc_boot.tv_nsec);
  EXPECT_LT(*boot, (libc_boot.tv_sec + 5) * 1'000'000'000LL);
}

// ---------------------------------------------------------------- thread name

TEST(SysProcess, ThreadName) {
  char original[16] = {};
  ASSERT_TRUE(sys::thread_name(original));
  ASSERT_TRUE(sys::set_thread_name("rt-proc-test"));
  char name[16];
  ASSERT_TRUE(sys::thread_name(name));
  EXPECT_STREQ(name, "rt-proc-test");
  EXPECT_EQ(comm_of_this_thread(), "rt-proc-test");
  char libc_name[16] = {};
  ASSERT_EQ(::prctl(PR_GET_NAME, libc_name), 0);
  EXPECT_STREQ(libc_name, "rt-proc-test");

  ASSERT_TRUE(sys::set_thread_name("fifteen-bytes-x"));  // 15: the most
  ASSERT_TRUE(sys::thread_name(name));
  EXPECT_STREQ(name, "fifteen-bytes-x");
  expect_error(sys::set_thread_name("sixteen-bytes-xy"), Errc::value_error,
               "thread name is longer than 15 bytes");
  expect_error(sys::set_thread_name(nullptr), Errc::value_error, "thread name must not be null");
  ASSERT_TRUE(sys::thread_name(name));
  EXPECT_STREQ(name, "fifteen-bytes-x");  // the rejected calls changed nothing

  // Per thread.
  std::string other;
  std::thread t([&] {
    (void)sys::set_thread_name("other");
    char n[16];
    if (sys::thread_name(n)) other = n;
  });
  t.join();
  EXPECT_EQ(other, "other");
  ASSERT_TRUE(sys::thread_name(name));
  EXPECT_STREQ(name, "fifteen-bytes-x");
  ASSERT_TRUE(sys::set_thread_name(original));
}

// ---------------------------------------------------------------- affinity

TEST(SysProcess, AffinityRoundTrip) {
  cpu_set_t libc_set;
  CPU_ZERO(&libc_set);
  ASSERT_EQ(::sched_getaffinity(0, sizeof libc_set, &libc_set), 0);
  Result<sys::CpuSet> mine = sys::affinity();
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->count(), CPU_COUNT(&libc_set));
  int first = -1;
  for (int cpu = 0; cpu < sys::CpuSet::kMaxCpus; ++cpu) {
    EXPECT_EQ(mine->contains(cpu), CPU_ISSET(cpu, &libc_set) != 0) << cpu;
    if (first < 0 && mine->contains(cpu)) first = cpu;
  }
  ASSERT_GE(first, 0);

  // In a thread of its own, so that this one's stays as it is.
  std::thread t([&] {
    sys::CpuSet one;
    one.add(first);
    EXPECT_TRUE(sys::set_affinity(one));
    Result<sys::CpuSet> now = sys::affinity();
    ASSERT_TRUE(now);
    EXPECT_TRUE(*now == one);
    EXPECT_EQ(::sched_getcpu(), first);

    // Nothing online: EINVAL, and the set stays.
    expect_error(sys::set_affinity(sys::CpuSet{}), Errc::os_error, "sched_setaffinity failed",
                 EINVAL);
    sys::CpuSet offline;
    offline.add(sys::CpuSet::kMaxCpus - 1);
    if (!mine->contains(sys::CpuSet::kMaxCpus - 1))
      expect_error(sys::set_affinity(offline), Errc::os_error, "sched_setaffinity failed", EINVAL);
    now = sys::affinity();
    ASSERT_TRUE(now);
    EXPECT_TRUE(*now == one);
  });
  t.join();

  // Another thread's, by tid.
  EXPECT_TRUE(sys::set_affinity(*mine, ::gettid()));
  Result<sys::CpuSet> again = sys::affinity(::gettid());
  ASSERT_TRUE(again);
  EXPECT_TRUE(*again == *mine);

  expect_error(sys::set_affinity(*mine, -1), Errc::value_error, "thread id must not be negative");
  expect_error(sys::affinity(-1), Errc::value_error, "thread id must not be negative");
  expect_error(sys::affinity(kNoSuchPid), Errc::os_error, "sched_getaffinity failed", ESRCH);
  expect_error(sys::set_affinity(*mine, kNoSuchPid), Errc::os_error, "sched_setaffinity failed",
               ESRCH);
}

TEST(SysProcess, CpuSet) {
  sys::CpuSet set;
  EXPECT_TRUE(set.empty());
  set.add(0).add(63).add(64).add(1023).add(1024).add(-1);
  EXPECT_EQ(set.count(), 4);
  EXPECT_TRUE(set.contains(63) && set.contains(64) && set.contains(1023));
  EXPECT_FALSE(set.contains(1024) || set.contains(-1) || set.contains(1));
  set.remove(63);
  EXPECT_FALSE(set.contains(63));
  EXPECT_EQ(set.words()[1], 1u);
}

// ---------------------------------------------------------------- scheduling

TEST(SysProcess, SchedulingRoundTrip) {
  Result<sys::Scheduling> now = sys::scheduling();
  ASSERT_TRUE(now);
  EXPECT_EQ(static_cast<int>(now->policy), ::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK);

  // In a thread of its own: raising nice cannot always be undone without
  // privilege.
  std::thread t([] {
    sys::Scheduling batch;
    batch.policy = sys::SchedPolicy::batch;
    batch.nice = 5;
    EXPECT_TRUE(sys::set_scheduling(batch));
    Result<sys::Scheduling> got = sys::scheduling();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->policy, sys::SchedPolicy::batch);
    EXPECT_EQ(got->nice, 5);
    EXPECT_EQ(got->priority, 0);
    EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())), 5);
    // By tid, from the same thread.
    got = sys::scheduling(static_cast<int>(::gettid()));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->policy, sys::SchedPolicy::batch);

    // Rejected: nothing changes.
    sys::Scheduling bad = batch;
    bad.nice = 20;
    expect_error(sys::set_scheduling(bad), Errc::value_error, "nice value out of range");
    bad = batch;
    bad.nice = -21;
    expect_error(sys::set_scheduling(bad), Errc::value_error, "nice value out of range");
    bad = batch;
    bad.priority = 100;
    expect_error(sys::set_scheduling(bad), Errc::value_error, "scheduling priority out of range");
    bad = batch;
    bad.priority = -1;
    expect_error(sys::set_scheduling(bad), Errc::value_error, "scheduling priority out of range");
    bad = batch;
    bad.policy = static_cast<sys::SchedPolicy>(42);
    expect_error(sys::set_scheduling(bad), Errc::os_error, "sched_setattr failed", EINVAL);
    bad = batch;
    bad.priority = 10;  // a priority with a policy that has none
    expect_error(sys::set_scheduling(bad), Errc::os_error, "sched_setattr failed", EINVAL);
    expect_error(sys::set_scheduling(batch, -1), Errc::value_error,
                 "thread id must not be negative");
    expect_error(sys::set_scheduling(batch, kNoSuchPid), Errc::os_error, "sched_setattr failed",
                 ESRCH);
    got = sys::scheduling();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->policy, sys::SchedPolicy::batch);
    EXPECT_EQ(got->nice, 5);
  });
  t.join();
  expect_error(sys::scheduling(-1), Errc::value_error, "thread id must not be negative");
  expect_error(sys::scheduling(kNoSuchPid), Errc::os_error, "sched_getattr failed", ESRCH);
}

TEST(SysProcess, RealTimeWithoutPrivilegeIsEperm) {
  // A child (libc's fork: it uses libc) without the privilege: as root, it
  // gives it up first; then no RLIMIT_RTPRIO either.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::geteuid() == 0 && ::setresuid(65534, 65534, 65534) != 0) ::_exit(10);
    rlimit none{0, 0};
    if (::setrlimit(RLIMIT_RTPRIO, &none) != 0) ::_exit(11);
    sys::Scheduling fifo;
    fifo.policy = sys::SchedPolicy::fifo;
    fifo.priority = 10;
    Result<void> r = sys::set_scheduling(fifo);
    if (r) ::_exit(12);
    if (r.error().kind != Errc::os_error || r.error().sys_errno != EPERM) ::_exit(13);
    if (std::strcmp(r.error().message, "sched_setattr: not permitted (needs CAP_SYS_NICE)") != 0)
      ::_exit(14);
    // Still the policy it had.
    Result<sys::Scheduling> got = sys::scheduling();
    ::_exit(got && got->policy != sys::SchedPolicy::fifo ? 0 : 15);
  }
  sys::WaitStatus w = wait_child(pid);
  EXPECT_TRUE(w.exited());
  EXPECT_EQ(w.exit_code(), 0);
}
