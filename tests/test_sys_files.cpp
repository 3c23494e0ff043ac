// SPDX-License-Identifier: MIT
// rawthread/sys.hpp's raw system call, files and devices (issue 17): each
// call's success and failure paths with the errno, arguments refused before
// any system call (and changing nothing), O_CLOEXEC by default, dup2 as
// POSIX has it, and poll: Lock's timeout checks, never early, a handler
// without a request does not end it, a request (pending, from a handler,
// from interrupt_main, from Thread::interrupt) does. Tests may run as root:
// the failures chosen fail for root too. Checked against libc where it
// reads the state back.
//
// sys.hpp first, the libc's <poll.h> and <fcntl.h> after it, with no macro
// (test_sys_files_order.cpp has the libc's first, and the kernel's after
// with RAWTHREAD_SYS_KERNEL_HEADERS; the freestanding test the kernel's first).
#include <rawthread/sys.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cmath>
#include <limits>
#include <string>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;
using rt_test::now_ns;
using rt_test::seconds_since;

namespace {

using rt_test::count_and_request;
using rt_test::count_only;
using rt_test::expect_no_pending_request;
using rt_test::g_handler_runs;

void expect_os_error(const auto& r, const char* message, int sys_errno) {
  expect_error(r, Errc::os_error, message, sys_errno);
}

// A scratch directory, removed with what is left in it at the end.
class Scratch {
 public:
  Scratch() {
    char tmpl[] = "/tmp/rawthread-files-XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  ~Scratch() { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string path(const char* name) const { return dir_ + "/" + name; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

int fd_flags(int fd) {
  Result<long> r = sys::syscall(__NR_fcntl, fd, F_GETFD);
  EXPECT_TRUE(r.has_value());
  return r ? static_cast<int>(*r) : -1;
}

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { EXPECT_TRUE(sys::pipe2(fds).has_value()); }
  ~Pipe() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int r() const { return fds[0]; }
  int w() const { return fds[1]; }
};

// ---------------------------------------------------------------- syscall

TEST(SysSyscall, ReturnsTheKernelsResult) {
  Result<long> pid = sys::syscall(__NR_getpid);
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(*pid, ::getpid());
  Result<long> tid = sys::syscall(__NR_gettid);
  ASSERT_TRUE(tid.has_value());
  EXPECT_EQ(*tid, rt_test::gettid_now());
}

TEST(SysSyscall, AnAddressIsAResultNotAnError) {
  Result<long> at = sys::syscall(__NR_mmap, nullptr, 4096, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(at.has_value()) << at.error().sys_errno;
  auto* page = reinterpret_cast<char*>(*at);
  page[0] = 'x';
  EXPECT_EQ(page[0], 'x');
  EXPECT_TRUE(sys::syscall(__NR_munmap, page, 4096).has_value());
}

TEST(SysSyscall, FailureIsTheErrno) {
  errno = 12345;
  expect_os_error(sys::syscall(__NR_close, rt_test::closed_fd()), "system call failed", EBADF);
  expect_os_error(sys::syscall(__NR_openat, AT_FDCWD, "/nonexistent/rawthread", O_RDONLY),
                  "system call failed", ENOENT);
  EXPECT_EQ(errno, 12345) << "errno was touched";
}

TEST(SysSyscall, PointersAndEnumsPass) {
  enum class Cmd : int { getfd = F_GETFD };
  Pipe p;
  Result<long> flags = sys::syscall(__NR_fcntl, p.r(), Cmd::getfd);
  ASSERT_TRUE(flags.has_value());
  EXPECT_EQ(*flags, FD_CLOEXEC);
  char byte = 'z';
  Result<long> wrote = sys::syscall(__NR_write, p.w(), &byte, std::size_t{1});
  ASSERT_TRUE(wrote.has_value());
  EXPECT_EQ(*wrote, 1);
}

// ---------------------------------------------------------------- open, close

TEST(SysFiles, OpenAddsCloexecUnlessAskedNot) {
  Result<int> fd = sys::open("/dev/null", O_RDONLY);
  ASSERT_TRUE(fd.has_value());
  EXPECT_EQ(fd_flags(*fd), FD_CLOEXEC);
  EXPECT_TRUE(sys::close(*fd).has_value());
  Result<int> kept = sys::open("/dev/null", O_RDONLY | sys::kNoCloexec);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(fd_flags(*kept), 0);
  // The kernel never sees the bit: the file's status flags do not have it.
  EXPECT_EQ(::fcntl(*kept, F_GETFL) & sys::kNoCloexec, 0);
  EXPECT_TRUE(sys::close(*kept).has_value());
}

TEST(SysFiles, OpenCreatesWritesAndReadsBack) {
  Scratch s;
  std::string name = s.path("f");
  Result<int> fd = sys::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_TRUE(fd.has_value()) << fd.error().sys_errno;
  ASSERT_TRUE(sys::write_all(*fd, "hello world", 11).has_value());
  Result<std::int64_t> pos = sys::lseek(*fd, 0, SEEK_CUR);
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(*pos, 11);
  ASSERT_TRUE(sys::lseek(*fd, 6, SEEK_SET).has_value());
  char buf[16] = {};
  Result<std::size_t> got = sys::read(*fd, buf, sizeof buf);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::string(buf, *got), "world");
  EXPECT_TRUE(sys::fsync(*fd).has_value());
  EXPECT_TRUE(sys::close(*fd).has_value());
  struct stat st;
  ASSERT_EQ(::stat(name.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777 & ~0600u, 0u);  // 0600, less what umask took
  EXPECT_EQ(st.st_size, 11);
}

TEST(SysFiles, OpenFailures) {
  Scratch s;
  std::string name = s.path("f");
  expect_os_error(sys::open(name.c_str(), O_RDONLY), "open failed", ENOENT);
  Result<int> fd = sys::open(name.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_TRUE(fd.has_value());
  ASSERT_TRUE(sys::close(*fd).has_value());
  expect_os_error(sys::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600), "open failed",
                  EEXIST);
  // A directory for writing: EISDIR, root or not; a path through a file: ENOTDIR.
  expect_os_error(sys::open(s.dir().c_str(), O_WRONLY), "open failed", EISDIR);
  expect_os_error(sys::open((name + "/x").c_str(), O_RDONLY), "open failed", ENOTDIR);
  expect_os_error(sys::open(name.c_str(), O_RDONLY | O_DIRECTORY), "open failed", ENOTDIR);
  expect_error(sys::open(nullptr, O_RDONLY), Errc::value_error, "path must not be null");
}

TEST(SysFiles, OpenatIsRelativeToItsDirectory) {
  Scratch s;
  Result<int> dir = sys::open(s.dir().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(dir.has_value());
  Result<int> fd = sys::openat(*dir, "inside", O_WRONLY | O_CREAT, 0644);
  ASSERT_TRUE(fd.has_value());
  EXPECT_EQ(fd_flags(*fd), FD_CLOEXEC);
  EXPECT_EQ(::access(s.path("inside").c_str(), F_OK), 0);
  expect_os_error(sys::openat(rt_test::closed_fd(), "inside", O_RDONLY), "open failed", EBADF);
  expect_error(sys::openat(*dir, nullptr, O_RDONLY), Errc::value_error, "path must not be null");
  EXPECT_TRUE(sys::close(*fd).has_value());
  EXPECT_TRUE(sys::close(*dir).has_value());
}

TEST(SysFiles, CloseOfABadFdIsEbadf) {
  expect_os_error(sys::close(rt_test::closed_fd()), "close failed", EBADF);
  expect_os_error(sys::close(-1), "close failed", EBADF);
}

// A FIFO opened for reading blocks until a writer comes; a handler that runs
// meanwhile does not make the open fail.
TEST(SysFiles, OpenOfAFifoResumesAfterAHandler) {
  Scratch s;
  std::string name = s.path("fifo");
  ASSERT_EQ(::mkfifo(name.c_str(), 0600), 0);
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  g_handler_runs = 0;
  const long main_tid = rt_test::gettid_now();
  int writer = -1;
  rt_test::HelperThread helper([&] {
    if (!rt_test::wait_until_sleeping(main_tid)) return;
    rt_test::tgkill_main(main_tid, SIGUSR1);
    rt_test::wait_for([] { return g_handler_runs.load() > 0; });
    rt_test::sleep_ms(50);
    writer = ::open(name.c_str(), O_WRONLY | O_CLOEXEC);
  });
  Result<int> reader = sys::open(name.c_str(), O_RDONLY);
  helper.join();
  ASSERT_TRUE(reader.has_value()) << reader.error().sys_errno;
  EXPECT_EQ(g_handler_runs.load(), 1);
  ASSERT_GE(writer, 0);
  ASSERT_EQ(::write(writer, "f", 1), 1);
  char c = 0;
  Result<std::size_t> got = sys::read(*reader, &c, 1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(c, 'f');
  ::close(writer);
  EXPECT_TRUE(sys::close(*reader).has_value());
}

// ---------------------------------------------------------------- pread, pwrite, lseek

TEST(SysFiles, PreadPwriteLeaveThePositionAlone) {
  Scratch s;
  Result<int> fd = sys::open(s.path("f").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_TRUE(fd.has_value());
  Result<std::size_t> wrote = sys::pwrite(*fd, "abcdef", 6, 10);
  ASSERT_TRUE(wrote.has_value());
  EXPECT_EQ(*wrote, 6u);
  EXPECT_EQ(*sys::lseek(*fd, 0, SEEK_CUR), 0);
  char buf[4] = {};
  Result<std::size_t> got = sys::pread(*fd, buf, 3, 12);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::string(buf, *got), "cde");
  EXPECT_EQ(*sys::lseek(*fd, 0, SEEK_CUR), 0);
  EXPECT_EQ(*sys::lseek(*fd, 0, SEEK_END), 16);
  // Past the end: nothing, no error.
  got = sys::pread(*fd, buf, 3, 100);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 0u);
  // A negative offset is refused before the call: the position stays.
  ASSERT_TRUE(sys::lseek(*fd, 2, SEEK_SET).has_value());
  expect_error(sys::pread(*fd, buf, 3, -1), Errc::value_error, "offset must be non-negative");
  expect_error(sys::pwrite(*fd, "x", 1, -1), Errc::value_error, "offset must be non-negative");
  EXPECT_EQ(*sys::lseek(*fd, 0, SEEK_CUR), 2);
  struct stat st;
  ASSERT_EQ(::fstat(*fd, &st), 0);
  EXPECT_EQ(st.st_size, 16);
  expect_os_error(sys::lseek(*fd, -1, SEEK_SET), "lseek failed", EINVAL);
  expect_os_error(sys::lseek(*fd, 0, 99), "lseek failed", EINVAL);
  EXPECT_TRUE(sys::close(*fd).has_value());
}

TEST(SysFiles, PreadPwriteLseekFailures) {
  Pipe p;
  char buf[4];
  expect_os_error(sys::pread(p.r(), buf, 1, 0), "pread failed", ESPIPE);
  expect_os_error(sys::pwrite(p.w(), "x", 1, 0), "pwrite failed", ESPIPE);
  expect_os_error(sys::lseek(p.r(), 0, SEEK_SET), "lseek failed", ESPIPE);
  int bad = rt_test::closed_fd();
  expect_os_error(sys::pread(bad, buf, 1, 0), "pread failed", EBADF);
  expect_os_error(sys::pwrite(bad, "x", 1, 0), "pwrite failed", EBADF);
  expect_os_error(sys::lseek(bad, 0, SEEK_SET), "lseek failed", EBADF);
  expect_os_error(sys::fsync(bad), "fsync failed", EBADF);
  // The read end of a pipe cannot be written, nor the write end read.
  expect_os_error(sys::pwrite(p.r(), "x", 1, 0), "pwrite failed", ESPIPE);
  expect_os_error(sys::write(p.r(), "x", 1), "write failed", EBADF);
}

// ---------------------------------------------------------------- ioctl

TEST(SysFiles, Ioctl) {
  Pipe p;
  ASSERT_TRUE(sys::write_all(p.w(), "abc", 3).has_value());
  int queued = -1;
  Result<long> r = sys::ioctl(p.r(), FIONREAD, reinterpret_cast<unsigned long>(&queued));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(queued, 3);
  // A terminal's request on a pipe: ENOTTY; any request on no file: EBADF.
  // Each gets a real destination, though the kernel refuses before writing
  // it: memcheck checks the pointer an ioctl will write through.
  alignas(8) unsigned char termios[256] = {};
  expect_os_error(sys::ioctl(p.r(), TCGETS, reinterpret_cast<unsigned long>(termios)),
                  "ioctl failed", ENOTTY);
  expect_os_error(sys::ioctl(rt_test::closed_fd(), FIONREAD, reinterpret_cast<unsigned long>(&queued)),
                  "ioctl failed", EBADF);
}

// ---------------------------------------------------------------- mkdir, unlink, stat

TEST(SysFiles, MkdirUnlinkStat) {
  Scratch s;
  std::string dir = s.path("d");
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ASSERT_TRUE(sys::mkdir(dir.c_str(), 0750).has_value());
  sys::Stat st{};
  ASSERT_TRUE(sys::stat(dir.c_str(), st).has_value());
  EXPECT_TRUE(st.is_directory());
  EXPECT_EQ(static_cast<unsigned>(st.mode & 07777), 0750 & ~mask);
  expect_os_error(sys::mkdir(dir.c_str()), "mkdir failed", EEXIST);
  expect_os_error(sys::mkdir(s.path("no/such").c_str()), "mkdir failed", ENOENT);
  // unlink does not remove directories, for root neither.
  expect_os_error(sys::unlink(dir.c_str()), "unlink failed", EISDIR);

  std::string file = s.path("d/f");
  Result<int> fd = sys::open(file.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_TRUE(fd.has_value());
  ASSERT_TRUE(sys::write_all(*fd, "12345", 5).has_value());
  sys::Stat by_fd{};
  ASSERT_TRUE(sys::fstat(*fd, by_fd).has_value());
  EXPECT_TRUE(by_fd.is_regular());
  EXPECT_EQ(by_fd.size, 5u);
  struct stat libc_st;
  ASSERT_EQ(::fstat(*fd, &libc_st), 0);
  EXPECT_EQ(by_fd.ino, libc_st.st_ino);
  EXPECT_EQ(by_fd.nlink, libc_st.st_nlink);
  EXPECT_EQ(by_fd.mode, libc_st.st_mode);
  EXPECT_EQ(by_fd.uid, libc_st.st_uid);
  EXPECT_EQ(by_fd.mtime.tv_sec, libc_st.st_mtim.tv_sec);
  EXPECT_EQ(by_fd.mtime.tv_nsec, static_cast<std::uint32_t>(libc_st.st_mtim.tv_nsec));
  EXPECT_TRUE(sys::close(*fd).has_value());

  ASSERT_TRUE(sys::unlink(file.c_str()).has_value());
  expect_os_error(sys::unlink(file.c_str()), "unlink failed", ENOENT);
  // A failed stat leaves `out` as it was.
  sys::Stat untouched{};
  untouched.size = 77;
  expect_os_error(sys::stat(file.c_str(), untouched), "stat failed", ENOENT);
  EXPECT_EQ(untouched.size, 77u);
  expect_os_error(sys::fstat(rt_test::closed_fd(), untouched), "fstat failed", EBADF);
  EXPECT_EQ(untouched.size, 77u);
  expect_error(sys::stat(nullptr, untouched), Errc::value_error, "path must not be null");
  expect_error(sys::unlink(nullptr), Errc::value_error, "path must not be null");
  expect_error(sys::mkdir(nullptr), Errc::value_error, "path must not be null");
}

TEST(SysFiles, StatOfDevicesAndFifos) {
  sys::Stat st{};
  ASSERT_TRUE(sys::stat("/dev/null", st).has_value());
  EXPECT_TRUE(st.is_char_device());
  EXPECT_EQ(st.rdev_major, 1u);
  EXPECT_EQ(st.rdev_minor, 3u);
  Pipe p;
  ASSERT_TRUE(sys::fstat(p.r(), st).has_value());
  EXPECT_TRUE(st.is_fifo());
}

// ---------------------------------------------------------------- pipe2, dup2

TEST(SysFiles, Pipe2AddsCloexecUnlessAskedNot) {
  int fds[2] = {-1, -1};
  ASSERT_TRUE(sys::pipe2(fds).has_value());
  EXPECT_EQ(fd_flags(fds[0]), FD_CLOEXEC);
  EXPECT_EQ(fd_flags(fds[1]), FD_CLOEXEC);
  ASSERT_TRUE(sys::write_all(fds[1], "p", 1).has_value());
  char c = 0;
  ASSERT_TRUE(sys::read(fds[0], &c, 1).has_value());
  EXPECT_EQ(c, 'p');
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(sys::pipe2(fds, O_NONBLOCK | sys::kNoCloexec).has_value());
  EXPECT_EQ(fd_flags(fds[0]), 0);
  EXPECT_NE(::fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);
  expect_os_error(sys::read(fds[0], &c, 1), "read failed", EAGAIN);
  ::close(fds[0]);
  ::close(fds[1]);
  // Refused flags: EINVAL, and fds untouched.
  int untouched[2] = {-7, -7};
  expect_os_error(sys::pipe2(untouched, O_RDWR), "pipe2 failed", EINVAL);
  EXPECT_EQ(untouched[0], -7);
  EXPECT_EQ(untouched[1], -7);
}

TEST(SysFiles, Dup2AsPosix) {
  Pipe p;
  int target = rt_test::closed_fd();
  Result<int> d = sys::dup2(p.w(), target);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, target);
  EXPECT_EQ(fd_flags(target), 0) << "dup2's copy has no FD_CLOEXEC";
  ASSERT_TRUE(sys::write_all(target, "d", 1).has_value());
  char c = 0;
  ASSERT_TRUE(sys::read(p.r(), &c, 1).has_value());
  EXPECT_EQ(c, 'd');
  // Onto an open descriptor: it is closed first (here the copy itself, again).
  Pipe q;
  ASSERT_EQ(*sys::dup2(q.w(), target), target);
  ASSERT_TRUE(sys::write_all(target, "e", 1).has_value());
  ASSERT_TRUE(sys::read(q.r(), &c, 1).has_value());
  EXPECT_EQ(c, 'e');
  // dup2(fd, fd): fd when open, EBADF when not; nothing changes.
  EXPECT_EQ(fd_flags(p.r()), FD_CLOEXEC);
  Result<int> same = sys::dup2(p.r(), p.r());
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(*same, p.r());
  EXPECT_EQ(fd_flags(p.r()), FD_CLOEXEC);
  int bad = rt_test::closed_fd();
  expect_os_error(sys::dup2(bad, bad), "dup2 failed", EBADF);
  expect_os_error(sys::dup2(bad, target), "dup2 failed", EBADF);
  EXPECT_GE(fd_flags(target), 0) << "a failed dup2 closed newfd";
  expect_os_error(sys::dup2(p.r(), -1), "dup2 failed", EBADF);
  ::close(target);
}

// ---------------------------------------------------------------- poll

class SysPoll : public rt_test::InterruptFixture {};

void expect_poll_interrupted(const Result<int>& r) {
  ASSERT_FALSE(r.has_value()) << "poll returned " << *r << ", not interrupted";
  EXPECT_EQ(r.error().kind, Errc::interrupted);
  EXPECT_STREQ(r.error().message, "poll interrupted");
  EXPECT_EQ(r.error().sys_errno, EINTR);
}

TEST_F(SysPoll, BadArgumentsAreLocksTimeoutErrorsAndChangeNothing) {
  request_interrupt();
  Pipe p;
  pollfd fd{p.r(), POLLIN, 0};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {-2.0, -0.5, -1e-9, std::nextafter(-1.0, 0.0), -inf, nan, -nan}) {
    SCOPED_TRACE(bad);
    expect_error(sys::poll(&fd, 1, bad), Errc::value_error, rt_test::kNegativeMessage);
  }
  for (double bad : {inf, TIMEOUT_MAX * 2, std::nextafter(TIMEOUT_MAX, inf)}) {
    SCOPED_TRACE(bad);
    expect_error(sys::poll(&fd, 1, bad), Errc::overflow_error, rt_test::kTooLargeMessage);
  }
  expect_error(sys::poll(nullptr, 1, 0), Errc::value_error, "argument must not be null");
  EXPECT_TRUE(rt_test::consume_pending_interrupt()) << "a refused poll consumed the request";
}

TEST_F(SysPoll, NeverReturnsEarly) {
  Pipe p;
  for (double seconds : {1e-9, 0.001, 0.0105, 0.1, 0.25}) {
    SCOPED_TRACE(seconds);
    pollfd fd{p.r(), POLLIN, 0};
    std::int64_t t0 = now_ns();
    Result<int> r = sys::poll(&fd, 1, seconds);
    std::int64_t elapsed = now_ns() - t0;
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(*r, 0);
    EXPECT_EQ(fd.revents, 0);
    EXPECT_GE(elapsed, rt_test::to_ns(seconds)) << "poll returned early";
  }
  // No descriptors at all: a sleep.
  std::int64_t t0 = now_ns();
  Result<int> r = sys::poll(nullptr, 0, 0.05);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 0);
  EXPECT_GE(now_ns() - t0, rt_test::to_ns(0.05));
}

TEST_F(SysPoll, ReadinessOfPipesAndFifos) {
  Pipe p;
  pollfd fds[2] = {{p.r(), POLLIN, 0}, {p.w(), POLLOUT, 0}};
  Result<int> r = sys::poll(fds, 2, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 1);  // the write end only
  EXPECT_EQ(fds[0].revents, 0);
  EXPECT_EQ(fds[1].revents, POLLOUT);
  ASSERT_TRUE(sys::write_all(p.w(), "x", 1).has_value());
  r = sys::poll(fds, 2, rt_test::kDeadline);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 2);
  EXPECT_EQ(fds[0].revents, POLLIN);
  // A closed descriptor is POLLNVAL, and counts.
  pollfd nval{rt_test::closed_fd(), POLLIN, 0};
  r = sys::poll(&nval, 1, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(nval.revents, POLLNVAL);

  Scratch s;
  std::string name = s.path("fifo");
  ASSERT_EQ(::mkfifo(name.c_str(), 0600), 0);
  Result<int> reader = sys::open(name.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_TRUE(reader.has_value());
  Result<int> writer = sys::open(name.c_str(), O_WRONLY);
  ASSERT_TRUE(writer.has_value());
  pollfd fifo{*reader, POLLIN, 0};
  r = sys::poll(&fifo, 1, 0.01);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 0);
  ASSERT_TRUE(sys::write_all(*writer, "y", 1).has_value());
  r = sys::poll(&fifo, 1, rt_test::kDeadline);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(fifo.revents, POLLIN);
  EXPECT_TRUE(sys::close(*writer).has_value());
  char c;
  ASSERT_TRUE(sys::read(*reader, &c, 1).has_value());
  r = sys::poll(&fifo, 1, rt_test::kDeadline);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 1);
  EXPECT_NE(fifo.revents & POLLHUP, 0) << "the writer gone";
  EXPECT_TRUE(sys::close(*reader).has_value());
}

TEST_F(SysPoll, DataFromAnotherThreadEndsAnEndlessPoll) {
  Pipe p;
  const long main_tid = main_tid_;
  const int w = p.w();
  rt_test::HelperThread helper([&] {
    rt_test::wait_until_sleeping(main_tid);
    rt_test::sleep_ms(20);
    (void)::write(w, "z", 1);
  });
  rt_test::Watchdog dog(2 * rt_test::kDeadline, [] { std::abort(); });
  pollfd fd{p.r(), POLLIN, 0};
  Result<int> r = sys::poll(&fd, 1, -1);
  dog.dismiss();
  helper.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(fd.revents, POLLIN);
}

TEST_F(SysPoll, HandlersWithoutARequestDoNotShortenIt) {
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  const long main_tid = main_tid_;
  std::atomic<bool> stop{false};
  rt_test::HelperThread sender([&] {
    const std::int64_t give_up = now_ns() + rt_test::to_ns(10.0);
    while (!stop.load() && now_ns() < give_up) {
      rt_test::tgkill_main(main_tid, SIGUSR1);
      rt_test::sleep_ms(40);
    }
  });
  Pipe p;
  pollfd fd{p.r(), POLLIN, 0};
  std::int64_t t0 = now_ns();
  Result<int> r = sys::poll(&fd, 1, 0.5);
  double elapsed = seconds_since(t0);
  stop = true;
  sender.join();
  ASSERT_TRUE(r.has_value()) << rawthread::name(r.error().kind);
  EXPECT_EQ(*r, 0);
  EXPECT_GE(elapsed, 0.5) << "a signal cut the poll short";
  EXPECT_GE(g_handler_runs.load(), 1);
  expect_no_pending_request();
}

TEST_F(SysPoll, APendingRequestEndsItAtOnceAndIsConsumed) {
  Pipe p;
  pollfd fd{p.r(), POLLIN, 0};
  request_interrupt();
  std::int64_t t0 = now_ns();
  expect_poll_interrupted(sys::poll(&fd, 1, rt_test::kDeadline));
  EXPECT_LT(seconds_since(t0), rt_test::kDeadline / 2);
  expect_no_pending_request();
  // Even poll(0), even with a descriptor ready: as a blocking acquire of a
  // free lock, the call consumes the request.
  ASSERT_TRUE(sys::write_all(p.w(), "x", 1).has_value());
  request_interrupt();
  expect_poll_interrupted(sys::poll(&fd, 1, 0));
  expect_no_pending_request();
  Result<int> r = sys::poll(&fd, 1, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 1);
}

TEST_F(SysPoll, AHandlerRequestEndsATimedPoll) {
  rt_test::SignalGuard sig(SIGUSR1, count_and_request);
  ASSERT_TRUE(sig.ok());
  const long main_tid = main_tid_;
  rt_test::HelperThread helper = when_main_sleeps([main_tid] {
    rt_test::tgkill_main(main_tid, SIGUSR1);
  });
  Pipe p;
  pollfd fd{p.r(), POLLIN, 0};
  std::int64_t t0 = now_ns();
  Result<int> r = sys::poll(&fd, 1, rt_test::kDeadline);
  double elapsed = seconds_since(t0);
  helper.join();
  EXPECT_TRUE(sleeping_seen_.load()) << "main was not seen asleep in the kernel";
  expect_poll_interrupted(r);
  EXPECT_LT(elapsed, rt_test::kDeadline / 2);
  EXPECT_EQ(g_handler_runs.load(), 1);
  expect_no_pending_request();
}

TEST_F(SysPoll, InterruptMainEndsAnEndlessPoll) {
  rt_test::SignalGuard sig(SIGINT, count_only);
  ASSERT_TRUE(sig.ok());
  std::atomic<bool> sent{false};
  rt_test::HelperThread helper = when_main_sleeps([&sent] {
    sent = interrupt_main(SIGINT).has_value();
  });
  rt_test::Watchdog dog(2 * rt_test::kDeadline, [] { std::abort(); });
  Pipe p;
  pollfd fd{p.r(), POLLIN, 0};
  std::int64_t t0 = now_ns();
  Result<int> r = sys::poll(&fd, 1, -1);
  double elapsed = seconds_since(t0);
  dog.dismiss();
  helper.join();
  EXPECT_TRUE(sent.load());
  EXPECT_TRUE(sleeping_seen_.load()) << "main was not seen asleep in the kernel";
  expect_poll_interrupted(r);
  EXPECT_LT(elapsed, rt_test::kDeadline);
  EXPECT_GE(g_handler_runs.load(), 1);
  expect_no_pending_request();
}

// A thread rawthread started, polling for ever, ended by Thread::interrupt.
std::atomic<long> g_poller_tid{0};
std::atomic<int> g_poll_seen{-100};
int g_poll_fd = -1;

TEST_F(SysPoll, ThreadInterruptEndsAThreadsPoll) {
  RT_REQUIRES_CONCURRENCY();
  rt_test::SignalGuard sig(SIGUSR1, count_only);
  ASSERT_TRUE(sig.ok());
  Pipe p;
  g_poll_fd = p.r();
  g_poller_tid = 0;
  g_poll_seen = -100;
  auto started = start_joinable_thread([] {
    g_poller_tid.store(get_native_id());
    pollfd fd{g_poll_fd, POLLIN, 0};
    Result<int> r = sys::poll(&fd, 1, -1);
    g_poll_seen.store(r ? *r : (r.error().kind == Errc::interrupted ? -1 : -2));
  });
  ASSERT_TRUE(started.has_value()) << started.error().message;
  Thread t = std::move(*started);
  ASSERT_TRUE(rt_test::wait_for([] { return g_poller_tid.load() != 0; }));
  ASSERT_TRUE(rt_test::wait_until_sleeping(g_poller_tid.load())) << "the poller never blocked";
  EXPECT_EQ(g_poll_seen.load(), -100);
  Result<void> sent = t.interrupt(SIGUSR1);
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  EXPECT_TRUE(rt_test::wait_for([] { return g_poll_seen.load() != -100; }));
  EXPECT_EQ(g_poll_seen.load(), -1);
  EXPECT_EQ(g_handler_runs.load(), 1);
  EXPECT_TRUE(rt_test::is_true(t.join(rt_test::kDeadline)));
}

}  // namespace
