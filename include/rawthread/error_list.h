/* SPDX-License-Identifier: MIT */
/* rawthread/error_list.h: every error that has a C code, in one list, for C
 * and C++ (the preprocessor only; <rawthread.h> includes it).
 *
 * RAWTHREAD_ERRORS(X) calls X(CODE, name, kind, err, message) once per
 * error, in the order of the C codes, which start at 1 (RAWTHREAD_OK is 0):
 *
 *   CODE     the C code is RAWTHREAD_E_<CODE> (rawthread.h's enum)
 *   name     the C++ library's name for it: a constant Error (kJoinSelf) or,
 *            for an error a system call causes, the function that makes one
 *            from that call's -errno (cant_start_thread(ret))
 *   kind     its rawthread::Errc; in C the rawthread_errc RAWTHREAD_<KIND>
 *            (thread_error is RAWTHREAD_THREAD_ERROR, ...)
 *   err      its Error::sys_errno, rawthread_last_errno() in C: NONE (0),
 *            EINTR, EDEADLK, or CALL (the errno of the system call that
 *            failed)
 *   message  the text of Error::message and rawthread_strerror()
 *
 * The list only grows at its end: a code's number is part of the C ABI.
 * RAWTHREAD_E_UNKNOWN, after the last, is a code a newer library returned.
 * A user may expand the list too, to print a code's name, say:
 *
 *   #define NAME(CODE, name, kind, err, message) case RAWTHREAD_E_##CODE: return #CODE;
 *   switch (code) { RAWTHREAD_ERRORS(NAME) }
 *
 * rawthread/sys.hpp's errors (Errc::os_error, and its own argument checks)
 * are C++ only, with no C code, and are not in the list. */
#ifndef RAWTHREAD_ERROR_LIST_H
#define RAWTHREAD_ERROR_LIST_H

