// SPDX-License-Identifier: MIT
// void rawthread_sigreturn(void);
//
// The restorer of every handler rawthread installs (sa_restorer): a handler's
// `ret` lands here, with rsp at the rt_sigframe the kernel built, and
// rt_sigreturn restores the registers, mask and stack the signal interrupted.
// Never called, never returns.
//
// No CFI on purpose: with no FDE covering it, unwinders (libgcc's, gdb's)
// recognize this exact code, `movq $15, %rax; syscall` (48 c7 c0 0f 00 00 00
// 0f 05), as a signal frame and unwind through the saved context. The nop
// before it is for their lookup of return address - 1, which must not fall
// into the function placed before this one.
#include <asm/unistd.h>

	.text
	nop
	.global rawthread_sigreturn
	.hidden rawthread_sigreturn
	.type rawthread_sigreturn, @function
rawthread_sigreturn:
	movq	$__NR_rt_sigreturn, %rax	// 15; movq keeps the 7-byte encoding
	syscall
	ud2
	.size rawthread_sigreturn, . - rawthread_sigreturn

	.section .note.GNU-stack, "", @progbits
