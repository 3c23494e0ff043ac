// SPDX-License-Identifier: MIT
// The Event's wait, on the loop src/lock_wait.hpp shares with the locks: its
// interrupt checks, deadline collapse and futex error handling. "Taking" an
// Event is seeing it set, or set since the wait began (rawthread/event.hpp
// says why the generation).
#include <rawthread/event.hpp>

#include <climits>

#include "kernel.hpp"
#include "lock_wait.hpp"

namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE {
namespace {

struct EventOps {
  static constexpr bool kReentrant = false;
  EventWord& word;
  std::uint32_t generation;  // when the wait began

  explicit EventOps(EventWord& event) noexcept
      : word(event),
        generation(event.load(std::memory_order_relaxed) & ~(kEventSet | kEventSleepers)) {}

  bool takeable(std::uint32_t state) const noexcept {
    return (state & kEventSet) != 0 || (state & ~(kEventSet | kEventSleepers)) != generation;
  }
  // Acquire: what the setter wrote before set() is visible on return.
  bool try_take() const noexcept { return takeable(word.load(std::memory_order_acquire)); }
  bool marked(std::uint32_t state) const noexcept { return (state & kEventSleepers) != 0; }
  bool take_or_mark(std::uint32_t& sleep_on) const noexcept {
    std::uint32_t state = word.load(std::memory_order_acquire);
    for (;;) {
      if (takeable(state)) return true;
      sleep_on = state | kEventSleepers;
      // set()'s compare-and-swap reads the mark, or this one fails and we
      // look again (acquire: the state it reloads may be a set one).
      if (state == sleep_on || word.compare_exchange_weak(state, sleep_on, std::memory_order_acquire,
                                                          std::memory_order_acquire))
        return false;
    }
  }
  // The mark stays when a waiter gives up: it costs the next set() one
  // needless wake, and a waiter still asleep needs it.
};

}  // namespace

Result<bool> event_wait_slow(EventWord& word, double timeout) noexcept {
  // Blocking: Lock's checks for a blocking acquire; the dummy backend's
  // untimed wait on a clear Event is its deadlock error.
  return lock_wait::acquire(EventOps{word}, /*blocking=*/true, timeout);
}

void event_wake_all(EventWord& word) noexcept { kernel::futex_wake(&word, INT_MAX); }

}  // namespace rawthread::detail
