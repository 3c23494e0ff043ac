/* SPDX-License-Identifier: MIT */
/* rawthread_snprintf and rawthread_dprintf from C11, built with
 * -std=c11 -Wall -Wextra -Werror (tests/c/meson.build): the header's
 * format attributes accept these calls, and the text is printf's.
 * The last line is "N passed, N failed". */
#define _POSIX_C_SOURCE 200809L /* pipe, read, close */

#include <rawthread/sys.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int passed;
static int failed;

static void expect_text(int line, const char* got, int got_len, const char* want) {
  if (strcmp(got, want) == 0 && got_len == (int)strlen(want)) {
    ++passed;
  } else {
    ++failed;
    printf("line %d: got \"%s\" (%d), want \"%s\"\n", line, got, got_len, want);
  }
}

static void check(int line, int ok) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    printf("line %d: check failed\n", line);
  }
}

#define EXPECT_FORMAT(want, ...)                                     \
  do {                                                               \
    char buf_[256];                                                  \
    int n_ = rawthread_snprintf(buf_, sizeof buf_, __VA_ARGS__);     \
    expect_text(__LINE__, buf_, n_, want);                           \
  } while (0)

int main(void) {
  EXPECT_FORMAT("42 -7 ff FF 17 x hi", "%d %i %x %X %o %c %s", 42, -7, 255u, 255u, 15u, 'x', "hi");
  EXPECT_FORMAT("[   42] [42   ] [+0042] [ 42]", "[%5d] [%-5d] [%+05d] [% d]", 42, 42, 42, 42);
  EXPECT_FORMAT("0x1f 017 0X1F", "%#x %#o %#X", 31u, 15u, 31u);
  EXPECT_FORMAT("3.142 2.500000e+00 0.0001 1e+06", "%.3f %e %g %g", 3.14159, 2.5, 0.0001, 1e6);
  EXPECT_FORMAT("0.3 2 0", "%.1f %.0f %.0f", 0.35, 2.5, 0.5);
  EXPECT_FORMAT("[0003.142]", "[%08.3f]", 3.14159);
  EXPECT_FORMAT("-128 65535 -1 18446744073709551615", "%hhd %hu %ld %llu", (signed char)-128, (unsigned short)65535, -1L,
                18446744073709551615ULL);
  EXPECT_FORMAT("7 -8 9", "%zu %td %jd", (size_t)7, (ptrdiff_t)-8, (intmax_t)9);
  EXPECT_FORMAT("[  abc] [ab]", "[%*s] [%.*s]", 5, "abc", 2, "abc");
  EXPECT_FORMAT("100%", "100%%");
  EXPECT_FORMAT("(nil)", "%p", (void*)0);
  EXPECT_FORMAT("0x1234", "%p", (void*)0x1234);

  /* Truncation: size-1 characters and a NUL; the whole length returned. */
  char small[4];
  int n = rawthread_snprintf(small, sizeof small, "%s", "abcdef");
  expect_text(__LINE__, small, n == 6 ? 3 : n, "abc");
  check(__LINE__, rawthread_snprintf(NULL, 0, "%d", 12345) == 5);

  /* dprintf: the bytes written, one write; -errno on a bad descriptor. */
  int fds[2];
  check(__LINE__, pipe(fds) == 0);
  check(__LINE__, rawthread_dprintf(fds[1], "%s %d\n", "line", 1) == 7);
  char got[32] = {0};
  ssize_t r = read(fds[0], got, sizeof got - 1);
  expect_text(__LINE__, got, (int)r, "line 1\n");
  close(fds[0]);
  close(fds[1]);
  check(__LINE__, rawthread_dprintf(fds[1], "x") == -EBADF);

  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
