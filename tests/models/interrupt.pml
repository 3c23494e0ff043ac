/* SPDX-License-Identifier: MIT */
/*
 * tests/models/interrupt.pml: ending a blocking acquire by an interrupt
 * request, checked by spin. Run it with tests/models/check (meson test
 * --suite models does).
 *
 * WHAT IS MODELLED
 *   The scheme of src/interrupt.hpp: an interruptible wait (src/lock_wait.hpp
 *   with a Target) arms its deadline in its thread's Target, then checks the
 *   request flag, then calls futex_wait(word, 2, &target.deadline). A request
 *   raises the flag, then collapses the deadline (tv_sec = kCollapsed, -1,
 *   which the kernel refuses with EINVAL before it reads the word); so
 *   a wait that checked before the flag went up either finds the deadline
 *   past when the kernel reads it, or is in the kernel already, where the
 *   signal that comes with the request ends its sleep with EINTR.
 *
 *   Threads:
 *     Main     the main thread: an untimed interruptible acquire (timeout -1,
 *              deadline kNever), then a timed one, of a Lock a holder took
 *              before the model starts.
 *     Holder   (in some runs) releases the lock once, at any moment; in the
 *              others nobody ever releases it, and the untimed acquire can
 *              only end by its interrupt.
 *     Clock    the timed acquire's deadline passing, at any moment.
 *     and the requesters: init starts one of them, or both.
 *     InterruptMain  interrupt_main() from another thread: raise, collapse,
 *              then a signal to Main (tgkill) whose handler requests nothing.
 *     Handler  a signal handler in Main calling request_interrupt(): it runs
 *              at any instruction boundary of Main, or while Main is in the
 *              kernel, where its signal ends the futex sleep.
 *   The stale collapse: interrupt_main raises, the untimed acquire consumes
 *   the request, the timed acquire arms its deadline, and only then does
 *   the collapse land. The timed acquire's futex call returns EINVAL long
 *   before its deadline, with no request to find, and must go round again
 *   (recheck) instead of returning false.
 *
 *   The kernel's futex_wait(word, 2, deadline), as the model has it:
 *     entry    the deadline is copied in when the call begins, before the
 *              word is read (one step with the entry: no user instruction,
 *              so no handler, comes between them; a collapse by another
 *              thread between them is as good as one before the call); a
 *              collapsed one is refused there (EINVAL), never compared;
 *     compare  the word still 2: queued, in one step atomic with respect to
 *              FUTEX_WAKE (the hash bucket lock); else EAGAIN at once;
 *     sleep    until a FUTEX_WAKE dequeues it (returns 0, whatever else also
 *              happened), or the copied deadline is past (ETIMEDOUT: once
 *              Clock has run for the real one, never for kNever), or a
 *              signal arrived since the call began
 *              (EINTR: the deadline is absolute, so even an SA_RESTART
 *              handler ends it; a signal pending at the compare ends it too,
 *              as the kernel finds it before it sleeps).
 *   Leaving the kernel runs the handler of a signal that arrived meanwhile.
 *   A signal that arrives while Main runs user code runs its handler there,
 *   between two instructions.
 *
 *   Abstractions: a deadline is its seconds only (COLLAPSED, REAL, NEVER): the
 *   collapse writes only tv_sec, so any mix of words the kernel reads is one
 *   of these (src/interrupt.hpp); arm is then one store. Memory order is
 *   sequentially consistent: each C++ atomic is one Promela step, and each
 *   thread's own stores are seen by its own later steps, kernel reads
 *   included. Where the hardware is weaker, the kernel keeps the order that
 *   matters: the kernel's copy of the deadline is a plain read, which may
 *   miss a collapse another CPU made just before; but a handler that runs
 *   before the futex call was delivered under the signal lock tgkill took
 *   after that collapse, so the call sees it, and a call already under way
 *   is ended by the signal. A handler's raise and collapse are done as its
 *   signal arrives;
 *   when Main is in the kernel they really run as it leaves, but Main's
 *   kernel steps after the entry read neither, so nothing tells the two
 *   apart. The spin and the inline fast path only try the CAS of fast_take
 *   again (tests/models/lock.pml has them); lock.pml has the word's
 *   protocol with several waiters, this file only the one waiter.
 *
 * PROPERTIES
 *   1. Every requested interrupt ends the wait it targets: Main never sleeps
 *      for ever. With the lock never released, the untimed acquire ends only
 *      by its interrupt; the watchdog finds Main blocked otherwise.
 *   2. A wait never returns timed out before its real deadline: at
 *      timed_out, the wait is the timed one and Clock has run.
 *   3. No request is lost: at the end some acquire returned interrupted, or
 *      the request is still pending (raised after the last acquire decided;
 *      it would end the next one).
 *   4. pending_interrupts never undercounts: a consume that reads 0 finds no
 *      flag set; at the end it equals the flag.
 *   5. Every execution is finite (check's -DNP cycle search finds none), so
 *      Main's loops cannot livelock either.
 *   6. A collapse never passes for the kernel refusing the wait: no acquire
 *      returns failed. The code ends a wait as failed on EINVAL only when
 *      the deadline no longer reads collapsed (a misaligned word, which the
 *      model never has); once the kernel read a collapsed deadline, only
 *      Main's next arm writes anything else there.
 *   The consumes at timedout and eintr decide only which outcome wins (an
 *   interrupt over a deadline passed or a lock come free meanwhile); without
 *   them the next check still finds the request, so no property rests on them.
 *
 * MUTANTS (spin -D..., each removes one protective step; check reports an
 * error for each)
 *   MUTANT_NO_COLLAPSE       a request does not collapse the deadline: one
 *                            raised between check and the futex call, with
 *                            its signal's handler run before the call, leaves
 *                            the untimed wait asleep for ever.
 *   MUTANT_NO_CHECK          no check between arm and the futex call: a
 *                            request raised and collapsed before arm is
 *                            undone by arm, and sleeps for ever.
 *   MUTANT_NO_RECHECK        ETIMEDOUT with no request returns timed out
 *                            without reading the clock: a stale collapse
 *                            ends the timed wait before its deadline.
 *   MUTANT_CHECK_BEFORE_ARM  check, then arm: a request between them is
 *                            undone by arm, as with no check.
 *   MUTANT_COLLAPSE_FIRST    interrupt_main collapses, then raises: the wait
 *                            arms between them and checks before the raise.
 *   MUTANT_NO_SIGNAL         interrupt_main sends no signal: a wait asleep in
 *                            the kernel already never learns of the request.
 *   MUTANT_EINVAL_FAILS      every EINVAL ends the wait as failed, the
 *                            collapsed deadline unread: the stale collapse
 *                            fails the timed acquire.
 *
 * STEPS: each label is the step that the code tags [interrupt: label], or
 * [lock: label] for the steps tests/models/lock.pml has too.
 *   label         tagged in                          the step
 *   consume_own   src/lock_wait.hpp acquire          consume: the request made
 *                                                    before this acquire
 *   fast_take     include/rawthread/lock.hpp,        CAS 0 -> 1
 *                 src/lock_wait.hpp acquire
 *   take_or_mark  src/lock_wait.hpp wait             exchange(2); 0: taken
 *   arm           src/lock_wait.hpp wait             the deadline into the
 *                 (interrupt::arm, interrupt.hpp)    Target, seq_cst
 *   check         src/lock_wait.hpp wait             consume
 *   sleep         src/lock_wait.hpp wait             futex_wait(word, 2,
 *                                                    &target.deadline)
 *   collapsed     src/lock_wait.hpp wait             EINVAL: the deadline still
 *                                                    collapsed, else failed
 *   timedout      src/lock_wait.hpp wait             ETIMEDOUT or EINVAL: consume
 *   recheck       src/lock_wait.hpp wait             clock::reached(deadline)
 *   eintr         src/lock_wait.hpp wait             EINTR: consume
 *   release       include/rawthread/lock.hpp         exchange(0)
 *   wake          include/rawthread/lock.hpp         futex_wake(word, 1)
 *   raise         src/interrupt.cpp raise            count up, flag exchange(1),
 *                                                    count down if it was set
 *   collapse      src/interrupt.cpp raise            deadline.tv_sec =
 *                                                    kCollapsed (-1)
 *   signal        src/interrupt.cpp interrupt_main   tgkill to the main thread
 *   consume (an inline, src/interrupt.cpp [interrupt: consume]) is the
 *   count's load, then the flag's exchange(0), then the count down; returned
 *   is the model's own: where an acquire's outcome is checked.
 */

