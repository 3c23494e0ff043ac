// SPDX-License-Identifier: MIT
// thread_local in a program without libc: each thread, the main one
// included, has its own copy of every variable, initialised from the image,
// aligned as declared, and destroyed when the thread ends.
#include <atomic>
#include <cstdint>

#include <rawthread/rawthread.hpp>

#include "check.hpp"
#include "tls_pic.hpp"

namespace {

thread_local long counter = 0;                   // .tbss
thread_local long seeded = 1234567;              // .tdata
thread_local char text[8] = "tdata";             // .tdata, bytes
alignas(64) thread_local int aligned64 = 64;
alignas(256) thread_local char aligned256[3] = {1, 2, 3};
alignas(4096) thread_local int page_aligned = 4096;

bool aligned_to(const void* p, std::uintptr_t align) {
  return (reinterpret_cast<std::uintptr_t>(p) & (align - 1)) == 0;
}

bool fresh_copy() {
  return counter == 0 && seeded == 1234567 && text[0] == 't' && text[4] == 'a' &&
         text[5] == '\0' && aligned64 == 64 && aligned256[0] == 1 && aligned256[2] == 3 &&
         page_aligned == 4096;
}

bool well_aligned() {
  return aligned_to(&aligned64, 64) && aligned_to(aligned256, 256) &&
         aligned_to(&page_aligned, 4096);
}

}  // namespace

TEST(main_thread_has_the_initial_values_and_alignments) {
  CHECK(fresh_copy());
  CHECK(well_aligned());
}

TEST(each_thread_counts_in_its_own_copy) {
  constexpr int kThreads = 8;
  constexpr long kIncrements = 100000;
  static std::atomic<int> started{0}, fresh{0}, aligned{0}, exact{0}, finished{0};
  static std::atomic<bool> go{false};
  static std::atomic<std::uintptr_t> addresses[kThreads];
  counter = -5;  // the main thread's copy: nobody else may see or touch it
  for (int i = 0; i < kThreads; ++i) {
    auto started_thread = rawthread::start_new_thread([i] {
      if (fresh_copy()) fresh.fetch_add(1);
      if (well_aligned()) aligned.fetch_add(1);
      addresses[i].store(reinterpret_cast<std::uintptr_t>(&counter));
      started.fetch_add(1);
      while (!go.load()) {
      }
      for (long n = 0; n < kIncrements; ++n) {
        counter = counter + 1;
        seeded = seeded + 2;
      }
      if (counter == kIncrements && seeded == 1234567 + 2 * kIncrements) exact.fetch_add(1);
      finished.fetch_add(1);
    });
    REQUIRE(started_thread.has_value());
  }
  CHECK(check::wait_until([] { return started.load() == kThreads; }, 60));
  go.store(true);
  CHECK(check::wait_until([] { return finished.load() == kThreads; }, 60));
  CHECK_EQ(fresh.load(), kThreads);
  CHECK_EQ(aligned.load(), kThreads);
  CHECK_EQ(exact.load(), kThreads);
  CHECK_EQ(counter, -5);
  CHECK_EQ(seeded, 1234567);
  for (int i = 0; i < kThreads; ++i) {
    CHECK(addresses[i].load() != reinterpret_cast<std::uintptr_t>(&counter));
    for (int j = 0; j < i; ++j) CHECK(addresses[i].load() != addresses[j].load());
  }
  CHECK(check::wait_for_threads(0, 60));
}

TEST(a_thread_on_a_reused_stack_gets_a_fresh_copy) {
  // A joined thread's stack goes into the cache, and the next thread of the
  // same stack size runs on it: on memory its predecessor wrote, where its
  // TLS block must be built anew (.tdata copied, .tbss zeroed).
  rawthread::release_cached_stacks();
  static std::atomic<int> fresh{0}, aligned{0};
  static std::atomic<std::uintptr_t> seen_ident{0};
  auto scribble = [] {
    if (fresh_copy()) fresh.fetch_add(1);
    if (well_aligned()) aligned.fetch_add(1);
    seen_ident.store(rawthread::get_ident());
    counter = 77;
    seeded = -1;
    text[0] = 'X';
    aligned64 = 0;
    aligned256[2] = 0;
    page_aligned = 0;
  };
  auto joined = [](rawthread::Thread& t) {
    rawthread::Result<bool> r = t.join(60);
    return r.has_value() && *r;
  };
  auto first = rawthread::start_joinable_thread(scribble);
  REQUIRE(first.has_value());
  REQUIRE(joined(*first));
  auto second = rawthread::start_joinable_thread(scribble);
  REQUIRE(second.has_value());
  REQUIRE(joined(*second));
  CHECK_EQ(second->ident(), first->ident());  // the same thread pointer: the same stack
  CHECK_EQ(seen_ident.load(), second->ident());
  CHECK_EQ(fresh.load(), 2);
  CHECK_EQ(aligned.load(), 2);
  CHECK_EQ(seeded, 1234567);  // the main thread's copy, untouched
  CHECK_EQ(text[0], 't');
}

namespace {

std::atomic<int> constructions{0}, destructions{0};

struct PerThread {
  int value;
  PerThread() : value(7) { constructions.fetch_add(1); }
  ~PerThread() { destructions.fetch_add(1); }
};
thread_local PerThread per_thread;

}  // namespace

TEST(thread_local_objects_are_constructed_on_use_and_destroyed_at_thread_end) {
  constexpr int kThreads = 6;
  const int constructed_before = constructions.load();
  static std::atomic<int> sevens{0};
  for (int i = 0; i < kThreads; ++i) {
    auto t = rawthread::start_new_thread([] {
      if (per_thread.value == 7) sevens.fetch_add(1);
      per_thread.value = 8;
    });
    REQUIRE(t.has_value());
  }
  // One thread that never touches it constructs and destroys nothing.
  REQUIRE(rawthread::start_new_thread([] {}).has_value());
  CHECK(check::wait_for_threads(0, 60));
  CHECK_EQ(sevens.load(), kThreads);
  CHECK_EQ(constructions.load() - constructed_before, kThreads);
  CHECK_EQ(destructions.load(), kThreads);
}

TEST(exit_thread_runs_thread_local_destructors_too) {
  const int destroyed_before = destructions.load();
  static std::atomic<int> after_exit{0};
  REQUIRE(rawthread::start_new_thread([] {
            per_thread.value = 9;
            rawthread::exit_thread();
            after_exit.store(1);  // never reached
          }).has_value());
  CHECK(check::wait_for_threads(0, 60));
  CHECK_EQ(destructions.load() - destroyed_before, 1);
  CHECK_EQ(after_exit.load(), 0);
}

TEST(general_dynamic_accesses_find_each_threads_copy) {
  CHECK_EQ(*pic_value_address(), 11);
  CHECK(aligned_to(pic_aligned_address(), 64));
  CHECK_EQ(pic_aligned_address()[1], 6);
  *pic_value_address() = -1;
  static std::atomic<int> fresh{0};
  static std::atomic<std::uintptr_t> address{0};
  REQUIRE(rawthread::start_new_thread([] {
            long* value = pic_value_address();
            address.store(reinterpret_cast<std::uintptr_t>(value));
            char* bytes = pic_aligned_address();
            if (*value == 11 && aligned_to(bytes, 64) && bytes[0] == 5) fresh.store(1);
            *value = 12;
          }).has_value());
  CHECK(check::wait_for_threads(0, 60));
  CHECK_EQ(fresh.load(), 1);
  CHECK(address.load() != reinterpret_cast<std::uintptr_t>(pic_value_address()));
  CHECK_EQ(*pic_value_address(), -1);
}