/* clang-format off */
#define RAWTHREAD_ERRORS(X)                                                                        \
  X(CANT_START_THREAD, cant_start_thread, thread_error, CALL,                                      \
    "can't start new thread")                  /* no memory, the kernel refused clone (ENOMEM, EAGAIN) */ \
  X(NONBLOCKING_TIMEOUT, kNonBlockingTimeout, value_error, NONE,                                   \
    "can't specify a timeout for a non-blocking call")                                             \
  X(NEGATIVE_TIMEOUT, kNegativeTimeout, value_error, NONE,                                         \
    "timeout value must be a non-negative number")                                                 \
  X(TIMEOUT_TOO_LARGE, kTimeoutTooLarge, overflow_error, NONE,                                     \
    "timeout value is too large")                                                                  \
  X(RELEASE_UNLOCKED, kReleaseUnlocked, thread_error, NONE,                                        \
    "release unlocked lock")                                                                       \
  X(RELEASE_UNOWNED, kReleaseUnowned, thread_error, NONE,                                          \
    "cannot release un-acquired lock")                                                             \
  X(COUNT_OVERFLOW, kCountOverflow, overflow_error, NONE,                                          \
    "Internal lock count overflowed")                                                              \
  X(INTERRUPTED, kInterrupted, interrupted, EINTR,                                                 \
    "lock acquire interrupted")                 /* a handler requested an interrupt */             \
  X(SIGNAL_OUT_OF_RANGE, kSignalOutOfRange, value_error, NONE,                                     \
    "signal number out of range")                                                                  \
  X(CANT_SIGNAL_MAIN, cant_signal_main, thread_error, CALL,                                        \
    "can't signal the main thread")                                                                \
  X(NEGATIVE_STACK_SIZE, kNegativeStackSize, value_error, NONE,                                    \
    "size must be 0 or a positive value")                                                          \
  X(STACK_SIZE_TOO_SMALL, kStackSizeTooSmall, value_error, NONE,                                   \
    "size not valid: must be 0 or at least 32768 bytes")                                           \
  X(JOIN_EMPTY, kJoinEmpty, thread_error, NONE,                                                    \
    "cannot join thread before it is started")                                                     \
  X(JOIN_SELF, kJoinSelf, thread_error, NONE,                                                      \
    "cannot join current thread")                                                                  \
  X(HANDLE_COPIED, kHandleCopied, thread_error, NONE,                                              \
    "thread handle is a copy: use the one start filled") /* C only: a rawthread_thread copied */   \
  /* The dummy backend only (-Dthread_backend=dummy), where the real one would                  */ \
  /* start a thread with the stack size asked for, or wait for ever:                            */ \
  X(STACK_SIZE_NOT_SUPPORTED, kStackSizeNotSupported, thread_error, NONE,                          \
    "setting thread stack size not supported")                                                     \
  X(WOULD_DEADLOCK, kWouldDeadlock, thread_error, EDEADLK,                                         \
    "acquire would deadlock: no other thread can release the lock")                                \
  X(STARTED_INTERRUPTED, kStartedFunctionInterrupted, interrupted, EINTR,                          \
    "interrupt_main() was called in the started function")                                         \
  /* Both backends:                                                                             */ \
  X(NULL_ARGUMENT, kNullArgument, value_error, NONE,                                               \
    "argument must not be null")                /* C only: a pointer it needs was NULL */          \
  X(LOCK_WAIT_FAILED, lock_wait_failed, thread_error, CALL,                                        \
    "lock wait failed")                         /* a futex error the lock protocol never causes */ \
  X(INTERRUPT_EMPTY, kInterruptEmpty, thread_error, NONE,                                          \
    "cannot interrupt thread before it is started")                                                \
  X(CANT_SIGNAL_THREAD, cant_signal_thread, thread_error, CALL,                                    \
    "can't signal the thread")                  /* Thread::interrupt's tgkill failed */            \
  X(SLEEP_INTERRUPTED, kSleepInterrupted, interrupted, EINTR,                                      \
    "sleep interrupted")                        /* a handler requested an interrupt */             \
  X(SLEEP_FAILED, sleep_failed, thread_error, CALL,                                                \
    "sleep failed")                             /* the kernel refused the wait (seccomp) */        \
  X(JOIN_INTERRUPTED, kJoinInterrupted, interrupted, EINTR,                                        \
    "join interrupted")                         /* a handler requested an interrupt */             \
  /* Semaphore and BoundedSemaphore (rawthread/semaphore.hpp):                                  */ \
  X(RELEASE_NONE, kReleaseNone, value_error, NONE,                                                 \
    "n must be one or more")                    /* release(0) */                                   \
  X(SEMAPHORE_OVERFLOW, kSemaphoreOverflow, overflow_error, NONE,                                  \
    "semaphore value would exceed UINT32_MAX")                                                     \
  X(RELEASED_TOO_MANY, kReleasedTooMany, value_error, NONE,                                        \
    "Semaphore released too many times")        /* BoundedSemaphore: above the initial value */   \
  /* Condition (rawthread/condition.hpp): wait or notify without holding its lock:             */ \
  X(WAIT_UNACQUIRED, kWaitUnacquired, thread_error, NONE,                                          \
    "cannot wait on un-acquired lock")                                                             \
  X(NOTIFY_UNACQUIRED, kNotifyUnacquired, thread_error, NONE,                                      \
    "cannot notify on un-acquired lock")                                                           \
  /* Barrier (rawthread/barrier.hpp):                                                           */ \
  X(BARRIER_NO_PARTIES, kBarrierNoParties, value_error, NONE,                                      \
    "parties must be > 0")                      /* Barrier(0): reported by wait */                 \
  X(BARRIER_BROKEN, kBarrierBroken, broken_barrier, NONE,                                          \
    "barrier is broken")                        /* timed out, reset or aborted */                  \
  /* Queue (rawthread/queue.hpp):                                                               */ \
  X(QUEUE_FULL, kQueueFull, full, NONE,                                                            \
    "queue is full")                            /* put: no room, or none in time */                \
  X(QUEUE_EMPTY, kQueueEmpty, empty, NONE,                                                         \
    "queue is empty")                           /* get: no item, or none in time */                \
  X(QUEUE_NEGATIVE_TIMEOUT, kQueueNegativeTimeout, value_error, NONE,                              \
    "'timeout' must be a non-negative number")  /* queue.py's check: negative, not -1, or NaN */   \
  X(TASK_DONE_TOO_MANY, kTaskDoneTooMany, value_error, NONE,                                       \
    "task_done() called too many times")                                                           \
  X(QUEUE_JOIN_TIMEOUT, kQueueJoinTimeout, thread_error, NONE,                                     \
    "join timed out")                           /* Queue::join's timeout ran out */              \
  /* rawthread/sys.hpp's poll:                                                                  */ \
  X(POLL_INTERRUPTED, kPollInterrupted, interrupted, EINTR,                                        \
    "poll interrupted")                         /* a handler requested an interrupt */
/* clang-format on */

#endif /* RAWTHREAD_ERROR_LIST_H */
