/* SPDX-License-Identifier: MIT */
/* The C API from C11: every call, every error code and message, threads,
 * joinable threads, Lock and RLock from static initialisers, interrupts,
 * NULL arguments, rawthread_last_errno in every kind of thread, and a lock
 * at a misaligned address.
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
#define _POSIX_C_SOURCE 200809L  /* clock_gettime, nanosleep, sigaction, fork, waitpid, kill,
                                    pthread, setrlimit */

#include <rawthread.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RAWTHREAD_TEST_DUMMY
#error "tests/meson.build defines RAWTHREAD_TEST_DUMMY (1: the dummy backend, 0: clone)"
#endif
#ifndef RAWTHREAD_TEST_UBSAN
#error "tests/c/meson.build defines RAWTHREAD_TEST_UBSAN (1: built with -Dubsan=true)"
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

/* A skip in the middle of a test: the checks before it still count. */
static void skip(const char* why) {
  printf("    skipped: %s\n", why);
  skipped_in_test = true;
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

/* Every code, written out from /work/shared/API.md and the C ABI rather than
 * from the library's own list: its number (fixed: a program compiled against
 * an older rawthread.h passes the same numbers), its message (the text the
 * C++ API's Error carries) and its kind. */
static const struct {
  int code;
  int number;
  const char* message;
  rawthread_errc kind;
} every_code[] = {
    {RAWTHREAD_E_CANT_START_THREAD, 1, "can't start new thread", RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_NONBLOCKING_TIMEOUT, 2, "can't specify a timeout for a non-blocking call",
     RAWTHREAD_VALUE_ERROR},
    {RAWTHREAD_E_NEGATIVE_TIMEOUT, 3, "timeout value must be a non-negative number",
     RAWTHREAD_VALUE_ERROR},
    {RAWTHREAD_E_TIMEOUT_TOO_LARGE, 4, "timeout value is too large", RAWTHREAD_OVERFLOW_ERROR},
    {RAWTHREAD_E_RELEASE_UNLOCKED, 5, "release unlocked lock", RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_RELEASE_UNOWNED, 6, "cannot release un-acquired lock", RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_COUNT_OVERFLOW, 7, "Internal lock count overflowed", RAWTHREAD_OVERFLOW_ERROR},
    {RAWTHREAD_E_INTERRUPTED, 8, "lock acquire interrupted", RAWTHREAD_INTERRUPTED},
    {RAWTHREAD_E_SIGNAL_OUT_OF_RANGE, 9, "signal number out of range", RAWTHREAD_VALUE_ERROR},
    {RAWTHREAD_E_CANT_SIGNAL_MAIN, 10, "can't signal the main thread", RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_NEGATIVE_STACK_SIZE, 11, "size must be 0 or a positive value",
     RAWTHREAD_VALUE_ERROR},
    {RAWTHREAD_E_STACK_SIZE_TOO_SMALL, 12, "size not valid: must be 0 or at least 32768 bytes",
     RAWTHREAD_VALUE_ERROR},
    {RAWTHREAD_E_JOIN_EMPTY, 13, "cannot join thread before it is started",
     RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_JOIN_SELF, 14, "cannot join current thread", RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_HANDLE_COPIED, 15, "thread handle is a copy: use the one start filled",
     RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_STACK_SIZE_NOT_SUPPORTED, 16, "setting thread stack size not supported",
     RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_WOULD_DEADLOCK, 17, "acquire would deadlock: no other thread can release the lock",
     RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_STARTED_INTERRUPTED, 18, "interrupt_main() was called in the started function",
     RAWTHREAD_INTERRUPTED},
    {RAWTHREAD_E_NULL_ARGUMENT, 19, "argument must not be null", RAWTHREAD_VALUE_ERROR},
    {RAWTHREAD_E_LOCK_WAIT_FAILED, 20, "lock wait failed", RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_INTERRUPT_EMPTY, 21, "cannot interrupt thread before it is started",
     RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_CANT_SIGNAL_THREAD, 22, "can't signal the thread", RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_SLEEP_INTERRUPTED, 23, "sleep interrupted", RAWTHREAD_INTERRUPTED},
    {RAWTHREAD_E_SLEEP_FAILED, 24, "sleep failed", RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_JOIN_INTERRUPTED, 25, "join interrupted", RAWTHREAD_INTERRUPTED},
    {RAWTHREAD_E_RELEASE_NONE, 26, "n must be one or more", RAWTHREAD_VALUE_ERROR},
    {RAWTHREAD_E_SEMAPHORE_OVERFLOW, 27, "semaphore value would exceed UINT32_MAX",
     RAWTHREAD_OVERFLOW_ERROR},
    {RAWTHREAD_E_RELEASED_TOO_MANY, 28, "Semaphore released too many times", RAWTHREAD_VALUE_ERROR},
    /* Condition */
    {RAWTHREAD_E_WAIT_UNACQUIRED, 29, "cannot wait on un-acquired lock", RAWTHREAD_THREAD_ERROR},
    {RAWTHREAD_E_NOTIFY_UNACQUIRED, 30, "cannot notify on un-acquired lock",
     RAWTHREAD_THREAD_ERROR},
    /* Barrier */
    {RAWTHREAD_E_BARRIER_NO_PARTIES, 31, "parties must be > 0", RAWTHREAD_VALUE_ERROR},
    {RAWTHREAD_E_BARRIER_BROKEN, 32, "barrier is broken", RAWTHREAD_BROKEN_BARRIER},
    /* Queue */
    {RAWTHREAD_E_QUEUE_FULL, 33, "queue is full", RAWTHREAD_FULL},
    {RAWTHREAD_E_QUEUE_EMPTY, 34, "queue is empty", RAWTHREAD_EMPTY},
    {RAWTHREAD_E_QUEUE_NEGATIVE_TIMEOUT, 35, "'timeout' must be a non-negative number",
     RAWTHREAD_VALUE_ERROR},
    {RAWTHREAD_E_TASK_DONE_TOO_MANY, 36, "task_done() called too many times", RAWTHREAD_VALUE_ERROR},
    {RAWTHREAD_E_QUEUE_JOIN_TIMEOUT, 37, "join timed out", RAWTHREAD_THREAD_ERROR},
    /* rawthread/sys.h's poll */
    {RAWTHREAD_E_POLL_INTERRUPTED, 38, "poll interrupted", RAWTHREAD_INTERRUPTED},
};
#define EVERY_CODE_COUNT (sizeof every_code / sizeof every_code[0])

static void test_error_messages_match_the_cpp_api(void) {
  CHECK(RAWTHREAD_OK == 0);
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_OK), "no error") == 0);
  /* The table holds every code between OK and UNKNOWN, in order. */
  CHECK(RAWTHREAD_E_UNKNOWN == (int)EVERY_CODE_COUNT + 1);
  for (size_t i = 0; i < EVERY_CODE_COUNT; ++i) {
    CHECK(every_code[i].code == every_code[i].number);
    CHECK(every_code[i].code == (int)i + 1);
    const char* message = rawthread_strerror(every_code[i].code);
    if (message == NULL || strcmp(message, every_code[i].message) != 0)
      printf("    code %d: \"%s\", expected \"%s\"\n", every_code[i].number,
             message ? message : "(null)", every_code[i].message);
    CHECK(message != NULL && strcmp(message, every_code[i].message) == 0);
    CHECK(rawthread_error_kind(every_code[i].code) == every_code[i].kind);
  }
  CHECK(strcmp(rawthread_strerror(-1), "unknown error") == 0);
  CHECK(strcmp(rawthread_strerror(9999), "unknown error") == 0);
}

