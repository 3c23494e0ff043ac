// SPDX-License-Identifier: MIT
// The hooks: see hooks.hpp. Defined here, empty, for both backends; only
// librawthread_rt's start-up, __cxa_thread_atexit and its heap fill them in.
#include "hooks.hpp"

namespace rawthread::hooks {

TlsImage tls_image{nullptr, 0, 0, 1};
const unsigned long* auxv = nullptr;
std::atomic<ThreadExitHook> run_thread_exit{nullptr};

}  // namespace rawthread::hooks
