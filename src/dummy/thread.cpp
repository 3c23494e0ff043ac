// SPDX-License-Identifier: MIT
// The dummy backend (-Dthread_backend=dummy): Python's _dummy_thread. No thread is
// ever started. start_new_thread runs the function to completion on the
// caller's own stack before it returns; exit_thread() inside it returns to
// there, as _dummy_thread's exit() raises SystemExit for start_new_thread to
// catch. The ident is one constant, and thread_count() is how many started
// functions are running (nested ones count too).
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <rawthread/thread.hpp>

#include "errors.hpp"
#include "hooks.hpp"
#include "kernel.hpp"
#include "page_size.hpp"
#include "started.hpp"

namespace rawthread {

namespace {

// What get_ident() returns everywhere: _dummy_thread's get_ident() is one
// constant too. Nonzero, as the API promises.
constexpr Ident kIdent = 1;

// One running started function. exit_thread() jumps back into its
// clone_thread with __builtin_setjmp / __builtin_longjmp: the compiler's own
// non-local goto, which needs no libc and saves what the ABI needs.
struct Frame {
  void* landing[5];
  void* mapping;
  std::size_t mapping_size;
  bool interrupted;
  Frame* outer;
};
Frame* innermost = nullptr;  // one thread: no atomics needed
std::size_t running = 0;

// What a Thread handle holds for its control block: only marks it non-empty.
char handle_marker;

// The payload's mapping: a header with its size, then the payload.
struct Header {
  std::size_t size;
};

constexpr std::uintptr_t align_up(std::uintptr_t value, std::size_t align) {
  return (value + align - 1) & ~static_cast<std::uintptr_t>(align - 1);
}

}  // namespace

namespace dummy {
bool in_started_function() noexcept { return innermost != nullptr; }
void interrupt_started_function() noexcept { innermost->interrupted = true; }
}  // namespace dummy

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {

// A mapping only for the stored call: the function runs on the caller's stack.
Result<ThreadSlot> map_thread(std::size_t size, std::size_t align) noexcept {
  const std::size_t page = page_size();
  if (align < alignof(Header)) align = alignof(Header);
  std::size_t total = 0;
  if (__builtin_add_overflow(size, sizeof(Header) + align + page - 1, &total))
    return errors::cant_start_thread(-ENOMEM);
  total &= ~(page - 1);
  long mapped = kernel::mmap(total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (kernel::failed(mapped)) return errors::cant_start_thread(mapped);
  auto* header = reinterpret_cast<Header*>(mapped);
  header->size = total;
  auto payload = align_up(static_cast<std::uintptr_t>(mapped) + sizeof(Header), align);
  return ThreadSlot{reinterpret_cast<void*>(payload), header};
}

void unmap_thread(ThreadSlot slot) noexcept {
  kernel::munmap(slot.control, static_cast<Header*>(slot.control)->size);
}

Result<Started> clone_thread(ThreadSlot slot, void (*run)(void*) noexcept,
                             void (*)(void*) noexcept, bool) noexcept {
  // Everything the code after the landing needs is in memory, in `frame`:
  // a longjmp returns with registers as they were at the setjmp.
  Frame frame{{}, slot.control, static_cast<Header*>(slot.control)->size, false, innermost};
  innermost = &frame;
  ++running;
  if (__builtin_setjmp(frame.landing) == 0) run(slot.payload);
  // Here after the function returned, or exit_thread() jumped here; then the
  // stored copies were not destroyed, as a real thread's are not.
  Frame* done = innermost;
  innermost = done->outer;
  --running;
  kernel::munmap(done->mapping, done->mapping_size);
  if (done->interrupted) return errors::kStartedFunctionInterrupted;
  return Started{kIdent, &handle_marker};
}

}  // namespace detail

Ident get_ident() noexcept { return kIdent; }

void exit_thread() noexcept {
  if (innermost != nullptr) __builtin_longjmp(innermost->landing, 1);
  kernel::exit_calling_thread(0);  // outside any started function: as the real backend
}

std::size_t thread_count() noexcept { return running; }

// No thread has a stack of its own, so none is kept.
void release_cached_stacks() noexcept {}

}  // namespace rawthread
