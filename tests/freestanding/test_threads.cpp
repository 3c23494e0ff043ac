// SPDX-License-Identifier: MIT
// Threads without libc: exit_thread, idents, stack sizes, and a churn of
// 1000 threads that leaves no mapping behind.
#include <asm/unistd.h>

#include <atomic>

#include <rawthread/rawthread.hpp>

#include "check.hpp"
#include "kernel.hpp"

TEST(exit_thread_ends_only_the_calling_thread) {
  static std::atomic<int> before{0}, after{0};
  REQUIRE(rawthread::start_new_thread([] {
            before.store(1);
            rawthread::exit_thread();
            after.store(1);
          }).has_value());
  CHECK(check::wait_for_threads(0, 60));
  CHECK_EQ(before.load(), 1);
  CHECK_EQ(after.load(), 0);
}

TEST(idents_are_thread_pointers_and_native_ids_are_tids) {
  static std::atomic<unsigned long> ident{0}, seen_ident{0};
  static std::atomic<long> native{0};
  auto started = rawthread::start_new_thread([] {
    seen_ident.store(rawthread::get_ident());
    native.store(rawthread::get_native_id());
  });
  REQUIRE(started.has_value());
  ident.store(*started);
  CHECK(check::wait_for_threads(0, 60));
  CHECK_EQ(seen_ident.load(), ident.load());
  CHECK(ident.load() != rawthread::get_ident());
  CHECK(rawthread::get_ident() != 0);
  CHECK(native.load() > 0);
  CHECK(native.load() != rawthread::get_native_id());
  CHECK_EQ(rawthread::get_native_id(), rawthread::kernel::call(__NR_getpid));
}

TEST(a_thread_runs_with_the_stack_size_set) {
  REQUIRE(rawthread::stack_size(1 << 20).has_value());
  static std::atomic<int> ok{0};
  REQUIRE(rawthread::start_new_thread([] {
            volatile char deep[512 * 1024];  // more than the default 128 KiB
            deep[0] = 1;
            deep[sizeof deep - 1] = 1;
            ok.store(deep[0] + deep[sizeof deep - 1]);
          }).has_value());
  CHECK(check::wait_for_threads(0, 60));
  CHECK_EQ(ok.load(), 2);
  CHECK_EQ(*rawthread::stack_size(0), 1 << 20);
}

TEST(thousand_threads_leave_no_mapping_behind) {
  constexpr int kThreads = 1000;
  static std::atomic<int> ran{0};
  REQUIRE(check::wait_for_threads(0, 60));
  // Warm up once, so that whatever the first thread maps for good is mapped.
  REQUIRE(rawthread::start_new_thread([] {}).has_value());
  REQUIRE(check::wait_for_threads(0, 60));
  const long before = check::count_mappings();
  REQUIRE(before > 0);
  for (int i = 0; i < kThreads; ++i) {
    // At most 16 at a time: the churn, not the peak, is under test.
    REQUIRE(check::wait_for_threads(15, 60));
    REQUIRE(rawthread::start_new_thread([] { ran.fetch_add(1); }).has_value());
  }
  CHECK(check::wait_for_threads(0, 120));
  CHECK_EQ(ran.load(), kThreads);
  CHECK_EQ(check::count_mappings(), before);
}
