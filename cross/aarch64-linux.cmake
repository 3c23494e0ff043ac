# SPDX-License-Identifier: MIT
# CMake toolchain file: Linux on 64-bit Arm (aarch64), Debian's cross
# toolchain; the CMake twin of aarch64-linux.ini, for a CMake project using
# rawthread built for aarch64:
#   apt-get install g++-aarch64-linux-gnu qemu-user cmake
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=<rawthread>/cross/aarch64-linux.cmake \
#         -DCMAKE_PREFIX_PATH=<where rawthread for aarch64 is installed>
#
# ctest runs the programs under QEMU user-mode emulation; '-L' points QEMU at
# Debian's aarch64 sysroot so a dynamically linked program runs as well.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)

# Tools from the build machine; libraries and headers from the target's
# sysroot only. Packages from CMAKE_PREFIX_PATH as given too: rawthread for
# aarch64 is installed where you chose, not under the sysroot.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
