// SPDX-License-Identifier: MIT
// The standard library's headers in a program without libc (-fno-exceptions
// -fno-rtti, the runtime only): the containers, std::function, the smart
// pointers, std::optional / std::variant / std::span / std::array,
// <algorithm>, std::chrono's clocks, and std::unique_lock / std::scoped_lock
// over rawthread's locks, used from rawthread threads at once: what the
// headers call out of line (src/rt/functexcept.cpp, chrono.cpp,
// shared_ptr.cpp, the libstdc++ members librawthread_rt.a carries) and the
// heap under them, shared between threads.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <rawthread/rawthread.hpp>

#include "check.hpp"
#include "kernel.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int kThreads = 4;

bool joined(rawthread::Thread& t) {
  rawthread::Result<bool> r = t.join(60);
  return r.has_value() && *r;
}

// Starts `count` joinable threads running body(i), joins them all; whether
// each started and ended within the deadline.
template <class Body>
bool run_threads(int count, Body body) {
  std::vector<rawthread::Thread> threads;
  bool ok = true;
  for (int i = 0; i < count; ++i) {
    auto r = rawthread::start_joinable_thread(body, i);
    if (!r) {
      ok = false;
      continue;
    }
    threads.push_back(std::move(*r));
  }
  for (auto& t : threads) ok = joined(t) && ok;
  return ok;
}

// A thread's work on its own containers: the result it checks for itself
// (0 when everything held), so that every container is used from several
// threads at once with the one heap under them all.
int build_containers(int seed) {
  int bad = 0;
  std::vector<int> numbers;
  for (int i = 0; i < 2000; ++i) numbers.push_back((i * 7919 + seed) % 2000);
  std::sort(numbers.begin(), numbers.end());
  if (!std::is_sorted(numbers.begin(), numbers.end())) ++bad;
  if (std::accumulate(numbers.begin(), numbers.end(), 0L) != 1999L * 2000 / 2) ++bad;
  if (std::adjacent_find(numbers.begin(), numbers.end()) != numbers.end()) ++bad;  // a permutation

  std::map<std::string, int> by_name;
  std::unordered_map<std::string, int> hashed;
  std::set<int> odd;
  std::string text;
  for (int i = 0; i < 500; ++i) {
    std::string name = "key-" + std::to_string(seed) + "-" + std::to_string(i);
    by_name[name] = i;
    hashed.emplace(name, i);
    if (i % 2 != 0) odd.insert(i);
    text += name;
  }
  if (by_name.size() != 500 || hashed.size() != 500 || odd.size() != 250) ++bad;
  int expected = 0;
  for (const auto& [name, value] : by_name)  // in order of the names
    if (hashed.at(name) != value) ++bad;
  for (int value : odd) {
    if (value != expected * 2 + 1) ++bad;
    ++expected;
  }
  const std::string probe = "key-" + std::to_string(seed) + "-42";
  if (text.find(probe) == std::string::npos || by_name.find(probe)->second != 42) ++bad;
  for (int i = 0; i < 500; i += 2) hashed.erase("key-" + std::to_string(seed) + "-" + std::to_string(i));
  if (hashed.size() != 250) ++bad;
  return bad;
}

}  // namespace

TEST(containers_are_built_in_threads_at_once) {
  static std::atomic<int> bad{0};
  static std::atomic<int> ran{0};
  CHECK(run_threads(kThreads, [](int i) {
    for (int round = 0; round < 3; ++round) bad += build_containers(i * 10 + round);
    ++ran;
  }));
  CHECK_EQ(ran.load(), kThreads);
  CHECK_EQ(bad.load(), 0);
  CHECK_EQ(build_containers(99), 0);  // and in main
  CHECK(check::wait_for_threads(0, 60));
}

