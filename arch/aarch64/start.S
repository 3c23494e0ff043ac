// SPDX-License-Identifier: MIT
// _start: the freestanding program's entry (librawthread_rt only).
//
// The kernel enters with sp at argc, then argv[], NULL, envp[], NULL and the
// auxiliary vector; x0 is a function for atexit that only the dynamic linker
// sets (none here). sp is 16-byte aligned, as AAPCS64 requires at all times.
	.text
	.global _start
	.type _start, %function
_start:
	.cfi_startproc
	.cfi_undefined x30		// the outermost frame: unwinders stop here
	mov	x29, #0			// end of the frame-record chain
	mov	x30, #0
	mov	x0, sp			// rawthread_start(initial stack)
	and	sp, x0, #-16
	bl	rawthread_start
	udf	#0			// it never returns
	.cfi_endproc
	.size _start, . - _start

	.section .note.GNU-stack, "", %progbits
