// SPDX-License-Identifier: MIT
// The stack cache: the mappings of threads that have ended, for the next
// starts to reuse. A start that finds one makes no mmap or mprotect and
// faults in no page, and an end that leaves one makes no munmap (in a
// process with threads, each munmap is a TLB shootdown on every CPU that runs
// one of them).
//
// Eight slots (MAX_CACHED_STACKS): enough for a burst of short threads as
// wide as a machine's cores, and a bounded cost: with the default stack,
// 8 x 136 KiB of address space held back (all of it committed under
// vm.overcommit_memory=2; resident only the few pages each thread touched).
// Only a mapping of exactly the size a start needs is reused, so a
// stack_size() change empties the cache through starts.
//
// Lock-free, so async-signal-safe and fork-safe: a slot holds an entry (the
// mapping's control block) or null; push CASes a null slot to the entry, pop
// exchanges a full one to null. Each entry has one owner at any time.
#pragma once

#include <cstddef>

#include "control.hpp"

namespace rawthread::stack_cache {

// Puts an ended thread's mapping in the cache; false when it is full.
bool push(Control* entry) noexcept;

// Takes a mapping of exactly `size` bytes whose thread is gone, or null.
// Entries of other sizes met on the way are unmapped: an old stack_size()
// left them, and they would only keep the slots full. (With size 0, every
// entry: release_cached_stacks.)
Control* pop(std::size_t size) noexcept;

}  // namespace rawthread::stack_cache
