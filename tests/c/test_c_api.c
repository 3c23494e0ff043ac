/* The C API from C11: every call, every error code and message, threads,
 * joinable threads, Lock and RLock from static initialisers, interrupts.
 * A small runner of its own (GoogleTest is C++): each TEST is a function,
 * CHECK counts; the last line is "N passed, N failed, N skipped".
 *
 * Thread functions use only rawthread and C11 atomics (see rawthread.h);
 * the main thread checks what they recorded, after waits with deadlines.
 *
 * The same tests run against the dummy backend (RAWTHREAD_TEST_DUMMY, from
 * tests/meson.build), which runs a thread's function to its end inside the
 * call that starts it: a test that needs a thread running beside the main
 * one skips itself there, and one that expects something else of the dummy
 * says so where it does. */
#define _POSIX_C_SOURCE 200809L  /* clock_gettime, nanosleep, sigaction, fork, waitpid, kill */

#include <rawthread.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RAWTHREAD_TEST_DUMMY
#error "tests/meson.build defines RAWTHREAD_TEST_DUMMY (1: the dummy backend, 0: clone)"
#endif

static int checks_failed_in_test;
static bool skipped_in_test;
static long checks;

#define CHECK(expr)                                                          \
  do {                                                                       \
    ++checks;                                                                \
    if (!(expr)) {                                                           \
      ++checks_failed_in_test;                                               \
      printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);        \
    }                                                                        \
  } while (0)
#define CHECK_ERROR(call, code) \
  do {                          \
    int rc_ = (call);           \
    CHECK(rc_ == (code));       \
  } while (0)
/* Ends the test in the dummy build, where it counts as skipped. */
#define REQUIRES_CONCURRENCY()                                                                  \
  do {                                                                                          \
    if (RAWTHREAD_TEST_DUMMY) {                                                                 \
      printf("    skipped: dummy backend: needs a second thread running at the same time\n");   \
      skipped_in_test = true;                                                                   \
      return;                                                                                   \
    }                                                                                           \
  } while (0)

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Polls `flag` until it is nonzero or `seconds` pass. */
static bool wait_flag(atomic_int* flag, double seconds) {
  double deadline = now() + seconds;
  while (atomic_load(flag) == 0) {
    if (now() > deadline) return false;
    struct timespec tick = {0, 1000000};
    nanosleep(&tick, NULL);
  }
  return true;
}

static bool wait_threads(size_t count, double seconds) {
  double deadline = now() + seconds;
  while (rawthread_thread_count() > count) {
    if (now() > deadline) return false;
    struct timespec tick = {0, 1000000};
    nanosleep(&tick, NULL);
  }
  return true;
}

/* ---- errors ---------------------------------------------------------------- */

static void test_error_messages_match_the_cpp_api(void) {
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_OK), "no error") == 0);
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_E_CANT_START_THREAD), "can't start new thread") == 0);
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_E_RELEASE_UNLOCKED), "release unlocked lock") == 0);
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_E_RELEASE_UNOWNED),
               "cannot release un-acquired lock") == 0);
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_E_INTERRUPTED), "lock acquire interrupted") == 0);
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_E_JOIN_SELF), "cannot join current thread") == 0);
  CHECK(strcmp(rawthread_strerror(-1), "unknown error") == 0);
  CHECK(strcmp(rawthread_strerror(9999), "unknown error") == 0);
  CHECK(rawthread_error_kind(RAWTHREAD_E_NEGATIVE_TIMEOUT) == RAWTHREAD_VALUE_ERROR);
  CHECK(rawthread_error_kind(RAWTHREAD_E_TIMEOUT_TOO_LARGE) == RAWTHREAD_OVERFLOW_ERROR);
  CHECK(rawthread_error_kind(RAWTHREAD_E_INTERRUPTED) == RAWTHREAD_INTERRUPTED);
  CHECK(rawthread_error_kind(RAWTHREAD_E_RELEASE_UNLOCKED) == RAWTHREAD_THREAD_ERROR);
  for (int code = 0; code <= RAWTHREAD_E_UNKNOWN; ++code) CHECK(rawthread_strerror(code) != NULL);
}

/* ---- locks ----------------------------------------------------------------- */

static rawthread_lock static_lock = RAWTHREAD_LOCK_INIT;
static rawthread_rlock static_rlock = RAWTHREAD_RLOCK_INIT;

