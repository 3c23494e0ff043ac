#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""format_compile_check.py INCLUDE_DIR... -- CXX...: a bad sys::format_to
format string does not compile.

Each case is one call in a small translation unit, compiled with
-fsyntax-only: the good ones must compile (so a failure below is the format
check's, not a broken harness), the bad ones must fail, and with the reason
format.hpp gives (its consteval check stops at a call to format_error).
Exit status 1 if not.
"""
import os
import subprocess
import sys
import tempfile

GOOD = [
    '"{} {:#x} {:08.3f}", 1, 255, 3.5',
    '"{{}} {:>8} {:*^9.2} {:c} {:d}", "s", "str", 65, true',
    '"{} {} {:p}", nullptr, p, p',
    '"{:+} {:e} {:G} {:.0}", 1.5, 2.0, 3.0f, 4.0',
    '"no placeholders"',
]
BAD = [
    ('"{:f}", 1', 'type not valid for an integer'),
    ('"{:x}", "text"', 'type not valid for a string'),
    ('"{:d}", 1.5', 'type not valid for a floating-point value'),
    ('"{:.2}", 7', 'precision not allowed for an integer'),
    ('"{:+}", "text"', 'not allowed for a string'),
    ('"{:#}", p', 'not allowed for a pointer'),
    ('"{} {}", 1', 'more {} in the format string than arguments'),
    ('"{}", 1, 2', 'more arguments than {}'),
    ('"{", 1', "expected ':' or '}'"),
    ('"}"', "unmatched '}'"),
    ('"{0}", 1', 'argument indexes are not supported'),
    ('"{:{}}", 1, 2', 'dynamic width'),
    ('"{:5.}", 1.0', 'missing precision'),
    ('"{:a}", 1.0', 'hexadecimal floats are not supported'),
    ('"{:zz}", 1', 'unknown or misplaced character'),
]
SOURCE = '''#include <rawthread/sys.hpp>
void f(char* buf, int* p) {{
  (void)p;
  (void)rawthread::sys::format_to(buf, 8, {call});
}}
'''


def compiles(cxx, includes, call, tmp):
    path = os.path.join(tmp, 'case.cpp')
    with open(path, 'w') as f:
        f.write(SOURCE.format(call=call))
    result = subprocess.run(cxx + ['-std=c++20', '-fsyntax-only'] +
                            ['-I' + d for d in includes] + [path],
                            capture_output=True, text=True)
    return result.returncode == 0, result.stderr


def main():
    split = sys.argv.index('--')
    includes, cxx = sys.argv[1:split], sys.argv[split + 1:]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for call in GOOD:
            ok, err = compiles(cxx, includes, call, tmp)
            if not ok:
                print(f'FAILED: should compile: format_to(buf, 8, {call})\n{err}')
                failed += 1
        for call, reason in BAD:
            ok, err = compiles(cxx, includes, call, tmp)
            if ok:
                print(f'FAILED: compiled: format_to(buf, 8, {call})')
                failed += 1
            elif 'format_error' not in err or reason not in err:
                print(f'FAILED: format_to(buf, 8, {call}) failed without "{reason}":\n{err}')
                failed += 1
    total = len(GOOD) + len(BAD)
    print(f'format compile check: {total - failed} of {total} cases as expected')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
