// SPDX-License-Identifier: MIT
// get_native_id() and the owner id an RLock records, for both backends (the
// dummy has no control blocks: control::own() is null there).
#include <cstdint>

#include <rawthread/rlock.hpp>
#include <rawthread/thread.hpp>

#include "control.hpp"
#include "kernel.hpp"
#include "main_thread.hpp"

namespace rawthread {

// Always the system call: a tid kept in memory (the control block's) is the
// parent's in a thread that called fork(), running on in the child.
long get_native_id() noexcept { return kernel::gettid(); }

namespace detail::inline RAWTHREAD_ABI_NAMESPACE {
// Stable for the thread's lifetime and across fork(), like an ident: an RLock
// the main thread held as fork() was called stays its own in the child.
std::uint32_t owner_id() noexcept {
  if (const Control* self = control::own())
    return static_cast<std::uint32_t>(self->tid.load(std::memory_order_relaxed));
  if (main_thread::is_current()) return static_cast<std::uint32_t>(main_thread::tid());
  return static_cast<std::uint32_t>(kernel::gettid());
}
}  // namespace detail

}  // namespace rawthread
