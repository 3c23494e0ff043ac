// SPDX-License-Identifier: MIT
// A C++ program on glibc or musl using an installed rawthread: a joinable
// thread and main add to one counter under a Lock. Exits 0 when the count
// is right (tests/checks/installed.py builds and runs it).
#include <rawthread/rawthread.hpp>

#include <cstdio>
#include <mutex>

namespace {

constexpr long kIncrements = 10000;
rawthread::Lock counter_lock;
long counter = 0;

void add() {
  for (long i = 0; i < kIncrements; ++i) {
    std::lock_guard<rawthread::Lock> guard(counter_lock);
    ++counter;
  }
}

}  // namespace

int main() {
  rawthread::Result<rawthread::Thread> thread = rawthread::start_joinable_thread(add);
  if (!thread) return std::printf("app (C++): start failed: %s\n", thread.error().message), 1;
  add();
  rawthread::Result<bool> joined = thread->join(30.0);
  const bool ok = joined && *joined && counter == 2 * kIncrements;
  std::printf("app (C++), rawthread %s: counter %ld: %s\n", RAWTHREAD_VERSION_STRING, counter,
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
