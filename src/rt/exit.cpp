// SPDX-License-Identifier: MIT
// exit, atexit, __cxa_atexit: the process's end in a freestanding program.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>  // exit, _Exit, atexit as declared to programs (noreturn, noexcept)

#include <rawthread/lock.hpp>
#include <rawthread/thread.hpp>  // get_ident

#include "hooks.hpp"
#include "kernel.hpp"
#include "rt.hpp"

extern "C" {
using FiniFunction = void (*)();
[[gnu::visibility("hidden")]] extern FiniFunction __fini_array_start[];
[[gnu::visibility("hidden")]] extern FiniFunction __fini_array_end[];

// The handle of the program's one "shared object", passed to __cxa_atexit by
// every static destructor registration; crtbegin.o defines it in a libc link.
[[gnu::visibility("hidden")]] void* __dso_handle = &__dso_handle;
}

namespace rawthread::rt {
namespace {

struct Handler {
  void (*run)(void*);
  void* arg;
};

// No heap: a fixed table, as many slots as a firmware program's static
// objects with destructors plus its atexit calls need. A registration beyond
// it fails (__cxa_atexit returns -1, atexit nonzero) and that destructor
// does not run at exit.
constexpr std::size_t kMaxHandlers = 64;
Handler handlers[kMaxHandlers];
std::size_t handler_count = 0;  // guarded by handlers_lock
Lock handlers_lock;

// The thread running the exit sequence (its get_ident, never 0), or 0.
std::atomic<Ident> exiting_thread{0};
// The .fini_array has begun. glibc runs it as one step of its exit
// handlers, so a nested exit from one of its functions skips the rest of
// it; so does this. Only the exiting thread reads or writes it.
bool fini_begun = false;
// A word nobody changes: another thread's exit sleeps on it until the
// process ends.
std::atomic<std::uint32_t> never_woken{0};

void call_plain(void* fn) { reinterpret_cast<void (*)()>(fn)(); }

int add_handler(void (*run)(void*), void* arg) noexcept {
  handlers_lock.lock();
  bool full = handler_count == kMaxHandlers;
  if (!full) handlers[handler_count++] = {run, arg};
  handlers_lock.unlock();
  return full ? -1 : 0;
}

}  // namespace

// sys::fork's hook (hooks.hpp), here in the one part of the runtime every
// program links, so that fork's weak reference finds it and --gc-sections
// leaves it out of programs that never fork. The runtime's locks are taken
// in one order, exit's then the heap's (nothing holds the heap's while
// taking exit's, nor the other way round), and let go in the reverse. A fork
// from a handler that interrupted malloc on the same thread would wait for
// ever on the heap's lock, as glibc's fork may on its malloc locks: fork is
// not async-signal-safe here.
}  // namespace rawthread::rt

void rawthread::hooks::at_fork(ForkPhase phase) noexcept {
  using rt::handlers_lock, rt::exiting_thread;
  const bool heap = &rt::heap_at_fork != nullptr;  // weak: only a program that allocates
  switch (phase) {
    case ForkPhase::prepare:
      handlers_lock.lock();
      if (heap) rt::heap_at_fork(phase);
      break;
    case ForkPhase::parent:
      if (heap) rt::heap_at_fork(phase);
      handlers_lock.unlock();
      break;
    case ForkPhase::child:
      if (heap) rt::heap_at_fork(phase);
      handlers_lock.at_fork_reinit();
      // Another thread of the parent was running exit: the child has no
      // such thread, and its own exit must not wait for it for ever.
      if (exiting_thread.load(std::memory_order_relaxed) != get_ident())
        exiting_thread.store(0, std::memory_order_relaxed);
      break;
  }
}

namespace rawthread::rt {

[[noreturn]] void exit_process(int status) noexcept {
  // One thread runs the sequence, as glibc (2.41 on) has it. Another thread
  // that calls exit meanwhile waits for the process to end, with the status
  // of the thread that runs it. The same thread calling exit again (from a
  // handler, a destructor or a .fini_array function it runs) carries the
  // sequence on from where it is, every step taken off its list before it
  // runs, and ends the process with the new status: the outer call never
  // resumes.
  const Ident self = get_ident();
  Ident running = 0;
  if (!exiting_thread.compare_exchange_strong(running, self, std::memory_order_acquire) &&
      running != self)
    for (;;) kernel::futex_wait(&never_woken, 0, nullptr);

  if (auto run = hooks::run_thread_exit.load(std::memory_order_acquire)) run();
  // Last registered, first run. The lock is not held across a handler: a
  // handler may register another, which then runs next.
  for (;;) {
    handlers_lock.lock();
    Handler next = handler_count > 0 ? handlers[--handler_count] : Handler{nullptr, nullptr};
    handlers_lock.unlock();
    if (next.run == nullptr) break;
    next.run(next.arg);
  }
  if (!fini_begun) {
    fini_begun = true;
    for (FiniFunction* f = __fini_array_end; f != __fini_array_start;) (*--f)();
  }
  kernel::exit_group(status);
}

}  // namespace rawthread::rt

extern "C" {

int __cxa_atexit(void (*run)(void*), void* arg, void* /*dso*/) noexcept {
  return rawthread::rt::add_handler(run, arg);
}

int atexit(void (*run)()) noexcept {
  return rawthread::rt::add_handler(rawthread::rt::call_plain, reinterpret_cast<void*>(run));
}

void exit(int status) noexcept { rawthread::rt::exit_process(status); }

void _Exit(int status) noexcept {
  rawthread::kernel::exit_group(status);
}

}  // extern "C"