#define FREE       0
#define HELD       1
#define CONTENDED  2

/* A deadline, by its seconds. */
#define COLLAPSED  1    /* tv_sec = -1: refused at entry (EINVAL) */
#define REAL       2    /* the timed acquire's: reached once Clock has run */
#define NEVER      3    /* clock::kNever: the untimed acquire's */

/* What futex_wait returns. */
#define WOKEN      1
#define EAGAIN     2
#define ETIMEDOUT  3
#define EINTR      4
#define EINVAL     5

/* How an acquire ends. */
#define ACQUIRED     1
#define TIMED_OUT    2
#define INTERRUPTED  3
#define FAILED       4    /* the kernel refused the wait (lock_wait_failed) */

byte word = HELD;         /* the Lock, taken by the holder beforehand */
byte pending = 0;         /* detail::pending_interrupts */
bit flag = 0;             /* main_target.request */
byte deadline = COLLAPSED;  /* main_target.deadline (any value will do) */
bit clock_passed = 0;     /* the timed acquire's deadline has passed */
bit in_kernel = 0;        /* Main is inside futex_wait */
bit sig_pending = 0;      /* a signal arrived during it: ends the sleep */
bit asleep = 0;           /* Main is queued on the word's futex */
bit woken = 0;            /* a FUTEX_WAKE dequeued it: the wait returns 0 */
bit main_done = 0;
byte requests = 0;        /* raises made (for property 3 only) */
byte interrupted = 0;     /* acquires that returned interrupted */

