// SPDX-License-Identifier: MIT
// The formatter with no libc under it: sys::format_to, sys::print to a pipe
// in one write, rawthread_snprintf and rawthread_dprintf, floats included
// (the float engine is integer arithmetic on a stack bignum, no libm).
#include <rawthread/sys.h>

#include <rawthread/sys.hpp>

#include "check.hpp"
#include "kernel.hpp"

namespace {

using rawthread::kernel::call;

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() noexcept { call(__NR_pipe2, fds, 02000000 /* O_CLOEXEC */); }
  ~Pipe() noexcept {
    call(__NR_close, fds[0]);
    call(__NR_close, fds[1]);
  }
};

TEST(format_to_formats) {
  char buf[128];
  auto n = rawthread::sys::format_to(buf, sizeof buf, "{} {:#x} {:08.3f} {} {:>5} {}|{:.1f}", 42,
                                     255, 3.14159, true, "ab", 0.1, 0.35);
  CHECK(n.has_value());
  CHECK(check::same(buf, "42 0xff 0003.142 true    ab 0.1|0.3"));
  CHECK_EQ(static_cast<long long>(*n), 35);
  n = rawthread::sys::format_to(buf, 4, "{}", 123456);
  CHECK_EQ(static_cast<long long>(*n), 6);
  CHECK(check::same(buf, "123"));
  (void)rawthread::sys::format_to(buf, sizeof buf, "{} {:e} {}", 1e300, 5e-324, -0.0);
  CHECK(check::same(buf, "1e+300 4.940656e-324 -0"));
}

TEST(print_reaches_a_pipe_in_one_write) {
  Pipe pipe;
  CHECK(rawthread::sys::print(pipe.fds[1], "{}: {:.2f}\n", "value", 2.5).has_value());
  char got[64] = {};
  long r = call(__NR_read, pipe.fds[0], got, sizeof got - 1);
  CHECK_EQ(r, 12);
  CHECK(check::same(got, "value: 2.50\n"));
  CHECK_EQ(rawthread_dprintf(pipe.fds[1], "%s=%05.1f\n", "c", 2.25), 8);
  char got2[64] = {};
  r = call(__NR_read, pipe.fds[0], got2, sizeof got2 - 1);
  CHECK_EQ(r, 8);
  CHECK(check::same(got2, "c=002.2\n"));
}

TEST(snprintf_formats) {
  char buf[128];
  int n = rawthread_snprintf(buf, sizeof buf, "%d|%-4s|%x|%.3e|%g|%p|%%", -5, "ab", 255u, 12345.678,
                             0.0001, static_cast<void*>(nullptr));
  CHECK(check::same(buf, "-5|ab  |ff|1.235e+04|0.0001|(nil)|%"));
  CHECK_EQ(n, 35);
  CHECK_EQ(rawthread_snprintf(nullptr, 0, "%lld", -1234567890123LL), 14);
}

}  // namespace
