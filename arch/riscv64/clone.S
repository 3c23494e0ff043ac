// SPDX-License-Identifier: MIT
// long rawthread_clone(void (*entry)(void*), void* arg, void* stack,
//                      unsigned long flags, void* tls, int* tid);
//                      a0 a1 a2 a3 a4 a5
//
// Starts a thread with clone(flags, stack, tid, tls, tid) that calls
// entry(arg) on `stack` and never returns. The parent gets the child's tid or
// -errno. The kernel's argument order on riscv64 (as on aarch64, unlike
// x86_64) is clone(flags, newsp, parent_tid, tls, child_tid): a0..a4.
#include <asm/unistd.h>

	.text
	.global rawthread_clone
	.hidden rawthread_clone
	.type rawthread_clone, %function
rawthread_clone:
	.cfi_startproc
	andi	a2, a2, -16		// the psABI wants sp 16-byte aligned
	addi	a2, a2, -16
	sd	a0, 0(a2)		// entry and arg, for the child to load
	sd	a1, 8(a2)
	mv	a0, a3			// flags
	mv	a1, a2			// newsp
	mv	a2, a5			// parent_tid
	mv	a3, a4			// tls
	mv	a4, a5			// child_tid
	li	a7, __NR_clone
	ecall
	beqz	a0, 1f
	ret				// parent: tid or -errno
1:	// Child: on the new stack, nothing of the parent's frame is valid.
	.cfi_undefined ra		// unwinders stop here
	ld	a1, 0(sp)		// entry
	ld	a0, 8(sp)		// arg
	mv	s0, zero		// end of the frame-pointer chain
	mv	ra, zero
	jalr	a1
	unimp				// entry never returns
	.cfi_endproc
	.size rawthread_clone, . - rawthread_clone

	.section .note.GNU-stack, "", %progbits
