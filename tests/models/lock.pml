/* SPDX-License-Identifier: MIT */
/*
 * tests/models/lock.pml: the Lock's futex protocol, checked by spin.
 * Run it with tests/models/check (meson test --suite models does).
 *
 * WHAT IS MODELLED
 *   The word of include/rawthread/lock.hpp (0 free, 1 held with nobody
 *   asleep, 2 held and someone may be asleep: Drepper's three-state mutex)
 *   and every step that reads or writes it: the inline fast path, the spin
 *   and the sleep loop of src/lock_wait.hpp with LockOps (src/lock.cpp), and
 *   release. Three threads: two blocking acquirers (lock(), or acquire()
 *   with no request pending) and one timed acquirer (try_lock_for), each
 *   acquiring ROUNDS times. Interrupts are left out: tests/models/interrupt.pml
 *   has them, and an interrupted wait leaves the word as a timed-out one does.
 *
 *   The kernel's futex is two things here. FUTEX_WAIT compares the word with
 *   the value to sleep on and queues the caller in one atomic step: the
 *   kernel does both under the hash bucket lock that FUTEX_WAKE takes too,
 *   so no wake falls between them. (User-space writes of the word take no
 *   lock; but the waiter counts itself in the bucket, with a full barrier,
 *   before it reads the word, and a waker reads that count after its own
 *   write: either the waker sees the waiter, or the waiter sees the write.
 *   So the compare-and-queue is one point in time.) FUTEX_WAKE(1)
 *   dequeues any one sleeper of the word (which one is left open) and makes
 *   its wait return 0; a sleeper that a wake dequeued returns 0 even if its
 *   deadline passed meanwhile, and one that timed out has dequeued itself, so
 *   a wake is never spent on a thread that then leaves. A timed sleeper may
 *   time out at any moment (the deadline is not modelled as a time: any
 *   moment may be it); an untimed one wakes only by FUTEX_WAKE. Spurious
 *   returns are not modelled: the loop treats them as a wake.
 *
 *   Abstractions: kSpinProbes (7) is SPIN_LIMIT (2), which already shows
 *   every way a spin round can end; acquire_slow's one more try_take before
 *   the spin is the same CAS as fast_take and spin_take; memory order is
 *   sequentially consistent (each C++ atomic is one Promela step).
 *
 *   RLock (src/rlock.cpp) runs this very wait with a word that is 0 or the
 *   owner's tid, with kWaiters set once someone may sleep: HELD is "tid",
 *   CONTENDED is "tid | kWaiters". Its take_or_mark is a CAS loop (the value
 *   to mark depends on the owner) that either takes a free word as
 *   me | kWaiters or sets kWaiters on the current owner's value, and it
 *   sleeps on that value, so a change of owner returns EAGAIN as a release
 *   does here. The protocol is this one; it has no model of its own.
 *
 * PROPERTIES
 *   1. Mutual exclusion: at most one thread in the critical section, and the
 *      word is not free while one is there (assertions in critical).
 *   2. Release of a held lock only: release never finds the word free.
 *   3. No lost wake-up: no thread is left asleep on the futex for ever. An
 *      untimed sleeper with no wake to come never moves again: once the
 *      others are done nothing can move, and the watchdog, which runs only
 *      then, finds a thread that did not finish and a sleeper (spin's
 *      invalid end state says the same).
 *   4. Progress: every blocking acquire returns with the lock; so every
 *      thread finishes all its rounds, and the word ends free (watchdog).
 *      Every loop of the model is bounded by the other threads' progress, so
 *      each execution is finite: tests/models/check also asks pan for
 *      cycles (-DNP, pan -l), and finds none, so no livelock hides behind
 *      the end-state check.
 *
 * MUTANTS (spin -D..., each removes one protective step; check reports an
 * error for each)
 *   MUTANT_NO_WAKE        release forgets FUTEX_WAKE: a sleeper stays asleep.
 *   MUTANT_TAKE_AS_1      a thread that may have slept takes a free word as 1
 *                         (a CAS 0 -> 1 instead of the exchange to 2): with
 *                         two sleepers, the woken one takes the lock as 1 and
 *                         its release wakes nobody; the other sleeps for ever.
 *   MUTANT_NO_COMPARE     FUTEX_WAIT sleeps without comparing the word: a
 *                         release between the mark and the sleep is lost.
 *   MUTANT_RELEASE_SPLIT  release reads the word, then stores 0 (two steps,
 *                         not one exchange): a mark made between them is
 *                         overwritten and its sleeper never woken.
 *
 * STEPS: each label is the step that the code tags [lock: label].
 *   label         tagged in                          the step
 *   fast_take     include/rawthread/lock.hpp         CAS 0 -> 1 (the inline path);
 *                 try_acquire; src/lock_wait.hpp     acquire_slow tries it once
 *                 acquire                            more before the wait
 *   spin_take     src/lock_wait.hpp wait             the spin saw 0: CAS 0 -> 1
 *   spin_stop     src/lock_wait.hpp wait             the spin saw 2: stop
 *   take_or_mark  src/lock_wait.hpp wait             exchange(2) (LockOps in
 *                                                    src/lock.cpp); 0: taken
 *   sleep         src/lock_wait.hpp wait             futex_wait(word, 2, deadline)
 *   release       include/rawthread/lock.hpp         exchange(0)
 *                 release, unlock
 *   wake          include/rawthread/lock.hpp         futex_wake(word, 1) when the
 *                 release, unlock                    exchange returned 2
 *   (critical and next are the model's own: the critical section, the
 *   round's end.)
 */

#define FREE       0
#define HELD       1
#define CONTENDED  2

