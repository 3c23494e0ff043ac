/* SPDX-License-Identifier: MIT */
/* rawthread.h: rawthread for C11 (and C++), with no C++ runtime needed.
 *
 * The same library as <rawthread/rawthread.hpp>, through plain functions and
 * structs: threads (started detached or joinable), Lock and RLock with
 * static initialisers, interrupts, the stack size setting. Link with
 * librawthread.a; the C++ standard library is not needed.
 *
 * Errors are return values: 0 on success, else one of the RAWTHREAD_E_*
 * codes below. rawthread_strerror() gives its message, the same text the C++
 * API's Error::message holds, rawthread_error_kind() its Python kind, and
 * rawthread_last_errno() the errno behind it (the C++ API's
 * Error::sys_errno). A call that fails changes nothing.
 *
 * NULL: a pointer argument may be NULL only where its function says so (the
 * out-pointers, and the argument passed on to a thread's function). Any
 * other NULL pointer is refused before anything happens: a function that
 * returns a code returns RAWTHREAD_E_NULL_ARGUMENT; one that returns a bool,
 * a count or an ident returns false or 0, as for a free lock or an empty
 * handle; a void one does nothing.
 *
 * In a program linked with glibc or musl, a rawthread thread is invisible to
 * libc: its function may use rawthread, C11 atomics and memory that existed
 * before it started, not libc (printf, malloc, errno) or thread-locals.
 */
#ifndef RAWTHREAD_H
#define RAWTHREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rawthread/error_list.h> /* RAWTHREAD_ERRORS: the error codes */
#include <rawthread/version.h>    /* RAWTHREAD_VERSION_MAJOR, ..._STRING */

