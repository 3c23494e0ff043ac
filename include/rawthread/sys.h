/* SPDX-License-Identifier: MIT */
/* rawthread/sys.h: <rawthread/sys.hpp> for C11, for programs with or without
 * libc (linked with librawthread_rt, a C program has no libc at all).
 *
 * The same calls as rawthread::sys with a rawthread_ prefix. Each returns
 * -errno on failure (an argument out of its domain: -EINVAL, and nothing
 * changes), and what the C++ call's Result holds on success. Nothing here
 * touches errno. rawthread_sleep and the C API's other calls are
 * <rawthread.h>'s, which this header includes.
 */
#ifndef RAWTHREAD_SYS_H
#define RAWTHREAD_SYS_H

#include <rawthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Raw system calls, files and devices ---------------------------------- */

/* (files and devices: added by the files work) */

/* ---- Processes, clocks, environment, the calling thread's settings ------- */

/* (processes, clocks, environment, thread settings: added by the process work) */

/* ---- Formatted output ------------------------------------------------------ */

#include <stdarg.h> /* va_list */

/* printf's syntax, for programs with or without libc, formatted by the same
 * engines as rawthread::sys::format_to: no heap, no locale, async-signal-safe.
 * Conversions: %d %i %u %x %X %o %c %s %p %f %F %e %E %g %G %%, flags
 * - + space # 0, width and precision (also *), length modifiers hh h l ll z j t
 * (l on floats ignored). Floats are correctly rounded from the exact binary
 * value, ties to even, as glibc prints them in the default rounding mode.
 * %s of NULL prints "(null)" (nothing when the precision is below 6), %p of
 * NULL "(nil)", as glibc. Widths and precisions above 2^20 are capped there.
 * A conversion outside that list (%n, %a, %lc, %ls, %Lf, ...) is printed as it
 * stands, from '%' to its last character, and takes no argument: the ones
 * after it then no longer match (the format attribute warns).
 *
 * rawthread_snprintf: writes at most size-1 characters and a NUL (nothing
 * when size is 0; buf may then be NULL); returns the length of the whole
 * text, or -EOVERFLOW above INT_MAX. */
int rawthread_snprintf(char* buf, size_t size, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rawthread_vsnprintf(char* buf, size_t size, const char* fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Formats into a 1 KiB buffer on the stack and writes it with one write(2),
 * so that lines from threads do not interleave; a longer text goes out in
 * 1 KiB pieces, one write each. Returns the bytes written, or the first
 * failed write's -errno (what came before it was written). */
int rawthread_dprintf(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
int rawthread_vdprintf(int fd, const char* fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#ifdef __cplusplus
}
#endif

#endif /* RAWTHREAD_SYS_H */
