// SPDX-License-Identifier: MIT
// _start: the freestanding program's entry (librawthread_rt only).
//
// The kernel enters with sp at argc, then argv[], NULL, envp[], NULL and the
// auxiliary vector; a0 is a function for atexit that only the dynamic linker
// sets (none here).
	.text
	.global _start
	.type _start, @function
_start:
	.cfi_startproc
	.cfi_undefined ra		// the outermost frame: unwinders stop here
	// The linker relaxes accesses near __global_pointer$ into gp-relative
	// ones, so gp must hold it before any C++ runs; this one load must not
	// itself be relaxed. Threads inherit gp through clone.
	.option push
	.option norelax
	lla	gp, __global_pointer$
	.option pop
	li	fp, 0			// end of the frame-pointer chain
	li	ra, 0
	mv	a0, sp			// rawthread_start(initial stack)
	andi	sp, sp, -16
	call	rawthread_start
	unimp				// it never returns
	.cfi_endproc
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
