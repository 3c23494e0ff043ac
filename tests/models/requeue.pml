/* SPDX-License-Identifier: MIT */
/*
 * tests/models/requeue.pml: a notify's requeue onto a Lock, checked by spin.
 * Run it with tests/models/check (meson test --suite models does).
 *
 * WHAT IS MODELLED
 *   src/condition.cpp's Condition::wake over a Lock, the part condition.pml
 *   abstracts as a wake: a notify marks the lock word contended, exchanges
 *   each picked waiter's word to REQUEUED and, if the waiter may be asleep
 *   on it, moves it to the lock word's futex queue (FUTEX_REQUEUE); then,
 *   having moved one, marks the lock again, or, finding it free, wakes one
 *   sleeper of the lock word. A moved waiter, once woken or finding its word
 *   REQUEUED, takes the lock back as one that slept (retake_contended:
 *   exchange to CONTENDED until it was FREE), so its release wakes the next.
 *   The lock is lock.pml's (FREE 0, LOCKED 1, CONTENDED 2; release exchanges
 *   to FREE and wakes one sleeper if it was CONTENDED).
 *
 *   Threads:
 *     W0, W1    waiters, linked, the lock already given up: each marks its
 *               word SLEEPING, sleeps on it until picked, takes the lock
 *               back, holds it a moment and releases it.
 *     Holder    holds the lock at the start and releases it at any moment
 *               once the Notifier has checked that it is held: for a Lock,
 *               Python's "held" is "locked by anyone", so the notifier need
 *               not be the holder, and the release may fall anywhere in the
 *               notify.
 *     Notifier  notify_all while the lock is held by the Holder.
 *     Locker    takes the lock at any moment by lock(): the fast path's
 *               CAS, else the exchange and sleep.
 *   Each futex word has a queue; a waiter sleeps on its own word or on the
 *   lock's, the Locker only on the lock's. FUTEX_WAKE(1) of the lock word
 *   dequeues any one sleeper there. Spurious wake-ups and timeouts are not
 *   modelled (condition.pml has them); memory order is sequentially
 *   consistent.
 *
 * PROPERTIES
 *   1. No lost wake-up: every thread ends (an invalid end state would be a
 *      thread asleep for good, on its word or on the lock's queue).
 *   2. Mutual exclusion: at most one thread in the lock at a time.
 *   3. At the end the lock is free and nobody sleeps on any word.
 *   4. Every execution is finite (the -DNP cycle search).
 *
 * MUTANTS (spin -D..., each removes one protective step; check reports an
 *   error for each)
 *   MUTANT_NO_REMARK     no mark after the requeue: the Holder's release
 *                        between the first mark and the requeue wakes
 *                        nobody, and a waiter moved onto the free lock's
 *                        queue sleeps for good.
 *   MUTANT_RETAKE_AS_1   a moved waiter takes the lock back as a fast path
 *                        does (FREE -> LOCKED): its release wakes nobody,
 *                        and the other moved waiter sleeps for good.
 *   MUTANT_NO_COMPARE    the waiter's futex call does not compare its word:
 *                        a notify between its mark and its sleep finds it
 *                        not yet queued, moves nobody, and it sleeps for
 *                        good.
 *
 * Not a mutant: the first mark dropped (a requeue regardless) still
 * verifies: the remark covers a release that came before the requeue. The
 * first mark decides between requeue and wake, and lets the holder's
 * release wake a moved waiter rather than the notifier's own FUTEX_WAKE.
 *
 * STEPS: each label is the step that the code tags [condition: label]
 * (src/condition.cpp), mark_first aside (wake's first mark_contended call).
 *   mark_first  the lock marked before any waiter is moved
 *   notify      exchange the waiter's word to REQUEUED
 *   requeue_it  FUTEX_REQUEUE of a waiter that was SLEEPING ([condition: requeue])
 *   remark      marked again, or one woken if the lock is free
 *   retake      a moved waiter's exchange to CONTENDED
 */

#define FREE      0
#define LOCKED    1
#define CONTENDED 2

#define NOTIFIED  0
#define WAITING   1
#define SLEEPING  2
#define REQUEUED  3

#define NW 2            /* waiters */
#define LOCKER NW       /* the Locker's slot in `where` */

/* Where a thread sleeps: nowhere, on its own word, or on the lock word. */
#define AWAKE   0
#define ON_WORD 1
#define ON_LOCK 2

byte lock = LOCKED;     /* the Holder's */
byte word[NW];
byte where[NW + 1];
byte inside = 0;        /* threads holding the lock */
byte finished = 0;
bit checked = 0;        /* the Notifier found the lock held */