TEST(vocabulary_types_and_algorithms) {
  std::optional<int> none;
  std::optional<std::string> some = std::string(100, 'x');
  CHECK(!none.has_value());
  CHECK_EQ(none.value_or(7), 7);
  CHECK_EQ(some->size(), 100);

  std::variant<int, std::string, std::vector<int>> v = 5;
  CHECK_EQ(std::get<int>(v), 5);
  v = std::string("a string long enough to live on the heap");
  CHECK(std::holds_alternative<std::string>(v));
  v = std::vector<int>{3, 1, 2};
  CHECK_EQ(std::visit([](const auto& x) -> long {
             if constexpr (std::is_same_v<std::decay_t<decltype(x)>, int>) return x;
             else return static_cast<long>(x.size());
           }, v), 3);

  std::array<int, 8> a{8, 3, 5, 1, 7, 2, 6, 4};
  std::span<int> first_half(a.data(), 4);
  std::sort(first_half.begin(), first_half.end());
  CHECK_EQ(a[0], 1);
  CHECK_EQ(a[3], 8);
  std::stable_sort(a.begin(), a.end(), std::greater<>());
  CHECK_EQ(a.front(), 8);
  CHECK_EQ(a.back(), 1);
  CHECK(std::binary_search(a.begin(), a.end(), 5, std::greater<>()));
  CHECK_EQ(*std::max_element(a.begin(), a.end()), 8);
  std::reverse(a.begin(), a.end());
  CHECK(std::equal(a.begin(), a.end(), std::array<int, 8>{1, 2, 3, 4, 5, 6, 7, 8}.begin()));

  auto owned = std::make_unique<std::vector<std::string>>(3, "s");
  std::unique_ptr<int[]> many = std::make_unique<int[]>(1000);
  many[999] = 1;
  CHECK_EQ(owned->size(), 3);
  CHECK_EQ(many[999] + many[0], 1);

  // std::function with a capture too big for its small buffer: on the heap.
  std::array<long, 16> captured{};
  captured[15] = 40;
  std::function<long(long)> add = [captured](long x) { return x + captured[15]; };
  std::function<long(long)> copy = add;
  add = nullptr;
  CHECK(!add);
  CHECK_EQ(copy(2), 42);
}

TEST(shared_ptr_counts_stay_exact_across_threads) {
  struct Tracked {
    explicit Tracked(std::atomic<int>* counter) : destroyed(counter) {}
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
    ~Tracked() { ++*destroyed; }
    std::atomic<int>* destroyed;
  };
  static std::atomic<int> destroyed{0};
  static std::shared_ptr<Tracked> shared;
  static std::weak_ptr<Tracked> weak;
  static std::atomic<int> bad{0};
  shared = std::make_shared<Tracked>(&destroyed);
  weak = shared;
  CHECK_EQ(shared.use_count(), 1);
  // Every thread copies and drops the pointer and locks the weak one, many
  // times: a count updated without atomics loses increments, and then the
  // object is destroyed early or never.
  CHECK(run_threads(kThreads, [](int) {
    std::vector<std::shared_ptr<Tracked>> copies;
    for (int i = 0; i < 20000; ++i) {
      copies.push_back(shared);
      if (std::shared_ptr<Tracked> locked = weak.lock(); !locked) ++bad;
      if (copies.size() == 64) copies.clear();
    }
  }));
  CHECK_EQ(bad.load(), 0);
  CHECK_EQ(shared.use_count(), 1);
  CHECK_EQ(destroyed.load(), 0);
  shared.reset();
  CHECK_EQ(destroyed.load(), 1);
  CHECK(weak.expired());

  // A custom deleter, the count block allocated apart from the object.
  static std::atomic<int> deleted{0};
  {
    std::shared_ptr<int> p(new int(5), [](int* q) {
      ++deleted;
      delete q;
    });
    CHECK(run_threads(kThreads, [&p](int) {
      for (int i = 0; i < 10000; ++i) std::shared_ptr<int> copy = p;
    }));
    CHECK_EQ(p.use_count(), 1);
    CHECK_EQ(deleted.load(), 0);
  }
  CHECK_EQ(deleted.load(), 1);
}

TEST(unique_lock_and_scoped_lock_protect_a_shared_map) {
  static rawthread::Lock lock;
  static rawthread::RLock rlock;
  static std::map<int, std::string> shared;
  static long total = 0;
  CHECK(run_threads(kThreads, [](int t) {
    for (int i = 0; i < 300; ++i) {
      if (i % 3 == 0) {
        std::unique_lock<rawthread::Lock> guard(lock);
        shared[t * 1000 + i] = std::to_string(i);
        ++total;
      } else if (i % 3 == 1) {
        // Both locks at once, in the opposite order in every other thread:
        // std::scoped_lock (std::lock) takes them without deadlock.
        if (t % 2 == 0) {
          std::scoped_lock guard(lock, rlock);
          shared.emplace(t * 1000 + i, "a");
          ++total;
        } else {
          std::scoped_lock guard(rlock, lock);
          shared.emplace(t * 1000 + i, "b");
          ++total;
        }
      } else {
        std::unique_lock<rawthread::RLock> outer(rlock);
        std::unique_lock<rawthread::RLock> inner(rlock);  // an RLock is re-entered
        std::scoped_lock guard(lock);
        shared.insert({t * 1000 + i, std::string(40, 'c')});
        ++total;
      }
    }
  }));
  std::scoped_lock guard(lock);
  CHECK_EQ(shared.size(), kThreads * 300);
  CHECK_EQ(total, kThreads * 300);
  CHECK(shared.at(1003) == "3");
}

