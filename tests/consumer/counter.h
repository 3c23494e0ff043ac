/* SPDX-License-Identifier: MIT */
/* What the C consumers share: one counter, and add(), which adds to it
 * kIncrements times under a rawthread_lock; a thread and main each run it. */
#ifndef RAWTHREAD_CONSUMER_COUNTER_H
#define RAWTHREAD_CONSUMER_COUNTER_H

#include <rawthread.h>

enum { kIncrements = 10000 };
static rawthread_lock counter_lock = RAWTHREAD_LOCK_INIT;
static long counter = 0;

static void add(void* arg) {
  (void)arg;
  for (int i = 0; i < kIncrements; ++i) {
    bool acquired = false;
    if (rawthread_lock_acquire(&counter_lock, true, -1, &acquired) != 0 || !acquired) return;
    ++counter;
    (void)rawthread_lock_release(&counter_lock);
  }
}

#endif
