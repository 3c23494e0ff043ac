/* SPDX-License-Identifier: MIT */
/*
 * tests/models/signal.pml: Thread::interrupt against the end of its
 * thread, checked by spin. Run it with tests/models/check (meson test
 * --suite models does).
 *
 * WHAT IS MODELLED
 *   Thread::interrupt (src/join.cpp) reads and writes the thread's control
 *   block (the request flag, Control::signallers, the tid) and sends a
 *   signal to the thread's tid. Three things could go wrong as the thread
 *   ends meanwhile, and two protocols stop them:
 *     - the mapping that holds the control block given back (to the stack
 *       cache, or unmapped) under the call: the call is a reader of the
 *       handle (Thread::state_, enter/leave as is_done uses them), and the
 *       joiner that reclaims waits for the readers to leave;
 *     - the signal sent to a tid that the kernel freed when the thread
 *       exited, and may have given to another thread: the thread at its end
 *       (src/thread.cpp, finish) sets kEnding in Control::signallers and
 *       waits (futex) until the calls counted in there have left, and a call
 *       counts itself in only while kEnding is clear;
 *     - a request raised after the thread's last consume, which would stay
 *       raised (and counted in pending_interrupts) for good: the drain comes
 *       before that consume.
 *
 *   Processes:
 *     Thread       at its end: ending (fetch_or kEnding), the drain (a futex
 *                  wait on signallers while calls are in), the consume of a
 *                  request left, the exit (the kernel clears the tid; the
 *                  tid is free from there on).
 *     Interrupter  (two of them) Thread::interrupt: enter as a reader (or
 *                  find the thread joined or being reclaimed: nothing to
 *                  do), count in (or find kEnding: nothing to do), raise,
 *                  tgkill, count out (the last one out of an ending thread
 *                  wakes it), leave as a reader.
 *     Joiner       join: enter as a reader, wait for the exit, leave as the
 *                  reclaimer, wait for the other readers, give the mapping
 *                  back.
 *   The kernel's futex_wait(&signallers, seen): compare and queue in one
 *   step, atomic with respect to FUTEX_WAKE (the hash bucket lock); woken
 *   only by a wake (nobody sends the drain a signal that matters here: an
 *   EINTR would only go round the loop again). The joiner's own sleeps (on
 *   the tid word, on state_ for the readers) are join's protocol, checked by
 *   the tests, and are guards here: the join waits until the thread exited,
 *   the reclaimer until no reader is left.
 *   Memory order is sequentially consistent, each atomic one step; the
 *   code's compare_exchange loops are one step each (a failed CAS changes
 *   nothing).
 *
 * PROPERTIES
 *   1. No signal is sent to a thread that exited (its tid may be another
 *      thread's): assert at kill.
 *   2. No call touches a control block given back: assert at every access.
 *   3. No request outlives the thread: once everyone is done, the flag and
 *      pending_interrupts are 0.
 *   4. The thread's end never sleeps for ever (no invalid end state), and
 *      every execution is finite (check's -DNP run).
 *
 * MUTANTS (spin -D..., each removes one protective step; check reports an
 * error for each)
 *   MUTANT_NO_DRAIN         the thread exits without waiting for the calls
 *                           in flight: one sends to its freed tid.
 *   MUTANT_NO_ENDING_CHECK  a call counts itself in even after kEnding: it
 *                           gets in after the drain.
 *   MUTANT_NO_WAKE          the last call out does not wake the draining
 *                           thread: it sleeps for ever.
 *   MUTANT_CONSUME_FIRST    the thread consumes before the drain: a call in
 *                           flight raises a request that outlives it.
 *   MUTANT_NO_READER        the call does not count itself as a reader: the
 *                           joiner gives the mapping back under it.
 *
 * STEPS: each label is the step that the code tags [signal: label].
 *   label     tagged in                  the step
 *   ending    src/thread.cpp finish      signallers.fetch_or(kEnding)
 *   drain     src/thread.cpp finish      futex_wait while calls are in
 *   consume   src/thread.cpp finish      interrupt::consume: a request left
 *   too_late  src/join.cpp signal_thread kEnding seen: nothing to do
 *   enter     src/join.cpp signal_thread CAS count + 1 while kEnding clear
 *   raise     src/join.cpp signal_thread interrupt::raise
 *   kill      src/join.cpp signal_thread tgkill(pid, tid)
 *   leave     src/join.cpp signal_thread fetch_sub(1); the last one out of an
 *                                        ending thread wakes it
 */

