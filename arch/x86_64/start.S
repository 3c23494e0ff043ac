// SPDX-License-Identifier: MIT
// _start: the freestanding program's entry (librawthread_rt only).
//
// The kernel enters with rsp at argc, then argv[], NULL, envp[], NULL and the
// auxiliary vector; every other register is unspecified except rdx, a
// function for atexit that only the dynamic linker sets (none here). The
// stack is 16-byte aligned at this point by the ABI, yet it is aligned again,
// as the call below must find it.
	.text
	.global _start
	.type _start, @function
_start:
	.cfi_startproc
	.cfi_undefined %rip		// the outermost frame: unwinders stop here
	xor	%ebp, %ebp		// end of the frame-pointer chain
	mov	%rsp, %rdi		// rawthread_start(initial stack)
	and	$-16, %rsp
	call	rawthread_start
	ud2				// it never returns
	.cfi_endproc
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