/* interrupt::consume: one load while no request exists anywhere; else the
 * flag's exchange(0), and the count down after it. */
inline consume(got) {
  if
  :: atomic { pending == 0 -> assert(!flag); got = 0 }   /* property 4 */
  :: pending != 0 ->
    atomic { got = flag; flag = 0 };
    if :: got -> pending-- :: else -> skip fi
  fi
}

proctype Main() {
  byte round = 0;
  byte dl;        /* this acquire's own deadline: the code's *deadline */
  byte kdl = 0;   /* the deadline the kernel copied in */
  byte v = 0;     /* a value read; reset once used */
  byte ret = 0;   /* what futex_wait returned */
  byte outcome = 0;

  do
  :: round == 2 -> break
  :: else ->
    dl = (round == 0 -> NEVER : REAL);

    /* A request made while no acquire waited ends this one at once. */
consume_own:
    consume(v);
    if :: v -> v = 0; outcome = INTERRUPTED; goto returned :: else -> skip fi;
fast_take:
    atomic { v = word; if :: v == FREE -> word = HELD :: else -> skip fi };
    if :: v == FREE -> outcome = ACQUIRED; goto returned :: else -> v = 0 fi;

take_or_mark:
    atomic { v = word; word = CONTENDED };
    if :: v == FREE -> outcome = ACQUIRED; goto returned :: else -> v = 0 fi;

    /* arm, then check: a request either is seen by the check, or comes
     * after arm and collapses the armed deadline (seq_cst both sides). */
#ifdef MUTANT_CHECK_BEFORE_ARM
    consume(v);
    if :: v -> v = 0; outcome = INTERRUPTED; goto returned :: else -> skip fi;
    deadline = dl;
#else
arm:
    deadline = dl;
#ifndef MUTANT_NO_CHECK
check:
    consume(v);
    if :: v -> v = 0; outcome = INTERRUPTED; goto returned :: else -> skip fi;
#endif
#endif

    /* futex_wait(word, 2, &target.deadline). Entry: the deadline is copied
     * in; no handler runs from here until the call returns. */
sleep:
    atomic {
      in_kernel = 1; kdl = deadline;
      /* A collapsed deadline is refused before anything else. */
      if :: kdl == COLLAPSED -> ret = EINVAL; kdl = 0; in_kernel = 0 :: else -> skip fi
    };
    /* Compare and queue, atomic with respect to FUTEX_WAKE. */
    atomic {
      if
      :: ret == EINVAL -> skip
      :: ret != EINVAL && word == CONTENDED -> asleep = 1
      :: ret != EINVAL && word != CONTENDED ->
        ret = EAGAIN; kdl = 0; in_kernel = 0; sig_pending = 0
      fi
    };
    if
    :: ret == EAGAIN || ret == EINVAL -> skip
    :: else ->
      /* Asleep. A wake that dequeued Main wins over everything else; Main
       * blocks here while none of the three can happen. Leaving the kernel
       * runs the handler of a signal that came meanwhile. */
      atomic {
        if
        :: woken -> ret = WOKEN
        :: !woken && kdl == REAL && clock_passed -> ret = ETIMEDOUT
        :: !woken && sig_pending -> ret = EINTR
        fi;
        asleep = 0; woken = 0; kdl = 0; in_kernel = 0; sig_pending = 0
      }
    fi;

    /* EINVAL: a collapse only while the deadline still reads collapsed;
     * else the kernel refused the word, and the wait fails. */
#ifdef MUTANT_EINVAL_FAILS
    if :: ret == EINVAL -> ret = 0; outcome = FAILED; goto returned :: else -> skip fi;
#else
collapsed:
    if
    :: ret == EINVAL && deadline != COLLAPSED -> ret = 0; outcome = FAILED; goto returned
    :: else -> skip
    fi;
#endif
    if
    :: ret == ETIMEDOUT || ret == EINVAL ->
      ret = 0;
      /* The deadline passed (ETIMEDOUT), or a request collapsed it
       * (EINVAL): this wait's request, or a stale one's collapse. */
timedout:
      consume(v);
      if :: v -> v = 0; outcome = INTERRUPTED; goto returned :: else -> skip fi;
#ifdef MUTANT_NO_RECHECK
      outcome = TIMED_OUT; goto returned
#else
recheck:
      if
      :: dl == REAL && clock_passed -> outcome = TIMED_OUT; goto returned
      :: else -> goto take_or_mark        /* a stale collapse: same deadline */
      fi
#endif
    :: ret == EINTR ->
      ret = 0;
eintr:
      consume(v);
      if :: v -> v = 0; outcome = INTERRUPTED; goto returned :: else -> skip fi;
      goto take_or_mark                   /* a handler without a request */
    :: else ->
      ret = 0;
      goto take_or_mark                   /* woken or EAGAIN: try again */
    fi;

returned:
    assert(outcome != TIMED_OUT || (dl == REAL && clock_passed));   /* property 2 */
    assert(outcome != FAILED);                                       /* property 6 */
    if
    :: outcome == INTERRUPTED -> interrupted++
    :: outcome == ACQUIRED ->
      /* Main's own release (nobody else waits on the word). */
      atomic { v = word; word = FREE };
      v = 0
    :: else -> skip
    fi;
    outcome = 0;
    round++
  od;
  main_done = 1
}

