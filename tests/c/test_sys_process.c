/* SPDX-License-Identifier: MIT */
/* rawthread/sys.h's processes, clocks and thread settings from C11: each
 * call's value on success and -errno on failure (-EINVAL for an argument
 * out of its domain), and fork + wait4 statuses. The last line is
 * "N passed, N failed". Children forked with rawthread_fork make only raw
 * calls until they exit; every wait for one has a deadline. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, usleep's replacement nanosleep */

#include <rawthread/sys.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int failures;
static int checks;

#define CHECK(expr)                                                  \
  do {                                                               \
    ++checks;                                                        \
    if (!(expr)) {                                                   \
      ++failures;                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
    }                                                                \
  } while (0)

enum { kNoSuchPid = 0x3ffffff0 };

/* The child's status, polling with WNOHANG for at most 60 s; -1 past it. */
static int wait_child(int pid) {
  for (int i = 0; i < 60000; ++i) {
    int status = 0;
    int got = rawthread_wait4(pid, &status, RAWTHREAD_WNOHANG, NULL);
    if (got == pid) return status;
    if (got < 0) return -1;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  rawthread_kill(pid, SIGKILL);
  rawthread_wait4(pid, NULL, 0, NULL);
  return -1;
}

static volatile sig_atomic_t usr1_seen;
static void on_usr1(int signum) { usr1_seen = signum; }

static void test_ids_and_signals(void) {
  int pid = rawthread_getpid();
  CHECK(pid > 0);
  CHECK(rawthread_gettid() == pid); /* the main thread */
  CHECK(rawthread_kill(pid, 0) == 0);
  CHECK(rawthread_kill(kNoSuchPid, 0) == -ESRCH);
  CHECK(rawthread_kill(pid, 65) == -EINVAL);
  CHECK(rawthread_tgkill(pid, kNoSuchPid, 0) == -ESRCH);

  CHECK(rawthread_set_signal_handler(SIGUSR1, NULL, RAWTHREAD_SA_RESTART, 0) == -EINVAL);
  CHECK(rawthread_set_signal_handler(0, on_usr1, RAWTHREAD_SA_RESTART, 0) == -EINVAL);
  CHECK(rawthread_set_signal_handler(SIGKILL, on_usr1, RAWTHREAD_SA_RESTART, 0) == -EINVAL);
  CHECK(rawthread_set_signal_handler(SIGUSR1, on_usr1, RAWTHREAD_SA_RESTART, 0) == 0);
  CHECK(rawthread_tgkill(pid, rawthread_gettid(), SIGUSR1) == 0);
  CHECK(usr1_seen == SIGUSR1);

  /* Blocked, it waits; unblocked, it runs. */
  uint64_t usr1 = (uint64_t)1 << (SIGUSR1 - 1), old = 0, now = 0;
  usr1_seen = 0;
  CHECK(rawthread_signal_mask(RAWTHREAD_SIG_BLOCK, &usr1, &old) == 0);
  CHECK((old & usr1) == 0);
  CHECK(rawthread_signal_mask(RAWTHREAD_SIG_BLOCK, NULL, &now) == 0);
  CHECK((now & usr1) != 0);
  CHECK(rawthread_tgkill(pid, rawthread_gettid(), SIGUSR1) == 0);
  CHECK(usr1_seen == 0);
  CHECK(rawthread_signal_mask(RAWTHREAD_SIG_SETMASK, &old, NULL) == 0);
  CHECK(usr1_seen == SIGUSR1);
  CHECK(rawthread_signal_mask(7, &old, NULL) == -EINVAL);
  CHECK(rawthread_ignore_signal(SIGUSR1) == 0);
  CHECK(rawthread_set_signal_default(SIGUSR1) == 0);
  CHECK(rawthread_set_signal_default(65) == -EINVAL);

  static char stack[1 << 16];
  rawthread_alt_stack before, after;
  CHECK(rawthread_get_alt_stack(NULL) == -EINVAL);
  CHECK(rawthread_get_alt_stack(&before) == 0);
  CHECK(rawthread_set_alt_stack(NULL, sizeof stack, NULL) == -EINVAL);
  CHECK(rawthread_set_alt_stack(stack, 16, NULL) == -ENOMEM);
  CHECK(rawthread_set_alt_stack(stack, sizeof stack, NULL) == 0);
  CHECK(rawthread_get_alt_stack(&after) == 0);
  CHECK(after.base == stack && after.size == sizeof stack && after.flags == 0);
  CHECK(rawthread_disable_alt_stack(&after) == 0);
  CHECK(after.base == stack);
  CHECK(rawthread_get_alt_stack(&after) == 0);
  CHECK(after.flags == RAWTHREAD_SS_DISABLE);
}

static void test_fork_execve_wait4(void) {
  int pid = rawthread_fork();
  CHECK(pid >= 0);
  if (pid == 0) rawthread_exit_group(9);
  int status = wait_child(pid);
  CHECK(status != -1 && rawthread_wifexited(status) && rawthread_wexitstatus(status) == 9);

  char path[] = "/bin/true";
  char* argv[] = {path, NULL};
  char* envp[] = {NULL};
  pid = rawthread_fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    rawthread_execve(path, argv, envp);
    rawthread_exit_group(127);
  }
  status = wait_child(pid);
  CHECK(status != -1 && rawthread_wifexited(status) && rawthread_wexitstatus(status) == 0);

  pid = rawthread_fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    rawthread_tgkill(rawthread_getpid(), rawthread_gettid(), SIGKILL);
    rawthread_exit_group(1);
  }
  rawthread_rusage usage;
  memset(&usage, 0, sizeof usage);
  for (int i = 0; i < 60000; ++i) {
    int got = rawthread_wait4(pid, &status, RAWTHREAD_WNOHANG, &usage);
    if (got != 0) break;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  CHECK(rawthread_wifsignaled(status) && rawthread_wtermsig(status) == SIGKILL);

  CHECK(rawthread_execve("/nonexistent/rawthread", argv, envp) == -ENOENT);
  CHECK(rawthread_execve(NULL, argv, envp) == -EINVAL);
  CHECK(rawthread_wait4(-1, NULL, 0, NULL) == -ECHILD);
  CHECK(rawthread_wait4(-1, NULL, 0x1000, NULL) == -EINVAL);
}

