/* SPDX-License-Identifier: MIT */
/* demo_c: rawthread from C11. Four threads share a counter under a Lock, a
 * joinable thread is joined with a timeout and then for good, and an RLock
 * is taken twice by its owner. Thread functions use only rawthread and C11
 * atomics (rawthread.h says why); the main thread prints.
 *
 *   gcc -std=c11 demo_c.c $(pkg-config --cflags --libs rawthread) -static
 *
 * Exits 0 when everything behaved as described. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include <rawthread.h>

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

enum { kWorkers = 4, kIncrements = 100000 };

static rawthread_lock counter_lock = RAWTHREAD_LOCK_INIT;
static long counter;
static rawthread_lock gate = RAWTHREAD_LOCK_INIT;
static atomic_int through_gate;
static int failures;

static void check(bool ok, const char* what) {
  printf("  [%s] %s\n", ok ? " ok " : "FAIL", what);
  if (!ok) ++failures;
}

static void worker(void* arg) {
  (void)arg;
  for (int i = 0; i < kIncrements; ++i) {
    rawthread_lock_acquire(&counter_lock, true, RAWTHREAD_NO_TIMEOUT, NULL);
    ++counter;
    rawthread_lock_release(&counter_lock);
  }
}

static void wait_at_gate(void* arg) {
  (void)arg;
  rawthread_lock_acquire(&gate, true, RAWTHREAD_NO_TIMEOUT, NULL);
  rawthread_lock_release(&gate);
  atomic_store(&through_gate, 1);
}

int main(void) {
  printf("rawthread from C: main thread ident %lu\n", rawthread_get_ident());

  printf("\n%d joinable threads, %d increments each, under one Lock:\n", kWorkers, kIncrements);
  rawthread_thread workers[kWorkers];
  int started = 0;
  for (int i = 0; i < kWorkers; ++i) {
    int rc = rawthread_start_joinable_thread(&workers[i], worker, NULL);
    if (rc != 0) printf("  start: %s\n", rawthread_strerror(rc));
    else ++started;
  }
  bool all_joined = true;
  for (int i = 0; i < started; ++i) {
    bool joined = false;
    all_joined &= rawthread_join(&workers[i], 60, &joined) == 0 && joined;
    rawthread_detach(&workers[i]); /* a joined handle: releases nothing more */
  }
  check(started == kWorkers && all_joined, "all four started and joined");
  printf("  counter = %ld\n", counter);
  check(counter == (long)kWorkers * kIncrements, "no increment was lost");

  printf("\nA join with a timeout:\n");
  rawthread_thread held;
  rawthread_lock_acquire(&gate, true, RAWTHREAD_NO_TIMEOUT, NULL);
  bool joined = true;
  if (rawthread_start_joinable_thread(&held, wait_at_gate, NULL) == 0) {
    int rc = rawthread_join(&held, 0.2, &joined);
    check(rc == 0 && !joined, "join(0.2) of a thread held at a gate: not yet");
    rawthread_lock_release(&gate);
    rc = rawthread_join(&held, RAWTHREAD_NO_TIMEOUT, &joined);
    check(rc == 0 && joined && atomic_load(&through_gate) == 1, "after the gate opens: joined");
    rawthread_detach(&held);
  } else {
    check(false, "joinable thread started");
  }

  printf("\nAn RLock and the errors:\n");
  static rawthread_rlock rlock = RAWTHREAD_RLOCK_INIT;
  rawthread_rlock_acquire(&rlock, true, RAWTHREAD_NO_TIMEOUT, NULL);
  rawthread_rlock_acquire(&rlock, true, RAWTHREAD_NO_TIMEOUT, NULL);
  check(rawthread_rlock_recursion_count(&rlock) == 2, "its owner took it twice");
  rawthread_rlock_release(&rlock);
  rawthread_rlock_release(&rlock);
  int rc = rawthread_rlock_release(&rlock);
  printf("  a third release: \"%s\"\n", rawthread_strerror(rc));
  check(rc == RAWTHREAD_E_RELEASE_UNOWNED, "an error, as Python's RuntimeError");
  rc = rawthread_lock_acquire(&counter_lock, false, 1.0, NULL);
  printf("  acquire(false, 1.0): \"%s\"\n", rawthread_strerror(rc));
  check(rawthread_error_kind(rc) == RAWTHREAD_VALUE_ERROR, "a value error, as in Python");

  printf(failures == 0 ? "\ndemo_c: everything behaved as expected\n" : "\ndemo_c: FAILED\n");
  return failures == 0 ? 0 : 1;
}
