/* SPDX-License-Identifier: MIT */
/* The version macros of <rawthread/version.h>, as a C program sees them
 * through <rawthread.h>: the numbers and the string are meson.build's
 * project version (EXPECTED_VERSION, from tests/c/meson.build), and the
 * numbers work in #if. */
#include <rawthread.h>

#include <stdio.h>
#include <string.h>

#if !defined(RAWTHREAD_VERSION_MAJOR) || !defined(RAWTHREAD_VERSION_MINOR) || \
    !defined(RAWTHREAD_VERSION_PATCH) || !defined(RAWTHREAD_VERSION_STRING)
#error "<rawthread.h> does not give the version macros"
#endif
#if RAWTHREAD_VERSION_MAJOR < 0 || RAWTHREAD_VERSION_MINOR < 0 || RAWTHREAD_VERSION_PATCH < 0
#error "a version number is negative"
#endif

int main(void) {
  char numbers[64];
  snprintf(numbers, sizeof numbers, "%d.%d.%d", RAWTHREAD_VERSION_MAJOR,
           RAWTHREAD_VERSION_MINOR, RAWTHREAD_VERSION_PATCH);
  int failed = 0;
  if (strcmp(RAWTHREAD_VERSION_STRING, EXPECTED_VERSION) != 0) {
    printf("RAWTHREAD_VERSION_STRING is \"%s\", meson.build says \"%s\"\n",
           RAWTHREAD_VERSION_STRING, EXPECTED_VERSION);
    failed = 1;
  }
  if (strcmp(numbers, EXPECTED_VERSION) != 0) {
    printf("RAWTHREAD_VERSION_MAJOR.MINOR.PATCH is %s, meson.build says %s\n", numbers,
           EXPECTED_VERSION);
    failed = 1;
  }
  if (!failed) printf("rawthread %s: the version macros agree with meson.build\n", numbers);
  return failed;
}
