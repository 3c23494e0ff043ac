// Threads: one mapping each, started with clone(), ended by unmapping itself.
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

#include "control.hpp"
#include "errors.hpp"
#include "page_size.hpp"
#include "runtime.hpp"
#include "kernel.hpp"
#include "tls.hpp"

// arch/<arch>/clone.S, exit.S
extern "C" long rawthread_clone(void (*entry)(void*), void* arg, void* stack,
                                unsigned long flags, std::uintptr_t tls, std::int32_t* tid);
extern "C" [[noreturn]] void rawthread_unmap_and_exit(void* base, std::size_t size,
                                                      std::atomic<std::size_t>* live_threads);

namespace rawthread {
namespace {

// A thread shares memory, files, cwd, signal handlers, SysV semaphore undo and
// the thread group with its creator, gets its own thread pointer, and has its
// tid written to its control block before clone returns. No exit signal.
constexpr unsigned long kCloneFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                      CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
                                      CLONE_PARENT_SETTID;
// QEMU's user mode takes a CLONE_VM clone as a thread only with all of these
// (linux-user/syscall.c, CLONE_THREAD_FLAGS) and fails it with EINVAL otherwise.
constexpr unsigned long kQemuThreadFlags =
    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
static_assert((kCloneFlags & kQemuThreadFlags) == kQemuThreadFlags);
static_assert(sizeof(std::atomic<std::int32_t>) == 4 && std::atomic<std::int32_t>::is_always_lock_free,
              "the kernel writes the tid word as a plain 32-bit int");

// Threads started and not yet ended. The exit stub decrements it after the
// munmap, so a count back at its old value means the stacks are gone too.
std::atomic<std::size_t> live_threads{0};
static_assert(sizeof(live_threads) == sizeof(std::size_t) && decltype(live_threads)::is_always_lock_free);

// The process live_threads counts the threads of. fork() copies the count into
// a child that has none of those threads: there the pid differs, and the
// count means nothing until the child's first start begins it afresh.
std::atomic<long> counted_pid{0};

// Counts a thread of process `pid` in.
void count_in(long pid) noexcept {
  long counted = counted_pid.load(std::memory_order_relaxed);
  // The first start of all, or the first in a fork's child. There the caller
  // is the only thread: no other start or exit can touch the count meanwhile.
  if (counted != pid && counted_pid.compare_exchange_strong(counted, pid, std::memory_order_relaxed) &&
      counted != 0)
    live_threads.store(0, std::memory_order_relaxed);
  live_threads.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

namespace runtime {
std::atomic<ThreadExitHook> run_thread_exit{nullptr};
}

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
  if (auto run = runtime::run_thread_exit.load(std::memory_order_acquire)) run();
  // From the munmap on there is no stack: a signal handler would fault on it.
  // Block every signal that can be blocked; signals sent to this thread die
  // with it, the kernel hands the process's own to another thread.
  const std::uint64_t all = ~std::uint64_t{0};
  kernel::rt_sigprocmask(kernel::kSigBlock, &all, nullptr);
  // A request no acquire consumed dies with the thread: left raised, it would
  // keep every acquire in the process off its inline path. No handler runs
  // from here on, and only this thread's handlers raise its flag.
  interrupt::consume(self->interrupt);
  // A joinable thread whose handle still exists leaves its mapping to it.
  // One exchange decides against the handle's detach: whoever comes second
  // reclaims. The kernel clears the tid and wakes joiners once this thread
  // is gone for good, after the exit below.
  std::uint32_t attached = kAttached;
  if (self->reclaim.compare_exchange_strong(attached, kByHandle, std::memory_order_acq_rel))
    kernel::exit_thread(0);
  // Its handle let go first (kDetached): it unmaps its mapping itself, so
  // the kernel must not clear the tid word at the exit. The range is free
  // from the munmap on, and a thread started meanwhile may have its own tid
  // word at that very address.
  if (attached == kDetached) kernel::set_tid_address(nullptr);
  rawthread_unmap_and_exit(self->map_base, self->map_size, &live_threads);
}

// The new thread's first C++ frame, called by the clone trampoline on the new
// stack with the thread pointer already set (CLONE_SETTLS).
[[noreturn]] void thread_entry(void* arg) noexcept {
  auto* self = static_cast<Control*>(arg);
  self->run(self->payload);
  finish(self);
}

}  // namespace

namespace detail {

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

  long mapped = kernel::mmap(total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK);
  if (kernel::failed(mapped)) return errors::cant_start_thread(mapped);
  auto base = static_cast<std::uintptr_t>(mapped);
  // The guard page: an overflow faults here instead of running into the
  // mapping below.
  if (long ret = kernel::mprotect(reinterpret_cast<void*>(base), page, PROT_NONE); ret < 0) {
    kernel::munmap(reinterpret_cast<void*>(base), total);
    return errors::cant_start_thread(ret);
  }

  std::uintptr_t area = 0;  // fresh anonymous memory is zeroed already
  std::uintptr_t tp = tls::build(base + total, /*zeroed=*/true, &area);
  Control* self = control::at(tp);
  self->tag = control::tag_for(self);
  self->map_base = reinterpret_cast<void*>(base);
  self->map_size = total;
  self->payload = reinterpret_cast<void*>(align_down(area - size, align));
  arch::init_abi_tcb(tp);
  return ThreadSlot{self->payload, self};
}

Result<Started> clone_thread(ThreadSlot slot, void (*run)(void*) noexcept,
                             void (*discard)(void*) noexcept, bool joinable) noexcept {
  auto* self = static_cast<Control*>(slot.control);
  self->run = run;
  self->reclaim.store(joinable ? kAttached : kSelf, std::memory_order_relaxed);
  std::uintptr_t tp = control::tp_of(self);
  // Counted before it exists: the thread may end before clone returns here.
  self->pid = kernel::getpid();
  count_in(self->pid);
  // Only a joinable thread has its tid cleared at exit, and only while its
  // handle exists (finish): any other has unmapped the word by then, and the
  // kernel would write into whatever was mapped there since.
  unsigned long flags = joinable ? kCloneFlags | CLONE_CHILD_CLEARTID : kCloneFlags;
  long tid = rawthread_clone(&thread_entry, self, slot.payload, flags, tp,
                             reinterpret_cast<std::int32_t*>(&self->tid));
  if (tid < 0) {
    live_threads.fetch_sub(1, std::memory_order_relaxed);
    discard(slot.payload);
    kernel::munmap(self->map_base, self->map_size);
    return errors::cant_start_thread(tid);
  }
  return Started{tp, self};
}

void reclaim_mapping(Control* self) noexcept {
  // A handle that crossed a fork() reclaims the child's copy of the mapping
  // of a thread the child never had: not one the child counts.
  const bool counted = self->pid == counted_pid.load(std::memory_order_relaxed);
  kernel::munmap(self->map_base, self->map_size);  // self with it
  if (counted) live_threads.fetch_sub(1, std::memory_order_release);
}

bool forked_away(const Control* self) noexcept { return self->pid != kernel::getpid(); }

}  // namespace detail

Ident get_ident() noexcept { return arch::thread_pointer(); }

void exit_thread() noexcept {
  if (Control* self = control::own()) finish(self);
  kernel::exit_thread(0);  // the main thread, or one a libc started: end just it
}

std::size_t thread_count() noexcept {
  std::size_t live = live_threads.load(std::memory_order_relaxed);
  // Not 0 in a fork's child before its first start: the parent's threads.
  if (live != 0 && counted_pid.load(std::memory_order_relaxed) != kernel::getpid()) return 0;
  return live;
}

}  // namespace rawthread
