// SPDX-License-Identifier: MIT
// The control block: what a thread rawthread started knows about itself.
//
// It lives at the top of the thread's own mapping, next to the thread
// pointer, so a thread finds it from one register read:
//
//   x86_64 (TLS variant II)   tp -> [ABI TCB, 64 bytes][Control]
//   aarch64 (variant I)       [Control][ABI TCB, 16 bytes] <- tp
//   riscv64 (variant I)       [Control] <- tp
//
// The main thread and threads started by a libc have a TCB of their libc's at
// the thread pointer instead. own() tells the two apart by a tag that only
// rawthread writes. Reading it from a libc's TCB is safe: on every arch that
// address lies inside the libc's thread descriptor (glibc's and musl's struct
// pthread start at tp on x86_64 and end at tp on aarch64 and riscv64), and the
// tag, derived from its own address, does not occur there.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

#include "arch.hpp"
#include "interrupt.hpp"

namespace rawthread {

// Who gives a thread's mapping back (to the cache of mappings, or unmapped)
// once it ends (Control::reclaim).
enum Reclaim : std::uint32_t {
  kSelf = 0,      // start_new_thread: the thread itself, as it exits
  kAttached = 1,  // start_joinable_thread, handle alive: decided at the end
  kByHandle = 2,  // it ended attached: the joiner (or the handle's destructor)
  kDetached = 3,  // the handle let go first: the thread itself again
};

struct Control {
  std::uintptr_t tag;  // tag_for(this) in a thread rawthread started, ending_tag_for(this)
                       // once it is ending
  interrupt::Target interrupt;  // its interrupt request and interruptible deadline
  // The tid, written by clone (CLONE_PARENT_SETTID) before it returns;
  // cleared to 0 by the kernel once the thread has exited and will never
  // touch its mapping again (CLONE_CHILD_CLEARTID), unless the thread
  // unmapped the mapping itself.
  std::atomic<std::int32_t> tid;
  std::atomic<std::uint32_t> reclaim;
  // Thread::interrupt calls signalling it now, and kEnding once the thread
  // has stopped letting new ones in (src/join.cpp, src/thread.cpp: finish).
  std::atomic<std::uint32_t> signallers;
  long pid;  // the process that started it: a fork's child has a copy of this block
  void* map_base;                                // the thread's whole mapping
  std::size_t map_size;
  void (*run)(void*) noexcept;  // invokes and destroys the stored callable
  void* payload;                // the stored callable, just below this block
  int last_errno;               // rawthread_last_errno() (src/c_api.cpp)
};

namespace control {

// Control::signallers: set by the thread at its end; below it, the count.
inline constexpr std::uint32_t kEnding = 1u << 31;

// The thread pointer block: the control block and the ABI's TCB, in the order
// the arch's TLS variant puts them, aligned as glibc aligns its TCB.
inline constexpr std::size_t kBlockSize = sizeof(Control) + arch::kAbiTcbSize;
inline constexpr std::size_t kBlockAlign = 64;

inline std::uintptr_t tag_for(const Control* self) noexcept {
  return reinterpret_cast<std::uintptr_t>(self) ^ 0x7261777468726561;  // "rawthrea"
}
// The tag of a thread that is ending (thread.cpp, finish): own() no longer
// finds its block, but a signal handler that runs in it still must not take
// the thread pointer for a libc's (src/c_api.cpp). Derived from the address
// too, so it does not occur in a libc's TCB either.
inline std::uintptr_t ending_tag_for(const Control* self) noexcept { return tag_for(self) ^ 1; }

// How far the block reaches below and above the thread pointer.
inline constexpr std::size_t kBelowTp = arch::kControlAboveTp ? 0 : sizeof(Control);
inline constexpr std::size_t kAboveTp = kBlockSize - kBelowTp;

// The thread pointer of a control block, and the way back.
inline std::uintptr_t tp_of(const Control* self) noexcept {
  auto address = reinterpret_cast<std::uintptr_t>(self);
  return arch::kControlAboveTp ? address - arch::kAbiTcbSize : address + sizeof(Control);
}
inline Control* at(std::uintptr_t tp) noexcept {
  return reinterpret_cast<Control*>(arch::kControlAboveTp ? tp + arch::kAbiTcbSize
                                                          : tp - sizeof(Control));
}

// The calling thread's control block, or null in a thread rawthread did not
// start (the main thread, a libc's threads).
inline Control* own() noexcept {
  Control* self = at(arch::thread_pointer());
  return self->tag == tag_for(self) ? self : nullptr;
}

}  // namespace control

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {
// Gives back the mapping of a joinable thread that has ended (its tid
// cleared), to the cache or unmapped, and counts the thread out: what the
// thread would have done itself.
void reclaim_mapping(Control* self) noexcept;
// Whether the thread belongs to another process: the caller is in a child of
// fork() that has a copy of the thread's mapping and not the thread.
bool forked_away(const Control* self) noexcept;
}  // namespace detail

}  // namespace rawthread
