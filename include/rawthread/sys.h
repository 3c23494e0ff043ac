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

/* (rawthread_snprintf, rawthread_dprintf: added by the formatter work) */

#ifdef __cplusplus
}
#endif

#endif /* RAWTHREAD_SYS_H */
