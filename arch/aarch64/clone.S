// SPDX-License-Identifier: MIT
// long rawthread_clone(void (*entry)(void*), void* arg, void* stack,
//                      unsigned long flags, void* tls, int* tid);
//                      x0 x1 x2 x3 x4 x5
//
// Starts a thread with clone(flags, stack, tid, tls, tid) that calls
// entry(arg) on `stack` and never returns. The parent gets the child's tid or
// -errno. The kernel's argument order on aarch64 (as on riscv64, unlike
// x86_64) is clone(flags, newsp, parent_tid, tls, child_tid): x0..x4.
#include <asm/unistd.h>

	.text
	.global rawthread_clone
	.hidden rawthread_clone
	.type rawthread_clone, %function
rawthread_clone:
	.cfi_startproc
	and	x2, x2, #-16		// SP must stay 16-byte aligned on aarch64
	stp	x0, x1, [x2, #-16]!	// entry and arg, for the child to load
	mov	x0, x3			// flags
	mov	x1, x2			// newsp
	mov	x2, x5			// parent_tid
	mov	x3, x4			// tls
	mov	x4, x5			// child_tid
	mov	x8, #__NR_clone
	svc	#0
	cbz	x0, 1f
	ret				// parent: tid or -errno
1:	// Child: on the new stack, nothing of the parent's frame is valid.
	.cfi_undefined x30		// unwinders stop here
	mov	x29, xzr		// end of the frame-pointer chain
	mov	x30, xzr
	ldp	x1, x0, [sp], #16	// x1 = entry, x0 = arg
	blr	x1
	udf	#0			// entry never returns
	.cfi_endproc
	.size rawthread_clone, . - rawthread_clone

	.section .note.GNU-stack, "", %progbits