/* interrupt_main(): raise, collapse, then tgkill. */
proctype InterruptMain() {
  bit was = 0;

#ifdef MUTANT_COLLAPSE_FIRST
  deadline = COLLAPSED;
#endif
raise:
  pending++;
  atomic { was = flag; flag = 1; requests++ };
  if :: was -> pending-- :: else -> skip fi;
#if !defined(MUTANT_NO_COLLAPSE) && !defined(MUTANT_COLLAPSE_FIRST)
collapse:
  deadline = COLLAPSED;
#endif
#ifndef MUTANT_NO_SIGNAL
  /* In the kernel, the signal ends Main's wait; in user space its handler
   * (which requests nothing) runs between two of Main's instructions. */
signal:
  atomic { if :: in_kernel -> sig_pending = 1 :: else -> skip fi }
#endif
}

/* A handler running request_interrupt() in Main's thread: all of it between
 * two of Main's instructions, or while Main is in the kernel, where its
 * signal ends the wait. */
proctype Handler() {
  bit was = 0;

raise:
  atomic {
    pending++;
    was = flag; flag = 1; requests++;
    if :: was -> pending-- :: else -> skip fi;
#ifndef MUTANT_NO_COLLAPSE
collapse:
    deadline = COLLAPSED;
#endif
    if :: in_kernel -> sig_pending = 1 :: else -> skip fi
  }
}

/* A holder that releases the lock once: exchange(0), a wake if it was 2. */
proctype Holder() {
  byte v = 0;

release:
  atomic { v = word; word = FREE };
  if
  :: v == CONTENDED ->
wake:
    atomic { if :: asleep -> asleep = 0; woken = 1 :: else -> skip fi }
  :: else -> skip
  fi
}

proctype Clock() {
  clock_passed = 1
}

/* Runs once nothing else can: Main finished, or it sleeps for ever. */
active proctype Watchdog() {
  timeout ->
  assert(main_done);                                  /* property 1 */
  assert(requests == 0 || interrupted > 0 || flag);   /* property 3 */
  assert(pending == flag)                             /* property 4 */
}

init {
  atomic {
    run Main();
    run Clock();
    if
    :: run InterruptMain()
    :: run Handler()
    :: run InterruptMain(); run Handler()
    fi;
    if
    :: run Holder()
    :: skip                 /* nobody ever releases the lock */
    fi
  }
}
