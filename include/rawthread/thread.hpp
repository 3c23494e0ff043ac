// SPDX-License-Identifier: MIT
// rawthread/thread.hpp: starting and ending threads.
//
// A rawthread thread is made with clone() on one mmap'd region of its own:
//
//   [guard page, PROT_NONE][stack ........ grows down][stored callable][control block]
//
// The stored callable and the control block live in the same mapping as the
// stack, so starting a thread allocates nothing from a heap. A thread that
// ends gives the whole region back itself as it exits (a joinable one
// leaves that to its joiner): into a small cache of such regions, from
// which a later start with the same stack size takes it instead of mapping
// a new one, or, with the cache full, unmapped. release_cached_stacks()
// unmaps what the cache holds.
//
// In hosted builds (linked with glibc or musl) the library's threads are
// invisible to libc: a thread body may use only rawthread, std::atomic,
// memory allocated before it started and raw system calls, not libc or
// thread_local. The main thread may use anything.
#pragma once

#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <rawthread/result.hpp>
#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

namespace rawthread {

// A thread's identifier: nonzero, unique among live threads, the same value
// start_new_thread returned for the thread; may be reused after it ends.
using Ident = unsigned long;

// The smallest stack size stack_size() accepts besides 0 (Python's 32 KiB).
inline constexpr std::size_t MIN_STACK_SIZE = 32768;
// The stack a thread gets while stack_size() is 0.
inline constexpr std::size_t DEFAULT_STACK_SIZE = 128 * 1024;
// The most stacks of ended threads kept for reuse (release_cached_stacks).
inline constexpr std::size_t MAX_CACHED_STACKS = 8;

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {

// The decayed copies of a callable and its arguments, stored at the top of the
// new thread's stack mapping and invoked there as rvalues.
template <class F, class... Args>
struct StoredCall {
  std::tuple<F, Args...> call;

  template <class... U>
  explicit StoredCall(U&&... parts) : call(std::forward<U>(parts)...) {}

  // Runs in the new thread: invoke, then destroy the stored copies.
  static void run(void* self) noexcept {
    auto* stored = static_cast<StoredCall*>(self);
    std::apply([](F& fn, Args&... args) { std::invoke(std::move(fn), std::move(args)...); },
               stored->call);
    stored->~StoredCall();
  }
  // Runs in the parent when the thread could not be started.
  static void discard(void* self) noexcept { static_cast<StoredCall*>(self)->~StoredCall(); }
};

// A new thread's mapping, before it runs: where to construct its payload, and
// its control block.
struct ThreadSlot {
  void* payload;
  void* control;
};
// Maps a new thread's region with room for a payload of `size` bytes aligned
// to `align`.
Result<ThreadSlot> map_thread(std::size_t size, std::size_t align) noexcept;
// A thread just started: its ident and its control block.
struct Started {
  Ident ident;
  void* control;
};
// Gives back a region map_thread mapped for a thread that will not start
// (its payload not constructed): to the cache of mappings, or unmapped.
void unmap_thread(ThreadSlot slot) noexcept;
// Starts the thread mapped by map_thread once its payload is constructed; a
// joinable one leaves its mapping to a Thread handle when it ends. On failure
// it calls discard(payload) and unmaps the region.
Result<Started> clone_thread(ThreadSlot slot, void (*run)(void*) noexcept,
                             void (*discard)(void*) noexcept, bool joinable) noexcept;

// Owns a mapped region until its payload is constructed: a copy or move
// constructor that throws (in a program built with exceptions) unwinds
// through the destructor, which gives the region back, and the exception
// goes on unchanged. Without exceptions it is never armed at a throw.
class SlotGuard {
 public:
  explicit SlotGuard(ThreadSlot slot) noexcept : slot_(slot) {}
  ~SlotGuard() {
    if (slot_.control != nullptr) unmap_thread(slot_);
  }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;
  // The payload is constructed: clone_thread owns the region from here on.
  ThreadSlot release() noexcept { return std::exchange(slot_, ThreadSlot{nullptr, nullptr}); }

 private:
  ThreadSlot slot_;
};

template <class F, class... Args>
Result<Started> start_thread(bool joinable, F&& fn, Args&&... args) {
  using Stored = StoredCall<std::decay_t<F>, std::decay_t<Args>...>;
  static_assert(std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>,
                "fn must be invocable with rvalue copies of args");
  Result<ThreadSlot> slot = map_thread(sizeof(Stored), alignof(Stored));
  if (!slot) return slot.error();
  SlotGuard guard(*slot);
  ::new (slot->payload) Stored(std::forward<F>(fn), std::forward<Args>(args)...);
  return clone_thread(guard.release(), &Stored::run, &Stored::discard, joinable);
}

}  // namespace detail

// Python's start_new_thread(function, args): starts a thread that runs
// std::invoke(std::move(f), std::move(args)...) on decayed copies stored in
// its own stack mapping, and returns its ident. The thread ends when fn
// returns; its return value is discarded. Failure: thread_error
// "can't start new thread" with the kernel's errno; no thread and no mapping
// are left behind. In a program built with exceptions, an exception thrown
// by a copy or move of fn or args propagates unchanged, and likewise leaves
// no thread and no mapping behind.
template <class F, class... Args>
Result<Ident> start_new_thread(F&& fn, Args&&... args) {
  Result<detail::Started> started =
      detail::start_thread(false, std::forward<F>(fn), std::forward<Args>(args)...);
  if (!started) return started.error();
  return started->ident;
}

// Python's get_ident(): the calling thread's ident. No system call: it reads
// the thread pointer. Async-signal-safe: in a handler it is the ident of the
// thread the handler runs in (the one the signal interrupted).
Ident get_ident() noexcept;

// Python's get_native_id(): the kernel's thread id (gettid).
long get_native_id() noexcept;

// Python's exit(): ends the calling thread at once. Objects on its stack are
// not destroyed; a rawthread thread's stack is given back (see above). In the main thread it
// ends only the main thread: the process exits with status 0 when its last
// thread ends. In a hosted program that exit is not libc's exit(): atexit
// handlers do not run and stdio buffers are not flushed (return from main,
// or call exit(), for those).
[[noreturn]] void exit_thread() noexcept;

// Python's _count(): threads started that have not ended. A thread counts as
// ended once it is done with its stack and has given it back: one started by
// start_new_thread (or a joinable one whose handle let it go first) just
// before its exit system call, its stack then unmapped or in the cache; a
// joinable one once it is joined (or its handle's destructor reclaimed it).
// A thread counted out may still be inside that exit system call: its
// cached stack is reused (or released) only once the kernel is done with
// it. Of the threads counted out, none keeps a mapping but those whose
// stacks are in the cache, at most MAX_CACHED_STACKS: after
// release_cached_stacks(), none at all.
std::size_t thread_count() noexcept;

// Unmaps every stack the cache of ended threads' stacks holds, waiting for
// each one's thread to be out of its exit system call (the kernel clears
// its tid word then, microseconds after it counted itself out). Stacks of
// threads still running, or joinable ones not yet joined, are not in the
// cache and stay. Afterwards, with thread_count() back to where it was,
// the process's mappings are back to where they were too: for tests and
// leak checks, or to return the memory after a burst of threads. Threads
// that end meanwhile may fill the cache again. Not async-signal-safe.
void release_cached_stacks() noexcept;

// Python's stack_size(): the stack size for threads started from now on;
// 0 means DEFAULT_STACK_SIZE.
std::size_t stack_size() noexcept;
// Sets it and returns the old setting. `size` is 0 or at least MIN_STACK_SIZE:
//   negative        value_error "size must be 0 or a positive value"
//   1..32767        value_error "size not valid: ..."
// There is no upper bound here; a size too large to map makes
// start_new_thread fail. A thread gets at least `size` bytes of stack,
// rounded up to whole pages, with a PROT_NONE guard page directly below it.
Result<std::size_t> stack_size(long size) noexcept;

}  // namespace rawthread
