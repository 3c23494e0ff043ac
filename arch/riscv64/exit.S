// SPDX-License-Identifier: MIT
// [[noreturn]] void rawthread_unmap_and_exit(void* base, size_t size,
//                                            size_t* live_threads);
//                                            a0 a1 a2
//
// The last steps of a thread that unmaps its own stack (the cache of ended
// threads' mappings being full: thread.cpp): munmap the mapping it runs on,
// count itself out of *live_threads, and exit, touching no memory of the
// mapping once it is gone. Signals must be blocked by the caller: a handler
// would run on the unmapped stack. And the caller must have turned off the
// kernel's clearing of its tid word at the exit (set_tid_address(NULL)):
// the range is free from the munmap on.
#include <asm/unistd.h>

	.text
	.global rawthread_unmap_and_exit
	.hidden rawthread_unmap_and_exit
	.type rawthread_unmap_and_exit, %function
rawthread_unmap_and_exit:
	li	a7, __NR_munmap		// munmap(base, size): a0, a1 as passed
	ecall				// from here on there is no stack
	li	t0, -1
	amoadd.d.aqrl zero, t0, (a2)	// --*live_threads
	li	a0, 0
	li	a7, __NR_exit		// exit(0): this thread only, not exit_group
	ecall
	unimp
	.size rawthread_unmap_and_exit, . - rawthread_unmap_and_exit

	.section .note.GNU-stack, "", %progbits
