/* SPDX-License-Identifier: MIT */
/* A C11 program with no libc at all, linked with an installed rawthread's
 * runtime: a joinable thread and main add to one counter under a lock,
 * through <rawthread.h>. No printf: the exit status says whether the count
 * is right. */
#include <rawthread.h>

#include "counter.h"

int main(void) {
  rawthread_thread thread = RAWTHREAD_THREAD_INIT;
  if (rawthread_start_joinable_thread(&thread, add, 0) != 0) return 1;
  add(0);
  bool joined = false;
  if (rawthread_join(&thread, 30.0, &joined) != 0 || !joined) return 1;
  return counter == 2 * kIncrements ? 0 : 1;
}
