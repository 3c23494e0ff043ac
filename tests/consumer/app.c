/* SPDX-License-Identifier: MIT */
/* A C11 program on glibc or musl using an installed rawthread through
 * <rawthread.h>: a joinable thread and main add to one counter under a
 * lock. Exits 0 when the count is right. */
#include <rawthread.h>

#include <stdio.h>

#include "counter.h"

int main(void) {
  rawthread_thread thread = RAWTHREAD_THREAD_INIT;
  int error = rawthread_start_joinable_thread(&thread, add, NULL);
  if (error != 0) return printf("app (C): start failed: %s\n", rawthread_strerror(error)), 1;
  add(NULL);
  bool joined = false;
  error = rawthread_join(&thread, 30.0, &joined);
  const int ok = error == 0 && joined && counter == 2 * kIncrements;
  printf("app (C), rawthread %s: counter %ld: %s\n", RAWTHREAD_VERSION_STRING, counter,
         ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
