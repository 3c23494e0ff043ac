// SPDX-License-Identifier: MIT
// thread_locals of a PIC object (tls_pic.cpp), reached through
// general-dynamic TLS accesses.
#pragma once

long* pic_value_address();
char* pic_aligned_address();
