// SPDX-License-Identifier: MIT
// Built with -fPIC -ftls-model=global-dynamic: these thread_locals are reached
// through __tls_get_addr where the static link does not rewrite the access
// (riscv64), as code from a PIC library would reach them.
#include "tls_pic.hpp"

namespace {
thread_local long pic_value = 11;
alignas(64) thread_local char pic_aligned[2] = {5, 6};
}  // namespace

long* pic_value_address() { return &pic_value; }
char* pic_aligned_address() { return pic_aligned; }
