#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""installed.py MODE [options]: install this build into a scratch directory
(meson install --destdir) and build programs against the installed copy as
a user would, then run them.

  pkg-config   with flags from the installed rawthread.pc and
               rawthread-rt.pc (PKG_CONFIG_SYSROOT_DIR points pkg-config at
               the scratch directory), and -Wall -Wextra -Werror: the C
               example (examples/demo_c.c) with the C compiler, -std=c11,
               linked statically; tests/consumer/firmware.c, C with no libc,
               which must get only flags C takes (rawthread-rt's Cflags);
               tests/consumer/firmware.cpp, C++ with no libc, with the C++
               flags too (the variable cxxflags). Each is run.
  cmake        tests/consumer/ as a CMake project: find_package(rawthread)
               from the scratch prefix (CMAKE_PREFIX_PATH: the package finds
               its files from its own place), the four programs built with
               -Werror, ctest running them; with --toolchain (a cross build),
               for the target, ctest running them under its emulator.
  meson        tests/consumer/ as a Meson project, twice: with this source
               tree as its subproject (subprojects/rawthread, a symbolic
               link), and against the installed copy (pkg-config, as in
               pkg-config mode, the fallback forbidden); each time the four
               programs built with -Werror and meson test running them. With
               --cross-file, for the target, under its exe_wrapper.

Exit status 0 when everything built and ran, 1 when something failed, 77
(meson test's SKIP) when a tool it needs is missing.
"""
import argparse
import glob
import os
import shlex
import subprocess
import sys
import tempfile

SKIP = 77


class Failed(Exception):
    pass


def run(command, **kwargs):
    print('$ ' + ' '.join(shlex.quote(str(part)) for part in command), flush=True)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, **kwargs)
    if result.stdout:
        print(result.stdout.rstrip(), flush=True)
    if result.returncode != 0:
        raise Failed(f'{os.path.basename(str(command[0]))} exited with {result.returncode}')
    return result.stdout


def install(args, destdir):
    run([args.meson, 'install', '-C', args.builddir, '--no-rebuild', '--quiet',
         '--destdir', destdir])


def find_one(root, pattern):
    found = glob.glob(os.path.join(root, '**', pattern), recursive=True)
    if len(found) != 1:
        raise Failed(f'expected one {pattern} in the installed copy, found {found}')
    return found[0]


def check_pkg_config(args, destdir):
    pc_dir = os.path.dirname(find_one(destdir, 'rawthread.pc'))
    env = dict(os.environ, PKG_CONFIG_LIBDIR=pc_dir, PKG_CONFIG_PATH='',
               PKG_CONFIG_SYSROOT_DIR=destdir)

    def flags(*query):
        return shlex.split(run([args.pkg_config, *query], env=env))

    warnings = ['-Wall', '-Wextra', '-Werror']
    demo_c = os.path.join(destdir, 'demo_c')
    run([*args.cc, '-std=c11', *warnings, args.demo_c,
         *flags('--cflags', 'rawthread'), *flags('--libs', 'rawthread'), '-static',
         '-o', demo_c])
    run([demo_c])
    firmware_c = os.path.join(destdir, 'firmware_c')
    run([*args.cc, '-std=c11', *warnings, os.path.join(args.consumer, 'firmware.c'),
         *flags('--cflags', 'rawthread-rt'), *flags('--libs', 'rawthread-rt'), '-o', firmware_c])
    run([firmware_c])
    firmware_cpp = os.path.join(destdir, 'firmware_cpp')
    run([*args.cxx, '-std=c++20', *warnings, os.path.join(args.consumer, 'firmware.cpp'),
         *flags('--cflags', 'rawthread-rt'), *flags('--variable=cxxflags', 'rawthread-rt'),
         *flags('--libs', 'rawthread-rt'), '-o', firmware_cpp])
    run([firmware_cpp])
    print('installed check: OK: built against the installed library with pkg-config and run: '
          f'examples/demo_c.c ({os.path.basename(args.cc[-1])} -std=c11, rawthread), '
          'tests/consumer/firmware.c and firmware.cpp (no libc, rawthread-rt)')


def check_cmake(args, destdir):
    prefix = os.path.join(destdir, os.path.relpath(args.prefix, '/'))
    build = os.path.join(destdir, 'consumer')
    configure = [args.cmake, '-S', args.consumer, '-B', build, '-G', 'Ninja',
                 f'-DCMAKE_PREFIX_PATH={prefix}', '-DCMAKE_BUILD_TYPE=Release']
    if args.toolchain:
        configure.append(f'-DCMAKE_TOOLCHAIN_FILE={args.toolchain}')
    else:
        # The configuration's compilers (the last word: no launcher).
        configure += [f'-DCMAKE_C_COMPILER={args.cc[-1]}', f'-DCMAKE_CXX_COMPILER={args.cxx[-1]}']
    run(configure)
    run([args.cmake, '--build', build])
    run([args.ctest, '--test-dir', build, '--output-on-failure', '--timeout', '120'])
    how = f'for the target ({os.path.basename(args.toolchain)})' if args.toolchain else 'natively'
    print(f'installed check: OK: tests/consumer built with CMake {how} through '
          'find_package(rawthread), rawthread::rawthread and rawthread::rt, and run')


def check_meson(args, destdir):
    pc_dir = os.path.dirname(find_one(destdir, 'rawthread.pc'))  # before the subproject's
    source = os.path.join(destdir, 'consumer-source')
    os.mkdir(source)
    for name in ('meson.build', 'app.c', 'app.cpp', 'counter.h', 'firmware.c', 'firmware.cpp'):
        with open(os.path.join(args.consumer, name)) as src, \
                open(os.path.join(source, name), 'w') as dst:
            dst.write(src.read())
    os.mkdir(os.path.join(source, 'subprojects'))
    os.symlink(args.source_root, os.path.join(source, 'subprojects', 'rawthread'))
    cross = ['--cross-file', args.cross_file] if args.cross_file else []
    native = [] if args.cross_file else ['--native-file', write_compilers(args, destdir)]

    def build(name, options, env=None):
        build_dir = os.path.join(destdir, name)
        run([args.meson, 'setup', build_dir, source, *cross, *native, *options], env=env)
        run([args.meson, 'compile', '-C', build_dir], env=env)
        run([args.meson, 'test', '-C', build_dir, '--print-errorlogs'], env=env)

    # As a subproject: rawthread's own tests are not built (meson.build).
    build('consumer-subproject', ['--force-fallback-for=rawthread,rawthread-rt'])
    # Installed: pkg-config finds the scratch copy (the build machine's
    # pkg-config for a cross build too: the .pc files hold no machine's
    # paths but the sysroot's).
    env = dict(os.environ, PKG_CONFIG_LIBDIR=pc_dir, PKG_CONFIG_PATH='',
               PKG_CONFIG_SYSROOT_DIR=destdir)
    options = ['--wrap-mode=nofallback']
    if args.cross_file:
        options += ['--cross-file', write_pkg_config(args, destdir)]
    build('consumer-installed', options, env)
    how = f'for the target ({os.path.basename(args.cross_file)})' if args.cross_file else 'natively'
    print(f'installed check: OK: tests/consumer built with Meson {how}, with rawthread as a '
          'subproject and installed (pkg-config), dependency(\'rawthread\') and '
          'dependency(\'rawthread-rt\'), and run')


def write_compilers(args, destdir):
    """A native file naming this configuration's compilers (Clang's too)."""
    path = os.path.join(destdir, 'compilers.ini')
    with open(path, 'w') as out:
        out.write('[binaries]\n'
                  f'c = {args.cc!r}\n'
                  f'cpp = {args.cxx!r}\n')
    return path


def write_pkg_config(args, destdir):
    """A cross file, read after the project's, with the build machine's pkg-config."""
    path = os.path.join(destdir, 'pkg-config.ini')
    with open(path, 'w') as out:
        out.write(f'[binaries]\npkgconfig = {args.pkg_config!r}\n')
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('mode', choices=['pkg-config', 'cmake', 'meson'])
    parser.add_argument('--meson', required=True)
    parser.add_argument('--builddir', required=True)
    parser.add_argument('--cc', action='append', default=[], help='one word of the C compiler command')
    parser.add_argument('--cxx', action='append', default=[], help='one word of the C++ compiler command')
    parser.add_argument('--consumer', help='tests/consumer')
    parser.add_argument('--pkg-config', default='')
    parser.add_argument('--demo-c')
    parser.add_argument('--prefix', help="meson's prefix")
    parser.add_argument('--cmake', default='')
    parser.add_argument('--toolchain', default='', help='a CMake toolchain file, for a cross build')
    parser.add_argument('--source-root', help='this source tree, the Meson subproject')
    parser.add_argument('--cross-file', default='', help='a Meson cross file, for a cross build')
    args = parser.parse_args()
    if args.mode in ('pkg-config', 'meson') and not args.pkg_config:
        print('installed check: SKIP: no pkg-config')
        return SKIP
    if args.mode == 'cmake':
        if not args.cmake:
            print('installed check: SKIP: no cmake (scripts/install-deps installs it)')
            return SKIP
        args.ctest = os.path.join(os.path.dirname(args.cmake), 'ctest')
    with tempfile.TemporaryDirectory(prefix='rawthread-installed.') as destdir:
        try:
            install(args, destdir)
            {'pkg-config': check_pkg_config, 'cmake': check_cmake,
             'meson': check_meson}[args.mode](args, destdir)
        except Failed as failure:
            print(f'installed check: FAILED: {failure}')
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
