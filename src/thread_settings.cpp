// SPDX-License-Identifier: MIT
// rawthread/sys.hpp's settings of a thread: its name, CPU affinity and
// scheduling. Every argument checked before the system call, which then
// changes all or nothing.
#include <rawthread/sys.hpp>

#include "errors.hpp"
#include "kernel.hpp"

namespace rawthread::sys {
namespace {

constexpr Error kNullThreadName{Errc::value_error, 0, "thread name must not be null"};
constexpr Error kThreadNameTooLong{Errc::value_error, 0, "thread name is longer than 15 bytes"};
constexpr Error kNegativeTid{Errc::value_error, 0, "thread id must not be negative"};
constexpr Error kNiceOutOfRange{Errc::value_error, 0, "nice value out of range"};
constexpr Error kPriorityOutOfRange{Errc::value_error, 0, "scheduling priority out of range"};

constexpr int kPrSetName = 15;  // PR_SET_NAME, <linux/prctl.h>
constexpr int kPrGetName = 16;  // PR_GET_NAME
constexpr std::size_t kMaxName = 15;  // TASK_COMM_LEN - 1

// struct sched_attr, SCHED_ATTR_SIZE_VER0 (<linux/sched/types.h>): the
// fields every kernel since 3.14 knows. A later kernel fills no more than
// the size given.
struct SchedAttr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime;
  std::uint64_t sched_deadline;
  std::uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48);

}  // namespace

Result<void> set_thread_name(const char* name) noexcept {
  if (name == nullptr) return kNullThreadName;
  // The kernel would cut a longer name to 15 bytes; refusing it changes
  // nothing, where a cut one would be another name.
  std::size_t length = 0;
  while (name[length] != '\0')
    if (++length > kMaxName) return kThreadNameTooLong;
  if (long ret = kernel::call(__NR_prctl, kPrSetName, name, 0, 0, 0); ret < 0)
    return errors::os_error(ret, "prctl(PR_SET_NAME) failed");
  return {};
}

Result<void> thread_name(char (&out)[16]) noexcept {
  char name[16] = {};
  if (long ret = kernel::call(__NR_prctl, kPrGetName, name, 0, 0, 0); ret < 0)
    return errors::os_error(ret, "prctl(PR_GET_NAME) failed");
  name[15] = '\0';
  for (std::size_t i = 0; i < sizeof name; ++i) out[i] = name[i];
  return {};
}

Result<void> set_affinity(const CpuSet& cpus, int tid) noexcept {
  if (tid < 0) return kNegativeTid;
  if (long ret = kernel::call(__NR_sched_setaffinity, tid, CpuSet::kMaxCpus / 8, cpus.words());
      ret < 0)
    return errors::os_error(ret, "sched_setaffinity failed");
  return {};
}

Result<CpuSet> affinity(int tid) noexcept {
  if (tid < 0) return kNegativeTid;
  CpuSet cpus;
  // The kernel writes its own mask's size (nr_cpu_ids bits, rounded up to
  // longs), at most the 128 bytes given; the rest stays clear.
  if (long ret = kernel::call(__NR_sched_getaffinity, tid, CpuSet::kMaxCpus / 8, cpus.words());
      ret < 0)
    return errors::os_error(ret, "sched_getaffinity failed");
  return cpus;
}

Result<void> set_scheduling(const Scheduling& scheduling, int tid) noexcept {
  if (tid < 0) return kNegativeTid;
  if (scheduling.nice < -20 || scheduling.nice > 19) return kNiceOutOfRange;
  if (scheduling.priority < 0 || scheduling.priority > 99) return kPriorityOutOfRange;
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = static_cast<std::uint32_t>(scheduling.policy);
  attr.sched_nice = scheduling.nice;
  attr.sched_priority = static_cast<std::uint32_t>(scheduling.priority);
  attr.sched_runtime = scheduling.runtime_ns;
  attr.sched_deadline = scheduling.deadline_ns;
  attr.sched_period = scheduling.period_ns;
  if (long ret = kernel::call(__NR_sched_setattr, tid, &attr, 0); ret < 0) {
    // The usual failure of a real-time policy, named for what it lacks.
    if (ret == -EPERM)
      return errors::os_error(ret, "sched_setattr: not permitted (needs CAP_SYS_NICE)");
    return errors::os_error(ret, "sched_setattr failed");
  }
  return {};
}

Result<Scheduling> scheduling(int tid) noexcept {
  if (tid < 0) return kNegativeTid;
  SchedAttr attr{};
  if (long ret = kernel::call(__NR_sched_getattr, tid, &attr, sizeof attr, 0); ret < 0)
    return errors::os_error(ret, "sched_getattr failed");
  Scheduling result;
  // SCHED_RESET_ON_FORK comes back in the policy's flags, not its number.
  result.policy = static_cast<SchedPolicy>(attr.sched_policy);
  result.nice = attr.sched_nice;
  result.priority = static_cast<int>(attr.sched_priority);
  result.runtime_ns = attr.sched_runtime;
  result.deadline_ns = attr.sched_deadline;
  result.period_ns = attr.sched_period;
  return result;
}

}  // namespace rawthread::sys
