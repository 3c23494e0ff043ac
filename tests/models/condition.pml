/* SPDX-License-Identifier: MIT */
/*
 * tests/models/condition.pml: Condition's wait and notify, checked by spin.
 * Run it with tests/models/check (meson test --suite models does).
 *
 * WHAT IS MODELLED
 *   src/condition.cpp: each waiter links a record with its own futex word
 *   (WAITING, then SLEEPING once it may sleep, NOTIFIED once a notify picked
 *   it) into the Condition's FIFO list, gives the lock up, sleeps on the word
 *   with src/lock_wait.hpp's loop (WaiterOps: "taken" means NOTIFIED), then,
 *   unless the loop saw NOTIFIED, leaves: under the list lock it reads its
 *   word once more and either finds itself notified or unlinks itself. Then
 *   it takes the lock back, at the depth it held it, and returns.
 *   notify(1) / notify_all, with the lock held, unlink waiters from the head,
 *   exchange each word to NOTIFIED and FUTEX_WAKE those that were SLEEPING.
 *   (The code moves them onto the lock's futex queue instead, FUTEX_REQUEUE,
 *   when it can mark the lock contended; with the user's lock a
 *   test-and-set here, the requeue is modelled as this wake: the waiter's
 *   futex call returns, and it then takes the lock. The requeue's own
 *   protocol, the mark before and again after and the moved waiter's
 *   contended retake, is tests/models/requeue.pml's.)
 *
 *   Threads:
 *     W0        an untimed wait (deadline kNever), interruptible;
 *     W1        a timed wait;
 *               each holds the lock (an RLock, depth 2) before and after.
 *     Notifier  nothing, notify(1) or notify_all; then, once both waiters
 *               are in their wait (or done), notify_all; each under the lock.
 *     Interrupter  interrupt_main for W0 at any moment: raise its request,
 *               collapse its deadline, then a signal (EINTR if it sleeps);
 *               or, in some runs, nothing: W0 then ends only by a notify.
 *     Clock     W1's deadline passing, at any moment.
 *
 *   Abstractions. The user's lock is one atomic test-and-set (lock.pml
 *   checks its protocol); so is the list lock: every list operation under
 *   it is one atomic step. The list is each waiter's link number (0:
 *   unlinked); the head is the smallest. The futex is lock.pml's: compare
 *   and queue in one step, FUTEX_WAKE dequeues a sleeper of that word (each
 *   word has one sleeper, its waiter), a dequeued sleeper returns 0. The
 *   interrupt scheme is interrupt.pml's, reduced to what this wait adds:
 *   arm (clears the collapse), check, the futex call refusing a collapsed
 *   deadline (EINVAL), EINTR from the signal. WaiterOps has no spin (kSpin
 *   false): the loop's first step is the mark. Memory order is sequentially
 *   consistent.
 *
 * PROPERTIES
 *   1. No lost wake-up: a waiter a notify picked returns true; no waiter
 *      sleeps for ever (the watchdog finds none asleep, all done), and the
 *      notifications picked equal the waits that returned true.
 *   2. No early timeout: false only from the timed wait, after its deadline.
 *   3. No lost interrupt: the request made for W0 ended a wait (interrupted)
 *      or is still pending at the end (it ended none, or came with a notify,
 *      which then wins and leaves it pending); never both, never neither.
 *   4. The lock is held, at the depth it was, on every return.
 *   5. notify(1) picks exactly one waiter, the oldest still linked; a notify
 *      picks only waiters still waiting.
 *   6. Every execution is finite (the -DNP cycle search).
 *
 * MUTANTS (spin -D..., each removes one protective step; check reports an
 *   error for each)
 *   MUTANT_NO_WAKE      notify forgets FUTEX_WAKE: a sleeping waiter stays
 *                       asleep.
 *   MUTANT_NO_RECHECK   leave() does not read the word again: a waiter that
 *                       gives up just as a notify picks it reports a
 *                       timeout, and the notification is lost.
 *   MUTANT_NO_COMPARE   the sleep does not compare the word: a notify between
 *                       the mark and the sleep is slept through.
 *   MUTANT_NO_RETAKE    the interrupted path returns without taking the lock
 *                       back.
 *   MUTANT_NO_UNLINK    notify marks the head NOTIFIED but leaves it linked:
 *                       the next notify picks it again, a waiter that has
 *                       returned, and the one still waiting is never woken.
 *
 * STEPS: each label is the step that the code tags [condition: label]
 * (src/condition.cpp).
 *   link     append the record (list lock)      release  give the lock up
 *   mark     CAS WAITING -> SLEEPING
 *   sleep    futex_wait(word, SLEEPING, deadline)
 *   leave    NOTIFIED? else unlink (list lock)  retake   take the lock back
 *   notify   unlink the head, exchange NOTIFIED wake     FUTEX_WAKE if it slept
 */

