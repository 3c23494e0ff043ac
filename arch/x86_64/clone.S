// SPDX-License-Identifier: MIT
// long rawthread_clone(void (*entry)(void*), void* arg, void* stack,
//                      unsigned long flags, void* tls, int* tid);
//                      rdi                   rsi        rdx
//                      rcx                   r8         r9
//
// Starts a thread with clone(flags, stack, tid, tid, tls) that calls
// entry(arg) on `stack` and never returns. The parent gets the child's tid or
// -errno. The kernel's argument order on x86_64 is
// clone(flags, newsp, parent_tid, child_tid, tls): rdi rsi rdx r10 r8.
#include <asm/unistd.h>

	.text
	.global rawthread_clone
	.hidden rawthread_clone
	.type rawthread_clone, @function
rawthread_clone:
	.cfi_startproc
	and	$-16, %rdx		// the child's stack: 16-byte aligned ...
	sub	$16, %rdx		// ... holding arg and entry for it to pop
	mov	%rsi, (%rdx)
	mov	%rdi, 8(%rdx)
	mov	%rcx, %rdi		// flags
	mov	%rdx, %rsi		// newsp
	mov	%r9, %rdx		// parent_tid
	mov	%r9, %r10		// child_tid
					// tls is in r8 already
	mov	$__NR_clone, %eax
	syscall				// clobbers rcx and r11 only
	test	%rax, %rax
	jz	1f
	ret				// parent: tid or -errno
1:	// Child: on the new stack, nothing of the parent's frame is valid.
	.cfi_undefined %rip		// unwinders stop here
	xor	%ebp, %ebp		// end of the frame-pointer chain
	pop	%rdi			// arg
	pop	%rax			// entry; rsp is 16-aligned again, as call wants
	call	*%rax
	ud2				// entry never returns
	.cfi_endproc
	.size rawthread_clone, . - rawthread_clone

	.section .note.GNU-stack, "", @progbits
