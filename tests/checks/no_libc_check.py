#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""no_libc_check.py NM PROGRAM...: each program (linked with librawthread_rt)
is static, with no trace of glibc or musl in its symbols.

Static: no PT_INTERP (no dynamic loader) and no PT_DYNAMIC (nothing to
relocate or bind at start-up), read from the ELF program headers. Exit
status 1 if a program is not.

One name of glibc's is the runtime's own: __libc_single_threaded, which
libstdc++'s headers read before each reference count update
(src/rt/shared_ptr.cpp defines it); it is not taken for a trace of libc.
"""
import re
import struct
import subprocess
import sys

PT_DYNAMIC, PT_INTERP = 2, 3
LIBC_SYMBOL = re.compile(r' (__libc_start_main|__libc_[a-z_]*|__init_libc|_IO_[a-z_]*|__GI_[a-z_]*)$')
RUNTIME_OWN = re.compile(r' __libc_single_threaded$')


def segment_types(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF' or data[4] != 2:
        raise ValueError('not a 64-bit ELF file')
    order = '<' if data[5] == 1 else '>'
    phoff, = struct.unpack_from(order + 'Q', data, 0x20)
    phentsize, phnum = struct.unpack_from(order + 'HH', data, 0x36)
    return {struct.unpack_from(order + 'I', data, phoff + i * phentsize)[0] for i in range(phnum)}


def main():
    nm, programs = sys.argv[1], sys.argv[2:]
    bad = 0
    for program in programs:
        types = segment_types(program)
        if PT_INTERP in types or PT_DYNAMIC in types:
            print(f'no-libc check: FAILED: {program} is not statically linked '
                  '(it has a PT_INTERP or PT_DYNAMIC segment)')
            bad = 1
        out = subprocess.run([nm, program], check=True, capture_output=True, text=True).stdout
        found = [line for line in out.splitlines()
                 if LIBC_SYMBOL.search(line) and not RUNTIME_OWN.search(line)]
        if found:
            print(f'no-libc check: FAILED: {program} has libc symbols:')
            print('\n'.join('    ' + line for line in found[:20]))
            bad = 1
    if not bad:
        print('no-libc check: OK: static, with no libc symbols: ' + ' '.join(programs))
    return bad


if __name__ == '__main__':
    sys.exit(main())
