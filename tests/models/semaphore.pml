/* SPDX-License-Identifier: MIT */
/*
 * tests/models/semaphore.pml: the Semaphore's futex protocol, checked by
 * spin. Run it with tests/models/check (meson test --suite models does).
 *
 * WHAT IS MODELLED
 *   The word of include/rawthread/semaphore.hpp: the value and the count of
 *   threads that may sleep, one 64-bit word (value, sleepers here, changed
 *   together in one atomic step), and every step that reads or writes it:
 *   the inline fast path, the sleep loop of
 *   src/lock_wait.hpp with SemaphoreOps (src/semaphore.cpp), leave, and
 *   release(n). Threads:
 *     U0, U1    untimed acquirers (acquire(), no request): one token each;
 *     T2        a timed, interruptible acquirer (acquire(true, t) in a
 *               thread that a request may target): one token, or false at
 *               its deadline, or interrupted;
 *     Releaser  release(2), then perhaps release(1), at any moments: two
 *               tokens for three acquirers, or three;
 *     Clock     T2's deadline passing, at any moment;
 *     Requester a request for T2 (interrupt_main's or a handler's): raises
 *               the flag, collapses T2's deadline, then its signal ends T2's
 *               futex sleep if T2 is asleep then (EINTR).
 *   The futex is lock.pml's: FUTEX_WAIT compares the value's half with 0
 *   and queues in one step (the bucket lock), a collapsed deadline is
 *   refused at entry (EINVAL, before the compare); FUTEX_WAKE(k) dequeues up
 *   to k sleepers, any of them, each of whose wait then returns 0 whatever
 *   else happened; a timed sleeper may time out once the deadline passed,
 *   dequeuing itself (ETIMEDOUT). Spurious returns are not modelled: the
 *   loop treats them as a wake. The interrupt scheme's own races (arm,
 *   stale collapses, handlers inside the wait) are interrupt.pml's; here the
 *   request only has to end the wait with the count right.
 *
 *   Abstractions: SemaphoreOps has no spin (kSpin false); memory order is
 *   sequentially consistent (each C++ atomic is one Promela step).
 *
 * PROPERTIES
 *   1. Tokens are conserved: no take from a value of 0; at the end the value
 *      is 3 minus the tokens taken.
 *   2. No lost wake-up: when nothing else can move (the watchdog runs only
 *      then), no thread sleeps beside a token: the value is 0 or no one is
 *      asleep. An untimed acquirer may sleep for good only when every token
 *      went to others; the timed one always ends.
 *   3. The sleeper count is exact: at the end it counts the untimed
 *      acquirers still asleep (leave undoes every other count).
 *   4. No early timeout: T2 returns false only after Clock ran.
 *   5. No lost interrupt: a request is consumed only by an acquire that
 *      returns interrupted; at the end it is consumed or still pending.
 *   6. Every execution is finite (check's cycle search).
 *
 * MUTANTS (spin -D...; check reports an error for each)
 *   MUTANT_NO_WAKE         release never wakes: a sleeper sleeps beside a
 *                          token.
 *   MUTANT_WAKE_ONE        release(n) wakes one, not min(n, sleepers): with
 *                          two asleep, release(2) leaves one asleep beside a
 *                          token.
 *   MUTANT_NO_COMPARE      FUTEX_WAIT does not compare: a release between the
 *                          count and the sleep is lost.
 *   MUTANT_RELEASE_SPLIT   release reads the sleepers, then adds (two steps):
 *                          a waiter that counts itself between them is not
 *                          woken.
 *   MUTANT_NO_LEAVE        a waiter that gives up stays counted.
 *   MUTANT_DEADLINE_FIRST  after a wake, T2 checks its deadline before it
 *                          tries to take: it swallows the wake release(2)
 *                          meant for a token, and with all three asleep and
 *                          no release(1) to come, another sleeps beside it.
 *
 * STEPS: each label is the step that the code tags [semaphore: label] or,
 * for the loop it shares with the locks, [lock: label] / [interrupt: label].
 *   fast_take      include/rawthread/semaphore.hpp semaphore_try_take: CAS
 *                  value -> value - 1 when not 0
 *   take_or_count  src/semaphore.cpp take_or_mark: one CAS that takes a
 *                  token (leaving the count if in it) or joins the count
 *   sleep          src/lock_wait.hpp wait [lock: sleep]: futex_wait(value, 0)
 *   leave          src/semaphore.cpp leave (the policy's destructor)
 *   release        include/rawthread/semaphore.hpp semaphore_add: CAS that
 *                  adds n, reading the sleepers
 *   wake           semaphore_add -> semaphore_wake: FUTEX_WAKE(min(n, sleepers))
 */

#define NT 3

#define EAGAIN     1
#define ETIMEDOUT  2
#define EINTR      3
#define EINVAL     4

byte value = 0;
byte sleepers = 0;
byte taken = 0;          /* tokens taken in all */
byte released = 0;       /* tokens released in all */
bit asleep[NT];
bit woken[NT];
bit eintr[NT];           /* T2's sleep ended by the request's signal */
byte finished = 0;       /* acquirers done */

bit deadline_passed = 0; /* Clock */
bit request = 0;         /* T2's request flag */
bit collapsed = 0;       /* T2's deadline, as the request leaves it */
bit requested = 0;       /* the Requester ran */
bit t2_interrupted = 0;  /* T2 returned interrupted */