/* FUTEX_WAKE(lock word, 1): dequeues any one sleeper there, if any. */
inline wake_one_on_lock() {
  atomic {
    if
    :: where[0] == ON_LOCK -> where[0] = AWAKE
    :: where[1] == ON_LOCK -> where[1] = AWAKE
    :: where[LOCKER] == ON_LOCK -> where[LOCKER] = AWAKE
    :: else -> skip
    fi
  }
}

/* futex_wait(lock word, CONTENDED): queued only if the word still reads
 * so; returns once dequeued. */
inline sleep_on_lock(me) {
  atomic { if :: lock == CONTENDED -> where[me] = ON_LOCK :: else -> skip fi };
  where[me] == AWAKE
}

inline release(was) {
  atomic { was = lock; lock = FREE };
  if :: was == CONTENDED -> wake_one_on_lock() :: else -> skip fi
}

inline critical_section() {
  atomic { inside++; assert(inside == 1) };
  inside--
}

/* lock(): the fast path's CAS, else exchange to CONTENDED and sleep. */
inline lock_slept(me) {
  atomic { if :: lock == FREE -> lock = LOCKED; was = 1 :: else -> was = 0 fi };
  if
  :: was == 1 -> skip
  :: else ->
    do
    :: atomic { was = lock; lock = CONTENDED };
       if :: was == FREE -> break :: else -> sleep_on_lock(me) fi
    od
  fi
}

/* mark_contended: a held lock becomes CONTENDED; false if it is FREE. */
inline mark_contended(marked) {
  atomic { if :: lock != FREE -> lock = CONTENDED; marked = 1 :: else -> marked = 0 fi }
}

proctype Waiter(byte me) {
  byte was = 0;
mark:
  atomic { if :: word[me] == WAITING -> word[me] = SLEEPING :: else -> skip fi };
  do
  :: word[me] == REQUEUED || word[me] == NOTIFIED -> break
  :: else ->
sleep:
#ifdef MUTANT_NO_COMPARE
    where[me] = ON_WORD;
#else
    atomic { if :: word[me] == SLEEPING -> where[me] = ON_WORD :: else -> skip fi };
#endif
    where[me] == AWAKE
  od;
retake:
  if
  :: word[me] == REQUEUED ->
#ifdef MUTANT_RETAKE_AS_1
    atomic { lock == FREE -> lock = LOCKED }
#else
    do
    :: atomic { was = lock; lock = CONTENDED };
       if :: was == FREE -> break :: else -> sleep_on_lock(me) fi
    od
#endif
  :: else -> lock_slept(me)  /* notified while the lock was free: lock() */
  fi;
  critical_section();
  release(was);
  finished++
}

proctype Holder() {
  byte was = 0;
  checked;  /* a notify needs the lock held when it checks */
  critical_section();
  release(was);
  finished++
}

proctype Notifier() {
  bit requeue = 0;
  bit moved = 0;
  byte was = 0;
  byte i = 0;
  lock != FREE;  /* notify_all's check: the lock is held (by the Holder, or the Locker) */
  checked = 1;
mark_first:
  mark_contended(requeue);
  do
  :: i < NW ->
notify:
    atomic { was = word[i]; word[i] = (requeue -> REQUEUED : NOTIFIED) };
    if
    :: was == SLEEPING && requeue ->
requeue_it:
      atomic { if :: where[i] == ON_WORD -> where[i] = ON_LOCK :: else -> skip fi };
      moved = 1
    :: was == SLEEPING && !requeue ->
      atomic { if :: where[i] == ON_WORD -> where[i] = AWAKE :: else -> skip fi }
    :: else -> skip
    fi;
    i++
  :: else -> break
  od;
remark:
#ifndef MUTANT_NO_REMARK
  if
  :: moved ->
    mark_contended(requeue);
    if :: !requeue -> wake_one_on_lock() :: else -> skip fi
  :: else -> skip
  fi;
#endif
  finished++
}

proctype Locker() {
  byte was = 0;
  lock_slept(LOCKER);
  critical_section();
  release(was);
  finished++
}

init {
  /* The waiters link and sleep while the Holder holds the lock, and the
   * notify comes only once both are linked: both marks are before it. */
  atomic {
    word[0] = WAITING; word[1] = WAITING;
    run Waiter(0); run Waiter(1); run Holder(); run Notifier(); run Locker()
  };
  finished == NW + 3;
  assert(lock == FREE);
  assert(where[0] == AWAKE && where[1] == AWAKE && where[LOCKER] == AWAKE)
}
