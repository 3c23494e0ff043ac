// SPDX-License-Identifier: MIT
// Every signal is the program's when there is no libc: 32 to 34, which a
// hosted program's glibc or musl keeps for itself (and rawthread::sys
// refuses there), take handlers, and the defaults, here.
#include <asm/unistd.h>

#include <atomic>

#include <rawthread/rawthread.hpp>

#include "check.hpp"
#include "kernel.hpp"

namespace {

std::atomic<int> last_signal{0}, runs{0};

void record(int signum) {
  last_signal.store(signum);
  runs.fetch_add(1);
}

}  // namespace

TEST(the_signals_a_libc_would_keep_are_the_programs) {
  using rawthread::kernel::call;
  const long pid = call(__NR_getpid), tid = call(__NR_gettid);
  for (int signum : {32, 33, 34}) {
    runs.store(0);
    last_signal.store(0);
    if (!CHECK(rawthread::sys::set_signal_handler(signum, record).has_value())) continue;
    CHECK_EQ(call(__NR_tgkill, pid, tid, signum), 0);  // delivered before tgkill returns
    CHECK_EQ(runs.load(), 1);
    CHECK_EQ(last_signal.load(), signum);
    CHECK(rawthread::sys::ignore_signal(signum).has_value());
    CHECK_EQ(call(__NR_tgkill, pid, tid, signum), 0);  // ignored: nothing runs, nothing dies
    CHECK_EQ(runs.load(), 1);
    CHECK(rawthread::sys::set_signal_default(signum).has_value());
  }
}
