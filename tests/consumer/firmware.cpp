// SPDX-License-Identifier: MIT
// A C++ program with no libc at all, linked with an installed rawthread's
// runtime: a joinable thread and main add to one counter under a Lock,
// through a virtual function (which needs -fno-rtti: without RTTI there is
// no type_info, whose vtables would come from the C++ ABI library the
// program does not have); then the standard library's containers, on the
// runtime's heap and the libstdc++ parts it carries (docs/stdlib.md). Exits
// 0 when the count and the containers are right.
#include <rawthread/rawthread.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

constexpr long kIncrements = 10000;

struct Counter {
  virtual void add() = 0;
  long value = 0;

 protected:
  ~Counter() = default;
};

struct LockedCounter final : Counter {
  void add() override {
    std::lock_guard<rawthread::Lock> guard(lock);
    ++value;
  }
  rawthread::Lock lock;
};

LockedCounter counter;

void add(Counter* target) {
  for (long i = 0; i < kIncrements; ++i) target->add();
}

}  // namespace

int main() {
  rawthread::Result<rawthread::Thread> thread = rawthread::start_joinable_thread(add, &counter);
  if (!thread) return 1;
  add(&counter);
  rawthread::Result<bool> joined = thread->join(30.0);
  std::vector<int> numbers{3, 1, 2};
  std::sort(numbers.begin(), numbers.end());
  std::map<std::string, int> names{{"one", 1}, {"two", 2}};
  std::unordered_map<std::string, int> hashed(names.begin(), names.end());
  auto shared = std::make_shared<std::string>("shared");
  const bool containers = numbers.front() == 1 && names.at("two") == 2 &&
                          hashed.at("one") == 1 && shared.use_count() == 1;
  const bool ok = joined && *joined && counter.value == 2 * kIncrements && containers;
  (void)rawthread::sys::write_str(1, ok ? "firmware (C++, no libc): ok\n"
                                        : "firmware (C++, no libc): FAILED\n");
  return ok ? 0 : 1;
}