#define NOTIFIED 0
#define WAITING  1
#define SLEEPING 2

#define NW 2            /* waiters */
#define DEPTH 2         /* each holds the RLock this deep */

/* How a futex_wait returned. */
#define WOKEN     1
#define EAGAIN    2
#define ETIMEDOUT 3
#define EINVAL    4
#define EINTR     5

/* How a wait returned. */
#define R_NONE        0
#define R_NOTIFIED    1
#define R_TIMED_OUT   2
#define R_INTERRUPTED 3

byte owner = 0;          /* the user's lock: 0 free, else holder's pid + 1 */
byte depth = 0;          /* its depth (the owner's) */
byte word[NW];           /* each waiter's futex word */
byte linked[NW];         /* link number, 0: not in the list */
byte next_link = 1;
bit asleep[NW];          /* queued on its word's futex */
bit woken[NW];           /* dequeued by FUTEX_WAKE */
bit request[NW];         /* an interrupt request pending for it */
bit collapsed[NW];       /* its deadline collapsed since it armed */
bit signalled[NW];       /* a signal arrived while it slept: EINTR */
bit passed[NW];          /* its deadline has passed (W1 only) */
bit returned[NW];        /* its wait has returned */
byte result[NW];
byte picked = 0;         /* waiters a notify picked (NOTIFIED by it) */
byte notified_returns = 0;
byte interrupted_returns = 0;
bit raised = 0;          /* the Interrupter made its request */
byte finished = 0;

/* The list head: the linked waiter with the smallest link number, or NW. */
inline head(h) {
  if
  :: linked[0] != 0 && (linked[1] == 0 || linked[0] < linked[1]) -> h = 0
  :: linked[1] != 0 && (linked[0] == 0 || linked[1] < linked[0]) -> h = 1
  :: else -> h = NW
  fi
}

inline lock_take(me) { atomic { owner == 0 -> owner = me + 1 } }

/* Consumes the waiter's request: whether there was one. */
inline consume(me, got) {
  atomic { got = request[me]; request[me] = 0 }
}

proctype Waiter(byte me; bit timed) {
  byte v = 0;
  bit got = 0;
  byte saved = 0;
  byte outcome = R_NONE;

  lock_take(me); depth = DEPTH;

  /* wait(): a request pending at entry ends it, nothing given up. */
  consume(me, got);
  if :: got -> outcome = R_INTERRUPTED; goto done :: else -> skip fi;

link:
  atomic { linked[me] = next_link; next_link++ };
release:
  atomic { saved = depth; depth = 0; owner = 0 };

  /* lock_wait::wait with WaiterOps (no spin). */
  do
  :: true ->
mark:
    atomic {
      if
      :: word[me] == WAITING -> word[me] = SLEEPING; v = 0
      :: word[me] == NOTIFIED -> v = 1
      :: word[me] == SLEEPING -> v = 0
      fi
    };
    if :: v == 1 -> v = 0; outcome = R_NOTIFIED; goto decided :: else -> skip fi;
    /* arm, then the last check for a request */
    collapsed[me] = 0;
    consume(me, got);
    if :: got -> outcome = R_INTERRUPTED; goto decided :: else -> skip fi;
sleep:
    atomic {
      if
      :: collapsed[me] -> v = EINVAL
#ifdef MUTANT_NO_COMPARE
      :: !collapsed[me] -> asleep[me] = 1; signalled[me] = 0
#else
      :: !collapsed[me] && word[me] == SLEEPING -> asleep[me] = 1; signalled[me] = 0
      :: !collapsed[me] && word[me] != SLEEPING -> v = EAGAIN
#endif
      fi
    };
    if
    :: v == 0 ->
      atomic {
        if
        :: woken[me] -> woken[me] = 0; v = WOKEN
        :: !woken[me] && timed && passed[me] -> asleep[me] = 0; v = ETIMEDOUT
        :: !woken[me] && signalled[me] -> asleep[me] = 0; signalled[me] = 0; v = EINTR
        fi
      }
    :: else -> skip
    fi;
    if
    :: v == WOKEN || v == EAGAIN -> v = 0            /* round again: check the word */
    :: v == ETIMEDOUT || v == EINVAL ->
      v = 0;
      consume(me, got);
      if :: got -> outcome = R_INTERRUPTED; goto decided :: else -> skip fi;
      if :: timed && passed[me] -> outcome = R_TIMED_OUT; goto decided :: else -> skip fi
    :: v == EINTR ->
      v = 0;
      consume(me, got);
      if :: got -> outcome = R_INTERRUPTED; goto decided :: else -> skip fi
    fi;
    /* lock_wait's loop goes back to take_or_mark: the word again */
    if :: word[me] == NOTIFIED -> outcome = R_NOTIFIED; goto decided :: else -> skip fi
  od;

decided:
  if
  :: outcome != R_NOTIFIED ->
leave:
    atomic {
#ifndef MUTANT_NO_RECHECK
      if
      :: word[me] == NOTIFIED -> v = 1
      :: else -> linked[me] = 0
      fi
#else
      linked[me] = 0
#endif
    }
  :: else -> skip
  fi;
  /* A notify came with the interrupt: the notify wins, the request is
   * made again (request_interrupt) and stays pending. */
  if
  :: v == 1 ->
    v = 0;
    if :: outcome == R_INTERRUPTED -> request[me] = 1 :: else -> skip fi;
    outcome = R_NOTIFIED
  :: else -> skip
  fi;

#ifdef MUTANT_NO_RETAKE
  if :: outcome == R_INTERRUPTED -> goto done :: else -> skip fi;
#endif
retake:
  lock_take(me); depth = saved;

done:
  atomic {
    returned[me] = 1;
    result[me] = outcome;
    assert(owner == me + 1 && depth == DEPTH);                 /* property 4 */
    assert(outcome != R_TIMED_OUT || (timed && passed[me]));   /* property 2 */
    /* a waiter a notify picked reports it (property 1) */
    assert(outcome == R_NOTIFIED || word[me] != NOTIFIED);
    if
    :: outcome == R_NOTIFIED -> notified_returns++
    :: outcome == R_INTERRUPTED -> interrupted_returns++
    :: else -> skip
    fi
  };
  atomic { depth = 0; owner = 0 };
  finished++
}

