// SPDX-License-Identifier: MIT
// Threads: one mapping each, started with clone(), and at their end put in
// the stack cache (stack_cache.hpp) for the next start, or unmapped; counted
// by thread_count.hpp.
//
// A thread's mapping, low to high addresses:
//
//   [guard page][stack ............................][stored call][tp area]
//    PROT_NONE   >= stack_size(), grows down          payload      TLS, Control, ABI TCB
//
// One mmap holds it all, so the thread can release everything with one
// munmap as it exits, and the stack's top page also holds the control data.
// The tp area (tls.hpp) has the thread's TLS block only in a freestanding
// program; in a hosted one libc's TLS is libc's business.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <rawthread/thread.hpp>

#include "arch.hpp"
#include "control.hpp"
#include "errors.hpp"
#include "hooks.hpp"
#include "kernel.hpp"
#include "page_size.hpp"
#include "stack_cache.hpp"
#include "thread_count.hpp"
#include "tls.hpp"

namespace rawthread {
namespace {

// A thread shares memory, files, cwd, signal handlers, SysV semaphore undo and
// the thread group with its creator, gets its own thread pointer, and has its
// tid written to its control block before clone returns. No exit signal.
// The kernel clears that tid word and wakes it once the thread has exited
// and will never touch its mapping again: joiners and the start that takes
// the mapping from the cache wait for that. A thread that unmaps its own
// mapping turns the clearing off first (finish).
constexpr unsigned long kCloneFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                      CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
                                      CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
// QEMU's user mode takes a CLONE_VM clone as a thread only with all of these
// (linux-user/syscall.c, CLONE_THREAD_FLAGS) and fails it with EINVAL otherwise.
constexpr unsigned long kQemuThreadFlags =
    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
static_assert((kCloneFlags & kQemuThreadFlags) == kQemuThreadFlags);
static_assert(sizeof(std::atomic<std::int32_t>) == 4 && std::atomic<std::int32_t>::is_always_lock_free,
              "the kernel writes the tid word as a plain 32-bit int");

}  // namespace

namespace {

constexpr std::uintptr_t align_down(std::uintptr_t value, std::size_t align) {
  return value & ~(static_cast<std::uintptr_t>(align) - 1);
}

// a + b, or false when it overflows.
constexpr bool add(std::size_t& sum, std::size_t a, std::size_t b) {
  return !__builtin_add_overflow(a, b, &sum);
}

[[noreturn]] void finish(Control* self) noexcept {
  // thread_local destructors run while the TLS they destroy still exists.
  if (auto run = hooks::run_thread_exit.load(std::memory_order_acquire)) run();
  if (auto release = hooks::release_heap.load(std::memory_order_acquire)) release();
  // Signals stay unblocked but where the thread unmaps its own stack
  // (below): until its exit a handler has a stack. A handler that runs from
  // here on finds no control block (own() is null), so no request it makes
  // outlives the consume below. The fence keeps the compiler from sinking
  // the store past the consume, which a handler in this thread may
  // interrupt. (exit_thread is not async-signal-safe: from such a handler
  // it would skip what follows.)
  self->tag = control::ending_tag_for(self);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  // No Thread::interrupt may be between its request and its tgkill as the
  // thread goes on towards its exit: the request would outlive the consume
  // below, and the tid the signal goes to could be another thread's once
  // this one is gone. So new ones are kept out and those in flight waited
  // for ([signal: ending], [signal: drain]); a signal they sent is either
  // handled here or dies with the thread.
  // The thread that called fork(), running on in the child, has a copy of
  // the count: the calls it counts are the parent's, and nothing in the
  // child will count them out (nor can a handle of the parent's reach this
  // copy: Thread::interrupt does nothing in a fork's child). A system call,
  // so made only when calls are in.
  std::uint32_t in_flight = self->signallers.fetch_or(control::kEnding, std::memory_order_acq_rel);
  if ((in_flight & ~control::kEnding) != 0 && detail::forked_away(self)) in_flight = 0;
  while ((in_flight & ~control::kEnding) != 0) {
    kernel::futex_wait(&self->signallers, in_flight | control::kEnding, nullptr);
    in_flight = self->signallers.load(std::memory_order_acquire);
  }
  // A request no acquire consumed dies with the thread: left raised, it would
  // keep every acquire in the process off its inline path.
  interrupt::consume(self->interrupt);  // [signal: consume]
  // A joinable thread whose handle still exists leaves its mapping to it.
  // One exchange decides against the handle's detach: whoever comes second
  // reclaims. The kernel clears the tid and wakes joiners once this thread
  // is gone for good, after the exit below.
  std::uint32_t attached = kAttached;
  if (self->reclaim.compare_exchange_strong(attached, kByHandle, std::memory_order_acq_rel))
    kernel::exit_calling_thread(0);
  // Started detached (kSelf), or its handle let go first (kDetached): the
  // mapping is this thread's to give back. In the cache it is the next
  // start's once the kernel has cleared the tid word at the exit below: the
  // stack stays in use until then. Counted out just before the exit, after
  // the push: a count back at its old value finds the mapping in the cache.
  // Not the thread that called fork(), running on in a child that has
  // started threads of its own (the count is the child's now): there an
  // entry of the parent's passes for gone (wait_gone), and this one is not.
  const bool counted = counting::counts(self->pid);
  if (counted && stack_cache::push(self)) {
    counting::live.fetch_sub(1, std::memory_order_release);
    kernel::exit_calling_thread(0);
  }
  // The cache is full: unmap. From the munmap on there is no stack, and a
  // handler would fault on it: block every signal that can be blocked
  // (signals sent to this thread die with it, the kernel hands the process's
  // own to another thread). And the kernel must not clear the tid word at
  // the exit: the range is free from the munmap on, and a thread started
  // meanwhile may have its own tid word at that very address.
  const std::uint64_t all = ~std::uint64_t{0};
  kernel::rt_sigprocmask(kernel::kSigBlock, &all, nullptr);
  kernel::set_tid_address(nullptr);
  // A thread the count does not hold (that fork() child's) counts itself
  // out of a count nobody reads.
  rawthread_unmap_and_exit(self->map_base, self->map_size,
                           counted ? &counting::live : &counting::uncounted);
}

// The new thread's first C++ frame, called by the clone trampoline on the new
// stack with the thread pointer already set (CLONE_SETTLS).
[[noreturn]] void thread_entry(void* arg) noexcept {
  auto* self = static_cast<Control*>(arg);
  self->run(self->payload);
  finish(self);
}

}  // namespace

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {

Result<ThreadSlot> map_thread(std::size_t size, std::size_t align) noexcept {
  const std::size_t page = page_size();
  const std::size_t setting = stack_size();  // read once: another thread may change it
  const std::size_t stack = setting != 0 ? setting : DEFAULT_STACK_SIZE;
  if (align < 16) align = 16;

  // Room above the stack: payload, tp area, the slack to align the payload,
  // and the 32 bytes the clone trampoline may take to align and hand over its
  // frame.
  std::size_t top = 0, wanted = 0, rounded = 0, total = 0;
  if (!add(top, size, align) || !add(top, top, tls::area_size() + 32) ||
      !add(wanted, stack, top) || !add(rounded, wanted, page - 1) ||
      !add(total, align_down(rounded, page), page))
    return errors::cant_start_thread(-ENOMEM);

  std::uintptr_t base = 0;
  bool fresh = false;
  if (Control* cached = stack_cache::pop(total)) {
    // Its guard page is PROT_NONE still; the rest holds what its last
    // thread left there.
    base = reinterpret_cast<std::uintptr_t>(cached->map_base);
  } else {
    long mapped =
        kernel::mmap(total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK);
    if (kernel::failed(mapped)) return errors::cant_start_thread(mapped);
    base = static_cast<std::uintptr_t>(mapped);
    fresh = true;
    // The guard page: an overflow faults here instead of running into the
    // mapping below.
    if (long ret = kernel::mprotect(reinterpret_cast<void*>(base), page, PROT_NONE); ret < 0) {
      kernel::munmap(reinterpret_cast<void*>(base), total);
      return errors::cant_start_thread(ret);
    }
  }

  // Fresh anonymous memory is zeroed already; a reused tp area is zeroed
  // again, the control block with it (every field starts at 0).
  std::uintptr_t area = 0;
  std::uintptr_t tp = tls::build(base + total, /*zeroed=*/fresh, &area);
  Control* self = control::at(tp);
  self->tag = control::tag_for(self);
  self->map_base = reinterpret_cast<void*>(base);
  self->map_size = total;
  self->payload = reinterpret_cast<void*>(align_down(area - size, align));
  arch::init_abi_tcb(tp);
  return ThreadSlot{self->payload, self};
}

void unmap_thread(ThreadSlot slot) noexcept {
  // No thread ever ran on it (its tid word is 0): the next start may take it
  // from the cache at once.
  auto* self = static_cast<Control*>(slot.control);
  if (!stack_cache::push(self)) kernel::munmap(self->map_base, self->map_size);
}

Result<Started> clone_thread(ThreadSlot slot, void (*run)(void*) noexcept,
                             void (*discard)(void*) noexcept, bool joinable) noexcept {
  auto* self = static_cast<Control*>(slot.control);
  self->run = run;
  self->reclaim.store(joinable ? kAttached : kSelf, std::memory_order_relaxed);
  std::uintptr_t tp = control::tp_of(self);
  // Counted before it exists: the thread may end before clone returns here.
  // The pid is a system call each time: nothing in memory tells a fork's
  // child that it is one (MADV_WIPEONFORK could, but QEMU's user mode
  // ignores it), and a count or control block of the parent's must not pass
  // for the child's.
  self->pid = kernel::getpid();
  counting::count_in(self->pid);
  long tid = rawthread_clone(&thread_entry, self, slot.payload, kCloneFlags, tp,
                             reinterpret_cast<std::int32_t*>(&self->tid));
  if (tid < 0) {
    counting::live.fetch_sub(1, std::memory_order_relaxed);
    discard(slot.payload);
    unmap_thread(slot);  // no thread ran on it: to the cache, as a failed copy's
    return errors::cant_start_thread(tid);
  }
  return Started{tp, self};
}

void reclaim_mapping(Control* self) noexcept {
  // A handle that crossed a fork() reclaims the child's copy of the mapping
  // of a thread the child never had: not one the child counts (and a copy
  // the cache may hand out as well: wait_gone). Read before the push: from
  // there on the entry is the next start's.
  const bool counted = counting::counts(self->pid);
  if (!stack_cache::push(self)) kernel::munmap(self->map_base, self->map_size);  // self with it
  if (counted) counting::live.fetch_sub(1, std::memory_order_release);
}

bool forked_away(const Control* self) noexcept { return self->pid != kernel::getpid(); }

}  // namespace detail

Ident get_ident() noexcept { return arch::thread_pointer(); }

void exit_thread() noexcept {
  if (Control* self = control::own()) finish(self);
  kernel::exit_calling_thread(0);  // the main thread, or one a libc started: end just it
}

void release_cached_stacks() noexcept {
  // No mapping is 0 bytes long: the pop unmaps every entry it takes, each
  // once its thread is gone.
  (void)stack_cache::pop(0);
}

}  // namespace rawthread
