// SPDX-License-Identifier: MIT
// rawthread/sys.hpp's processes and signals: ids, kill, the alternate signal
// stack, fork, execve, wait4. Raw system calls, errno never touched, every
// argument checked before the first call.
#include <rawthread/sys.hpp>

#include "errors.hpp"
#include "hooks.hpp"
#include "kernel.hpp"

namespace rawthread::hooks {
// Weak: defined only by librawthread_rt (hooks.hpp).
[[gnu::weak]] void at_fork(ForkPhase phase) noexcept;
}  // namespace rawthread::hooks

namespace rawthread::sys {
namespace {

constexpr Error kNullAltStack{Errc::value_error, 0, "alternate signal stack must not be null"};
constexpr Error kNullExecveArgument{Errc::value_error, 0, "execve argument must not be null"};
constexpr Error kUnsupportedWaitOptions{Errc::value_error, 0, "unsupported wait options"};

constexpr int kSigchld = 17;  // SIGCHLD on x86_64, aarch64 and riscv64

// stack_t as sigaltstack(2) takes it on the three 64-bit arches.
struct KernelStack {
  void* sp;
  int flags;
  std::size_t size;
};

AltStack from_kernel(const KernelStack& k) noexcept { return {k.sp, k.size, k.flags}; }

Result<AltStack> change_alt_stack(const KernelStack* next) noexcept {
  KernelStack old{};
  if (long ret = kernel::call(__NR_sigaltstack, next, &old); ret < 0)
    return errors::os_error(ret, "sigaltstack failed");
  return from_kernel(old);
}

}  // namespace

Result<int> getpid() noexcept { return static_cast<int>(kernel::getpid()); }
Result<int> gettid() noexcept { return static_cast<int>(kernel::gettid()); }

Result<void> kill(int pid, int signum) noexcept {
  if (signum < 0 || signum > kMaxSignal) return errors::kSignalOutOfRange;
  if (long ret = kernel::call(__NR_kill, pid, signum); ret < 0)
    return errors::os_error(ret, "kill failed");
  return {};
}

Result<void> tgkill(int tgid, int tid, int signum) noexcept {
  if (signum < 0 || signum > kMaxSignal) return errors::kSignalOutOfRange;
  if (long ret = kernel::tgkill(tgid, tid, signum); ret < 0)
    return errors::os_error(ret, "tgkill failed");
  return {};
}

Result<AltStack> alt_stack() noexcept { return change_alt_stack(nullptr); }

Result<AltStack> set_alt_stack(void* base, std::size_t size) noexcept {
  if (base == nullptr) return kNullAltStack;
  const KernelStack next{base, 0, size};
  return change_alt_stack(&next);
}

Result<AltStack> disable_alt_stack() noexcept {
  const KernelStack next{nullptr, kAltStackDisabled, 0};
  return change_alt_stack(&next);
}

[[noreturn]] void exit_group(int status) noexcept { kernel::exit_group(status); }

Result<int> fork() noexcept {
  // The runtime's locks are taken before the clone and let go after it on
  // both sides (hooks.hpp); a hosted program has none of its own here.
  const bool runtime = &hooks::at_fork != nullptr;
  if (runtime) hooks::at_fork(hooks::ForkPhase::prepare);
  // The other clone arguments (stack, tid pointers, TLS) are zero, so their
  // order, which differs between x86_64 and the generic ABI, does not matter.
  const long ret = kernel::call(__NR_clone, kSigchld, 0, 0, 0, 0);
  if (runtime) hooks::at_fork(ret == 0 ? hooks::ForkPhase::child : hooks::ForkPhase::parent);
  if (ret < 0) return errors::os_error(ret, "fork failed");
  return static_cast<int>(ret);
}

Result<void> execve(const char* path, char* const argv[], char* const envp[]) noexcept {
  if (path == nullptr || argv == nullptr || envp == nullptr) return kNullExecveArgument;
  const long ret = kernel::call(__NR_execve, path, argv, envp);
  return errors::os_error(ret, "execve failed");
}

Result<WaitStatus> wait4(int pid, int options, ResourceUsage* usage) noexcept {
  if ((options & ~(kNoHang | kUntraced | kContinued)) != 0) return kUnsupportedWaitOptions;
  int status = 0;
  const long ret = kernel::call(__NR_wait4, pid, &status, options, usage);
  if (ret < 0) return errors::os_error(ret, "wait4 failed");
  WaitStatus result;
  result.pid = static_cast<int>(ret);
  result.status = status;
  return result;
}

}  // namespace rawthread::sys
