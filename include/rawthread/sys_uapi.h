/* SPDX-License-Identifier: MIT */
/* rawthread/sys_uapi.h: the kernel's numbers and types that <rawthread/sys.hpp>
 * and <rawthread/sys.h> take from system headers, chosen once for both:
 *   - E* (errno values) from <asm/errno.h>, __NR_* from <asm/unistd.h>;
 *   - struct pollfd and the O_*, POLL*, AT_* constants from the headers the
 *     file has included already, the libc's <poll.h> / <fcntl.h> (glibc's or
 *     musl's, found by their include guards) or the kernel's <linux/poll.h> /
 *     <linux/fcntl.h>; with neither, the libc's where the toolchain has them,
 *     else the kernel's; the kernel's when RAWTHREAD_SYS_KERNEL_HEADERS is
 *     defined (define it to include the kernel's headers after this one).
 * The two families cannot meet in one file (each defines struct pollfd,
 * struct flock, struct f_owner_ex); on Linux both hold the kernel's values
 * and layout. sys.hpp, "Raw system calls, files and devices", has the rules.
 * glibc shows O_CLOEXEC, O_DIRECTORY and O_NOFOLLOW only to C++, GNU or POSIX
 * 2008 code (not to -std=c11): they are defined from its __O_* spellings. */
#ifndef RAWTHREAD_SYS_UAPI_H
#define RAWTHREAD_SYS_UAPI_H

#include <asm/errno.h>
#include <asm/unistd.h>

#if defined(_FCNTL_H) || defined(_ASM_GENERIC_FCNTL_H) || defined(_LINUX_FCNTL_H)
#elif defined(RAWTHREAD_SYS_KERNEL_HEADERS) || !__has_include(<fcntl.h>)
#include <linux/fcntl.h>
#else
#include <fcntl.h>
#endif
#if defined(_SYS_POLL_H) || defined(_POLL_H) || defined(__ASM_GENERIC_POLL_H)
#elif defined(RAWTHREAD_SYS_KERNEL_HEADERS) || !__has_include(<poll.h>)
#include <linux/poll.h>
#else
#include <poll.h>
#endif
#if !defined(O_CLOEXEC) && defined(__O_CLOEXEC)
#define O_CLOEXEC __O_CLOEXEC
#endif
#if !defined(O_DIRECTORY) && defined(__O_DIRECTORY)
#define O_DIRECTORY __O_DIRECTORY
#endif
#if !defined(O_NOFOLLOW) && defined(__O_NOFOLLOW)
#define O_NOFOLLOW __O_NOFOLLOW
#endif

#endif /* RAWTHREAD_SYS_UAPI_H */
