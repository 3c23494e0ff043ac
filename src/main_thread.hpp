// SPDX-License-Identifier: MIT
// The process's main thread, recognised from any thread without a system
// call once it has been seen: its thread pointer is cached the first time the
// main thread asks.
#pragma once

namespace rawthread::main_thread {

// Whether the caller is the main thread (the one whose tid is the pid).
bool is_current() noexcept;

// The main thread's tid, the pid; valid once is_current() has returned true.
long tid() noexcept;

}  // namespace rawthread::main_thread
