// SPDX-License-Identifier: MIT
// A C++ program with no libc at all, linked with an installed rawthread's
// runtime: a joinable thread and main add to one counter under a Lock,
// through a virtual function (which needs -fno-rtti: without RTTI there is
// no type_info, whose vtables would come from the C++ ABI library the
// program does not have). Exits 0 when the count is right.
#include <rawthread/rawthread.hpp>

#include <mutex>

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
  const bool ok = joined && *joined && counter.value == 2 * kIncrements;
  (void)rawthread::sys::write_str(1, ok ? "firmware (C++, no libc): ok\n"
                                        : "firmware (C++, no libc): FAILED\n");
  return ok ? 0 : 1;
}
