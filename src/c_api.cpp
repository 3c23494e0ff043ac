// SPDX-License-Identifier: MIT
// rawthread.h: the C API, a thin layer over the C++ one. Each C struct is the
// storage of the C++ object of the same name (sizes and alignments checked
// below); each Error becomes the code of the catalogue message it points to
// (<rawthread/error_list.h>), and its errno the calling thread's
// rawthread_last_errno(). A null pointer the C++ API would dereference is
// refused here, before anything else.
#include <rawthread.h>

#include <cstddef>
#include <new>
#include <string_view>
#include <type_traits>

#include <rawthread/rawthread.hpp>
#include <rawthread/rlock.hpp>

#include "backend.hpp"
#include "control.hpp"
#include "errors.hpp"

namespace {

using namespace rawthread;

static_assert(sizeof(rawthread_lock) == sizeof(Lock) && alignof(rawthread_lock) == alignof(Lock));
static_assert(sizeof(rawthread_rlock) == sizeof(RLock) &&
              alignof(rawthread_rlock) == alignof(RLock));
static_assert(sizeof(rawthread_semaphore) == sizeof(Semaphore) &&
              alignof(rawthread_semaphore) == alignof(Semaphore));
static_assert(sizeof(rawthread_bounded_semaphore) == sizeof(BoundedSemaphore) &&
              alignof(rawthread_bounded_semaphore) == alignof(BoundedSemaphore));
static_assert(sizeof(rawthread_event) == sizeof(Event) && alignof(rawthread_event) == alignof(Event));
static_assert(sizeof(rawthread_condition) == sizeof(Condition) &&
              alignof(rawthread_condition) == alignof(Condition));
static_assert(sizeof(rawthread_barrier) == sizeof(Barrier) &&
              alignof(rawthread_barrier) == alignof(Barrier));
static_assert(sizeof(rawthread_thread) >= sizeof(Thread) + sizeof(void*) &&
              alignof(rawthread_thread) >= alignof(Thread));
static_assert(sizeof(rawthread_ident) == sizeof(Ident));

// What a rawthread_queue holds: the C++ Queue's core, and the caller's
// buffer in place of the template's inline slots.
struct CQueue {
  detail::QueueCore core;
  unsigned char* buffer;
  std::size_t element_size;
  unsigned char* at(std::uint32_t i) const noexcept { return buffer + i * element_size; }
};
static_assert(sizeof(rawthread_queue) == sizeof(CQueue) &&
              alignof(rawthread_queue) == alignof(CQueue));
static_assert(RAWTHREAD_TIMEOUT_MAX == TIMEOUT_MAX);

// The C kind of an Errc: the same enumerators in the same order.
static_assert(RAWTHREAD_THREAD_ERROR == static_cast<int>(Errc::thread_error) &&
              RAWTHREAD_VALUE_ERROR == static_cast<int>(Errc::value_error) &&
              RAWTHREAD_OVERFLOW_ERROR == static_cast<int>(Errc::overflow_error) &&
              RAWTHREAD_INTERRUPTED == static_cast<int>(Errc::interrupted) &&
              RAWTHREAD_OS_ERROR == static_cast<int>(Errc::os_error) &&
              RAWTHREAD_BROKEN_BARRIER == static_cast<int>(Errc::broken_barrier) &&
              RAWTHREAD_FULL == static_cast<int>(Errc::full) &&
              RAWTHREAD_EMPTY == static_cast<int>(Errc::empty));
constexpr rawthread_errc c_kind(Errc kind) { return static_cast<rawthread_errc>(kind); }

// The message and kind of every code, in code order: the catalogue between
// OK and UNKNOWN.
struct Entry {
  const char* message;
  rawthread_errc kind;
};
#define RAWTHREAD_ENTRY_(CODE, name, kind, err, text) \
  {errors::message::name, c_kind(Errc::kind)},
constexpr Entry kEntries[] = {
    {"no error", RAWTHREAD_THREAD_ERROR},
    RAWTHREAD_ERRORS(RAWTHREAD_ENTRY_)
    {"unknown error", RAWTHREAD_THREAD_ERROR},
};
#undef RAWTHREAD_ENTRY_
static_assert(sizeof kEntries / sizeof kEntries[0] == RAWTHREAD_E_UNKNOWN + 1);

// An Error's code is found by its message's address (fail() below), so no
// two codes may have the same text: a linker that folds identical constants
// (-fmerge-all-constants, identical code folding of data) would give them
// one address, and the first code would win. (Compared while compiling
// only.)
constexpr bool all_texts_differ() {
  for (const Entry& a : kEntries)
    for (const Entry& b : kEntries)
      if (&a != &b && std::string_view(a.message) == std::string_view(b.message)) return false;
  return true;
}
static_assert(all_texts_differ());

// rawthread_last_errno(), per thread. In a thread rawthread started, in its
// control block: in a program linked with a libc such a thread has no TLS
// (libc never set it up), and a thread_local would be memory of its stack.
// In any other thread (the main thread, a libc's threads, every thread of
// the dummy backend), a thread_local. Initial-exec: an offset from the
// thread pointer, with no __tls_get_addr to link; the library is linked into
// executables, whose TLS is static. Its own section, like every object of
// the core: a program that calls no C API function gains no TLS.
[[gnu::tls_model("initial-exec")]] thread_local int last_errno_elsewhere = 0;

int& last_errno() noexcept {
  // Not own(): a handler in a thread that is ending has a block still, and
  // no TLS (a hosted program) any more than before. The dummy backend starts
  // no thread, so no thread has a block.
  if constexpr (!backend::kDummy) {
    Control* block = control::at(arch::thread_pointer());
    if (block->tag == control::tag_for(block) || block->tag == control::ending_tag_for(block))
      return block->last_errno;
  }
  return last_errno_elsewhere;
}

// The code of a failed call, which also sets the caller's last errno. The
// catalogue's Errors point to its message objects (errors.hpp), one address
// each in the program; any other Error (none reaches the C API today) is
// RAWTHREAD_E_UNKNOWN.
int fail(const Error& error) {
  last_errno() = error.sys_errno;
  for (int code = 1; code < RAWTHREAD_E_UNKNOWN; ++code)
    if (error.message == kEntries[code].message) return code;
  return RAWTHREAD_E_UNKNOWN;
}

int null_argument() { return fail(errors::kNullArgument); }

int code_of(const Result<void>& result) { return result ? RAWTHREAD_OK : fail(result.error()); }

int put(const Result<bool>& result, bool* out) {
  if (!result) return fail(result.error());
  if (out != nullptr) *out = *result;
  return RAWTHREAD_OK;
}

// The C++ object a C struct is the storage of, const if the struct is:
// as<Lock>(lock), as<RLock>(lock), as<Thread>(thread). A zeroed struct is a
// free Lock or RLock, or an empty Thread (all of their fields start at zero).
template <class T, class C>
auto* as(C* storage) {
  using Object = std::conditional_t<std::is_const_v<C>, const T, T>;
  return std::launder(reinterpret_cast<Object*>(storage));
}

// A filled C handle records, in its last word, the address it was filled at.
// C's assignment copies it bitwise, so a copy holds another handle's address:
// only the original may reach the thread's mapping (a copy joined too would
// give the same mapping back twice, and one joined after the mapping was
// reused would wait for another thread). An empty handle records none.
constexpr std::size_t kHome = sizeof(rawthread_thread::opaque) / sizeof(void*) - 1;
static_assert(kHome * sizeof(void*) >= sizeof(Thread));

bool is_copy(const rawthread_thread* thread) {
  const void* home = thread->opaque[kHome];
  return home != nullptr && home != thread;
}

// Puts a Thread into the storage of an empty (or forgotten) C handle.
void fill(rawthread_thread* thread, Thread&& from) {
  ::new (static_cast<void*>(thread)) Thread(std::move(from));
  thread->opaque[kHome] = thread;
}

// Empties a C handle without touching its thread: what is left of a copy
// once it is forgotten, or of the original once it was moved away.
void forget(rawthread_thread* thread) {
  ::new (static_cast<void*>(thread)) Thread();
  thread->opaque[kHome] = nullptr;
}

// What a C thread runs: fn(arg), as a C++ callable.
struct CCall {
  void (*fn)(void*);
  void* arg;
  void operator()() const { fn(arg); }
};

}  // namespace

