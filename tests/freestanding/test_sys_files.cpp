// SPDX-License-Identifier: MIT
// Issue 17 without libc: open, read, write, pread, lseek, stat, pipe2, dup2
// and poll (its timeout, readiness from another thread, a pending request
// and Thread::interrupt ending it), on the rt runner. The kernel's
// <linux/poll.h> and <linux/fcntl.h> come first: sys.hpp then uses them.
#include <linux/fcntl.h>
#include <linux/poll.h>

#include <atomic>
#include <utility>

#include <rawthread/rawthread.hpp>
#include <rawthread/sys.hpp>

#include "check.hpp"

namespace {

namespace sys = rawthread::sys;

std::int64_t now_ns() { return *sys::monotonic_ns(); }

std::atomic<int> usr1_runs{0};
void on_usr1(int) { usr1_runs.fetch_add(1); }

constexpr int kSigusr1 = 10;  // on x86_64, aarch64 and riscv64

bool is_os_error(const auto& r, int sys_errno) {
  return !r.has_value() && r.error().kind == rawthread::Errc::os_error &&
         r.error().sys_errno == sys_errno;
}

}  // namespace

TEST(files_open_read_write_stat_unlink) {
  char dir[64] = "/tmp/rawthread-rt-files-";
  // The pid in the name, in decimal, by hand: no snprintf here.
  long pid = *sys::syscall(__NR_getpid);
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid != 0);
  int at = 0;
  while (dir[at] != '\0') ++at;
  while (n > 0) dir[at++] = digits[--n];
  dir[at] = '\0';
  char file[80];
  for (int i = 0; i <= at; ++i) file[i] = dir[i];
  file[at] = '/';
  file[at + 1] = 'f';
  file[at + 2] = '\0';

  CHECK(sys::mkdir(dir, 0700).has_value());
  CHECK(is_os_error(sys::mkdir(dir), EEXIST));
  rawthread::Result<int> fd = sys::open(file, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (!CHECK(fd.has_value())) return;
  CHECK(is_os_error(sys::open(file, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST));
  CHECK_EQ(*sys::syscall(__NR_fcntl, *fd, 1 /* F_GETFD */), 1 /* FD_CLOEXEC */);
  CHECK(sys::write_all(*fd, "libc-free", 9).has_value());
  char buf[8] = {};
  rawthread::Result<std::size_t> got = sys::pread(*fd, buf, 4, 5);
  CHECK(got.has_value() && *got == 4 && buf[0] == 'f' && buf[3] == 'e');
  CHECK_EQ(*sys::lseek(*fd, 0, 1 /* SEEK_CUR */), 9);
  sys::Stat st{};
  CHECK(sys::fstat(*fd, st).has_value());
  CHECK(st.is_regular());
  CHECK_EQ(static_cast<long long>(st.size), 9);
  CHECK(sys::fsync(*fd).has_value());
  CHECK(sys::close(*fd).has_value());
  CHECK(is_os_error(sys::close(*fd), EBADF));
  CHECK(sys::stat(dir, st).has_value() && st.is_directory());
  CHECK(is_os_error(sys::unlink(dir), EISDIR));
  CHECK(sys::unlink(file).has_value());
  CHECK(is_os_error(sys::open(file, O_RDONLY), ENOENT));
  CHECK(sys::syscall(__NR_unlinkat, sys::kCwd, dir, 0x200 /* AT_REMOVEDIR */).has_value());
}

TEST(files_pipe_dup2_and_poll_readiness) {
  int fds[2];
  if (!CHECK(sys::pipe2(fds).has_value())) return;
  pollfd p{fds[0], POLLIN, 0};
  std::int64_t t0 = now_ns();
  rawthread::Result<int> r = sys::poll(&p, 1, 0.05);
  CHECK(r.has_value() && *r == 0);
  CHECK(now_ns() - t0 >= 50'000'000);
  // Another thread writes while this one polls for ever.
  static int write_end;
  write_end = fds[1];
  auto started = rawthread::start_joinable_thread([] {
    (void)rawthread::sleep(0.05);
    (void)sys::write(write_end, "w", 1);
  });
  if (!CHECK(started.has_value())) return;
  rawthread::Thread writer = std::move(*started);
  r = sys::poll(&p, 1, -1);
  CHECK(r.has_value() && *r == 1 && p.revents == POLLIN);
  rawthread::Result<bool> joined = writer.join(60);
  CHECK(joined.has_value() && *joined);
  // dup2: a copy without FD_CLOEXEC; dup2(fd, fd) is fd.
  rawthread::Result<int> copy = sys::dup2(fds[0], 90);
  CHECK(copy.has_value() && *copy == 90);
  CHECK_EQ(*sys::syscall(__NR_fcntl, 90, 1 /* F_GETFD */), 0);
  char c = 0;
  CHECK(sys::read(90, &c, 1).has_value() && c == 'w');
  CHECK(sys::dup2(90, 90).has_value());
  CHECK(sys::close(90).has_value());
  CHECK(is_os_error(sys::dup2(90, 90), EBADF));
  CHECK(sys::close(fds[0]).has_value());
  CHECK(sys::close(fds[1]).has_value());
}

TEST(poll_a_pending_request_ends_it_and_thread_interrupt_too) {
  int fds[2];
  if (!CHECK(sys::pipe2(fds).has_value())) return;
  pollfd p{fds[0], POLLIN, 0};
  rawthread::request_interrupt();
  rawthread::Result<int> r = sys::poll(&p, 1, 60);
  CHECK(!r.has_value() && r.error().kind == rawthread::Errc::interrupted);
  r = sys::poll(&p, 1, 0.01);  // consumed
  CHECK(r.has_value() && *r == 0);

  static std::atomic<int> outcome{0};  // 1 interrupted, 2 anything else
  static int read_end;
  read_end = fds[0];
  outcome = 0;
  usr1_runs = 0;
  CHECK(sys::set_signal_handler(kSigusr1, on_usr1).has_value());
  auto started = rawthread::start_joinable_thread([] {
    pollfd q{read_end, POLLIN, 0};
    rawthread::Result<int> polled = sys::poll(&q, 1, -1);
    outcome.store(!polled.has_value() && polled.error().kind == rawthread::Errc::interrupted ? 1
                                                                                             : 2);
  });
  if (!CHECK(started.has_value())) return;
  rawthread::Thread t = std::move(*started);
  // Before the poll began or during it: either way it ends it.
  CHECK(t.interrupt(kSigusr1).has_value());
  rawthread::Result<bool> joined = t.join(60);
  CHECK(joined.has_value() && *joined);
  CHECK_EQ(outcome.load(), 1);
  CHECK(sys::set_signal_default(kSigusr1).has_value());
  CHECK(sys::close(fds[0]).has_value());
  CHECK(sys::close(fds[1]).has_value());
}