static void test_clocks(void) {
  struct timespec libc_now;
  clock_gettime(CLOCK_REALTIME, &libc_now);
  int64_t real = rawthread_realtime_ns();
  int64_t libc_ns = (int64_t)libc_now.tv_sec * 1000000000 + libc_now.tv_nsec;
  CHECK(real >= libc_ns && real - libc_ns < 5000000000);
  int64_t mono = rawthread_monotonic_ns();
  int64_t boot = rawthread_boottime_ns();
  CHECK(mono > 0 && boot >= mono);
}

static void test_thread_settings(void) {
  char name[16];
  char original[16];
  CHECK(rawthread_thread_name(original) == 0);
  CHECK(rawthread_set_thread_name("c-sys-test") == 0);
  CHECK(rawthread_thread_name(name) == 0 && strcmp(name, "c-sys-test") == 0);
  CHECK(rawthread_set_thread_name("sixteen-bytes-xy") == -EINVAL);
  CHECK(rawthread_set_thread_name(NULL) == -EINVAL);
  CHECK(rawthread_thread_name(name) == 0 && strcmp(name, "c-sys-test") == 0);
  CHECK(rawthread_thread_name(NULL) == -EINVAL);
  CHECK(rawthread_set_thread_name(original) == 0);

  rawthread_cpu_set cpus, empty, again;
  CHECK(rawthread_get_affinity(0, &cpus) == 0);
  int any = 0;
  for (int cpu = 0; cpu < 1024; ++cpu) any |= rawthread_cpu_contains(&cpus, cpu);
  CHECK(any);
  CHECK(rawthread_set_affinity(0, &cpus) == 0);
  CHECK(rawthread_get_affinity(0, &again) == 0 && memcmp(&cpus, &again, sizeof cpus) == 0);
  rawthread_cpu_zero(&empty);
  CHECK(rawthread_set_affinity(0, &empty) == -EINVAL);
  CHECK(rawthread_set_affinity(-1, &cpus) == -EINVAL);
  CHECK(rawthread_get_affinity(kNoSuchPid, &again) == -ESRCH);
  CHECK(rawthread_get_affinity(0, NULL) == -EINVAL);

  rawthread_scheduling s;
  CHECK(rawthread_get_scheduling(0, &s) == 0);
  CHECK(s.policy == RAWTHREAD_SCHED_OTHER || s.policy == RAWTHREAD_SCHED_BATCH ||
        s.policy == RAWTHREAD_SCHED_IDLE);
  rawthread_scheduling bad = s;
  bad.nice = 20;
  CHECK(rawthread_set_scheduling(0, &bad) == -EINVAL);
  bad = s;
  bad.policy = 42;
  CHECK(rawthread_set_scheduling(0, &bad) == -EINVAL);
  CHECK(rawthread_set_scheduling(0, &s) == 0); /* the same again: allowed */
  CHECK(rawthread_get_scheduling(kNoSuchPid, &s) == -ESRCH);
}

int main(void) {
  test_ids_and_signals();
  test_fork_execve_wait4();
  test_clocks();
  test_thread_settings();
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