#define NT 3            /* threads: futex_wake below names each one */
#ifndef ROUNDS
#define ROUNDS 2        /* acquisitions per thread */
#endif
#ifndef SPIN_LIMIT
#define SPIN_LIMIT 2    /* kSpinProbes */
#endif

/* What a futex_wait that did not sleep, or that timed out, returns. */
#define EAGAIN     1
#define ETIMEDOUT  2

byte word = FREE;
byte in_cs = 0;         /* threads in the critical section */
bit asleep[NT];         /* queued on the word's futex */
bit woken[NT];          /* dequeued by a FUTEX_WAKE: its wait returns 0 */
byte finished = 0;      /* threads that ran all their rounds */

/* FUTEX_WAKE(word, 1): one step under the bucket lock. Dequeues any one
 * sleeper, or nobody when none sleeps (written out per thread: NT is 3). */
inline futex_wake_one() {
  atomic {
    if
    :: asleep[0] -> asleep[0] = 0; woken[0] = 1
    :: asleep[1] -> asleep[1] = 0; woken[1] = 1
    :: asleep[2] -> asleep[2] = 0; woken[2] = 1
    :: else -> skip
    fi
  }
}

/* One thread: ROUNDS times acquire, critical section, release. A timed
 * thread's acquire may end without the lock (try_lock_for's false). Locals
 * are reset once used, so that states differing only in them are one. */
proctype Thread(byte me; bit timed) {
  byte round = 0;
  byte spins = 0;
  byte v = 0;     /* what a load, CAS, exchange or futex_wait returned */

  do
  :: round == ROUNDS -> break
  :: else ->
    /* The inline path, CAS 0 -> 1, one step. A thread that has not slept
     * takes the lock as 1: nobody can be asleep behind it on its account. */
fast_take:
    atomic { v = word; if :: v == FREE -> word = HELD :: else -> skip fi };
    if :: v == FREE -> goto critical :: else -> v = 0 fi;

    /* The spin: a relaxed load, then (if it saw 0) a CAS that may lose the
     * race. Two steps: anything may happen between them. */
    do
    :: spins == SPIN_LIMIT -> spins = 0; break
    :: else ->
      spins++;
      v = word;
      if
      :: v == FREE ->
spin_take:
        atomic { v = word; if :: v == FREE -> word = HELD :: else -> skip fi };
        if :: v == FREE -> spins = 0; goto critical :: else -> v = 0 fi
      :: v == CONTENDED ->
spin_stop:
        v = 0; spins = 0; break     /* someone may sleep: no racing the hand-off */
      :: else -> v = 0              /* held: cpu_relax and load again */
      fi
    od;

    /* The sleep loop. One exchange takes a free lock or marks a held one, as
     * 2 either way: this thread may have slept, so its release must wake
     * whoever sleeps behind it; or it is about to, and the holder's release
     * must wake it. */
take_or_mark:
#ifdef MUTANT_TAKE_AS_1
    atomic { v = word; if :: v == FREE -> word = HELD :: else -> word = CONTENDED fi };
#else
    atomic { v = word; word = CONTENDED };
#endif
    if :: v == FREE -> goto critical :: else -> v = 0 fi;

    /* futex_wait(word, 2, deadline): compare and queue in one step, atomic
     * with respect to FUTEX_WAKE. A word changed since the exchange (a
     * release, or a new holder's CAS) returns EAGAIN: round again. */
sleep:
    atomic {
#ifdef MUTANT_NO_COMPARE
      asleep[me] = 1
#else
      if
      :: word == CONTENDED -> asleep[me] = 1
      :: else -> v = EAGAIN
      fi
#endif
    };
    if :: v == EAGAIN -> v = 0; goto take_or_mark :: else -> skip fi;
    /* Asleep until a FUTEX_WAKE dequeues this thread (return 0), or, timed
     * only, the deadline passes first and it dequeues itself (ETIMEDOUT).
     * An untimed sleeper nobody wakes blocks here for good. */
    atomic {
      if
      :: woken[me] -> woken[me] = 0
      :: timed && !woken[me] -> asleep[me] = 0; v = ETIMEDOUT
      fi
    };
    if
    :: v == ETIMEDOUT -> v = 0; goto next   /* false; the 2 it left costs one wake */
    :: else -> goto take_or_mark            /* woken: take it, or sleep again */
    fi;

critical:
    /* Entering checks that nobody else is inside and the word says held. */
    atomic { in_cs++; assert(in_cs == 1 && word != FREE) };   /* property 1 */
    in_cs--;

    /* One exchange decides: whoever marked the word before it is woken;
     * whoever comes after it finds the lock free. */
release:
#ifdef MUTANT_RELEASE_SPLIT
    v = word;
    atomic { word = FREE; assert(v != FREE) };
#else
    atomic { v = word; word = FREE; assert(v != FREE) };       /* property 2 */
#endif
    if
    :: v == CONTENDED ->
      v = 0;
#ifndef MUTANT_NO_WAKE
wake:
      futex_wake_one()
#else
      skip
#endif
    :: else -> v = 0
    fi;

next:
    round++
  od;
  finished++
}

/* Runs once no other statement can: everyone finished, or someone is blocked
 * for good (asleep with no wake to come: a lost wake-up). Properties 3, 4. */
active proctype Watchdog() {
  timeout ->
  assert(finished == NT);
  assert(!asleep[0] && !asleep[1] && !asleep[2]);
  assert(word == FREE)
}

init {
  atomic {
    run Thread(0, 0);   /* blocking */
    run Thread(1, 0);   /* blocking */
    run Thread(2, 1)    /* timed */
  }
}