/* FUTEX_WAKE(value, k), one step: dequeues up to k sleepers. */
inline futex_wake(k) {
  atomic {
    w = k;
    do
    :: w > 0 && asleep[0] -> asleep[0] = 0; woken[0] = 1; w--
    :: w > 0 && asleep[1] -> asleep[1] = 0; woken[1] = 1; w--
    :: w > 0 && asleep[2] -> asleep[2] = 0; woken[2] = 1; w--
    :: else -> break
    od;
    w = 0
  }
}

proctype Acquirer(byte me; bit timed) {
  byte v = 0;
  bit counted = 0;

fast_take:
  atomic { if :: value > 0 -> value--; taken++; v = 1 :: else -> v = 0 fi };
  if :: v == 1 -> v = 0; goto done :: else -> skip fi;

loop:
take_or_count:
  atomic {
    if
    :: value > 0 ->
      value--; taken++; v = 1;
      if :: counted -> sleepers--; counted = 0 :: else -> skip fi
    :: value == 0 && !counted -> sleepers++; counted = 1; v = 0
    :: else -> v = 0
    fi
  };
  if :: v == 1 -> v = 0; goto done :: else -> skip fi;

  /* arm, then the last check for a request (interruptible T2 only) */
  if
  :: timed ->
    atomic { if :: request -> request = 0; v = EINTR :: else -> skip fi };
    if :: v == EINTR -> v = 0; goto interrupted :: else -> skip fi
  :: else -> skip
  fi;

sleep:
  atomic {
    if
    :: timed && collapsed -> v = EINVAL
#ifdef MUTANT_NO_COMPARE
    :: !(timed && collapsed) -> asleep[me] = 1
#else
    :: !(timed && collapsed) && value == 0 -> asleep[me] = 1
    :: !(timed && collapsed) && value != 0 -> v = EAGAIN
#endif
    fi
  };
  if
  :: v == EAGAIN -> v = 0; goto loop
  :: v == EINVAL ->
    /* collapsed: a request for this wait, or a stale one (interrupt.pml) */
    v = 0;
    atomic { if :: request -> request = 0; v = EINTR :: else -> skip fi };
    if :: v == EINTR -> v = 0; goto interrupted :: else -> collapsed = 0; goto loop fi
  :: else -> skip
  fi;
  /* An end state: with no token to come, an untimed waiter sleeps here for
   * good, rightly; the watchdog checks that no token waits beside it. */
end_asleep:
  atomic {
    if
    :: woken[me] -> woken[me] = 0
    :: timed && deadline_passed && !woken[me] -> asleep[me] = 0; v = ETIMEDOUT
    :: eintr[me] -> eintr[me] = 0; v = EINTR
    fi
  };
  if
  :: v == ETIMEDOUT ->
    v = 0;
    atomic { if :: request -> request = 0; v = EINTR :: else -> skip fi };
    if :: v == EINTR -> v = 0; goto interrupted :: else -> goto timed_out fi
  :: v == EINTR ->
    v = 0;
    atomic { if :: request -> request = 0; v = EINTR :: else -> skip fi };
    if :: v == EINTR -> v = 0; goto interrupted :: else -> goto loop fi
  :: else ->
#ifdef MUTANT_DEADLINE_FIRST
    if :: timed && deadline_passed -> goto timed_out :: else -> goto loop fi
#else
    goto loop
#endif
  fi;

timed_out:
  assert(timed && deadline_passed);             /* property 4 */
  goto leave;
interrupted:
  t2_interrupted = 1;
leave:
#ifndef MUTANT_NO_LEAVE
  atomic { if :: counted -> sleepers--; counted = 0 :: else -> skip fi };
#endif
done:
  finished++
}

proctype Releaser() {
  byte s = 0;
  byte n = 2;
  byte w = 0;
  byte k = 0;
  do
  :: n == 0 -> break
  :: n == 1 -> n = 0; break    /* or no release(1): then a waiter may wait for ever, for a token */
  :: n > 0 ->
release:
#ifdef MUTANT_RELEASE_SPLIT
    s = sleepers;
    value = value + n;
#else
    atomic { s = sleepers; value = value + n };
#endif
    if
    :: s > 0 ->
#ifdef MUTANT_NO_WAKE
      skip
#elif defined(MUTANT_WAKE_ONE)
wake_one:
      futex_wake(1)
#else
wake:
      k = (n < s -> n : s);   /* min(n, sleepers) */
      futex_wake(k)
#endif
    :: else -> skip
    fi;
    released = released + n;
    s = 0;
    k = 0;
    n--
  od
}

proctype Clock() { deadline_passed = 1 }

proctype Requester() {
  request = 1;
  collapsed = 1;
  atomic { if :: asleep[2] -> asleep[2] = 0; eintr[2] = 1 :: else -> skip fi };
  requested = 1
}

active proctype Watchdog() {
  timeout ->
  assert(value == 0 || (!asleep[0] && !asleep[1] && !asleep[2]));  /* property 2 */
  assert(finished + asleep[0] + asleep[1] + asleep[2] == NT);
  assert(!asleep[2]);                            /* the timed one always ends */
  assert(sleepers == asleep[0] + asleep[1]);     /* property 3 */
  assert(value + taken == released);             /* property 1 */
  assert(!requested || request || t2_interrupted) /* property 5 */
}

init {
  atomic {
    run Acquirer(0, 0);
    run Acquirer(1, 0);
    run Acquirer(2, 1);
    run Releaser();
    run Clock();
    run Requester()
  }
}