/* The kind of a code nobody knows: the most general, _thread.error, not
 * OSError (no system call is known to have failed). */
static void test_unknown_codes(void) {
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_E_UNKNOWN), "unknown error") == 0);
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_E_UNKNOWN + 1), "unknown error") == 0);
  CHECK(rawthread_error_kind(RAWTHREAD_OK) == RAWTHREAD_THREAD_ERROR);
  CHECK(rawthread_error_kind(RAWTHREAD_E_UNKNOWN) == RAWTHREAD_THREAD_ERROR);
  CHECK(rawthread_error_kind(RAWTHREAD_E_UNKNOWN + 1) == RAWTHREAD_THREAD_ERROR);
  CHECK(rawthread_error_kind(-1) == RAWTHREAD_THREAD_ERROR);
  CHECK(rawthread_error_kind(9999) == RAWTHREAD_THREAD_ERROR);
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

/* Semaphore and BoundedSemaphore from static initialisers and init: the
 * value, release(n), every error changing nothing, NULL. */
static rawthread_semaphore static_semaphore = RAWTHREAD_SEMAPHORE_INIT(2);
static rawthread_bounded_semaphore static_bounded = RAWTHREAD_BOUNDED_SEMAPHORE_INIT(1);

static void test_semaphores(void) {
  bool got = false;
  for (int i = 0; i < 2; ++i) {
    CHECK_ERROR(rawthread_semaphore_acquire(&static_semaphore, true, RAWTHREAD_NO_TIMEOUT, &got), 0);
    CHECK(got);
  }
  CHECK_ERROR(rawthread_semaphore_acquire(&static_semaphore, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(!got);
  double start = now();
  CHECK_ERROR(rawthread_semaphore_acquire(&static_semaphore, true, 0.1, &got), 0);
  CHECK(!got && now() - start >= 0.1);
  got = true;
  CHECK_ERROR(rawthread_semaphore_acquire(&static_semaphore, false, 1.0, &got),
              RAWTHREAD_E_NONBLOCKING_TIMEOUT);
  CHECK_ERROR(rawthread_semaphore_acquire(&static_semaphore, true, -2.0, &got),
              RAWTHREAD_E_NEGATIVE_TIMEOUT);
  CHECK_ERROR(rawthread_semaphore_acquire(&static_semaphore, true, 1e300, &got),
              RAWTHREAD_E_TIMEOUT_TOO_LARGE);
  CHECK(got); /* untouched on error */
  if (RAWTHREAD_TEST_DUMMY)
    CHECK_ERROR(rawthread_semaphore_acquire(&static_semaphore, true, RAWTHREAD_NO_TIMEOUT, &got),
                RAWTHREAD_E_WOULD_DEADLOCK);
  CHECK_ERROR(rawthread_semaphore_release(&static_semaphore, 0), RAWTHREAD_E_RELEASE_NONE);
  CHECK_ERROR(rawthread_semaphore_release(&static_semaphore, 2), 0);
  CHECK_ERROR(rawthread_semaphore_release(&static_semaphore, UINT32_MAX),
              RAWTHREAD_E_SEMAPHORE_OVERFLOW);
  for (int i = 0; i < 2; ++i) {
    CHECK_ERROR(rawthread_semaphore_acquire(&static_semaphore, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
    CHECK(got);
  }
  CHECK_ERROR(rawthread_semaphore_acquire(&static_semaphore, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(!got);
  CHECK_ERROR(rawthread_semaphore_release(&static_semaphore, 2), 0);

  rawthread_semaphore dynamic;
  memset(&dynamic, 0xff, sizeof dynamic);
  CHECK_ERROR(rawthread_semaphore_init(&dynamic, 1), 0);
  CHECK_ERROR(rawthread_semaphore_acquire(&dynamic, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(got);
  CHECK_ERROR(rawthread_semaphore_acquire(&dynamic, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(!got);

  CHECK_ERROR(rawthread_bounded_semaphore_release(&static_bounded, 1), RAWTHREAD_E_RELEASED_TOO_MANY);
  CHECK_ERROR(rawthread_bounded_semaphore_acquire(&static_bounded, true, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(got);
  CHECK_ERROR(rawthread_bounded_semaphore_release(&static_bounded, 2), RAWTHREAD_E_RELEASED_TOO_MANY);
  CHECK_ERROR(rawthread_bounded_semaphore_release(&static_bounded, 0), RAWTHREAD_E_RELEASE_NONE);
  CHECK_ERROR(rawthread_bounded_semaphore_release(&static_bounded, 1), 0);
  rawthread_bounded_semaphore bounded;
  CHECK_ERROR(rawthread_bounded_semaphore_init(&bounded, 0), 0);
  CHECK_ERROR(rawthread_bounded_semaphore_release(&bounded, 1), RAWTHREAD_E_RELEASED_TOO_MANY);
  CHECK_ERROR(rawthread_bounded_semaphore_acquire(&bounded, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK(!got);

  CHECK_ERROR(rawthread_semaphore_init(NULL, 1), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_semaphore_acquire(NULL, true, RAWTHREAD_NO_TIMEOUT, &got),
              RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_semaphore_release(NULL, 1), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_bounded_semaphore_init(NULL, 1), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_bounded_semaphore_acquire(NULL, true, RAWTHREAD_NO_TIMEOUT, &got),
              RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_bounded_semaphore_release(NULL, 1), RAWTHREAD_E_NULL_ARGUMENT);
}

/* Event from its static initialiser: set, clear, wait (a thread sets it
 * for a waiting main thread), errors, NULL. */
static rawthread_event static_event = RAWTHREAD_EVENT_INIT;

static void set_static_event(void* arg) {
  (void)arg;
  /* about 0.1 s, so that main is asleep in its wait: a timed acquire of a
   * held lock */
  rawthread_lock held = RAWTHREAD_LOCK_INIT;
  bool got;
  (void)rawthread_lock_acquire(&held, false, RAWTHREAD_NO_TIMEOUT, &got);
  (void)rawthread_lock_acquire(&held, true, 0.1, &got);
  (void)rawthread_event_set(&static_event);
}

static void test_events(void) {
  bool set = true;
  CHECK(!rawthread_event_is_set(&static_event));
  CHECK_ERROR(rawthread_event_wait(&static_event, 0, &set), 0);
  CHECK(!set);
  double start = now();
  CHECK_ERROR(rawthread_event_wait(&static_event, 0.1, &set), 0);
  CHECK(!set && now() - start >= 0.1);
  if (RAWTHREAD_TEST_DUMMY)
    CHECK_ERROR(rawthread_event_wait(&static_event, RAWTHREAD_NO_TIMEOUT, &set),
                RAWTHREAD_E_WOULD_DEADLOCK);
  set = false;
  CHECK_ERROR(rawthread_event_wait(&static_event, -2.0, &set), RAWTHREAD_E_NEGATIVE_TIMEOUT);
  CHECK_ERROR(rawthread_event_wait(&static_event, 1e300, &set), RAWTHREAD_E_TIMEOUT_TOO_LARGE);
  CHECK(!set);
  if (!RAWTHREAD_TEST_DUMMY) {
    CHECK_ERROR(rawthread_start_new_thread(set_static_event, NULL, NULL), 0);
    CHECK_ERROR(rawthread_event_wait(&static_event, 30.0, &set), 0);
    CHECK(set && rawthread_event_is_set(&static_event));
    CHECK(wait_threads(0, 60));
  } else {
    CHECK_ERROR(rawthread_event_set(&static_event), 0);
  }
  CHECK_ERROR(rawthread_event_wait(&static_event, RAWTHREAD_NO_TIMEOUT, &set), 0);
  CHECK(set);
  CHECK_ERROR(rawthread_event_clear(&static_event), 0);
  CHECK(!rawthread_event_is_set(&static_event));
  CHECK(!rawthread_event_is_set(NULL));
  CHECK_ERROR(rawthread_event_set(NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_event_clear(NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_event_wait(NULL, 0, &set), RAWTHREAD_E_NULL_ARGUMENT);
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

/* ---- Condition --------------------------------------------------------------- */

static void test_condition_errors_and_timeouts(void) {
  rawthread_lock lock = RAWTHREAD_LOCK_INIT;
  rawthread_rlock rlock = RAWTHREAD_RLOCK_INIT;
  rawthread_condition over_lock, over_rlock;
  bool notified = true;
  CHECK_ERROR(rawthread_condition_init_lock(NULL, &lock), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_condition_init_lock(&over_lock, NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_condition_init_rlock(&over_rlock, NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_condition_wait(NULL, 0, &notified), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_condition_notify(NULL, 1), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_condition_notify_all(NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_condition_init_lock(&over_lock, &lock), 0);
  CHECK_ERROR(rawthread_condition_init_rlock(&over_rlock, &rlock), 0);

  CHECK_ERROR(rawthread_condition_wait(&over_lock, 0, &notified), RAWTHREAD_E_WAIT_UNACQUIRED);
  CHECK_ERROR(rawthread_condition_notify(&over_rlock, 1), RAWTHREAD_E_NOTIFY_UNACQUIRED);
  CHECK_ERROR(rawthread_condition_notify_all(&over_lock), RAWTHREAD_E_NOTIFY_UNACQUIRED);
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_E_WAIT_UNACQUIRED),
               "cannot wait on un-acquired lock") == 0);

  rawthread_lock_acquire(&lock, true, RAWTHREAD_NO_TIMEOUT, NULL);
  CHECK_ERROR(rawthread_condition_wait(&over_lock, -5, &notified), RAWTHREAD_E_NEGATIVE_TIMEOUT);
  double start = now();
  CHECK_ERROR(rawthread_condition_wait(&over_lock, 0.05, &notified), 0);
  CHECK(!notified && now() - start >= 0.05 && rawthread_lock_locked(&lock));
  CHECK_ERROR(rawthread_condition_notify(&over_lock, 3), 0);
  CHECK_ERROR(rawthread_condition_notify_all(&over_lock), 0);
  rawthread_lock_release(&lock);

  for (int i = 0; i < 3; ++i) rawthread_rlock_acquire(&rlock, true, RAWTHREAD_NO_TIMEOUT, NULL);
  notified = true;
  CHECK_ERROR(rawthread_condition_wait(&over_rlock, 0, &notified), 0);
  CHECK(!notified && rawthread_rlock_recursion_count(&rlock) == 3);
  if (RAWTHREAD_TEST_DUMMY) {
    CHECK_ERROR(rawthread_condition_wait(&over_rlock, RAWTHREAD_NO_TIMEOUT, &notified),
                RAWTHREAD_E_WOULD_DEADLOCK);
    CHECK(rawthread_rlock_recursion_count(&rlock) == 3);
  }
  for (int i = 0; i < 3; ++i) rawthread_rlock_release(&rlock);
}

static rawthread_lock cond_lock = RAWTHREAD_LOCK_INIT;
static rawthread_condition cond;
static atomic_int cond_waiting, cond_result;

static void wait_for_a_notify(void* arg) {
  (void)arg;
  bool notified = false;
  rawthread_lock_acquire(&cond_lock, true, RAWTHREAD_NO_TIMEOUT, NULL);
  atomic_store(&cond_waiting, 1);
  int rc = rawthread_condition_wait(&cond, 60, &notified);
  atomic_store(&cond_result, rc == 0 && notified && rawthread_lock_locked(&cond_lock) ? 1 : 2);
  rawthread_lock_release(&cond_lock);
}

static void test_condition_notify_wakes_a_waiter(void) {
  REQUIRES_CONCURRENCY(); /* the thread waits while main notifies */
  CHECK_ERROR(rawthread_condition_init_lock(&cond, &cond_lock), 0);
  atomic_store(&cond_waiting, 0);
  atomic_store(&cond_result, 0);
  CHECK_ERROR(rawthread_start_new_thread(wait_for_a_notify, NULL, NULL), 0);
  CHECK(wait_flag(&cond_waiting, 60));
  /* In its wait once the lock is free again. */
  rawthread_lock_acquire(&cond_lock, true, RAWTHREAD_NO_TIMEOUT, NULL);
  CHECK_ERROR(rawthread_condition_notify(&cond, 1), 0);
  rawthread_lock_release(&cond_lock);
  CHECK(wait_flag(&cond_result, 60));
  CHECK(atomic_load(&cond_result) == 1);
  CHECK(wait_threads(0, 60));
}

/* The queue over a buffer of structs: FIFO, the copies exact, the errors
 * (each changing nothing), task_done / join, NULL. */
struct queue_item {
  int id;
  double value;
  char tag[12];
};

static void test_queue_errors_and_order(void) {
  struct queue_item buffer[3], in, out;
  rawthread_queue q;
  memset(&out, 0, sizeof out);
  CHECK_ERROR(rawthread_queue_init(NULL, buffer, sizeof buffer[0], 3), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_queue_init(&q, NULL, sizeof buffer[0], 3), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_queue_init(&q, buffer, 0, 3), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_queue_init(&q, buffer, sizeof buffer[0], 0), RAWTHREAD_E_NULL_ARGUMENT);
  if (sizeof(size_t) > 4)
    CHECK_ERROR(rawthread_queue_init(&q, buffer, sizeof buffer[0], (size_t)UINT32_MAX + 1),
                RAWTHREAD_E_SEMAPHORE_OVERFLOW);
  CHECK_ERROR(rawthread_queue_init(&q, buffer, sizeof buffer[0], 3), 0);
  CHECK(rawthread_queue_empty(&q) && !rawthread_queue_full(&q) && rawthread_queue_qsize(&q) == 0);
  CHECK_ERROR(rawthread_queue_put(NULL, &in, true, RAWTHREAD_NO_TIMEOUT),
              RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_queue_put(&q, NULL, true, RAWTHREAD_NO_TIMEOUT), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_queue_get(NULL, &out, false, 0), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_queue_get(&q, NULL, false, 0), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_queue_put_nowait(NULL, &in), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_queue_get_nowait(NULL, &out), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_queue_task_done(NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_queue_join(NULL, 0), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK(rawthread_queue_qsize(NULL) == 0 && rawthread_queue_empty(NULL) &&
        !rawthread_queue_full(NULL));
  CHECK(rawthread_queue_qsize(&q) == 0);

  for (int i = 0; i < 3; ++i) {
    in.id = i;
    in.value = i * 1.5;
    snprintf(in.tag, sizeof in.tag, "item %d", i);
    CHECK_ERROR(rawthread_queue_put(&q, &in, true, RAWTHREAD_NO_TIMEOUT), 0);
  }
  CHECK(rawthread_queue_full(&q) && rawthread_queue_qsize(&q) == 3);
  CHECK_ERROR(rawthread_queue_put_nowait(&q, &in), RAWTHREAD_E_QUEUE_FULL);
  /* block false: the timeout is ignored */
  CHECK_ERROR(rawthread_queue_put(&q, &in, false, -7), RAWTHREAD_E_QUEUE_FULL);
  double t0 = now();
  CHECK_ERROR(rawthread_queue_put(&q, &in, true, 0.05), RAWTHREAD_E_QUEUE_FULL);
  CHECK(now() - t0 >= 0.05);
  CHECK_ERROR(rawthread_queue_put(&q, &in, true, -7), RAWTHREAD_E_QUEUE_NEGATIVE_TIMEOUT);
  CHECK_ERROR(rawthread_queue_put(&q, &in, true, 1e300), RAWTHREAD_E_TIMEOUT_TOO_LARGE);
  CHECK_ERROR(rawthread_queue_join(&q, 0.05), RAWTHREAD_E_QUEUE_JOIN_TIMEOUT);
  CHECK_ERROR(rawthread_queue_join(&q, -2), RAWTHREAD_E_QUEUE_NEGATIVE_TIMEOUT);
  CHECK(rawthread_queue_qsize(&q) == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK_ERROR(rawthread_queue_get(&q, &out, true, RAWTHREAD_NO_TIMEOUT), 0);
    char tag[12];
    snprintf(tag, sizeof tag, "item %d", i);
    CHECK(out.id == i && out.value == i * 1.5 && strcmp(out.tag, tag) == 0);
    CHECK_ERROR(rawthread_queue_task_done(&q), 0);
  }
  CHECK_ERROR(rawthread_queue_get_nowait(&q, &out), RAWTHREAD_E_QUEUE_EMPTY);
  CHECK_ERROR(rawthread_queue_get(&q, &out, true, 0.01), RAWTHREAD_E_QUEUE_EMPTY);
  CHECK_ERROR(rawthread_queue_task_done(&q), RAWTHREAD_E_TASK_DONE_TOO_MANY);
  CHECK_ERROR(rawthread_queue_join(&q, RAWTHREAD_NO_TIMEOUT), 0);
  if (RAWTHREAD_TEST_DUMMY) {
    CHECK_ERROR(rawthread_queue_get(&q, &out, true, RAWTHREAD_NO_TIMEOUT),
                RAWTHREAD_E_WOULD_DEADLOCK);
  }
  CHECK(rawthread_queue_empty(&q));
}

/* A producer thread puts 1,000 structs through a 2-slot queue; the main
 * thread gets them in order. */
static struct queue_item handoff_buffer[2];
static rawthread_queue handoff;
static atomic_int handoff_errors;

static void produce_items(void* arg) {
  (void)arg;
  for (int i = 0; i < 1000; ++i) {
    struct queue_item item = {i, -i, "x"};
    if (rawthread_queue_put(&handoff, &item, true, 60) != 0) atomic_fetch_add(&handoff_errors, 1);
  }
}

static void test_queue_hands_items_between_threads(void) {
  REQUIRES_CONCURRENCY(); /* the producer waits for room while main gets */
  atomic_store(&handoff_errors, 0);
  CHECK_ERROR(rawthread_queue_init(&handoff, handoff_buffer, sizeof handoff_buffer[0], 2), 0);
  CHECK_ERROR(rawthread_start_new_thread(produce_items, NULL, NULL), 0);
  int in_order = 0;
  for (int i = 0; i < 1000; ++i) {
    struct queue_item item;
    if (rawthread_queue_get(&handoff, &item, true, 60) != 0) break;
    in_order += item.id == i && item.value == -i;
    rawthread_queue_task_done(&handoff);
  }
  CHECK(in_order == 1000);
  CHECK_ERROR(rawthread_queue_join(&handoff, 60), 0);
  CHECK(atomic_load(&handoff_errors) == 0);
  CHECK(wait_threads(0, 60));
}

/* ---- Barrier ----------------------------------------------------------------- */

static atomic_int barrier_actions;
static void count_barrier_action(void) { atomic_fetch_add(&barrier_actions, 1); }

static void test_barrier_calls_and_errors(void) {
  rawthread_barrier none, one, two;
  unsigned index = 99;
  atomic_store(&barrier_actions, 0);
  CHECK_ERROR(rawthread_barrier_init(NULL, 1, NULL, RAWTHREAD_NO_TIMEOUT),
              RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_barrier_wait(NULL, 0, &index), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_barrier_reset(NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_barrier_abort(NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK(rawthread_barrier_parties(NULL) == 0);
  CHECK(rawthread_barrier_n_waiting(NULL) == 0);
  CHECK(!rawthread_barrier_broken(NULL));

  /* 0 parties: set up, refused by wait. */
  CHECK_ERROR(rawthread_barrier_init(&none, 0, count_barrier_action, RAWTHREAD_NO_TIMEOUT), 0);
  CHECK_ERROR(rawthread_barrier_wait(&none, RAWTHREAD_NO_TIMEOUT, &index),
              RAWTHREAD_E_BARRIER_NO_PARTIES);
  CHECK(index == 99 && rawthread_barrier_parties(&none) == 0);
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_E_BARRIER_NO_PARTIES), "parties must be > 0") == 0);

  /* One party: passes at once, the action runs; bad timeouts refused. */
  CHECK_ERROR(rawthread_barrier_init(&one, 1, count_barrier_action, RAWTHREAD_NO_TIMEOUT), 0);
  CHECK_ERROR(rawthread_barrier_wait(&one, RAWTHREAD_NO_TIMEOUT, &index), 0);
  CHECK(index == 0 && atomic_load(&barrier_actions) == 1);
  CHECK_ERROR(rawthread_barrier_wait(&one, 0, NULL), 0);
  CHECK_ERROR(rawthread_barrier_wait(&one, -5, &index), RAWTHREAD_E_NEGATIVE_TIMEOUT);
  CHECK_ERROR(rawthread_barrier_wait(&one, RAWTHREAD_TIMEOUT_MAX * 2, &index),
              RAWTHREAD_E_TIMEOUT_TOO_LARGE);
  CHECK(atomic_load(&barrier_actions) == 2);
  CHECK(rawthread_barrier_parties(&one) == 1);

  /* Two parties, the main thread alone: a timed-out wait breaks it. */
  CHECK_ERROR(rawthread_barrier_init(&two, 2, NULL, 0.05), 0);
  /* (The dummy backend waits the default timeout out too.) */
  double start = now();
  CHECK_ERROR(rawthread_barrier_wait(&two, RAWTHREAD_NO_TIMEOUT, &index),
              RAWTHREAD_E_BARRIER_BROKEN);
  CHECK(now() - start >= 0.05);
  CHECK(rawthread_barrier_broken(&two) && rawthread_barrier_n_waiting(&two) == 0);
  CHECK(rawthread_last_errno() == 0);
  CHECK(strcmp(rawthread_strerror(RAWTHREAD_E_BARRIER_BROKEN), "barrier is broken") == 0);
  CHECK_ERROR(rawthread_barrier_wait(&two, 5, &index), RAWTHREAD_E_BARRIER_BROKEN);
  CHECK_ERROR(rawthread_barrier_reset(&two), 0);
  CHECK(!rawthread_barrier_broken(&two));
  CHECK_ERROR(rawthread_barrier_abort(&two), 0);
  CHECK(rawthread_barrier_broken(&two));
  CHECK_ERROR(rawthread_barrier_reset(&two), 0);

  /* An interrupt requested before the wait ends it; nothing changes. */
  rawthread_request_interrupt();
  CHECK_ERROR(rawthread_barrier_wait(&two, 5, &index), RAWTHREAD_E_INTERRUPTED);
  CHECK(!rawthread_barrier_broken(&two) && rawthread_barrier_n_waiting(&two) == 0);
  if (RAWTHREAD_TEST_DUMMY) {
    CHECK_ERROR(rawthread_barrier_init(&two, 2, NULL, RAWTHREAD_NO_TIMEOUT), 0);
    CHECK_ERROR(rawthread_barrier_wait(&two, RAWTHREAD_NO_TIMEOUT, &index),
                RAWTHREAD_E_WOULD_DEADLOCK);
    CHECK(!rawthread_barrier_broken(&two));
  }
}

static rawthread_barrier barrier3;
static atomic_int barrier_indices, barrier_done;

static void pass_barrier3(void* arg) {
  (void)arg;
  unsigned index = 99;
  if (rawthread_barrier_wait(&barrier3, 60, &index) == 0 && index < 3)
    atomic_fetch_or(&barrier_indices, 1 << index);
  atomic_fetch_add(&barrier_done, 1);
}

static void test_barrier_three_threads_pass(void) {
  REQUIRES_CONCURRENCY(); /* two threads wait while main arrives */
  atomic_store(&barrier_actions, 0);
  atomic_store(&barrier_indices, 0);
  atomic_store(&barrier_done, 0);
  CHECK_ERROR(rawthread_barrier_init(&barrier3, 3, count_barrier_action, RAWTHREAD_NO_TIMEOUT), 0);
  for (int i = 0; i < 2; ++i)
    CHECK_ERROR(rawthread_start_new_thread(pass_barrier3, NULL, NULL), 0);
  double start = now();
  while (rawthread_barrier_n_waiting(&barrier3) != 2 && now() - start < 60) {
    struct timespec tick = {0, 1000000};
    nanosleep(&tick, NULL);
  }
  CHECK(rawthread_barrier_n_waiting(&barrier3) == 2);
  pass_barrier3(NULL);
  while (atomic_load(&barrier_done) != 3 && now() - start < 60) {
    struct timespec tick = {0, 1000000};
    nanosleep(&tick, NULL);
  }
  CHECK(atomic_load(&barrier_done) == 3);
  CHECK(atomic_load(&barrier_indices) == 7 && atomic_load(&barrier_actions) == 1);
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

/* ---- NULL arguments ---------------------------------------------------------- */

static atomic_int null_test_ran;

/* Every pointer rawthread.h does not allow to be NULL, NULL: a documented
 * answer, before any other check, and nothing changed: no thread started, no
 * function run, no out-value written. */
static void test_null_arguments_change_nothing(void) {
  size_t threads = rawthread_thread_count();
  rawthread_lock unlocked = RAWTHREAD_LOCK_INIT;
  rawthread_lock_release(&unlocked); /* an error with no errno: last_errno 0 */
  CHECK(rawthread_last_errno() == 0);

  rawthread_ident ident = 7;
  CHECK_ERROR(rawthread_start_new_thread(NULL, &null_test_ran, &ident), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_start_new_thread(NULL, NULL, NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK(ident == 7);
  rawthread_thread thread = RAWTHREAD_THREAD_INIT;
  CHECK_ERROR(rawthread_start_joinable_thread(NULL, set_flag, &null_test_ran),
              RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_start_joinable_thread(&thread, NULL, &null_test_ran),
              RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_start_joinable_thread(NULL, NULL, NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK(rawthread_thread_ident(&thread) == 0 && !rawthread_is_done(&thread)); /* still empty */
  bool joined = true;
  CHECK_ERROR(rawthread_join(&thread, RAWTHREAD_NO_TIMEOUT, &joined), RAWTHREAD_E_JOIN_EMPTY);
  CHECK_ERROR(rawthread_join(NULL, RAWTHREAD_NO_TIMEOUT, &joined), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_join(NULL, -5, &joined), RAWTHREAD_E_NULL_ARGUMENT); /* NULL first */
  CHECK_ERROR(rawthread_join(NULL, 0, NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK(joined);
  CHECK(!rawthread_is_done(NULL));
  CHECK(rawthread_thread_ident(NULL) == 0);
  rawthread_detach(NULL);
  CHECK_ERROR(rawthread_thread_move(NULL, &thread), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_thread_move(&thread, NULL), RAWTHREAD_E_NULL_ARGUMENT);

  bool got = true;
  CHECK_ERROR(rawthread_lock_acquire(NULL, true, RAWTHREAD_NO_TIMEOUT, &got),
              RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_lock_acquire(NULL, false, RAWTHREAD_NO_TIMEOUT, &got),
              RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_lock_acquire(NULL, false, 1.0, &got), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_lock_acquire(NULL, true, 0.1, NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_lock_release(NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK(!rawthread_lock_locked(NULL));
  rawthread_lock_at_fork_reinit(NULL);
  CHECK_ERROR(rawthread_rlock_acquire(NULL, true, RAWTHREAD_NO_TIMEOUT, &got),
              RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_rlock_acquire(NULL, false, 1.0, &got), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_rlock_acquire(NULL, true, 0.1, NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_rlock_release(NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK(!rawthread_rlock_is_owned(NULL));
  CHECK(rawthread_rlock_recursion_count(NULL) == 0);
  rawthread_rlock_at_fork_reinit(NULL);
  CHECK(got);

  CHECK(rawthread_last_errno() == 0);
  CHECK(rawthread_thread_count() == threads);
  CHECK(atomic_load(&null_test_ran) == 0);
  CHECK(wait_threads(threads, 60));

  /* The handle is written, never read: one full of garbage takes a thread. */
  memset(&thread, 0xa5, sizeof thread);
  CHECK_ERROR(rawthread_start_joinable_thread(&thread, set_flag, &null_test_ran), 0);
  CHECK_ERROR(rawthread_join(&thread, 60, &joined), 0);
  CHECK(joined && atomic_load(&null_test_ran) == 1);
  rawthread_detach(&thread);
  CHECK(wait_threads(threads, 60));
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

/* ---- rawthread_thread_interrupt, rawthread_sleep ------------------------------ */

static atomic_int usr1_runs;
static void on_usr1(int signum) {
  (void)signum;
  atomic_fetch_add(&usr1_runs, 1);
}

/* Sleeps up to 60 s and records the code (+ 1000, so 0 means "not yet"). */
static atomic_int sleeper_code;
static void sleep_a_minute(void* arg) {
  (void)arg;
  atomic_store(&sleeper_code, 1000 + rawthread_sleep(60));
}

static void test_sleep(void) {
  CHECK_ERROR(rawthread_sleep(-2), RAWTHREAD_E_NEGATIVE_TIMEOUT);
  CHECK_ERROR(rawthread_sleep(RAWTHREAD_TIMEOUT_MAX * 2), RAWTHREAD_E_TIMEOUT_TOO_LARGE);
  double start = now();
  CHECK_ERROR(rawthread_sleep(0.05), 0);
  CHECK(now() - start >= 0.05);
  /* A pending request ends it at once, and is consumed. */
  rawthread_request_interrupt();
  start = now();
  CHECK_ERROR(rawthread_sleep(60), RAWTHREAD_E_SLEEP_INTERRUPTED);
  CHECK(now() - start < 30);
  CHECK(rawthread_error_kind(RAWTHREAD_E_SLEEP_INTERRUPTED) == RAWTHREAD_INTERRUPTED);
  CHECK(rawthread_last_errno() == EINTR);
  CHECK_ERROR(rawthread_sleep(0.01), 0);
}

static void test_thread_interrupt(void) {
  rawthread_thread thread = RAWTHREAD_THREAD_INIT, copy;
  CHECK_ERROR(rawthread_thread_interrupt(NULL, SIGUSR1), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK_ERROR(rawthread_thread_interrupt(&thread, SIGUSR1), RAWTHREAD_E_INTERRUPT_EMPTY);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_usr1; /* no SA_RESTART, as Python installs handlers */
  sigemptyset(&action.sa_mask);
  CHECK(sigaction(SIGUSR1, &action, NULL) == 0);
  atomic_store(&usr1_runs, 0);
  atomic_store(&sleeper_code, 0);
  if (RAWTHREAD_TEST_DUMMY) {
    /* The function ran to its end inside the start: nothing to interrupt,
     * so a real minute's sleep it was not. Argument checks still apply. */
    CHECK_ERROR(rawthread_start_joinable_thread(&thread, count_run, &copied_ran), 0);
  } else {
    /* Sent before the sleep began or during it: either way it ends it. */
    CHECK_ERROR(rawthread_start_joinable_thread(&thread, sleep_a_minute, NULL), 0);
  }
  copy = thread;
  CHECK_ERROR(rawthread_thread_interrupt(&copy, SIGUSR1), RAWTHREAD_E_HANDLE_COPIED);
  CHECK_ERROR(rawthread_thread_interrupt(&thread, 0), RAWTHREAD_E_SIGNAL_OUT_OF_RANGE);
  CHECK_ERROR(rawthread_thread_interrupt(&thread, 65), RAWTHREAD_E_SIGNAL_OUT_OF_RANGE);
  CHECK_ERROR(rawthread_thread_interrupt(&thread, SIGUSR1), 0);
  bool joined = false;
  CHECK_ERROR(rawthread_join(&thread, 60, &joined), 0);
  CHECK(joined);
  if (!RAWTHREAD_TEST_DUMMY) {
    CHECK(atomic_load(&sleeper_code) == 1000 + RAWTHREAD_E_SLEEP_INTERRUPTED);
    CHECK(atomic_load(&usr1_runs) == 1);
  } else {
    CHECK(atomic_load(&usr1_runs) == 0);
  }
  /* Ended and joined: nothing to do, successfully. */
  CHECK_ERROR(rawthread_thread_interrupt(&thread, SIGUSR1), 0);
  rawthread_detach(&thread);
  signal(SIGUSR1, SIG_DFL);
  CHECK(wait_threads(0, 60));
}

/* ---- rawthread_last_errno ---------------------------------------------------- */

/* Whether scripts/test runs this under valgrind (set by main: thread
 * functions do not call getenv). */
static bool under_valgrind;

static atomic_int never_runs;

/* Fails with an error that carries an errno, in the calling thread, using
 * only rawthread (a thread's function may call it); returns that errno. The
 * clone backend: a start whose stack cannot be mapped,
 * RAWTHREAD_E_CANT_START_THREAD with the kernel's ENOMEM (valgrind refuses
 * such an mmap with EINVAL), the stack size setting restored after it. The
 * dummy, which maps no stack: an untimed wait nothing could end,
 * RAWTHREAD_E_WOULD_DEADLOCK with EDEADLK. -1 if the call did not fail so. */
static int fail_with_an_errno(void) {
  if (RAWTHREAD_TEST_DUMMY) {
    rawthread_lock held = RAWTHREAD_LOCK_INIT;
    rawthread_lock_acquire(&held, false, RAWTHREAD_NO_TIMEOUT, NULL);
    return rawthread_lock_acquire(&held, true, RAWTHREAD_NO_TIMEOUT, NULL) ==
                   RAWTHREAD_E_WOULD_DEADLOCK
               ? EDEADLK
               : -1;
  }
  size_t old = 0;
  if (rawthread_set_stack_size(1L << 60, &old) != 0) return -1;
  int rc = rawthread_start_new_thread(set_flag, &never_runs, NULL);
  rawthread_set_stack_size((long)old, NULL); /* a success: leaves the errno */
  return rc == RAWTHREAD_E_CANT_START_THREAD ? (under_valgrind ? EINVAL : ENOMEM) : -1;
}

/* Fails with an error that carries no errno: 0. */
static void fail_without_an_errno(void) {
  rawthread_lock unlocked = RAWTHREAD_LOCK_INIT;
  rawthread_lock_release(&unlocked);
}

static void test_last_errno_follows_the_last_error(void) {
  size_t threads = rawthread_thread_count();
  fail_without_an_errno();
  CHECK(rawthread_last_errno() == 0);
  int expected = fail_with_an_errno();
  CHECK(expected > 0);
  CHECK(rawthread_last_errno() == expected);
  CHECK(rawthread_get_stack_size() == 0);
  /* A successful call leaves it. */
  rawthread_lock lock = RAWTHREAD_LOCK_INIT;
  bool got = false;
  CHECK_ERROR(rawthread_lock_acquire(&lock, false, RAWTHREAD_NO_TIMEOUT, &got), 0);
  CHECK_ERROR(rawthread_lock_release(&lock), 0);
  CHECK(got && rawthread_last_errno() == expected);
  /* The next error sets it, to 0 when it carries none. */
  CHECK_ERROR(rawthread_lock_release(&lock), RAWTHREAD_E_RELEASE_UNLOCKED);
  CHECK(rawthread_last_errno() == 0);
  CHECK_ERROR(rawthread_start_new_thread(NULL, NULL, NULL), RAWTHREAD_E_NULL_ARGUMENT);
  CHECK(rawthread_last_errno() == 0);

  if (!RAWTHREAD_TEST_DUMMY) {
    /* A joinable start that fails: the errno too, and the handle untouched. */
    rawthread_thread thread = RAWTHREAD_THREAD_INIT;
    size_t old = 0;
    CHECK_ERROR(rawthread_set_stack_size(1L << 60, &old), 0);
    CHECK_ERROR(rawthread_start_joinable_thread(&thread, set_flag, &never_runs),
                RAWTHREAD_E_CANT_START_THREAD);
    CHECK(rawthread_last_errno() == expected);
    CHECK_ERROR(rawthread_set_stack_size((long)old, NULL), 0);
    CHECK(rawthread_thread_ident(&thread) == 0);
  }
  CHECK(rawthread_thread_count() == threads && atomic_load(&never_runs) == 0);
}

/* interrupt_main's tgkill refused: a real-time signal cannot be queued past
 * RLIMIT_SIGPENDING, and tgkill then fails with EAGAIN. */
static void on_rt_signal(int signum) { (void)signum; }

static void test_last_errno_when_main_cannot_be_signalled(void) {
  const int signum = SIGRTMIN;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_rt_signal; /* interrupt_main signals only a handled signal */
  sigemptyset(&action.sa_mask);
  struct rlimit limit, none;
  if (sigaction(signum, &action, NULL) != 0 || getrlimit(RLIMIT_SIGPENDING, &limit) != 0) {
    skip("no handler for SIGRTMIN, or no RLIMIT_SIGPENDING");
    return;
  }
  none.rlim_cur = 0;
  none.rlim_max = limit.rlim_max;
  CHECK(setrlimit(RLIMIT_SIGPENDING, &none) == 0);
  int rc = rawthread_interrupt_main(signum);
  int sys_errno = rawthread_last_errno();
  CHECK(setrlimit(RLIMIT_SIGPENDING, &limit) == 0);
  rawthread_lock fresh = RAWTHREAD_LOCK_INIT;
  bool got = false;
  if (rc == 0) {
    /* Queued all the same (QEMU, valgrind: a signal queue of their own).
     * The request it raised ends the next blocking acquire: consume it. */
    CHECK_ERROR(rawthread_lock_acquire(&fresh, true, RAWTHREAD_NO_TIMEOUT, &got),
                RAWTHREAD_E_INTERRUPTED);
    skip("the real-time signal was queued despite RLIMIT_SIGPENDING 0");
  } else {
    CHECK(rc == RAWTHREAD_E_CANT_SIGNAL_MAIN);
    CHECK(sys_errno == EAGAIN);
    /* No request left behind: the next blocking acquire takes the lock. */
    CHECK_ERROR(rawthread_lock_acquire(&fresh, true, RAWTHREAD_NO_TIMEOUT, &got), 0);
    CHECK(got && rawthread_last_errno() == EAGAIN);
  }
  signal(signum, SIG_DFL);
}

/* What a thread saw of its own last errno: at its start, after an error of
 * its own. -2: not yet recorded. */
static atomic_int seen_first, seen_after;

static void record_errors_of_its_own(bool with_errno) {
  atomic_store(&seen_first, rawthread_last_errno());
  int expected = 0;
  if (with_errno)
    expected = fail_with_an_errno();
  else
    fail_without_an_errno();
  atomic_store(&seen_after, rawthread_last_errno() == expected ? expected : -1);
}
static void rawthread_errors(void* with_errno) { record_errors_of_its_own(with_errno != NULL); }
static void* libc_errors(void* with_errno) {
  record_errors_of_its_own(with_errno != NULL);
  return NULL;
}

/* Runs record_errors_of_its_own in a new thread, rawthread's or libc's, and
 * waits for it; false if it could not. */
static bool errors_in_a_thread(bool libc_thread, bool with_errno) {
  atomic_store(&seen_first, -2);
  atomic_store(&seen_after, -2);
  void* arg = with_errno ? &seen_after : NULL;
  if (libc_thread) {
    pthread_t thread;
    return pthread_create(&thread, NULL, libc_errors, arg) == 0 && pthread_join(thread, NULL) == 0;
  }
  size_t threads = rawthread_thread_count();
  return rawthread_start_new_thread(rawthread_errors, arg, NULL) == 0 && wait_threads(threads, 60);
}

static void test_last_errno_is_per_thread(void) {
  const int with = fail_with_an_errno();
  CHECK(with > 0);
  /* A libc's thread has its own, 0 at first; its errors leave main's. */
  CHECK(errors_in_a_thread(true, false));
  CHECK(atomic_load(&seen_first) == 0 && atomic_load(&seen_after) == 0);
  CHECK(rawthread_last_errno() == with);
  fail_without_an_errno();
  CHECK(errors_in_a_thread(true, true));
  CHECK(atomic_load(&seen_first) == 0 && atomic_load(&seen_after) == with);
  CHECK(rawthread_last_errno() == 0);

  if (RAWTHREAD_TEST_DUMMY) {
    /* A started function runs in the thread that starts it: one value. */
    CHECK(errors_in_a_thread(false, true));
    CHECK(atomic_load(&seen_first) == 0 && atomic_load(&seen_after) == with);
    CHECK(rawthread_last_errno() == with);
    return;
  }
  /* A rawthread thread, in its control block: 0 at first, in a fresh stack
   * and in one the cache hands on from a thread that failed; its errors
   * leave main's. */
  CHECK(fail_with_an_errno() == with);
  CHECK(errors_in_a_thread(false, false));
  CHECK(atomic_load(&seen_first) == 0 && atomic_load(&seen_after) == 0);
  CHECK(rawthread_last_errno() == with);
  fail_without_an_errno();
  CHECK(errors_in_a_thread(false, true));
  CHECK(atomic_load(&seen_first) == 0 && atomic_load(&seen_after) == with);
  CHECK(errors_in_a_thread(false, false));
  CHECK(atomic_load(&seen_first) == 0 && atomic_load(&seen_after) == 0);
  CHECK(rawthread_last_errno() == 0);
}

/* ---- a futex wait the kernel refuses ----------------------------------------- */

/* A rawthread_lock and a rawthread_rlock at odd addresses: pointers made from
 * an integer, the misuse rawthread.h describes. This file never reads or
 * writes through them; only the library does, on x86_64 with atomics that
 * work at any address, and the futex call then fails with EINVAL. */
static _Alignas(64) unsigned char misaligned_storage[64]; /* zeroed: free locks */
static rawthread_lock* misaligned_lock(void) {
  return (rawthread_lock*)((uintptr_t)misaligned_storage + 1);
}
static rawthread_rlock* misaligned_rlock(void) {
  return (rawthread_rlock*)((uintptr_t)misaligned_storage + 17);
}

static atomic_int rlock_taken;
static void take_the_misaligned_rlock(void* arg) {
  (void)arg;
  bool got = false;
  rawthread_rlock_acquire(misaligned_rlock(), false, RAWTHREAD_NO_TIMEOUT, &got);
  atomic_store(&rlock_taken, got ? 1 : 2); /* and ends owning it */
}

/* In a forked child: 0, or the number of the check that failed. */
static int misaligned_lock_checks(void) {
  rawthread_lock* lock = misaligned_lock();
  bool got = false;
  if (rawthread_lock_acquire(lock, false, RAWTHREAD_NO_TIMEOUT, &got) != 0 || !got) return 10;
  /* Held: a wait, which the kernel refuses at once, not after the timeout. */
  double start = now();
  if (rawthread_lock_acquire(lock, true, 30, &got) != RAWTHREAD_E_LOCK_WAIT_FAILED) return 11;
  if (rawthread_last_errno() != EINVAL || now() - start >= 30) return 12;
  int untimed = rawthread_lock_acquire(lock, true, RAWTHREAD_NO_TIMEOUT, &got);
  if (untimed != (RAWTHREAD_TEST_DUMMY ? RAWTHREAD_E_WOULD_DEADLOCK : RAWTHREAD_E_LOCK_WAIT_FAILED))
    return 13;
  if (rawthread_last_errno() != (RAWTHREAD_TEST_DUMMY ? EDEADLK : EINVAL)) return 14;
  /* Still held, once: the holder's release frees it. */
  if (!rawthread_lock_locked(lock) || rawthread_lock_release(lock) != 0) return 15;
  if (rawthread_lock_release(lock) != RAWTHREAD_E_RELEASE_UNLOCKED) return 16;
  if (RAWTHREAD_TEST_DUMMY) return 0; /* the RLock needs another thread to own it */

  rawthread_rlock* rlock = misaligned_rlock();
  if (rawthread_start_new_thread(take_the_misaligned_rlock, NULL, NULL) != 0) return 20;
  while (atomic_load(&rlock_taken) == 0 || rawthread_thread_count() != 0) {
    struct timespec tick = {0, 1000000}; /* the parent kills a child that hangs */
    nanosleep(&tick, NULL);
  }
  if (atomic_load(&rlock_taken) != 1) return 21;
  start = now();
  if (rawthread_rlock_acquire(rlock, true, 30, &got) != RAWTHREAD_E_LOCK_WAIT_FAILED) return 22;
  if (rawthread_last_errno() != EINVAL || now() - start >= 30) return 23;
  if (rawthread_rlock_acquire(rlock, true, RAWTHREAD_NO_TIMEOUT, &got) !=
      RAWTHREAD_E_LOCK_WAIT_FAILED)
    return 24;
  if (rawthread_last_errno() != EINVAL || rawthread_rlock_is_owned(rlock)) return 25;
  return 0;
}

/* x86_64 reaches the futex call, which must end the acquire with
 * RAWTHREAD_E_LOCK_WAIT_FAILED and EINVAL, timed or not, at once. aarch64
 * and riscv64 may refuse the misaligned atomics first, with SIGBUS (QEMU
 * does; a CPU with unaligned atomics, as Armv8.4's LSE2, reaches the futex
 * call too). With -Dubsan=true the library's alignment check traps at the
 * first use of the misaligned object (SIGILL, SIGTRAP). A child that spins
 * instead is killed at the deadline. */
static void test_misaligned_lock_ends_its_wait(void) {
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    struct rlimit no_core = {0, 0}; /* a fault may be the expected end: no core file */
    setrlimit(RLIMIT_CORE, &no_core);
    _exit(misaligned_lock_checks());
  }
  if (pid < 0) return;
  int status = wait_child(pid, 90);
  CHECK(status != -1); /* -1: killed at the deadline, still waiting */
  bool fault_allowed = RAWTHREAD_TEST_UBSAN;
#if !defined(__x86_64__)
  fault_allowed = true;
#endif
  if (status != -1 && WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    printf("    the child died of signal %d at the misaligned lock\n", sig);
    CHECK(fault_allowed);
    CHECK(RAWTHREAD_TEST_UBSAN ? (sig == SIGILL || sig == SIGTRAP) : sig == SIGBUS);
  } else if (status != -1) {
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      printf("    the child failed its check %d\n", WEXITSTATUS(status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
}

int main(void) {
  const char* valgrind_flag = getenv("RAWTHREAD_TEST_VALGRIND");
  under_valgrind = valgrind_flag != NULL && strcmp(valgrind_flag, "1") == 0;
  struct {
    const char* name;
    void (*run)(void);
  } tests[] = {
      {"error_messages_match_the_cpp_api", test_error_messages_match_the_cpp_api},
      {"lock_from_a_static_initialiser", test_lock_from_a_static_initialiser},
      {"lock_errors_change_nothing", test_lock_errors_change_nothing},
      {"rlock_reenters_and_counts", test_rlock_reenters_and_counts},
      {"semaphores", test_semaphores},
      {"events", test_events},
      {"at_fork_reinit_frees_held_locks", test_at_fork_reinit_frees_held_locks},
      {"threads_share_a_counter", test_threads_share_a_counter},
      {"joinable_threads", test_joinable_threads},
      {"a_joined_threads_stack_is_reused", test_a_joined_threads_stack_is_reused},
      {"a_copied_handle_is_refused", test_a_copied_handle_is_refused},
      {"timed_join_of_a_thread_at_a_gate", test_timed_join_of_a_thread_at_a_gate},
      {"at_fork_reinit_in_a_forked_child", test_at_fork_reinit_in_a_forked_child},
      {"stack_size", test_stack_size},
      {"interrupt_main_ends_a_wait", test_interrupt_main_ends_a_wait},
      {"sleep", test_sleep},
      {"thread_interrupt", test_thread_interrupt},
      {"unknown_codes", test_unknown_codes},
      {"null_arguments_change_nothing", test_null_arguments_change_nothing},
      {"last_errno_follows_the_last_error", test_last_errno_follows_the_last_error},
      {"last_errno_when_main_cannot_be_signalled",
       test_last_errno_when_main_cannot_be_signalled},
      {"last_errno_is_per_thread", test_last_errno_is_per_thread},
      {"misaligned_lock_ends_its_wait", test_misaligned_lock_ends_its_wait},
      {"condition_errors_and_timeouts", test_condition_errors_and_timeouts},
      {"condition_notify_wakes_a_waiter", test_condition_notify_wakes_a_waiter},
      {"queue_errors_and_order", test_queue_errors_and_order},
      {"queue_hands_items_between_threads", test_queue_hands_items_between_threads},
      {"barrier_calls_and_errors", test_barrier_calls_and_errors},
      {"barrier_three_threads_pass", test_barrier_three_threads_pass},
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