static void test_lock_from_a_static_initialiser(void) {
  bool got = false;
  CHECK(!rawthread_lock_locked(&static_lock));
  CHECK_ERROR(rawthread_lock_acquire(&static_lock, true, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(got && rawthread_lock_locked(&static_lock));
  got = true;
  CHECK_ERROR(rawthread_lock_acquire(&static_lock, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(!got);
  double start = now();
  CHECK_ERROR(rawthread_lock_acquire(&static_lock, true, 0.1, &got), 0);
  CHECK(!got && now() - start >= 0.1);
  CHECK_ERROR(rawthread_lock_release(&static_lock), 0);
  CHECK(!rawthread_lock_locked(&static_lock));
}

static void test_lock_errors_change_nothing(void) {
  rawthread_lock lock = RAWTHREAD_LOCK_INIT;
  bool got = true;
  CHECK_ERROR(rawthread_lock_acquire(&lock, false, 1.0, &got), RAWTHREAD_E_NONBLOCKING_TIMEOUT);
  CHECK_ERROR(rawthread_lock_acquire(&lock, true, -2.0, &got), RAWTHREAD_E_NEGATIVE_TIMEOUT);
  CHECK_ERROR(rawthread_lock_acquire(&lock, true, 1e300, &got), RAWTHREAD_E_TIMEOUT_TOO_LARGE);
  CHECK(got);  /* untouched on error */
  CHECK(!rawthread_lock_locked(&lock));
  CHECK_ERROR(rawthread_lock_release(&lock), RAWTHREAD_E_RELEASE_UNLOCKED);
  CHECK(!rawthread_lock_locked(&lock));
}

static void test_rlock_reenters_and_counts(void) {
  bool got = false;
  for (int i = 0; i < 3; ++i) {
    CHECK_ERROR(rawthread_rlock_acquire(&static_rlock, true, RAWTHREAD_NO_TIMEOUT, &got), 0);
    CHECK(got);
  }
  CHECK(rawthread_rlock_is_owned(&static_rlock));
  CHECK(rawthread_rlock_recursion_count(&static_rlock) == 3);
  for (int i = 0; i < 3; ++i) CHECK_ERROR(rawthread_rlock_release(&static_rlock), 0);
  CHECK(!rawthread_rlock_is_owned(&static_rlock));
  CHECK(rawthread_rlock_recursion_count(&static_rlock) == 0);
  CHECK_ERROR(rawthread_rlock_release(&static_rlock), RAWTHREAD_E_RELEASE_UNOWNED);
  CHECK_ERROR(rawthread_rlock_acquire(&static_rlock, false, 1.0, &got),
              RAWTHREAD_E_NONBLOCKING_TIMEOUT);
}

/* CPython's _at_fork_reinit: frees the lock whoever held it, at any depth. */
static void test_at_fork_reinit_frees_held_locks(void) {
  rawthread_lock lock = RAWTHREAD_LOCK_INIT;
  bool got = false;
  CHECK_ERROR(rawthread_lock_acquire(&lock, true, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(got && rawthread_lock_locked(&lock));
  rawthread_lock_at_fork_reinit(&lock);
  CHECK(!rawthread_lock_locked(&lock));
  CHECK_ERROR(rawthread_lock_acquire(&lock, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(got);
  CHECK_ERROR(rawthread_lock_release(&lock), 0);
  CHECK_ERROR(rawthread_lock_release(&lock), RAWTHREAD_E_RELEASE_UNLOCKED);

  rawthread_rlock rlock = RAWTHREAD_RLOCK_INIT;
  for (int i = 0; i < 3; ++i)
    CHECK_ERROR(rawthread_rlock_acquire(&rlock, true, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(rawthread_rlock_recursion_count(&rlock) == 3);
  rawthread_rlock_at_fork_reinit(&rlock);
  CHECK(!rawthread_rlock_is_owned(&rlock));
  CHECK(rawthread_rlock_recursion_count(&rlock) == 0);
  CHECK_ERROR(rawthread_rlock_release(&rlock), RAWTHREAD_E_RELEASE_UNOWNED);
  got = false;
  CHECK_ERROR(rawthread_rlock_acquire(&rlock, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(got && rawthread_rlock_is_owned(&rlock));
  CHECK(rawthread_rlock_recursion_count(&rlock) == 1);
  CHECK_ERROR(rawthread_rlock_release(&rlock), 0);
  CHECK(!rawthread_rlock_is_owned(&rlock));
}

/* ---- threads --------------------------------------------------------------- */

enum { kWorkers = 4, kRounds = 20000 };
static rawthread_lock counter_lock = RAWTHREAD_LOCK_INIT;
static long counter;
static atomic_int workers_done;
static atomic_ulong worker_idents[kWorkers];

static void worker(void* arg) {
  long slot = (long)arg;
  atomic_store(&worker_idents[slot], rawthread_get_ident());
  for (int i = 0; i < kRounds; ++i) {
    rawthread_lock_acquire(&counter_lock, true, RAWTHREAD_NO_TIMEOUT, NULL);
    ++counter;
    rawthread_lock_release(&counter_lock);
  }
  atomic_fetch_add(&workers_done, 1);
}

static void test_threads_share_a_counter(void) {
  rawthread_ident idents[kWorkers] = {0};
  for (long i = 0; i < kWorkers; ++i)
    CHECK_ERROR(rawthread_start_new_thread(worker, (void*)i, &idents[i]), 0);
  CHECK(wait_threads(0, 60));
  CHECK(atomic_load(&workers_done) == kWorkers);
  CHECK(counter == (long)kWorkers * kRounds);
  for (int i = 0; i < kWorkers; ++i) {
    CHECK(idents[i] != 0);
    CHECK(idents[i] == atomic_load(&worker_idents[i]));
  }
}

static atomic_int joinable_ran;
static void set_flag(void* arg) { atomic_store((atomic_int*)arg, 1); }

static rawthread_lock gate = RAWTHREAD_LOCK_INIT;
static void wait_at_gate(void* arg) {
  rawthread_lock_acquire(&gate, true, RAWTHREAD_NO_TIMEOUT, NULL);
  rawthread_lock_release(&gate);
  atomic_store((atomic_int*)arg, 1);
}

static void test_joinable_threads(void) {
  rawthread_thread thread = RAWTHREAD_THREAD_INIT;
  bool joined = false;
  CHECK_ERROR(rawthread_join(&thread, RAWTHREAD_NO_TIMEOUT, &joined), RAWTHREAD_E_JOIN_EMPTY);
  CHECK_ERROR(rawthread_start_joinable_thread(&thread, set_flag, &joinable_ran), 0);
  CHECK(rawthread_thread_ident(&thread) != 0);
  CHECK_ERROR(rawthread_join(&thread, RAWTHREAD_NO_TIMEOUT, &joined), 0);
  CHECK(joined && atomic_load(&joinable_ran) == 1 && rawthread_is_done(&thread));
  CHECK_ERROR(rawthread_join(&thread, 0, &joined), 0); /* twice: harmless */
  CHECK(joined);
  rawthread_detach(&thread);
  CHECK(wait_threads(0, 60));
}

static atomic_int reused_ran;

static void count_run(void* arg) { atomic_fetch_add((atomic_int*)arg, 1); }

/* A joined thread's stack goes into the cache, where the next start of the
 * same stack size finds it: the same thread pointer, so the same ident. (In
 * the dummy build every ident is the one constant.) */
static void test_a_joined_threads_stack_is_reused(void) {
  rawthread_release_cached_stacks();
  rawthread_thread first = RAWTHREAD_THREAD_INIT, second = RAWTHREAD_THREAD_INIT;
  bool joined = false;
  CHECK_ERROR(rawthread_start_joinable_thread(&first, count_run, &reused_ran), 0);
  CHECK_ERROR(rawthread_join(&first, RAWTHREAD_NO_TIMEOUT, &joined), 0);
  CHECK(joined);
  CHECK_ERROR(rawthread_start_joinable_thread(&second, count_run, &reused_ran), 0);
  CHECK_ERROR(rawthread_join(&second, RAWTHREAD_NO_TIMEOUT, &joined), 0);
  CHECK(joined);
  CHECK(rawthread_thread_ident(&second) == rawthread_thread_ident(&first));
  CHECK(atomic_load(&reused_ran) == 2);
  rawthread_detach(&first);
  rawthread_detach(&second);
  rawthread_release_cached_stacks();
  CHECK(rawthread_thread_count() == 0);
}

/* Issue 13: copies of a handle both joined gave one stack back twice
 * (thread_count() went to SIZE_MAX and the next start hung). A copy is now
 * refused and changes nothing; the original joins; moving works. */
static atomic_int copied_ran;

static void test_a_copied_handle_is_refused(void) {
  rawthread_thread original = RAWTHREAD_THREAD_INIT, copy = RAWTHREAD_THREAD_INIT;
  bool joined = false;
  CHECK_ERROR(rawthread_start_joinable_thread(&original, count_run, &copied_ran), 0);
  copy = original;
  CHECK_ERROR(rawthread_join(&copy, RAWTHREAD_NO_TIMEOUT, &joined), RAWTHREAD_E_HANDLE_COPIED);
  CHECK(!rawthread_is_done(&copy));
  CHECK(rawthread_thread_ident(&copy) == rawthread_thread_ident(&original));
  CHECK_ERROR(rawthread_join(&original, 60, &joined), 0);
  CHECK(joined && atomic_load(&copied_ran) == 1);
  CHECK_ERROR(rawthread_join(&copy, 60, &joined), RAWTHREAD_E_HANDLE_COPIED);
  CHECK_ERROR(rawthread_thread_move(&original, &copy), RAWTHREAD_E_HANDLE_COPIED);
  CHECK(rawthread_is_done(&original));
  rawthread_detach(&copy); /* forgets the copy alone */
  CHECK(rawthread_thread_ident(&copy) == 0);
  CHECK(rawthread_thread_count() == 0);
  rawthread_detach(&original);
  CHECK(rawthread_thread_count() == 0);

  /* The stack went back once: starts go on working. */
  rawthread_thread from = RAWTHREAD_THREAD_INIT, to = RAWTHREAD_THREAD_INIT;
  CHECK_ERROR(rawthread_start_joinable_thread(&from, count_run, &copied_ran), 0);
  rawthread_ident ident = rawthread_thread_ident(&from);
  CHECK_ERROR(rawthread_thread_move(&to, &from), 0);
  CHECK(rawthread_thread_ident(&from) == 0 && rawthread_thread_ident(&to) == ident);
  CHECK_ERROR(rawthread_join(&from, 0, &joined), RAWTHREAD_E_JOIN_EMPTY);
  CHECK_ERROR(rawthread_join(&to, 60, &joined), 0);
  CHECK(joined && atomic_load(&copied_ran) == 2);
  rawthread_detach(&to);
  CHECK(wait_threads(0, 60));
}

static void test_timed_join_of_a_thread_at_a_gate(void) {
  REQUIRES_CONCURRENCY(); /* the thread waits at a gate while main joins */
  rawthread_thread thread = RAWTHREAD_THREAD_INIT;
  bool joined = false;
  static atomic_int passed;
  rawthread_lock_acquire(&gate, true, RAWTHREAD_NO_TIMEOUT, NULL);
  CHECK_ERROR(rawthread_start_joinable_thread(&thread, wait_at_gate, &passed), 0);
  double start = now();
  CHECK_ERROR(rawthread_join(&thread, 0.1, &joined), 0);
  CHECK(!joined && now() - start >= 0.1 && !rawthread_is_done(&thread));
  CHECK_ERROR(rawthread_join(&thread, -5, &joined), RAWTHREAD_E_NEGATIVE_TIMEOUT);
  rawthread_lock_release(&gate);
  CHECK_ERROR(rawthread_join(&thread, 60, &joined), 0);
  CHECK(joined && atomic_load(&passed) == 1);
  rawthread_detach(&thread);
  CHECK(wait_threads(0, 60));
}

/* In the child of fork(), the locks a thread of the parent held: it is not
 * there to release them, and at_fork_reinit frees them. The child reports
 * through its exit status, one code per check, and uses only
 * async-signal-safe calls and rawthread. */
static rawthread_lock fork_lock = RAWTHREAD_LOCK_INIT;
static rawthread_rlock fork_rlock = RAWTHREAD_RLOCK_INIT;
static rawthread_lock fork_gate = RAWTHREAD_LOCK_INIT;
static atomic_int fork_holding;

static void hold_until_the_gate_opens(void* arg) {
  (void)arg;
  bool got_lock = false, got_rlock = false;
  rawthread_lock_acquire(&fork_lock, true, RAWTHREAD_NO_TIMEOUT, &got_lock);
  rawthread_rlock_acquire(&fork_rlock, true, RAWTHREAD_NO_TIMEOUT, &got_rlock);
  atomic_store(&fork_holding, got_lock && got_rlock ? 1 : 2);
  rawthread_lock_acquire(&fork_gate, true, RAWTHREAD_NO_TIMEOUT, NULL);
  rawthread_lock_release(&fork_gate);
  rawthread_rlock_release(&fork_rlock);
  rawthread_lock_release(&fork_lock);
  atomic_store(&fork_holding, 3);
}

static int fork_child_checks(void) {
  bool got = true;
  if (rawthread_thread_count() != 0) return 10;
  if (!rawthread_lock_locked(&fork_lock)) return 11;
  if (rawthread_lock_acquire(&fork_lock, false, RAWTHREAD_NO_TIMEOUT, &got) != 0 || got) return 12;
  rawthread_lock_at_fork_reinit(&fork_lock);
  if (rawthread_lock_locked(&fork_lock)) return 13;
  if (rawthread_lock_acquire(&fork_lock, false, RAWTHREAD_NO_TIMEOUT, &got) != 0 || !got) return 14;
  if (rawthread_lock_release(&fork_lock) != 0) return 15;
  if (rawthread_rlock_is_owned(&fork_rlock)) return 16;
  if (rawthread_rlock_acquire(&fork_rlock, false, RAWTHREAD_NO_TIMEOUT, &got) != 0 || got) return 17;
  rawthread_rlock_at_fork_reinit(&fork_rlock);
  if (rawthread_rlock_acquire(&fork_rlock, true, RAWTHREAD_NO_TIMEOUT, &got) != 0 || !got) return 18;
  if (!rawthread_rlock_is_owned(&fork_rlock)) return 19;
  if (rawthread_rlock_recursion_count(&fork_rlock) != 1) return 20;
  if (rawthread_rlock_release(&fork_rlock) != 0) return 21;
  if (rawthread_rlock_is_owned(&fork_rlock)) return 22;
  return 0;
}

/* Waits for child `pid` up to `seconds`, then kills it: its wait status, or
 * -1 if it had to be killed. */
static int wait_child(pid_t pid, double seconds) {
  double deadline = now() + seconds;
  int status = 0;
  for (;;) {
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid) return status;
    if (now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    struct timespec tick = {0, 2000000};
    nanosleep(&tick, NULL);
  }
}

static void test_at_fork_reinit_in_a_forked_child(void) {
  REQUIRES_CONCURRENCY(); /* the holder waits at a gate while main forks */
  bool got = false;
  CHECK_ERROR(rawthread_lock_acquire(&fork_gate, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(got);
  atomic_store(&fork_holding, 0);
  CHECK_ERROR(rawthread_start_new_thread(hold_until_the_gate_opens, NULL, NULL), 0);
  CHECK(wait_flag(&fork_holding, 60) && atomic_load(&fork_holding) == 1);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) _exit(fork_child_checks());
  if (pid > 0) {
    int status = wait_child(pid, 60);
    CHECK(status != -1);
    CHECK(WIFEXITED(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      printf("    the child failed its check %d\n", WEXITSTATUS(status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  /* The parent's thread still holds both and lets go once the gate opens. */
  CHECK(rawthread_lock_locked(&fork_lock));
  CHECK(!rawthread_rlock_is_owned(&fork_rlock));
  CHECK_ERROR(rawthread_lock_release(&fork_gate), 0);
  CHECK(wait_threads(0, 60));
  CHECK(atomic_load(&fork_holding) == 3);
  CHECK(!rawthread_lock_locked(&fork_lock));
}

static void test_stack_size(void) {
  size_t old = 1;
  CHECK(rawthread_get_stack_size() == 0);
  CHECK_ERROR(rawthread_set_stack_size(-1, &old), RAWTHREAD_E_NEGATIVE_STACK_SIZE);
  CHECK_ERROR(rawthread_set_stack_size(100, &old), RAWTHREAD_E_STACK_SIZE_TOO_SMALL);
  CHECK(old == 1);
  if (RAWTHREAD_TEST_DUMMY) {
    /* No thread gets a stack of its own: a size the clone backend takes is
     * refused, after the same checks, and the setting stays 0. */
    CHECK_ERROR(rawthread_set_stack_size(1 << 20, &old), RAWTHREAD_E_STACK_SIZE_NOT_SUPPORTED);
    CHECK(old == 1 && rawthread_get_stack_size() == 0);
    CHECK(rawthread_error_kind(RAWTHREAD_E_STACK_SIZE_NOT_SUPPORTED) == RAWTHREAD_THREAD_ERROR);
    CHECK_ERROR(rawthread_set_stack_size(0, &old), 0);
    CHECK(old == 0);
  } else {
    CHECK_ERROR(rawthread_set_stack_size(1 << 20, &old), 0);
    CHECK(old == 0 && rawthread_get_stack_size() == 1 << 20);
    CHECK_ERROR(rawthread_set_stack_size(0, &old), 0);
    CHECK(old == 1 << 20);
  }
}

/* ---- interrupts ------------------------------------------------------------- */

static void on_sigint(int signum) {
  (void)signum;
  rawthread_request_interrupt();
}

static void interrupt_after_a_while(void* arg) {
  bool got;
  rawthread_lock nap = RAWTHREAD_LOCK_INIT; /* "sleep" without libc: a timed wait */
  rawthread_lock_acquire(&nap, true, RAWTHREAD_NO_TIMEOUT, &got);
  rawthread_lock_acquire(&nap, true, 0.1, &got);
  atomic_store((atomic_int*)arg, rawthread_interrupt_main(SIGINT) == 0 ? 1 : 2);
}

static void test_interrupt_main_ends_a_wait(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  CHECK(sigaction(SIGINT, &action, NULL) == 0);
  static atomic_int sent;
  rawthread_lock held = RAWTHREAD_LOCK_INIT;
  bool got = false;
  rawthread_lock_acquire(&held, true, RAWTHREAD_NO_TIMEOUT, &got);
  if (RAWTHREAD_TEST_DUMMY) {
    /* The function runs inside the start, and no signal is sent: the start
     * reports the interrupt once the function is done, and main's next wait
     * runs its course. An untimed one is refused, as nothing could end it. */
    CHECK_ERROR(rawthread_start_new_thread(interrupt_after_a_while, &sent, NULL),
                RAWTHREAD_E_STARTED_INTERRUPTED);
    CHECK(atomic_load(&sent) == 1);
    CHECK(rawthread_error_kind(RAWTHREAD_E_STARTED_INTERRUPTED) == RAWTHREAD_INTERRUPTED);
    double start = now();
    CHECK_ERROR(rawthread_lock_acquire(&held, true, 0.1, &got), 0);
    CHECK(!got && now() - start >= 0.1);
    CHECK_ERROR(rawthread_lock_acquire(&held, true, RAWTHREAD_NO_TIMEOUT, &got),
                RAWTHREAD_E_WOULD_DEADLOCK);
  } else {
    CHECK_ERROR(rawthread_start_new_thread(interrupt_after_a_while, &sent, NULL), 0);
    CHECK_ERROR(rawthread_lock_acquire(&held, true, 60, &got), RAWTHREAD_E_INTERRUPTED);
    CHECK(wait_flag(&sent, 60) && atomic_load(&sent) == 1);
  }
  CHECK_ERROR(rawthread_interrupt_main(0), RAWTHREAD_E_SIGNAL_OUT_OF_RANGE);
  signal(SIGINT, SIG_DFL);
  CHECK(wait_threads(0, 60));
}

int main(void) {
  struct {
    const char* name;
    void (*run)(void);
  } tests[] = {
      {"error_messages_match_the_cpp_api", test_error_messages_match_the_cpp_api},
      {"lock_from_a_static_initialiser", test_lock_from_a_static_initialiser},
      {"lock_errors_change_nothing", test_lock_errors_change_nothing},
      {"rlock_reenters_and_counts", test_rlock_reenters_and_counts},
      {"at_fork_reinit_frees_held_locks", test_at_fork_reinit_frees_held_locks},
      {"threads_share_a_counter", test_threads_share_a_counter},
      {"joinable_threads", test_joinable_threads},
      {"a_joined_threads_stack_is_reused", test_a_joined_threads_stack_is_reused},
      {"a_copied_handle_is_refused", test_a_copied_handle_is_refused},
      {"timed_join_of_a_thread_at_a_gate", test_timed_join_of_a_thread_at_a_gate},
      {"at_fork_reinit_in_a_forked_child", test_at_fork_reinit_in_a_forked_child},
      {"stack_size", test_stack_size},
      {"interrupt_main_ends_a_wait", test_interrupt_main_ends_a_wait},
  };
  int passed = 0, failed = 0, skipped = 0;
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; ++i) {
    printf("[ RUN      ] %s\n", tests[i].name);
    checks_failed_in_test = 0;
    skipped_in_test = false;
    tests[i].run();
    /* A check that failed before the skip still fails the test. */
    const char* outcome = checks_failed_in_test != 0 ? "[  FAILED  ]"
                          : skipped_in_test          ? "[  SKIPPED ]"
                                                     : "[       OK ]";
    printf("%s %s\n", outcome, tests[i].name);
    if (checks_failed_in_test != 0) ++failed;
    else if (skipped_in_test) ++skipped;
    else ++passed;
  }
  printf("%d passed, %d failed, %d skipped (%ld checks)\n", passed, failed, skipped, checks);
  return failed == 0 ? 0 : 1;
}