extern "C" {

const char* rawthread_strerror(int code) {
  if (code < 0 || code > RAWTHREAD_E_UNKNOWN) code = RAWTHREAD_E_UNKNOWN;
  return kEntries[code].message;
}

rawthread_errc rawthread_error_kind(int code) {
  if (code < 0 || code > RAWTHREAD_E_UNKNOWN) code = RAWTHREAD_E_UNKNOWN;
  return kEntries[code].kind;
}

int rawthread_last_errno(void) { return last_errno(); }

int rawthread_start_new_thread(void (*fn)(void*), void* arg, rawthread_ident* ident) {
  if (fn == nullptr) return null_argument();
  Result<Ident> started = start_new_thread(CCall{fn, arg});
  if (!started) return fail(started.error());
  if (ident != nullptr) *ident = *started;
  return RAWTHREAD_OK;
}

int rawthread_start_joinable_thread(rawthread_thread* thread, void (*fn)(void*), void* arg) {
  if (thread == nullptr || fn == nullptr) return null_argument();
  Result<Thread> started = start_joinable_thread(CCall{fn, arg});
  if (!started) return fail(started.error());
  fill(thread, std::move(*started));
  return RAWTHREAD_OK;
}

int rawthread_join(rawthread_thread* thread, double timeout, bool* joined) {
  if (thread == nullptr) return null_argument();
  if (is_copy(thread)) return fail(errors::kHandleCopied);
  return put(as<Thread>(thread)->join(timeout), joined);
}

bool rawthread_is_done(const rawthread_thread* thread) {
  return thread != nullptr && !is_copy(thread) && as<Thread>(thread)->is_done();
}

rawthread_ident rawthread_thread_ident(const rawthread_thread* thread) {
  // The handle's own word: a copy's is right too.
  return thread != nullptr ? as<Thread>(thread)->ident() : 0;
}

void rawthread_detach(rawthread_thread* thread) {
  if (thread == nullptr) return;
  // Destroying the handle detaches; what is left is an empty one. A copy's
  // thread is the original's to detach or join.
  if (!is_copy(thread)) as<Thread>(thread)->~Thread();
  forget(thread);
}

int rawthread_thread_move(rawthread_thread* to, rawthread_thread* from) {
  if (to == nullptr || from == nullptr) return null_argument();
  if (is_copy(from)) return fail(errors::kHandleCopied);
  if (to == from) return RAWTHREAD_OK;
  rawthread_detach(to);
  Thread* source = as<Thread>(from);
  fill(to, std::move(*source));
  source->~Thread();  // empty now: detaches nothing
  forget(from);
  return RAWTHREAD_OK;
}

int rawthread_thread_interrupt(rawthread_thread* thread, int signum) {
  if (thread == nullptr) return null_argument();
  if (is_copy(thread)) return fail(errors::kHandleCopied);
  return code_of(as<Thread>(thread)->interrupt(signum));
}

rawthread_ident rawthread_get_ident(void) { return get_ident(); }
long rawthread_get_native_id(void) { return get_native_id(); }
void rawthread_exit_thread(void) { exit_thread(); }
size_t rawthread_thread_count(void) { return thread_count(); }
void rawthread_release_cached_stacks(void) { release_cached_stacks(); }

size_t rawthread_get_stack_size(void) { return stack_size(); }

int rawthread_set_stack_size(long size, size_t* old) {
  Result<std::size_t> previous = stack_size(size);
  if (!previous) return fail(previous.error());
  if (old != nullptr) *old = *previous;
  return RAWTHREAD_OK;
}

int rawthread_lock_acquire(rawthread_lock* lock, bool blocking, double timeout, bool* acquired) {
  if (lock == nullptr) return null_argument();
  return put(as<Lock>(lock)->acquire(blocking, timeout), acquired);
}
int rawthread_lock_release(rawthread_lock* lock) {
  if (lock == nullptr) return null_argument();
  return code_of(as<Lock>(lock)->release());
}
bool rawthread_lock_locked(const rawthread_lock* lock) {
  return lock != nullptr && as<Lock>(lock)->locked();
}
void rawthread_lock_at_fork_reinit(rawthread_lock* lock) {
  if (lock != nullptr) as<Lock>(lock)->at_fork_reinit();
}

int rawthread_rlock_acquire(rawthread_rlock* lock, bool blocking, double timeout, bool* acquired) {
  if (lock == nullptr) return null_argument();
  return put(as<RLock>(lock)->acquire(blocking, timeout), acquired);
}
int rawthread_rlock_release(rawthread_rlock* lock) {
  if (lock == nullptr) return null_argument();
  return code_of(as<RLock>(lock)->release());
}
bool rawthread_rlock_is_owned(const rawthread_rlock* lock) {
  return lock != nullptr && as<RLock>(lock)->is_owned();
}
unsigned rawthread_rlock_recursion_count(const rawthread_rlock* lock) {
  return lock != nullptr ? as<RLock>(lock)->recursion_count() : 0;
}
void rawthread_rlock_at_fork_reinit(rawthread_rlock* lock) {
  if (lock != nullptr) as<RLock>(lock)->at_fork_reinit();
}

// init constructs the object in place: the bytes the static initialiser
// writes (the value in the word's low half, no sleepers; the bound).
int rawthread_semaphore_init(rawthread_semaphore* sem, unsigned value) {
  if (sem == nullptr) return null_argument();
  new (sem) Semaphore(value);
  return RAWTHREAD_OK;
}
int rawthread_semaphore_acquire(rawthread_semaphore* sem, bool blocking, double timeout,
                                bool* acquired) {
  if (sem == nullptr) return null_argument();
  return put(as<Semaphore>(sem)->acquire(blocking, timeout), acquired);
}
int rawthread_semaphore_release(rawthread_semaphore* sem, unsigned n) {
  if (sem == nullptr) return null_argument();
  return code_of(as<Semaphore>(sem)->release(n));
}

int rawthread_bounded_semaphore_init(rawthread_bounded_semaphore* sem, unsigned value) {
  if (sem == nullptr) return null_argument();
  new (sem) BoundedSemaphore(value);
  return RAWTHREAD_OK;
}
int rawthread_bounded_semaphore_acquire(rawthread_bounded_semaphore* sem, bool blocking,
                                        double timeout, bool* acquired) {
  if (sem == nullptr) return null_argument();
  return put(as<BoundedSemaphore>(sem)->acquire(blocking, timeout), acquired);
}
int rawthread_bounded_semaphore_release(rawthread_bounded_semaphore* sem, unsigned n) {
  if (sem == nullptr) return null_argument();
  return code_of(as<BoundedSemaphore>(sem)->release(n));
}

bool rawthread_event_is_set(const rawthread_event* event) {
  return event != nullptr && as<Event>(event)->is_set();
}
int rawthread_event_set(rawthread_event* event) {
  if (event == nullptr) return null_argument();
  as<Event>(event)->set();
  return RAWTHREAD_OK;
}
int rawthread_event_clear(rawthread_event* event) {
  if (event == nullptr) return null_argument();
  as<Event>(event)->clear();
  return RAWTHREAD_OK;
}
int rawthread_event_wait(rawthread_event* event, double timeout, bool* set) {
  if (event == nullptr) return null_argument();
  return put(as<Event>(event)->wait(timeout), set);
}

int rawthread_condition_init_lock(rawthread_condition* cond, rawthread_lock* lock) {
  if (cond == nullptr || lock == nullptr) return null_argument();
  ::new (static_cast<void*>(cond)) Condition(*as<Lock>(lock));
  return RAWTHREAD_OK;
}
int rawthread_condition_init_rlock(rawthread_condition* cond, rawthread_rlock* lock) {
  if (cond == nullptr || lock == nullptr) return null_argument();
  ::new (static_cast<void*>(cond)) Condition(*as<RLock>(lock));
  return RAWTHREAD_OK;
}
int rawthread_condition_wait(rawthread_condition* cond, double timeout, bool* notified) {
  if (cond == nullptr) return null_argument();
  return put(as<Condition>(cond)->wait(timeout), notified);
}
int rawthread_condition_notify(rawthread_condition* cond, size_t n) {
  if (cond == nullptr) return null_argument();
  return code_of(as<Condition>(cond)->notify(n));
}
int rawthread_condition_notify_all(rawthread_condition* cond) {
  if (cond == nullptr) return null_argument();
  return code_of(as<Condition>(cond)->notify_all());
}

int rawthread_barrier_init(rawthread_barrier* barrier, unsigned parties, void (*action)(void),
                           double timeout) {
  if (barrier == nullptr) return null_argument();
  ::new (static_cast<void*>(barrier)) Barrier(parties, action, timeout);
  return RAWTHREAD_OK;
}
int rawthread_barrier_wait(rawthread_barrier* barrier, double timeout, unsigned* index) {
  if (barrier == nullptr) return null_argument();
  Result<unsigned> arrived = as<Barrier>(barrier)->wait(timeout);
  if (!arrived) return fail(arrived.error());
  if (index != nullptr) *index = *arrived;
  return RAWTHREAD_OK;
}
int rawthread_barrier_reset(rawthread_barrier* barrier) {
  if (barrier == nullptr) return null_argument();
  as<Barrier>(barrier)->reset();
  return RAWTHREAD_OK;
}
int rawthread_barrier_abort(rawthread_barrier* barrier) {
  if (barrier == nullptr) return null_argument();
  as<Barrier>(barrier)->abort();
  return RAWTHREAD_OK;
}
unsigned rawthread_barrier_parties(const rawthread_barrier* barrier) {
  return barrier != nullptr ? as<Barrier>(barrier)->parties() : 0;
}
unsigned rawthread_barrier_n_waiting(const rawthread_barrier* barrier) {
  return barrier != nullptr ? as<Barrier>(barrier)->n_waiting() : 0;
}
bool rawthread_barrier_broken(const rawthread_barrier* barrier) {
  return barrier != nullptr && as<Barrier>(barrier)->broken();
}

void rawthread_request_interrupt(void) { request_interrupt(); }
int rawthread_interrupt_main(int signum) { return code_of(interrupt_main(signum)); }
int rawthread_sleep(double seconds) { return code_of(sleep(seconds)); }

// The queue: its core and where its items live. put and get run the core's
// protocol (rawthread/queue.hpp), with memcpy as the move.
int rawthread_queue_init(rawthread_queue* q, void* buffer, size_t element_size, size_t capacity) {
  if (q == nullptr || buffer == nullptr || element_size == 0 || capacity == 0)
    return null_argument();
  if (capacity > UINT32_MAX) return fail(errors::kSemaphoreOverflow);
  ::new (static_cast<void*>(q))
      CQueue{detail::QueueCore(static_cast<std::uint32_t>(capacity)),
             static_cast<unsigned char*>(buffer), element_size};
  return RAWTHREAD_OK;
}
int rawthread_queue_put(rawthread_queue* q, const void* item, bool block, double timeout) {
  if (q == nullptr || item == nullptr) return null_argument();
  CQueue* queue = as<CQueue>(q);
  return code_of(queue->core.put(block, timeout, [&](std::uint32_t i) noexcept {
    __builtin_memcpy(queue->at(i), item, queue->element_size);
  }));
}
int rawthread_queue_get(rawthread_queue* q, void* item_out, bool block, double timeout) {
  if (q == nullptr || item_out == nullptr) return null_argument();
  CQueue* queue = as<CQueue>(q);
  return code_of(queue->core.get(block, timeout, [&](std::uint32_t i) noexcept {
    __builtin_memcpy(item_out, queue->at(i), queue->element_size);
  }));
}
int rawthread_queue_put_nowait(rawthread_queue* q, const void* item) {
  return rawthread_queue_put(q, item, false, RAWTHREAD_NO_TIMEOUT);
}
int rawthread_queue_get_nowait(rawthread_queue* q, void* item_out) {
  return rawthread_queue_get(q, item_out, false, RAWTHREAD_NO_TIMEOUT);
}
size_t rawthread_queue_qsize(const rawthread_queue* q) {
  return q != nullptr ? as<CQueue>(q)->core.qsize() : 0;
}
bool rawthread_queue_empty(const rawthread_queue* q) { return rawthread_queue_qsize(q) == 0; }
bool rawthread_queue_full(const rawthread_queue* q) {
  return q != nullptr && as<CQueue>(q)->core.qsize() >= as<CQueue>(q)->core.capacity();
}
int rawthread_queue_task_done(rawthread_queue* q) {
  if (q == nullptr) return null_argument();
  return code_of(as<CQueue>(q)->core.task_done());
}
int rawthread_queue_join(rawthread_queue* q, double timeout) {
  if (q == nullptr) return null_argument();
  return code_of(as<CQueue>(q)->core.join(timeout));
}

}  // extern "C"
