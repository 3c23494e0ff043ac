#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""nm_check.py NM LIBRARY: the library needs nothing from outside itself but
the four memory functions compilers emit calls to (memcpy, memmove, memset,
memcmp): no libc, no pthread, no libgcc. The symbols every linker defines
itself (_GLOBAL_OFFSET_TABLE_, which code compiled with -fsanitize=undefined
refers to) come from no library, and are allowed too.

nm -u lists, per member of an archive, the symbols another member defines
too; those are not needed from outside. Prints what the library needs, or
the symbols beyond the four; exit status 1 then.
"""
import subprocess
import sys

ALLOWED = {'memcpy', 'memmove', 'memset', 'memcmp'}
LINKER_DEFINED = {'_GLOBAL_OFFSET_TABLE_'}
# Referred to weakly, so that no link ever needs them: glibc's
# __libc_single_threaded, which a thread start clears (src/thread.cpp), and
# librawthread_rt's fork hook, which sys::fork calls where it is linked
# (src/process.cpp, src/hooks.hpp).
WEAK_OPTIONAL = {'__libc_single_threaded', '_ZN9rawthread5hooks7at_forkENS0_9ForkPhaseE'}


def symbols(nm, library, *options):
    out = subprocess.run([nm, *options, library], check=True, capture_output=True,
                         text=True).stdout
    return [line.split() for line in out.splitlines()]


def main():
    nm, library = sys.argv[1:3]
    undefined = {fields[1] for fields in symbols(nm, library, '-u')
                 if len(fields) == 2 and fields[0] in ('U', 'w')}
    defined = {fields[2] for fields in symbols(nm, library, '--defined-only') if len(fields) == 3}
    weak = {fields[1] for fields in symbols(nm, library, '-u')
            if len(fields) == 2 and fields[0] == 'w'}
    needed = undefined - defined - (weak & WEAK_OPTIONAL)
    offending = sorted(needed - ALLOWED - LINKER_DEFINED)
    if offending:
        print(f'nm check: FAILED: {library} needs symbols beyond '
              f'{"/".join(sorted(ALLOWED))}:')
        for name in offending:
            print('    ' + name)
        return 1
    linker = sorted(needed & LINKER_DEFINED)
    print(f'nm check: OK: {library} needs {" ".join(sorted(needed - LINKER_DEFINED)) or "nothing"} '
          'from outside itself' + (f' (and the linker\'s {" ".join(linker)})' if linker else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