TEST(try_lock_until_a_steady_clock_deadline) {
  static rawthread::Lock lock;
  static rawthread::RLock rlock;
  static std::atomic<int> timed_out{0};
  static std::atomic<int> bad{0};
  REQUIRE(lock.try_lock());
  auto holder = rawthread::start_joinable_thread([] { rlock.lock(); });  // held by an ended thread
  REQUIRE(holder.has_value());
  CHECK(joined(*holder));
  CHECK(run_threads(2, [](int) {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock<rawthread::Lock> guard(lock, std::defer_lock);
    std::unique_lock<rawthread::RLock> rguard(rlock, std::defer_lock);
    if (guard.try_lock_until(std::chrono::steady_clock::now() + 10ms)) ++bad;
    if (rguard.try_lock_until(std::chrono::steady_clock::now() + 10ms)) ++bad;
    if (std::chrono::steady_clock::now() - start >= 20ms) ++timed_out;
  }));
  CHECK_EQ(bad.load(), 0);
  CHECK_EQ(timed_out.load(), 2);
  lock.unlock();
  std::unique_lock<rawthread::Lock> guard(lock, std::defer_lock);
  CHECK(guard.try_lock_until(std::chrono::steady_clock::now() + 10ms));
  CHECK(guard.owns_lock());
}

TEST(the_clocks_are_the_kernels) {
  const std::int64_t before = check::now_ns();
  const auto steady = std::chrono::steady_clock::now().time_since_epoch();
  const std::int64_t after = check::now_ns();
  const std::int64_t steady_ns = std::chrono::nanoseconds(steady).count();
  CHECK(before <= steady_ns && steady_ns <= after);  // both CLOCK_MONOTONIC

  rawthread::kernel::Timespec real{};
  REQUIRE(rawthread::kernel::clock_gettime(0, &real) == 0);  // CLOCK_REALTIME
  const auto system = std::chrono::system_clock::now().time_since_epoch();
  const std::int64_t system_s = std::chrono::duration_cast<std::chrono::seconds>(system).count();
  CHECK(system_s >= real.tv_sec && system_s <= real.tv_sec + 5);
  CHECK(system_s > 1'600'000'000);  // after 2020: a wall clock, not the boot time
}

namespace {

std::atomic<int> constructions{0};

// A function-local static whose construction takes a while, so that the
// threads that reach it meanwhile wait on its guard.
const std::map<std::string, int>& shared_table() {
  static const std::map<std::string, int> table = [] {
    ++constructions;
    (void)rawthread::sleep(0.02);
    std::map<std::string, int> built;
    for (int i = 0; i < 100; ++i) built.emplace("entry " + std::to_string(i), i);
    return built;
  }();
  return table;
}

}  // namespace

TEST(a_function_local_static_is_built_once_for_racing_threads) {
  static rawthread::Event go;
  static std::atomic<int> ready{0};
  static std::atomic<const void*> seen[kThreads];
  static std::atomic<int> bad{0};
  auto body = [](int i) {
    ++ready;
    (void)go.wait(60);
    const auto& table = shared_table();
    seen[i] = &table;
    if (table.size() != 100 || table.at("entry 42") != 42) ++bad;
  };
  std::vector<rawthread::Thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    auto r = rawthread::start_joinable_thread(body, i);
    REQUIRE(r.has_value());
    threads.push_back(std::move(*r));
  }
  CHECK(check::wait_until([] { return ready.load() == kThreads; }, 60));
  go.set();
  for (auto& t : threads) CHECK(joined(t));
  CHECK_EQ(constructions.load(), 1);
  CHECK_EQ(bad.load(), 0);
  for (int i = 1; i < kThreads; ++i) CHECK(seen[i].load() == seen[0].load());
  CHECK(&shared_table() == seen[0].load());
}

// Where the library would throw, it aborts (src/rt/functexcept.cpp): the
// child dies of SIGABRT, having written what it did before.
CHILD(vector_at_out_of_range) {
  std::vector<int> v(3);
  volatile std::size_t index = 5;
  (void)rawthread::sys::write_str(1, "before\n");
  return v.at(index);
}

CHILD(empty_function_called) {
  std::function<int()> empty;
  (void)rawthread::sys::write_str(1, "before\n");
  return empty();
}

TEST(a_throw_of_the_library_aborts) {
  for (const char* name : {"vector_at_out_of_range", "empty_function_called"}) {
    check::ChildResult child;
    REQUIRE(check::run_child(name, &child, 30));
    CHECK_EQ(child.signal, 6);  // SIGABRT
    CHECK(check::same(child.output, "before\n"));
  }
}
