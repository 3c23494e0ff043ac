// rawthread.h: the C API, a thin layer over the C++ one. Each C struct is the
// storage of the C++ object of the same name (sizes and alignments checked
// below); each Error becomes the code whose message it carries.
#include <rawthread.h>

#include <cstddef>
#include <new>
#include <type_traits>

#include <rawthread/rawthread.hpp>
#include <rawthread/rlock.hpp>

#include "errors.hpp"

namespace {

using namespace rawthread;

static_assert(sizeof(rawthread_lock) == sizeof(Lock) && alignof(rawthread_lock) == alignof(Lock));
static_assert(sizeof(rawthread_rlock) == sizeof(RLock) &&
              alignof(rawthread_rlock) == alignof(RLock));
static_assert(sizeof(rawthread_thread) >= sizeof(Thread) + sizeof(void*) &&
              alignof(rawthread_thread) >= alignof(Thread));
static_assert(sizeof(rawthread_ident) == sizeof(Ident));
static_assert(RAWTHREAD_TIMEOUT_MAX == TIMEOUT_MAX);

// The message and kind of every code, in code order.
struct Entry {
  const char* message;
  rawthread_errc kind;
};
constexpr Entry kEntries[] = {
    {"no error", RAWTHREAD_THREAD_ERROR},
    {errors::cant_start_thread(0).message, RAWTHREAD_THREAD_ERROR},
    {errors::kNonBlockingTimeout.message, RAWTHREAD_VALUE_ERROR},
    {errors::kNegativeTimeout.message, RAWTHREAD_VALUE_ERROR},
    {errors::kTimeoutTooLarge.message, RAWTHREAD_OVERFLOW_ERROR},
    {errors::kReleaseUnlocked.message, RAWTHREAD_THREAD_ERROR},
    {errors::kReleaseUnowned.message, RAWTHREAD_THREAD_ERROR},
    {errors::kCountOverflow.message, RAWTHREAD_OVERFLOW_ERROR},
    {errors::kInterrupted.message, RAWTHREAD_INTERRUPTED},
    {errors::kSignalOutOfRange.message, RAWTHREAD_VALUE_ERROR},
    {errors::cant_signal_main(0).message, RAWTHREAD_THREAD_ERROR},
    {errors::kNegativeStackSize.message, RAWTHREAD_VALUE_ERROR},
    {errors::kStackSizeTooSmall.message, RAWTHREAD_VALUE_ERROR},
    {errors::kJoinEmpty.message, RAWTHREAD_THREAD_ERROR},
    {errors::kJoinSelf.message, RAWTHREAD_THREAD_ERROR},
    {errors::kHandleCopied.message, RAWTHREAD_THREAD_ERROR},
    {errors::kStackSizeNotSupported.message, RAWTHREAD_THREAD_ERROR},
    {errors::kWouldDeadlock.message, RAWTHREAD_THREAD_ERROR},
    {errors::kStartedFunctionInterrupted.message, RAWTHREAD_INTERRUPTED},
    {"unknown error", RAWTHREAD_OS_ERROR},
};
static_assert(sizeof kEntries / sizeof kEntries[0] == RAWTHREAD_E_UNKNOWN + 1);

bool same(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

int code_of(const Error& error) {
  for (int code = 1; code < RAWTHREAD_E_UNKNOWN; ++code)
    if (same(error.message, kEntries[code].message)) return code;
  return RAWTHREAD_E_UNKNOWN;
}

int code_of(const Result<void>& result) { return result ? RAWTHREAD_OK : code_of(result.error()); }

int put(const Result<bool>& result, bool* out) {
  if (!result) return code_of(result.error());
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

int rawthread_start_new_thread(void (*fn)(void*), void* arg, rawthread_ident* ident) {
  Result<Ident> started = start_new_thread(CCall{fn, arg});
  if (!started) return code_of(started.error());
  if (ident != nullptr) *ident = *started;
  return RAWTHREAD_OK;
}

int rawthread_start_joinable_thread(rawthread_thread* thread, void (*fn)(void*), void* arg) {
  Result<Thread> started = start_joinable_thread(CCall{fn, arg});
  if (!started) return code_of(started.error());
  fill(thread, std::move(*started));
  return RAWTHREAD_OK;
}

int rawthread_join(rawthread_thread* thread, double timeout, bool* joined) {
  if (is_copy(thread)) return code_of(errors::kHandleCopied);
  return put(as<Thread>(thread)->join(timeout), joined);
}

bool rawthread_is_done(const rawthread_thread* thread) {
  return !is_copy(thread) && as<Thread>(thread)->is_done();
}

rawthread_ident rawthread_thread_ident(const rawthread_thread* thread) {
  return as<Thread>(thread)->ident();  // the handle's own word: a copy's is right too
}

void rawthread_detach(rawthread_thread* thread) {
  // Destroying the handle detaches; what is left is an empty one. A copy's
  // thread is the original's to detach or join.
  if (!is_copy(thread)) as<Thread>(thread)->~Thread();
  forget(thread);
}

int rawthread_thread_move(rawthread_thread* to, rawthread_thread* from) {
  if (is_copy(from)) return code_of(errors::kHandleCopied);
  if (to == from) return RAWTHREAD_OK;
  rawthread_detach(to);
  Thread* source = as<Thread>(from);
  fill(to, std::move(*source));
  source->~Thread();  // empty now: detaches nothing
  forget(from);
  return RAWTHREAD_OK;
}

rawthread_ident rawthread_get_ident(void) { return get_ident(); }
long rawthread_get_native_id(void) { return get_native_id(); }
void rawthread_exit_thread(void) { exit_thread(); }
size_t rawthread_thread_count(void) { return thread_count(); }
void rawthread_release_cached_stacks(void) { release_cached_stacks(); }

size_t rawthread_get_stack_size(void) { return stack_size(); }

int rawthread_set_stack_size(long size, size_t* old) {
  Result<std::size_t> previous = stack_size(size);
  if (!previous) return code_of(previous.error());
  if (old != nullptr) *old = *previous;
  return RAWTHREAD_OK;
}

int rawthread_lock_acquire(rawthread_lock* lock, bool blocking, double timeout, bool* acquired) {
  return put(as<Lock>(lock)->acquire(blocking, timeout), acquired);
}
int rawthread_lock_release(rawthread_lock* lock) { return code_of(as<Lock>(lock)->release()); }
bool rawthread_lock_locked(const rawthread_lock* lock) { return as<Lock>(lock)->locked(); }
void rawthread_lock_at_fork_reinit(rawthread_lock* lock) { as<Lock>(lock)->at_fork_reinit(); }

int rawthread_rlock_acquire(rawthread_rlock* lock, bool blocking, double timeout, bool* acquired) {
  return put(as<RLock>(lock)->acquire(blocking, timeout), acquired);
}
int rawthread_rlock_release(rawthread_rlock* lock) { return code_of(as<RLock>(lock)->release()); }
bool rawthread_rlock_is_owned(const rawthread_rlock* lock) { return as<RLock>(lock)->is_owned(); }
unsigned rawthread_rlock_recursion_count(const rawthread_rlock* lock) {
  return as<RLock>(lock)->recursion_count();
}
void rawthread_rlock_at_fork_reinit(rawthread_rlock* lock) { as<RLock>(lock)->at_fork_reinit(); }

void rawthread_request_interrupt(void) { request_interrupt(); }
int rawthread_interrupt_main(int signum) { return code_of(interrupt_main(signum)); }

}  // extern "C"
