// SPDX-License-Identifier: MIT
// [[noreturn]] void rawthread_unmap_and_exit(void* base, size_t size,
//                                            size_t* live_threads);
//                                            x0 x1 x2
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
	mov	x8, #__NR_munmap	// munmap(base, size): x0, x1 as passed
	svc	#0			// from here on there is no stack
1:	ldaxr	x3, [x2]		// --*live_threads, acquire-release, LL/SC
	sub	x3, x3, #1		// (LSE atomics are optional in ARMv8.0)
	stlxr	w4, x3, [x2]
	cbnz	w4, 1b
	mov	x0, #0
	mov	x8, #__NR_exit		// exit(0): this thread only, not exit_group
	svc	#0
	udf	#0
	.size rawthread_unmap_and_exit, . - rawthread_unmap_and_exit

	.section .note.GNU-stack, "", %progbits
