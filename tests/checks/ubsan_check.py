#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ubsan_check.py NM OBJDUMP BUILDDIR: with -Dubsan=true, the sanitizer reached
every object (the library's and the runtime's too) in trap mode.

Every compile command has -fsanitize=undefined; nothing built calls into a
sanitizer runtime (there is none to link, and a freestanding program could
not link one); and both libraries hold trap instructions (ud2, brk, ebreak).
tests/ubsan_canary shows that the checks trap. Exit status 1 if not.
"""
import json
import os
import re
import subprocess
import sys

TRAP = re.compile(r'\s(ud2|brk|ebreak)\b')


def run(*command):
    return subprocess.run(command, capture_output=True, text=True).stdout


def main():
    nm, objdump, builddir = sys.argv[1:4]
    with open(os.path.join(builddir, 'compile_commands.json')) as f:
        commands = json.load(f)
    uninstrumented = [c['file'] for c in commands
                      if '-fsanitize=undefined' not in c['command'].split()]
    if uninstrumented:
        print('ubsan check: FAILED: compiled without -fsanitize=undefined: '
              + ' '.join(uninstrumented))
        return 1
    calls = []
    for directory, subdirs, files in os.walk(builddir):
        subdirs[:] = [d for d in subdirs if not d.startswith('meson-')]
        for name in files:
            path = os.path.join(directory, name)
            if name.endswith('.a') or (os.access(path, os.X_OK) and not name.endswith('.py')):
                if ' __ubsan_' in run(nm, path):
                    calls.append(os.path.relpath(path, builddir))
    if calls:
        print('ubsan check: FAILED: calls into a sanitizer runtime (not trap mode) in:')
        print('\n'.join('    ' + path for path in sorted(calls)))
        return 1
    traps = {lib: len(TRAP.findall(run(objdump, '-d', os.path.join(builddir, lib))))
             for lib in ('librawthread.a', 'librawthread_rt.a')}
    if not all(traps.values()):
        print(f'ubsan check: FAILED: no trap instruction in a library: {traps}')
        return 1
    print(f'ubsan check: OK: all {len(commands)} objects compiled with -fsanitize=undefined, '
          f'trapping ({traps["librawthread.a"]} trap instructions in librawthread.a, '
          f'{traps["librawthread_rt.a"]} in librawthread_rt.a)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