#ifdef __cplusplus
extern "C" {
#define RAWTHREAD_NORETURN [[noreturn]]
#define RAWTHREAD_ALIGNAS(n) alignas(n)
#else
#define RAWTHREAD_NORETURN _Noreturn
#define RAWTHREAD_ALIGNAS(n) _Alignas(n)
#endif

/* ---- Errors -------------------------------------------------------------- */

/* RAWTHREAD_OK, then RAWTHREAD_E_<CODE> for every error of
 * <rawthread/error_list.h>, which gives each one's kind and message, in its
 * order: RAWTHREAD_E_CANT_START_THREAD (1), RAWTHREAD_E_NONBLOCKING_TIMEOUT,
 * ..., RAWTHREAD_E_LOCK_WAIT_FAILED (20). */
#define RAWTHREAD_CODE_(CODE, name, kind, err, message) RAWTHREAD_E_##CODE,
enum {
  RAWTHREAD_OK = 0,
  RAWTHREAD_ERRORS(RAWTHREAD_CODE_)
  RAWTHREAD_E_UNKNOWN /* none of the above: a newer library's error */
};
#undef RAWTHREAD_CODE_

/* The Python exception an error corresponds to (rawthread::Errc). */
typedef enum rawthread_errc {
  RAWTHREAD_THREAD_ERROR,   /* _thread.error */
  RAWTHREAD_VALUE_ERROR,    /* ValueError */
  RAWTHREAD_OVERFLOW_ERROR, /* OverflowError */
  RAWTHREAD_INTERRUPTED,    /* the acquire was interrupted (Python: KeyboardInterrupt) */
  RAWTHREAD_OS_ERROR,       /* OSError */
  RAWTHREAD_BROKEN_BARRIER, /* threading.BrokenBarrierError */
  RAWTHREAD_FULL,           /* queue.Full */
  RAWTHREAD_EMPTY           /* queue.Empty */
} rawthread_errc;

/* The message of an error code; "no error" for 0, "unknown error" for codes
 * outside the list. Static text, never NULL. */
const char* rawthread_strerror(int code);
/* The kind of an error code. RAWTHREAD_OK, RAWTHREAD_E_UNKNOWN and codes
 * outside the list (negative, or a newer library's) give
 * RAWTHREAD_THREAD_ERROR, Python's most general thread error: nothing is
 * known of them that would make them a bad argument or a system call's
 * failure. */
rawthread_errc rawthread_error_kind(int code);

/* The errno behind the last error a rawthread_* call returned in the calling
 * thread: the kernel's errno behind RAWTHREAD_E_CANT_START_THREAD (ENOMEM,
 * EAGAIN), RAWTHREAD_E_CANT_SIGNAL_MAIN and RAWTHREAD_E_LOCK_WAIT_FAILED
 * (EINVAL, ...), EINTR behind the interrupts, EDEADLK behind
 * RAWTHREAD_E_WOULD_DEADLOCK; 0 when that error carried none (a bad
 * argument, a lock misused). Every rawthread_* call that returns an error
 * code sets it; a successful call leaves it. 0 before a thread's first error.
 *
 * Per thread, in every thread: the main thread, threads rawthread started
 * (in their own control block: they have no TLS of libc's) and threads a
 * libc started. In the dummy backend a started function runs in the thread
 * that started it, and shares its value. It is not libc's errno, which
 * rawthread never touches. Async-signal-safe; a handler whose rawthread_*
 * call fails changes it for the code it interrupted, as a libc call in a
 * handler changes errno: save and restore it there if that code reads it. */
int rawthread_last_errno(void);

/* ---- Threads --------------------------------------------------------------- */

typedef unsigned long rawthread_ident;

/* Starts a thread running fn(arg); *ident (when not NULL) gets its ident. The
 * thread ends when fn returns and gives back its own stack. arg may be NULL,
 * fn not (RAWTHREAD_E_NULL_ARGUMENT, no thread started). */
int rawthread_start_new_thread(void (*fn)(void* arg), void* arg, rawthread_ident* ident);

/* A joinable thread's handle. Every handle filled by
 * rawthread_start_joinable_thread must end in rawthread_join (returning
 * joined) or rawthread_detach: C has no destructor to detach it.
 *
 * A handle stays where rawthread_start_joinable_thread filled it, as a
 * pthread_mutex_t does: pass pointers to it, and move it with
 * rawthread_thread_move. A copy (C's assignment, memcpy, a struct returned
 * by value) is recognised, since the handle records its own address: the
 * copy's join returns RAWTHREAD_E_HANDLE_COPIED, its is_done is false, its
 * detach forgets the copy alone, and the original works as before. Two
 * handles joined for one thread would give its stack back twice. */
typedef struct rawthread_thread {
  void* opaque[4];
} rawthread_thread;
#define RAWTHREAD_THREAD_INIT {{0, 0, 0, 0}}

/* Starts a thread running fn(arg) and fills *thread with its handle. *thread
 * is overwritten, never read: it may be uninitialised, and a handle that
 * still holds a thread must be joined or detached first, or that thread's
 * stack is never given back. thread and fn must not be NULL
 * (RAWTHREAD_E_NULL_ARGUMENT, no thread started); arg may be. On any error
 * *thread is left as it was. */
int rawthread_start_joinable_thread(rawthread_thread* thread, void (*fn)(void* arg), void* arg);
/* Waits at most `timeout` seconds (RAWTHREAD_NO_TIMEOUT: no limit) for the
 * thread to end; *joined (when not NULL) tells whether it did. A NULL thread:
 * RAWTHREAD_E_NULL_ARGUMENT. */
int rawthread_join(rawthread_thread* thread, double timeout, bool* joined);
/* Whether the thread has ended; false for an empty handle and for NULL. */
bool rawthread_is_done(const rawthread_thread* thread);
/* Its ident; 0 for an empty handle and for NULL. */
rawthread_ident rawthread_thread_ident(const rawthread_thread* thread);
/* Lets the thread run on without a handle; it gives back its own stack. The
 * handle is empty afterwards. NULL: does nothing. */
void rawthread_detach(rawthread_thread* thread);
/* Moves the handle *from to *to, as C++'s move assignment does: *to's own
 * thread, if it has one, is detached first (so *to must be empty, a handle
 * or a copy, not uninitialised); *from is left empty. A copy as *from:
 * RAWTHREAD_E_HANDLE_COPIED, and nothing changes; NULL for either:
 * RAWTHREAD_E_NULL_ARGUMENT. */
int rawthread_thread_move(rawthread_thread* to, rawthread_thread* from);
/* Thread::interrupt: rawthread_interrupt_main's rules for this thread. It
 * requests an interrupt for the thread and sends it `signum`, so that its
 * handler runs and its blocking call in progress (an acquire, a join,
 * rawthread_sleep) returns RAWTHREAD_E_INTERRUPTED, RAWTHREAD_E_JOIN_INTERRUPTED
 * or RAWTHREAD_E_SLEEP_INTERRUPTED; with none in progress the request stays
 * pending for its next one. A disposition of SIG_DFL or SIG_IGN, or a thread
 * that has ended: does nothing, returns RAWTHREAD_OK. Errors:
 * RAWTHREAD_E_NULL_ARGUMENT (NULL), RAWTHREAD_E_HANDLE_COPIED (a copy: only
 * the original reaches the thread), RAWTHREAD_E_INTERRUPT_EMPTY (an empty
 * handle), RAWTHREAD_E_SIGNAL_OUT_OF_RANGE (signum outside 1..64),
 * RAWTHREAD_E_CANT_SIGNAL_THREAD (the kernel refused; rawthread_last_errno()
 * says why, and no request is left behind). Not async-signal-safe. */
int rawthread_thread_interrupt(rawthread_thread* thread, int signum);

rawthread_ident rawthread_get_ident(void);  /* nonzero, no system call; async-signal-safe */
long rawthread_get_native_id(void);         /* the kernel's tid */
RAWTHREAD_NORETURN void rawthread_exit_thread(void);
size_t rawthread_thread_count(void);        /* threads started and not ended */
/* Unmaps the stacks of ended threads kept for reuse (rawthread/thread.hpp). */
void rawthread_release_cached_stacks(void);

/* Python's stack_size(): 0 means the default (128 KiB). */
size_t rawthread_get_stack_size(void);
/* Sets it; *old (when not NULL) gets the setting before. */
int rawthread_set_stack_size(long size, size_t* old);

/* ---- Locks ------------------------------------------------------------------ */

#define RAWTHREAD_NO_TIMEOUT (-1.0)
#define RAWTHREAD_TIMEOUT_MAX 4294967295.0

/* rawthread::Lock: one futex word. Zero is unlocked: a static one needs no
 * call to set it up. */
typedef struct rawthread_lock {
  RAWTHREAD_ALIGNAS(4) unsigned char opaque[4];
} rawthread_lock;
#define RAWTHREAD_LOCK_INIT {{0}}

/* Python's acquire(blocking, timeout); *acquired (when not NULL) tells
 * whether the lock was taken. RAWTHREAD_E_LOCK_WAIT_FAILED: the kernel
 * refused to sleep on the lock, rawthread_last_errno() says why, and the
 * acquire ended at once without it: EINVAL for a pointer that is not 4-byte
 * aligned (a rawthread_lock* made from an odd address: x86_64 performs the
 * lock's atomics there, the futex call does not; aarch64 and riscv64 may
 * raise SIGBUS at the first atomic instead), EPERM or ENOSYS where a seccomp
 * filter denies futex. */
int rawthread_lock_acquire(rawthread_lock* lock, bool blocking, double timeout, bool* acquired);
/* release and locked are async-signal-safe, as in C++ (rawthread.hpp). */
int rawthread_lock_release(rawthread_lock* lock);
/* Whether some thread holds it; false for NULL. */
bool rawthread_lock_locked(const rawthread_lock* lock);
/* Frees it whoever held it: in the child of fork() only. NULL: does nothing. */
void rawthread_lock_at_fork_reinit(rawthread_lock* lock);

/* rawthread::RLock: re-entrant for its owner. Zero is unlocked. */
typedef struct rawthread_rlock {
  RAWTHREAD_ALIGNAS(4) unsigned char opaque[8];
} rawthread_rlock;
#define RAWTHREAD_RLOCK_INIT {{0}}

/* As rawthread_lock_acquire, RAWTHREAD_E_LOCK_WAIT_FAILED included. */
int rawthread_rlock_acquire(rawthread_rlock* lock, bool blocking, double timeout, bool* acquired);
int rawthread_rlock_release(rawthread_rlock* lock);
/* Whether the calling thread owns it; false for NULL. */
bool rawthread_rlock_is_owned(const rawthread_rlock* lock);
/* The owner's depth; 0 in any other thread, and for NULL. */
unsigned rawthread_rlock_recursion_count(const rawthread_rlock* lock);
/* NULL: does nothing. */
void rawthread_rlock_at_fork_reinit(rawthread_rlock* lock);

/* ---- Semaphores and events -------------------------------------------------- */

/* rawthread::Semaphore: a 32-bit value (0 .. UINT32_MAX) and a count of
 * sleepers in one 64-bit word. RAWTHREAD_SEMAPHORE_INIT(value) or
 * rawthread_semaphore_init set it up; a zeroed one is a Semaphore(0). */
typedef struct rawthread_semaphore {
  RAWTHREAD_ALIGNAS(8) uint64_t opaque;
} rawthread_semaphore;
#define RAWTHREAD_SEMAPHORE_INIT(value) {(uint64_t)(uint32_t)(value)}

/* rawthread::BoundedSemaphore: a release above the initial value fails. */
typedef struct rawthread_bounded_semaphore {
  RAWTHREAD_ALIGNAS(8) uint64_t opaque;
  uint32_t opaque_initial;
} rawthread_bounded_semaphore;
#define RAWTHREAD_BOUNDED_SEMAPHORE_INIT(value) {(uint64_t)(uint32_t)(value), (uint32_t)(value)}

/* Sets up a semaphore with `value`, as its static initialiser would: only
 * while no thread uses it. */
int rawthread_semaphore_init(rawthread_semaphore* sem, unsigned value);
/* Python's acquire(blocking, timeout), with rawthread_lock_acquire's
 * arguments and errors (RAWTHREAD_E_INTERRUPTED, RAWTHREAD_E_LOCK_WAIT_FAILED
 * and, in the dummy backend, RAWTHREAD_E_WOULD_DEADLOCK included); *acquired
 * (when not NULL) tells whether one was taken. */
int rawthread_semaphore_acquire(rawthread_semaphore* sem, bool blocking, double timeout,
                                bool* acquired);
/* Adds n and wakes at most n waiters. Async-signal-safe.
 * RAWTHREAD_E_RELEASE_NONE: n == 0; RAWTHREAD_E_SEMAPHORE_OVERFLOW: the value
 * would pass UINT32_MAX. Nothing changes on an error. */
int rawthread_semaphore_release(rawthread_semaphore* sem, unsigned n);

int rawthread_bounded_semaphore_init(rawthread_bounded_semaphore* sem, unsigned value);
int rawthread_bounded_semaphore_acquire(rawthread_bounded_semaphore* sem, bool blocking,
                                        double timeout, bool* acquired);
/* As rawthread_semaphore_release; RAWTHREAD_E_RELEASED_TOO_MANY: the value
 * would pass the initial value. */
int rawthread_bounded_semaphore_release(rawthread_bounded_semaphore* sem, unsigned n);

/* rawthread::Event: one futex word. Zero is a clear event. */
typedef struct rawthread_event {
  RAWTHREAD_ALIGNAS(4) unsigned char opaque[4];
} rawthread_event;
#define RAWTHREAD_EVENT_INIT {{0}}

/* Whether it is set; false for NULL. Async-signal-safe. */
bool rawthread_event_is_set(const rawthread_event* event);
/* Sets it and wakes every waiter / clears it. Async-signal-safe. */
int rawthread_event_set(rawthread_event* event);
int rawthread_event_clear(rawthread_event* event);
/* Python's wait(timeout): *set (when not NULL) is true once it was set, even
 * if cleared right after, false on timeout. rawthread_lock_acquire's errors
 * for a blocking call (RAWTHREAD_E_INTERRUPTED included; in the dummy
 * backend, RAWTHREAD_E_WOULD_DEADLOCK for an untimed wait on a clear event). */
int rawthread_event_wait(rawthread_event* event, double timeout, bool* set);
/* ---- Condition -------------------------------------------------------------- */

/* rawthread::Condition (rawthread/condition.hpp) over a rawthread_lock or a
 * rawthread_rlock, which must outlive it. No static initializer: it holds
 * its lock's address, set by one of the init calls, once, before any other
 * thread uses it. Never copied once in use (a waiter's record points into
 * it, as into a pthread_cond_t). NULL for either argument:
 * RAWTHREAD_E_NULL_ARGUMENT, nothing set up. */
typedef struct rawthread_condition {
  void* opaque[6];
} rawthread_condition;
int rawthread_condition_init_lock(rawthread_condition* cond, rawthread_lock* lock);
int rawthread_condition_init_rlock(rawthread_condition* cond, rawthread_rlock* lock);
/* wait(timeout): gives the lock up fully, waits for a notify, the timeout
 * (RAWTHREAD_NO_TIMEOUT: for ever) or an interrupt, and takes the lock back,
 * at the same depth, whatever the outcome. *notified (when not NULL): true
 * if notified, false on timeout. Errors: RAWTHREAD_E_WAIT_UNACQUIRED (the
 * caller does not hold the lock; for a rawthread_lock, "held" is "locked"),
 * the timeout's (as rawthread_lock_acquire), RAWTHREAD_E_INTERRUPTED,
 * RAWTHREAD_E_LOCK_WAIT_FAILED, and the dummy backend's
 * RAWTHREAD_E_WOULD_DEADLOCK for an untimed wait. */
int rawthread_condition_wait(rawthread_condition* cond, double timeout, bool* notified);
/* Wake the n longest waiters / every waiter. RAWTHREAD_E_NOTIFY_UNACQUIRED:
 * the caller does not hold the lock; nothing woken. */
int rawthread_condition_notify(rawthread_condition* cond, size_t n);
int rawthread_condition_notify_all(rawthread_condition* cond);

/* ---- Barrier ---------------------------------------------------------------- */

/* rawthread::Barrier (rawthread/barrier.hpp): parties threads wait for each
 * other, then go on together, cycle after cycle. No static initializer: it
 * holds a Condition that points to its own lock, set up by
 * rawthread_barrier_init, once, before any other thread uses it. Never
 * copied or moved once set up. */
typedef struct rawthread_barrier {
  RAWTHREAD_ALIGNAS(8) unsigned char opaque[80];
} rawthread_barrier;
/* Sets up a barrier of `parties` (action, when not NULL, runs in the last
 * thread to arrive in each cycle, before the others are released; timeout
 * is the default for a wait given RAWTHREAD_NO_TIMEOUT, itself
 * RAWTHREAD_NO_TIMEOUT for none). Checks nothing but NULL: 0 parties and a
 * bad timeout are reported by rawthread_barrier_wait. */
int rawthread_barrier_init(rawthread_barrier* barrier, unsigned parties, void (*action)(void),
                           double timeout);
/* Waits until `parties` threads have called it; *index (when not NULL) is
 * this thread's arrival index, 0 .. parties-1. Errors:
 * RAWTHREAD_E_BARRIER_NO_PARTIES (0 parties), the timeout's (as
 * rawthread_lock_acquire, for the effective timeout), RAWTHREAD_E_INTERRUPTED
 * (a request pending, or one arriving during the wait: the barrier is not
 * broken and counts one party fewer), RAWTHREAD_E_BARRIER_BROKEN (broken,
 * reset or aborted meanwhile, or this wait timed out, which breaks it),
 * RAWTHREAD_E_LOCK_WAIT_FAILED, and in the dummy backend
 * RAWTHREAD_E_WOULD_DEADLOCK for an untimed wait that needs another party. */
int rawthread_barrier_wait(rawthread_barrier* barrier, double timeout, unsigned* index);
/* reset: waiters get RAWTHREAD_E_BARRIER_BROKEN, then it is usable again.
 * abort: broken until reset. */
int rawthread_barrier_reset(rawthread_barrier* barrier);
int rawthread_barrier_abort(rawthread_barrier* barrier);
/* 0 / false for NULL. */
unsigned rawthread_barrier_parties(const rawthread_barrier* barrier);
unsigned rawthread_barrier_n_waiting(const rawthread_barrier* barrier);
bool rawthread_barrier_broken(const rawthread_barrier* barrier);

/* ---- Interrupts ------------------------------------------------------------- */

/* Async-signal-safe: a handler calls it to make the acquire it cut short
 * return RAWTHREAD_E_INTERRUPTED. */
void rawthread_request_interrupt(void);
/* Simulates `signum` arriving in the main thread (Python: interrupt_main).
 * Async-signal-safe: a handler in any thread may call it.
 * RAWTHREAD_E_CANT_SIGNAL_MAIN: the kernel refused to send the signal
 * (rawthread_last_errno(): EAGAIN for a real-time signal whose queue is
 * full, ...); no request is left behind. */
int rawthread_interrupt_main(int signum);
/* Python's time.sleep, interruptible (C++: rawthread::sleep): waits `seconds`
 * on CLOCK_MONOTONIC and never returns early; a signal handler that runs
 * meanwhile does not end it, an interrupt request for the calling thread,
 * pending or arriving, does: RAWTHREAD_E_SLEEP_INTERRUPTED, the request
 * consumed. The argument takes an acquire's timeout checks:
 * RAWTHREAD_NO_TIMEOUT (-1) sleeps until interrupted; other negatives and NaN
 * RAWTHREAD_E_NEGATIVE_TIMEOUT; above RAWTHREAD_TIMEOUT_MAX
 * RAWTHREAD_E_TIMEOUT_TOO_LARGE. RAWTHREAD_E_SLEEP_FAILED: the kernel refused
 * the wait (a seccomp filter; rawthread_last_errno() says why). */
int rawthread_sleep(double seconds);

/* ---- Queue ------------------------------------------------------------------ */

/* rawthread::Queue (rawthread/queue.hpp) over a caller's buffer of
 * `capacity` elements of `element_size` bytes each, which must outlive it:
 * queue.py's Queue(maxsize=capacity), items copied in and out with memcpy.
 * No static initializer: rawthread_queue_init sets it up, once, before any
 * other thread uses it; never copied once in use. */
typedef struct rawthread_queue {
  RAWTHREAD_ALIGNAS(8) unsigned char opaque[144];
} rawthread_queue;
/* RAWTHREAD_E_NULL_ARGUMENT: q or buffer NULL, element_size or capacity 0;
 * RAWTHREAD_E_SEMAPHORE_OVERFLOW: capacity > UINT32_MAX (the ring's indices
 * are 32-bit). Nothing set up on an error. */
int rawthread_queue_init(rawthread_queue* q, void* buffer, size_t element_size, size_t capacity);
/* put copies element_size bytes from item to the tail; get copies the oldest
 * item to item_out. queue.py's arguments: block false never waits and
 * ignores timeout (a pending interrupt request stays pending);
 * RAWTHREAD_NO_TIMEOUT waits for ever; other negatives and NaN (with block)
 * RAWTHREAD_E_QUEUE_NEGATIVE_TIMEOUT; above RAWTHREAD_TIMEOUT_MAX
 * RAWTHREAD_E_TIMEOUT_TOO_LARGE. RAWTHREAD_E_QUEUE_FULL / _EMPTY: no room /
 * no item at once or in time; RAWTHREAD_E_INTERRUPTED: an interrupt
 * requested for the thread ended a blocking call; RAWTHREAD_E_LOCK_WAIT_FAILED
 * as for a lock; in the dummy backend RAWTHREAD_E_WOULD_DEADLOCK for an
 * untimed put to a full queue or get from an empty one. NULL q or item:
 * RAWTHREAD_E_NULL_ARGUMENT. Nothing changes on an error. */
int rawthread_queue_put(rawthread_queue* q, const void* item, bool block, double timeout);
int rawthread_queue_get(rawthread_queue* q, void* item_out, bool block, double timeout);
int rawthread_queue_put_nowait(rawthread_queue* q, const void* item);
int rawthread_queue_get_nowait(rawthread_queue* q, void* item_out);
/* Snapshots: items queued (0 for NULL), none (true for NULL), capacity of
 * them (false for NULL). */
size_t rawthread_queue_qsize(const rawthread_queue* q);
bool rawthread_queue_empty(const rawthread_queue* q);
bool rawthread_queue_full(const rawthread_queue* q);
/* One put's task done. RAWTHREAD_E_TASK_DONE_TOO_MANY: more task_done than
 * puts; nothing changed. */
int rawthread_queue_task_done(rawthread_queue* q);
/* Until every put is task_done. RAWTHREAD_E_QUEUE_JOIN_TIMEOUT: the timeout
 * ran out; the timeout's other errors and RAWTHREAD_E_INTERRUPTED as put's;
 * in the dummy backend RAWTHREAD_E_WOULD_DEADLOCK untimed with unfinished
 * tasks. */
int rawthread_queue_join(rawthread_queue* q, double timeout);

#ifdef __cplusplus
}
#endif

#endif /* RAWTHREAD_H */
