// SPDX-License-Identifier: MIT
// size_probe: not a program to copy. One libc-free program per primitive,
// chosen by -DPROBE_<NAME>, that uses its every call (so the slow paths are
// linked too); scripts/sizes strips each and subtracts the size of
// PROBE_NONE's, which uses nothing, to tell what each primitive adds to a
// freestanding program (docs/performance.md). Each exits 0; the calls' results
// feed the exit status so that none is optimised away.
#include <rawthread/rawthread.hpp>

#include <cstddef>

#if defined(PROBE_MALLOC)
extern "C" void* malloc(std::size_t size);  // librawthread_rt's heap
extern "C" void free(void* block);
#endif

namespace {

[[maybe_unused]] int status(bool ok) { return ok ? 0 : 1; }

#if defined(PROBE_LOCK)
rawthread::Lock lock;
int probe() {
  auto taken = lock.acquire(true, 0.001);
  auto again = lock.acquire(true, 0.001);  // held: times out
  return status(taken && *taken && again && !*again && lock.release());
}
#elif defined(PROBE_RLOCK)
rawthread::RLock lock;
int probe() {
  auto taken = lock.acquire(true, 0.001);
  return status(taken && *taken && lock.release());
}
#elif defined(PROBE_SEMAPHORE)
rawthread::Semaphore sem(0);
int probe() {
  auto none = sem.acquire(true, 0.001);  // times out
  return status(none && !*none && sem.release(2) && sem.acquire(true, 0.001));
}
#elif defined(PROBE_EVENT)
rawthread::Event event;
int probe() {
  auto unset = event.wait(0.001);  // times out
  event.set();
  auto set = event.wait(0.001);
  event.clear();
  return status(unset && !*unset && set && *set);
}
#elif defined(PROBE_CONDITION)
rawthread::Lock lock;
rawthread::Condition cond(lock);
int probe() {
  lock.lock();
  auto notified = cond.wait(0.001);  // times out
  const bool ok = notified && !*notified && cond.notify() && cond.notify_all();
  lock.unlock();
  return status(ok);
}
#elif defined(PROBE_BARRIER)
rawthread::Barrier barrier(1);
int probe() {
  auto index = barrier.wait(0.001);
  barrier.reset();
  return status(index && *index == 0 && !barrier.broken() && barrier.n_waiting() == 0);
}
#elif defined(PROBE_QUEUE)
rawthread::Queue<int, 4> queue;
int probe() {
  auto none = queue.get(true, 0.001);  // times out
  const bool put = queue.put(7, true, 0.001).has_value();
  auto got = queue.get();
  return status(!none && put && got && *got == 7 && queue.task_done() && queue.join(0.001));
}
#elif defined(PROBE_MALLOC)
// The allocator alone: malloc and free, a block small enough for the small
// classes and one large enough for its own mapping. The pointers go through
// a volatile so that the compiler cannot pair the calls away.
void* volatile kept;
constexpr std::size_t sizes[] = {100, std::size_t{1} << 20};
int probe() {
  bool ok = true;
  for (std::size_t size : sizes) {
    kept = malloc(size);
    ok = ok && kept != nullptr;
    if (kept) *static_cast<char*>(kept) = 1;
    free(kept);
  }
  return status(ok);
}
#elif defined(PROBE_SLEEP)
int probe() { return status(rawthread::sleep(0.001).has_value()); }
#elif defined(PROBE_NONE)
int probe() { return 0; }
#else
#error "size_probe: define one PROBE_<NAME>"
#endif

}  // namespace

int main() { return probe(); }
