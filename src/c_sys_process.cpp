// SPDX-License-Identifier: MIT
// rawthread/sys.h's processes, clocks and thread settings: the C++ calls of
// rawthread/sys.hpp, their Result turned into a value or -errno (an argument
// error, which made no system call, into -EINVAL). Nothing here touches
// errno or rawthread_last_errno().
#include <rawthread/sys.h>

#include <rawthread/sys.hpp>

#include "errors.hpp"

namespace rawthread::sys {
namespace {

long neg_errno(const Error& error) noexcept {
  return error.kind == Errc::os_error && error.sys_errno != 0 ? -error.sys_errno : -EINVAL;
}

int code(const Result<void>& r) noexcept { return r ? 0 : static_cast<int>(neg_errno(r.error())); }

template <class T>
std::int64_t value_or_code(const Result<T>& r) noexcept {
  return r ? static_cast<std::int64_t>(*r) : neg_errno(r.error());
}

int alt_stack_out(const Result<AltStack>& r, rawthread_alt_stack* out) noexcept {
  if (!r) return static_cast<int>(neg_errno(r.error()));
  if (out != nullptr) *out = {r->base, r->size, r->flags};
  return 0;
}

static_assert(sizeof(rawthread_rusage) == sizeof(ResourceUsage));
static_assert(sizeof(rawthread_cpu_set) == sizeof(CpuSet));

}  // namespace
}  // namespace rawthread::sys

namespace sys = rawthread::sys;
using rawthread::Result;
using sys::code;
using sys::neg_errno;
using sys::value_or_code;
using sys::alt_stack_out;


extern "C" {

int rawthread_getpid(void) { return *sys::getpid(); }
int rawthread_gettid(void) { return *sys::gettid(); }
int rawthread_kill(int pid, int signum) { return code(sys::kill(pid, signum)); }
int rawthread_tgkill(int tgid, int tid, int signum) { return code(sys::tgkill(tgid, tid, signum)); }

int rawthread_set_signal_handler(int signum, rawthread_signal_handler handler,
                                 unsigned long flags, uint64_t mask) {
  sys::SignalSet set;
  for (int s = 1; s <= sys::kMaxSignal; ++s)
    if ((mask >> (s - 1) & 1) != 0) set.add(s);
  return code(sys::set_signal_handler(signum, handler, flags, set));
}
int rawthread_set_signal_default(int signum) { return code(sys::set_signal_default(signum)); }
int rawthread_ignore_signal(int signum) { return code(sys::ignore_signal(signum)); }

int rawthread_signal_mask(int how, const uint64_t* set, uint64_t* old) {
  if (how != RAWTHREAD_SIG_BLOCK && how != RAWTHREAD_SIG_UNBLOCK && how != RAWTHREAD_SIG_SETMASK)
    return -EINVAL;
  Result<sys::SignalSet> before = sys::signal_mask();
  if (set != nullptr) {
    sys::SignalSet next;
    for (int s = 1; s <= sys::kMaxSignal; ++s)
      if ((*set >> (s - 1) & 1) != 0) next.add(s);
    before = sys::change_signal_mask(static_cast<sys::MaskHow>(how), next);
  }
  if (!before) return static_cast<int>(neg_errno(before.error()));
  if (old != nullptr) *old = before->bits();
  return 0;
}

int rawthread_get_alt_stack(rawthread_alt_stack* out) {
  if (out == nullptr) return -EINVAL;
  return alt_stack_out(sys::alt_stack(), out);
}
int rawthread_set_alt_stack(void* base, size_t size, rawthread_alt_stack* old) {
  return alt_stack_out(sys::set_alt_stack(base, size), old);
}
int rawthread_disable_alt_stack(rawthread_alt_stack* old) {
  return alt_stack_out(sys::disable_alt_stack(), old);
}

void rawthread_exit_group(int status) { sys::exit_group(status); }

int rawthread_fork(void) { return static_cast<int>(value_or_code(sys::fork())); }
int rawthread_execve(const char* path, char* const argv[], char* const envp[]) {
  return code(sys::execve(path, argv, envp));
}

int rawthread_wait4(int pid, int* status, int options, rawthread_rusage* usage) {
  Result<sys::WaitStatus> r = sys::wait4(pid, options, reinterpret_cast<sys::ResourceUsage*>(usage));
  if (!r) return static_cast<int>(neg_errno(r.error()));
  if (status != nullptr) *status = r->status;
  return r->pid;
}

int64_t rawthread_monotonic_ns(void) { return value_or_code(sys::monotonic_ns()); }
int64_t rawthread_realtime_ns(void) { return value_or_code(sys::realtime_ns()); }
int64_t rawthread_boottime_ns(void) { return value_or_code(sys::boottime_ns()); }

int rawthread_set_thread_name(const char* name) { return code(sys::set_thread_name(name)); }
int rawthread_thread_name(char out[16]) {
  if (out == nullptr) return -EINVAL;
  return code(sys::thread_name(*reinterpret_cast<char(*)[16]>(out)));
}

int rawthread_set_affinity(int tid, const rawthread_cpu_set* cpus) {
  if (cpus == nullptr) return -EINVAL;
  sys::CpuSet set;
  for (int i = 0; i < 16; ++i) set.words()[i] = cpus->words[i];
  return code(sys::set_affinity(set, tid));
}
int rawthread_get_affinity(int tid, rawthread_cpu_set* cpus) {
  if (cpus == nullptr) return -EINVAL;
  Result<sys::CpuSet> r = sys::affinity(tid);
  if (!r) return static_cast<int>(neg_errno(r.error()));
  for (int i = 0; i < 16; ++i) cpus->words[i] = r->words()[i];
  return 0;
}

int rawthread_set_scheduling(int tid, const rawthread_scheduling* s) {
  if (s == nullptr) return -EINVAL;
  sys::Scheduling next;
  next.policy = static_cast<sys::SchedPolicy>(s->policy);
  next.nice = s->nice;
  next.priority = s->priority;
  next.runtime_ns = s->runtime_ns;
  next.deadline_ns = s->deadline_ns;
  next.period_ns = s->period_ns;
  return code(sys::set_scheduling(next, tid));
}
int rawthread_get_scheduling(int tid, rawthread_scheduling* s) {
  if (s == nullptr) return -EINVAL;
  Result<sys::Scheduling> r = sys::scheduling(tid);
  if (!r) return static_cast<int>(neg_errno(r.error()));
  s->policy = static_cast<int>(r->policy);
  s->nice = r->nice;
  s->priority = r->priority;
  s->runtime_ns = r->runtime_ns;
  s->deadline_ns = r->deadline_ns;
  s->period_ns = r->period_ns;
  return 0;
}

}  // extern "C"
