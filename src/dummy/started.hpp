// SPDX-License-Identifier: MIT
// The dummy backend's one piece of state: the started functions running now,
// innermost last. Python's _dummy_thread keeps the same (its _main flag and
// _interrupt).
#pragma once

namespace rawthread::dummy {

// Whether a function started by start_new_thread is running.
bool in_started_function() noexcept;

// interrupt_main() inside a started function: its start_new_thread returns
// Errc::interrupted once the function has finished.
void interrupt_started_function() noexcept;

}  // namespace rawthread::dummy