#define ENDING   128     /* control::kEnding; the count is below it */
#define COUNT(s) ((s) % ENDING)

/* Thread::state_, as far as the model needs it. */
#define JOINED      128
#define RECLAIMING   64
#define READERS(s) ((s) % RECLAIMING)

byte signallers = 0;    /* Control::signallers */
bit flag = 0;           /* Control::interrupt.request */
byte pending = 0;       /* detail::pending_interrupts */
bit exited = 0;         /* the thread exited; its tid is free */
bit queued = 0;         /* the thread is asleep in its drain */
bit unmapped = 0;       /* the mapping was given back */
byte state = 0;         /* Thread::state_ */

inline alive() { assert(!unmapped) }   /* property 2 */

proctype Thread() {
  byte seen;
ending:
#ifdef MUTANT_CONSUME_FIRST
  atomic { if :: flag -> flag = 0; pending-- :: else -> skip fi };
#endif
  atomic { seen = signallers; signallers = signallers | ENDING };
#ifndef MUTANT_NO_DRAIN
drain:
  do
  :: COUNT(seen) == 0 -> break
  :: else ->
    /* futex_wait(&signallers, seen | kEnding, nullptr) */
    atomic {
      if
      :: signallers == (seen | ENDING) -> queued = 1
      :: else -> skip        /* EAGAIN */
      fi
    };
    !queued;                 /* until a FUTEX_WAKE dequeues it */
    seen = signallers
  od;
#endif
#ifndef MUTANT_CONSUME_FIRST
consume:
  atomic { if :: flag -> flag = 0; pending-- :: else -> skip fi };
#endif
  exited = 1
}

proctype Interrupter() {
  byte s;
  bit was;
#ifndef MUTANT_NO_READER
  atomic {
    if
    :: (state & (JOINED | RECLAIMING)) != 0 -> goto done   /* ended */
    :: else -> state++
    fi
  };
#endif
  alive();
enter:
  atomic {
    if
#ifndef MUTANT_NO_ENDING_CHECK
    :: (signallers & ENDING) != 0 -> goto too_late
#endif
    :: else -> signallers++
    fi
  };
raise:
  alive();
  pending++;
  atomic { was = flag; flag = 1 };
  if :: was -> pending-- :: else -> skip fi;
kill:
  alive();
  assert(!exited);           /* property 1: the tid is still the thread's */
leave:
  atomic { s = signallers; signallers-- };
  if
  :: s == (ENDING | 1) ->
#ifndef MUTANT_NO_WAKE
    queued = 0               /* futex_wake(&signallers, 1) */
#else
    skip
#endif
  :: else -> skip
  fi;
too_late:
#ifndef MUTANT_NO_READER
  state--;                   /* leave(state_, false): never the reclaimer */
#else
  skip;
#endif
done:
  skip
}

proctype Joiner() {
  atomic { (state & (JOINED | RECLAIMING)) == 0 -> state++ };
  exited;                    /* the tid word cleared: the kernel woke it */
  atomic { state = (state - 1) | RECLAIMING };   /* leave, as the reclaimer */
  READERS(state) == 0;       /* the other readers are out */
  unmapped = 1;              /* reclaim_mapping */
  state = JOINED
}

init {
  atomic {
    run Thread();
    run Interrupter();
    run Interrupter();
    run Joiner()
  };
  _nr_pr == 1;               /* everyone done */
  assert(exited && unmapped);
  assert(!flag && pending == 0);   /* property 3 */
}
