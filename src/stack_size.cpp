// SPDX-License-Identifier: MIT
// stack_size(): the stack size for threads started from now on.
#include <atomic>

#include <rawthread/thread.hpp>

#include "backend.hpp"
#include "errors.hpp"

namespace rawthread {
namespace {
std::atomic<std::size_t> setting{0};  // 0: DEFAULT_STACK_SIZE
}

std::size_t stack_size() noexcept { return setting.load(std::memory_order_relaxed); }

Result<std::size_t> stack_size(long size) noexcept {
  if (size < 0) return errors::kNegativeStackSize;
  if (size != 0 && static_cast<std::size_t>(size) < MIN_STACK_SIZE)
    return errors::kStackSizeTooSmall;
  // The dummy backend gives _dummy_thread's answer: no thread ever gets a
  // stack of its own.
  if constexpr (backend::kDummy) {
    if (size != 0) return errors::kStackSizeNotSupported;
  }
  return setting.exchange(static_cast<std::size_t>(size), std::memory_order_relaxed);
}

}  // namespace rawthread
