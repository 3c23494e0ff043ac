#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""abi_namespace_check.py NM LIBRARY NAMESPACE: every rawthread::detail symbol
the library defines is in the inline namespace named after the version
(rawthread::detail::NAMESPACE::, rawthread/version.h's
RAWTHREAD_ABI_NAMESPACE), so that an object compiled against another
version's headers fails to link. There must be some: the library defines the
slow paths the headers' inline fast paths call.
"""
import subprocess
import sys


def main():
    nm, library, namespace = sys.argv[1:4]
    out = subprocess.run([nm, '-C', '--defined-only', library], check=True,
                         capture_output=True, text=True).stdout
    names = [line.split(' ', 2)[2] for line in out.splitlines() if line.count(' ') >= 2]
    detail = sorted({name for name in names if 'rawthread::detail::' in name})
    versioned = f'rawthread::detail::{namespace}::'
    outside = [name for name in detail if versioned not in name]
    if not detail:
        print(f'abi namespace check: FAILED: {library} defines no rawthread::detail symbol')
        return 1
    if outside:
        print(f'abi namespace check: FAILED: outside {versioned}:')
        for name in outside:
            print('    ' + name)
        return 1
    print(f'abi namespace check: OK: {len(detail)} rawthread::detail symbols, all in {versioned}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
