// SPDX-License-Identifier: MIT
// void rawthread_sigreturn(void);
//
// The restorer of every handler rawthread installs (sa_restorer): a handler's
// `ret` lands here, with sp at the rt_sigframe the kernel built, and
// rt_sigreturn restores the registers, mask and stack the signal interrupted.
// Never called, never returns.
//
// No CFI on purpose: with no FDE covering it, unwinders (libgcc's, gdb's)
// recognize this exact code, `mov x8, #139; svc #0` (d2801168 d4000001), as
// a signal frame and unwind through the saved context. The nop before it is
// for their lookup of return address - 1, which must not fall into the
// function placed before this one.
#include <asm/unistd.h>

	.text
	nop
	.global rawthread_sigreturn
	.hidden rawthread_sigreturn
	.type rawthread_sigreturn, %function
rawthread_sigreturn:
	mov	x8, #__NR_rt_sigreturn	// 139
	svc	#0
	udf	#0
	.size rawthread_sigreturn, . - rawthread_sigreturn

	.section .note.GNU-stack, "", %progbits
