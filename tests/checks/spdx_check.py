#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""spdx_check.py SOURCE_ROOT: every source file of the tree names its licence
in its first lines ("SPDX-License-Identifier: MIT", in the file's own comment
syntax), as LICENSE and meson.build's license do. Documentation (.md) and
LICENSE itself are exempt. Prints the files without one; exit status 1 then.
"""
import os
import sys

TAG = 'SPDX-License-Identifier: MIT'
DIRS = ['arch', 'bench', 'cmake', 'cross', 'examples', 'include', 'scripts', 'src', 'tests']
TOP = ['meson.build', 'meson_options.txt']
EXEMPT_SUFFIXES = ('.md',)


def sources(root):
    for name in TOP:
        yield os.path.join(root, name)
    for top in DIRS:
        for folder, subdirs, files in os.walk(os.path.join(root, top)):
            subdirs[:] = [d for d in subdirs if not d.startswith(('.', '__pycache__'))]
            for name in files:
                if not name.endswith(EXEMPT_SUFFIXES) and not name.endswith('.pyc'):
                    yield os.path.join(folder, name)


def main():
    root = sys.argv[1]
    missing, count = [], 0
    for path in sources(root):
        count += 1
        with open(path, errors='replace') as f:
            head = [f.readline() for _ in range(3)]
        if not any(TAG in line for line in head):
            missing.append(os.path.relpath(path, root))
    if missing:
        print(f'spdx check: FAILED: no "{TAG}" in the first lines of:')
        for path in missing:
            print('    ' + path)
        return 1
    print(f'spdx check: OK: {count} files name their licence')
    return 0


if __name__ == '__main__':
    sys.exit(main())
