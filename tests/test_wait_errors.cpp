// SPDX-License-Identifier: MIT
// A futex wait the kernel refuses: acquire ends at once with thread_error
// "lock wait failed" and the errno, instead of spinning; the Lockable calls,
// which have no error to return, trap.
//
// The refusal comes from a seccomp filter, in a forked child: every
// FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG call (the op of every lock wait)
// fails with EPERM, every other system call passes. That is the confined
// process of rawthread/lock.hpp, and needs no undefined behaviour; the other
// cause, a misaligned lock, is tested through the C API
// (tests/c/test_c_api.c), where the misuse is the caller's.
//
// A child that spins instead of returning is killed at the deadline, and the
// case fails. QEMU's user mode refuses seccomp filters (they would apply to
// QEMU itself): the cases skip there.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstddef>

#include "support.hpp"

using namespace rawthread;

namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr std::uint32_t kAuditArch = AUDIT_ARCH_RISCV64;
#endif

constexpr int kDeniedErrno = EPERM;

// Makes the lock waits' futex op fail with kDeniedErrno in this process.
// The op is the low word of args[1] (all three arches are little-endian).
bool deny_futex_waits() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_futex, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[1])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (kDeniedErrno & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// What a child reports through its pipe: 0 when every check passed, else the
// line of the first that failed; kNoFilter when it could not confine itself.
constexpr int kNoFilter = -1;
#define CHILD_CHECK(expr)      \
  do {                         \
    if (!(expr)) return __LINE__; \
  } while (0)

struct Child {
  int status;  // rt_test::wait_child's: -1 when it had to be killed
  int report;  // what `checks` returned; kNoFilter; or 0 when nothing came
};

// Runs `checks` (returns 0 or a failed line) in a child confined by
// deny_futex_waits(), with `prepare` run before the filter goes in.
template <class Prepare, class Checks>
Child run_confined(Prepare prepare, Checks checks) {
  int fds[2];
  if (::pipe(fds) != 0) return {-2, 0};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    rlimit no_core{0, 0};  // a trap is expected: no core file
    ::setrlimit(RLIMIT_CORE, &no_core);
    prepare();
    int report = deny_futex_waits() ? checks() : kNoFilter;
    (void)!::write(fds[1], &report, sizeof report);
    ::_exit(0);
  }
  ::close(fds[1]);
  Child child{pid < 0 ? -2 : rt_test::wait_child(pid, rt_test::kDeadline), 0};
  if (::read(fds[0], &child.report, sizeof child.report) != sizeof child.report) child.report = 0;
  ::close(fds[0]);
  return child;
}

bool ended_normally(const Child& child) {
  return child.status >= 0 && WIFEXITED(child.status) && WEXITSTATUS(child.status) == 0;
}

// Died of __builtin_trap: ud2 on x86_64, brk on aarch64, ebreak on riscv64.
bool trapped(const Child& child) {
  return child.status >= 0 && WIFSIGNALED(child.status) &&
         (WTERMSIG(child.status) == SIGILL || WTERMSIG(child.status) == SIGTRAP);
}

#define SKIP_WITHOUT_FILTER(child)                                                          \
  do {                                                                                      \
    if ((child).report == kNoFilter)                                                        \
      GTEST_SKIP() << "no seccomp filter here (QEMU's user mode refuses them)";             \
  } while (0)

bool is_wait_failed(const Result<bool>& r) {
  return !r.has_value() && r.error().kind == Errc::thread_error &&
         std::strcmp(r.error().message, "lock wait failed") == 0 &&
         r.error().sys_errno == kDeniedErrno;
}

// Statics: the child's copy is the one it uses; a fresh one for each case.
Lock held_lock;
RLock owned_rlock;

// Hands owned_rlock to a thread that ends holding it: a wait for it in the
// main thread is then for another owner, for ever.
void give_rlock_to_a_thread() {
  static std::atomic<int> took;
  took = 0;
  if (!start_new_thread([] { took.store(rt_test::is_true(owned_rlock.acquire(false)) ? 1 : 2); })
           .has_value())
    return;
  while (took.load() == 0 || thread_count() != 0) rt_test::sleep_ms(1);  // the parent's deadline
}

