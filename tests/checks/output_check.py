#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""output_check.py PROGRAM PATTERN...: runs PROGRAM and checks that it exits
0 and that each regular expression PATTERN matches one line of its standard
output (re.search, any order: the lines of two processes sharing a console
interleave as they run).

In a cross build meson test sets MESON_EXE_WRAPPER (qemu-<arch> ...), which
a test running this script does not get applied to PROGRAM by itself; the
program runs under it here. On failure the whole output is printed, then
what was missing.
"""
import os
import re
import shlex
import subprocess
import sys


def main():
    program, patterns = sys.argv[1], sys.argv[2:]
    command = shlex.split(os.environ.get('MESON_EXE_WRAPPER', '')) + [program]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as timeout:
        print(f'output check: {program} did not end in 120 s; its output:')
        print(timeout.stdout.decode() if timeout.stdout else '')
        return 1
    lines = run.stdout.splitlines()
    missing = [p for p in patterns if not any(re.search(p, line) for line in lines)]
    if run.returncode == 0 and not missing:
        print(run.stdout, end='')
        print(f'output check: OK: exit status 0, {len(patterns)} lines found')
        return 0
    print(run.stdout, end='')
    print(run.stderr, end='', file=sys.stderr)
    print(f'output check: FAILED: {program} exited with {run.returncode}')
    for pattern in missing:
        print(f'  no line matches {pattern!r}')
    return 1


if __name__ == '__main__':
    sys.exit(main())
