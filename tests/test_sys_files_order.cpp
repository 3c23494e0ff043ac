// SPDX-License-Identifier: MIT
// The libc's <poll.h> and <fcntl.h> BEFORE rawthread/sys.hpp (test_sys_files.cpp
// has them after): one struct pollfd, one set of O_* and POLL*, either order.
#include <fcntl.h>
#include <poll.h>

#include <rawthread/sys.hpp>

#include <gtest/gtest.h>

namespace {

TEST(SysIncludeOrder, LibcFirstIsTheSamePollfd) {
  int fds[2];
  ASSERT_TRUE(rawthread::sys::pipe2(fds).has_value());
  struct pollfd fd = {fds[1], POLLOUT, 0};
  // The libc's poll and rawthread's on the same struct.
  EXPECT_EQ(::poll(&fd, 1, 0), 1);
  fd.revents = 0;
  rawthread::Result<int> r = rawthread::sys::poll(&fd, 1, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(fd.revents, POLLOUT);
  EXPECT_EQ(O_CLOEXEC, 02000000);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