class WaitErrorTest : public rt_test::RawthreadTest {};

TEST_F(WaitErrorTest, LockAcquireEndsWithTheErrno) {
  Child child = run_confined([] { held_lock.at_fork_reinit(); }, [] {
    CHILD_CHECK(rt_test::is_true(held_lock.acquire(false)));
    // A timeout far beyond the wait's end, which must come at once.
    std::int64_t start = rt_test::now_ns();
    CHILD_CHECK(is_wait_failed(held_lock.acquire(true, 20)));
    CHILD_CHECK(rt_test::seconds_since(start) < 20);
    Result<bool> untimed = rt_test::kDummy ? held_lock.acquire(true, 20) : held_lock.acquire();
    CHILD_CHECK(is_wait_failed(untimed));
    // Nothing taken, nothing lost: the holder still releases it, once.
    CHILD_CHECK(held_lock.locked());
    CHILD_CHECK(held_lock.release().has_value());
    CHILD_CHECK(!held_lock.release().has_value());
    return 0;
  });
  SKIP_WITHOUT_FILTER(child);
  EXPECT_NE(child.status, -1) << "the acquire spun until the child was killed";
  EXPECT_TRUE(ended_normally(child)) << "wait status " << child.status;
  EXPECT_EQ(child.report, 0) << "the check at line " << child.report << " failed";
}

TEST_F(WaitErrorTest, RLockAcquireEndsWithTheErrno) {
  RT_REQUIRES_CONCURRENCY();  // another thread owns the RLock
  Child child = run_confined([] { owned_rlock.at_fork_reinit(); give_rlock_to_a_thread(); }, [] {
    CHILD_CHECK(owned_rlock.recursion_count() == 0 && !owned_rlock.try_lock());
    std::int64_t start = rt_test::now_ns();
    CHILD_CHECK(is_wait_failed(owned_rlock.acquire(true, 20)));
    CHILD_CHECK(rt_test::seconds_since(start) < 20);
    CHILD_CHECK(is_wait_failed(owned_rlock.acquire()));
    CHILD_CHECK(!owned_rlock.is_owned() && !owned_rlock.release().has_value());
    return 0;
  });
  SKIP_WITHOUT_FILTER(child);
  EXPECT_NE(child.status, -1) << "the acquire spun until the child was killed";
  EXPECT_TRUE(ended_normally(child)) << "wait status " << child.status;
  EXPECT_EQ(child.report, 0) << "the check at line " << child.report << " failed";
}

// lock() and try_lock_for() have no error to return: they trap.
TEST_F(WaitErrorTest, LockableCallsTrap) {
  RT_REQUIRES_CONCURRENCY();  // the dummy's lock() of a held lock traps anyway
  auto hold = [] {
    held_lock.at_fork_reinit();
    (void)held_lock.acquire(false);
  };
  Child locked = run_confined(hold, [] { held_lock.lock(); return 0; });
  SKIP_WITHOUT_FILTER(locked);
  EXPECT_TRUE(trapped(locked)) << "Lock::lock(): wait status " << locked.status;
  Child timed = run_confined(hold, [] {
    return held_lock.try_lock_for(std::chrono::seconds(20)) ? __LINE__ : 0;
  });
  EXPECT_TRUE(trapped(timed)) << "Lock::try_lock_for(): wait status " << timed.status;

  auto give = [] {
    owned_rlock.at_fork_reinit();
    give_rlock_to_a_thread();
  };
  Child rlocked = run_confined(give, [] { owned_rlock.lock(); return 0; });
  EXPECT_TRUE(trapped(rlocked)) << "RLock::lock(): wait status " << rlocked.status;
  Child rtimed = run_confined(give, [] {
    return owned_rlock.try_lock_for(std::chrono::seconds(20)) ? __LINE__ : 0;
  });
  EXPECT_TRUE(trapped(rtimed)) << "RLock::try_lock_for(): wait status " << rtimed.status;
}

}  // namespace
