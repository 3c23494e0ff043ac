// SPDX-License-Identifier: MIT
// rawthread/sys.hpp BEFORE the kernel's <linux/fcntl.h> and <linux/poll.h>:
// the order that needs RAWTHREAD_SYS_KERNEL_HEADERS (without it sys.hpp
// takes the libc's headers, whose struct pollfd and struct flock the
// kernel's would define again). test_sys_files.cpp has the libc's after it,
// test_sys_files_order.cpp before it.
#define RAWTHREAD_SYS_KERNEL_HEADERS 1
#include <rawthread/sys.hpp>

#include <linux/fcntl.h>
#include <linux/poll.h>

#include <gtest/gtest.h>

namespace {

TEST(SysIncludeOrder, KernelAfterWithTheMacroIsTheSamePollfd) {
  int fds[2];
  ASSERT_TRUE(rawthread::sys::pipe2(fds).has_value());
  struct pollfd fd = {fds[1], POLLOUT, 0};
  rawthread::Result<int> r = rawthread::sys::poll(&fd, 1, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(fd.revents, POLLOUT);
  EXPECT_EQ(O_CLOEXEC, 02000000);
  EXPECT_TRUE(rawthread::sys::close(fds[0]).has_value());
  EXPECT_TRUE(rawthread::sys::close(fds[1]).has_value());
}

}  // namespace