/* One notify(n) under the lock: n = 1, or NW for notify_all. */
inline notify_n(n) {
  lock_take(NW);
  k = 0;
  do
  :: k == n -> break
  :: else ->
notify:
    atomic {
      head(h);
      if
      :: h == NW -> k = n          /* nobody left */
      :: else ->
        assert(!returned[h]);      /* property 5: picks only waiters still waiting */
        /* property 5: the oldest (head() is the smallest link number) */
#ifndef MUTANT_NO_UNLINK
        linked[h] = 0;
#endif
        was = word[h]; word[h] = NOTIFIED; picked++; k++
      fi
    };
    if
    :: h != NW && was == SLEEPING ->
#ifndef MUTANT_NO_WAKE
wake:
      atomic { if :: asleep[h] -> asleep[h] = 0; woken[h] = 1 :: else -> skip fi }
#else
      skip
#endif
    :: else -> skip
    fi;
    h = NW; was = 0
  od;
  owner = 0
}

proctype Notifier() {
  byte round = 0, n = 0, k = 0, h = NW, was = 0;
  do
  :: round == 2 -> break
  :: else ->
    if
    :: round == 0 ->
      if
      :: n = 0
      :: n = 1
      :: n = NW
      fi
    :: else ->
      /* The last round notifies all, once each waiter is in its wait (or
       * done): a program notifies after the waiter's predicate changed. */
      (returned[0] || linked[0] != 0 || word[0] == NOTIFIED) &&
      (returned[1] || linked[1] != 0 || word[1] == NOTIFIED);
      n = NW
    fi;
    if :: n > 0 -> notify_n(n) :: else -> skip fi;
    n = 0; k = 0;
    round++
  od;
  finished++
}

/* interrupt_main for W0: raise, collapse, then the signal; or, in some
 * runs, nothing, so that W0's untimed wait can end only by a notify. */
proctype Interrupter() {
  if
  :: skip
  :: raised = 1;
    request[0] = 1;
    collapsed[0] = 1;
    atomic { if :: asleep[0] -> signalled[0] = 1 :: else -> skip fi }
  fi;
  finished++
}

proctype Clock() {
  passed[1] = 1;
  finished++
}

/* Runs once nothing else can: properties 1 and 3 at the end. */
active proctype Watchdog() {
  timeout ->
  assert(finished == NW + 3);
  assert(!asleep[0] && !asleep[1]);
  assert(picked == notified_returns);
  assert(interrupted_returns + request[0] == raised)
}

init {
  atomic {
    word[0] = WAITING; word[1] = WAITING;
    run Waiter(0, 0);
    run Waiter(1, 1);
    run Notifier();
    run Interrupter();
    run Clock()
  }
}
