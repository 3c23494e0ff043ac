#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""stdcxx_members_check.py USER NON_USER: what the standard library brings
into a program linked with librawthread_rt, read from the link maps the
builds write next to the programs (PROGRAM.map, -Wl,-Map).

USER (rt_tests: the containers, std::function, the smart pointers, the
clocks) must take archive members from rawthread's own archives only: no
libstdc++.a, libsupc++.a, libgcc or libc member; of the libstdc++ members
librawthread_rt.a carries, nothing but the four meson.build copies
(stdcxx_members), and the red-black tree and the hashtables' bucket counts
it uses. NON_USER (demo_rt: rawthread and no standard library part) must
take none of those members and none of the runtime's files for the
standard library (functexcept, chrono, shared_ptr, math, sched), so that
it does not grow for them.
"""
import os
import re
import sys

RAWTHREAD_ARCHIVES = {'librawthread_rt.a', 'librawthread.a', 'libtls_pic.a'}
STDCXX_MEMBERS = {'tree.o', 'hash_bytes.o', 'hashtable_c++0x.o', 'allocator-inst.o'}
USED_BY_THE_TESTS = {'tree.o', 'hashtable_c++0x.o', 'hash_bytes.o'}
STDLIB_FILES = re.compile(r'^src_rt_(functexcept|chrono|shared_ptr|math|sched)\.cpp\.o$')
MEMBER = re.compile(r'^(\S+\.a)\(([^)]+)\)')
THIN_MEMBER = re.compile(r'^(\S+\.a)\.p/(\S+)')  # a member of Meson's thin archive libX.a
SECTION_ENDS = ('Merging program properties', 'Discarded input sections', 'Allocating common symbols', 'Memory Configuration')


def members(program):
    """(archive basename, member) for every archive member the link took.
    GNU ld lists each at the start of a line, the file that wanted it
    indented after it (on the same line when the name is short)."""
    taken = set()
    with open(program + '.map') as f:
        lines = iter(f)
        for line in lines:
            if line.startswith('Archive member included'):
                break
        for line in lines:
            if line.startswith(SECTION_ENDS):
                break
            if not line.strip() or line[0].isspace():
                continue
            name = line.split()[0]
            found = MEMBER.match(name) or THIN_MEMBER.match(name)
            if found:
                taken.add((os.path.basename(found.group(1)), os.path.basename(found.group(2))))
            else:
                taken.add(('?', name))
    return taken


def main():
    user, non_user = sys.argv[1], sys.argv[2]
    bad = []
    taken = members(user)
    if not taken:
        bad.append(f'{user}.map lists no archive members')
    for archive, member in sorted(taken):
        if archive not in RAWTHREAD_ARCHIVES:
            bad.append(f'{user} took {archive}({member})')
        elif archive == 'librawthread_rt.a' and not member.startswith(('src_rt_', 'arch_')) \
                and member not in STDCXX_MEMBERS:
            bad.append(f'{user} took {archive}({member}), not one of {sorted(STDCXX_MEMBERS)}')
    rt_members = {member for archive, member in taken if archive == 'librawthread_rt.a'}
    for member in sorted(USED_BY_THE_TESTS - rt_members):
        bad.append(f'{user} did not take librawthread_rt.a({member}): the test of it uses nothing?')
    for archive, member in sorted(members(non_user)):
        if archive not in RAWTHREAD_ARCHIVES or member in STDCXX_MEMBERS or STDLIB_FILES.match(member):
            bad.append(f'{non_user} (no standard library part) took {archive}({member})')
    if bad:
        print('stdcxx members check: FAILED:\n    ' + '\n    '.join(bad))
        return 1
    print(f'stdcxx members check: OK: {user} took '
          f'{", ".join(sorted(rt_members & STDCXX_MEMBERS))} of libstdc++ and nothing else '
          f'from outside rawthread; {non_user} took no standard library part')
    return 0


if __name__ == '__main__':
    sys.exit(main())
