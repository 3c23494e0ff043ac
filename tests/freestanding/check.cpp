// SPDX-License-Identifier: MIT
// check: see check.hpp.
#include "check.hpp"

#include <cstddef>

#include <asm/unistd.h>

#include <rawthread/sys.hpp>
#include <rawthread/thread.hpp>

#include "kernel.hpp"

// src/rt/start.cpp: the start-up, entered again by a forked child.
extern "C" [[noreturn]] void rawthread_start(long* sp) noexcept;

namespace check {
namespace {

Test* tests = nullptr;     // newest first, as the constructors pushed them
Child* children = nullptr;
std::atomic<long> checks{0};
std::atomic<bool> test_failed{false};

void out(const char* text) { (void)rawthread::sys::write_str(1, text); }
void out(long long value) { (void)rawthread::sys::write_int(1, value); }

}  // namespace

int argc = 0;
char** argv = nullptr;
char** envp = nullptr;

Register::Register(Test* test) noexcept {
  test->next = tests;
  tests = test;
}

RegisterChild::RegisterChild(Child* child) noexcept {
  child->next = children;
  children = child;
}

bool expect(bool ok, const char* file, int line, const char* text) noexcept {
  checks.fetch_add(1, std::memory_order_relaxed);
  if (ok) return true;
  test_failed.store(true, std::memory_order_relaxed);
  out(file), out(":"), out(line), out(": CHECK failed: "), out(text), out("\n");
  return false;
}

bool expect_eq(long long actual, long long expected, const char* file, int line,
               const char* text) noexcept {
  if (actual == expected) return expect(true, file, line, text);
  expect(false, file, line, text);
  out("    actual "), out(actual), out(", expected "), out(expected), out("\n");
  return false;
}

std::int64_t now_ns() noexcept {
  auto now = rawthread::sys::monotonic_ns();
  return now ? *now : 0;
}

void yield() noexcept { rawthread::kernel::call(__NR_sched_yield); }

// Whether RAWTHREAD_TEST_VALGRIND is set, and not to 0.
bool under_valgrind() noexcept {
  constexpr char kName[] = "RAWTHREAD_TEST_VALGRIND=";
  for (char** env = envp; env != nullptr && *env != nullptr; ++env) {
    const char* entry = *env;
    std::size_t i = 0;
    while (kName[i] != '\0' && entry[i] == kName[i]) ++i;
    if (kName[i] == '\0')
      return entry[i] != '\0' && !(entry[i] == '0' && entry[i + 1] == '\0');
  }
  return false;
}

long count_mappings() noexcept {
  if (under_valgrind()) return 1;
  using rawthread::kernel::call;
  rawthread::release_cached_stacks();
  long fd = call(__NR_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  static char chunk[4096];
  long lines = 0;
  for (long got; (got = call(__NR_read, fd, chunk, sizeof chunk)) > 0;)
    for (long i = 0; i < got; ++i) lines += chunk[i] == '\n' ? 1 : 0;
  call(__NR_close, fd);
  return lines;
}

bool wait_for_threads(std::size_t count, double seconds) noexcept {
  return wait_until([count] { return rawthread::thread_count() <= count; }, seconds);
}

bool same(const char* a, const char* b) noexcept {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

namespace {

constexpr int kSigChld = 17, kSigKill = 9, kWnohang = 1;

}  // namespace

bool run_child(const char* name, ChildResult* result, double seconds,
               void (*prepare)() noexcept) noexcept {
  using rawthread::kernel::call;
  *result = {};
  int pipe_fds[2] = {-1, -1};
  if (call(__NR_pipe2, pipe_fds, 0) < 0) return false;
  long pid = call(__NR_clone, kSigChld, 0, 0, 0, 0);  // fork
  if (pid == 0) {
    // The child: a fresh start-up of the same program, on this stack, which
    // is the child's own copy. The constructors run again and register
    // everything anew.
    tests = nullptr, children = nullptr;
    call(__NR_dup3, pipe_fds[1], 1, 0);
    if (prepare != nullptr) prepare();
    char** env_end = envp;
    while (*env_end != nullptr) ++env_end;
    auto* auxv = reinterpret_cast<long*>(env_end + 1);
    long auxv_words = 0;
    while (auxv[auxv_words] != 0) auxv_words += 2;
    long env_count = env_end - envp;
    static long stack[512];  // the fork's own copy; never used by the parent
    long words = 5 + env_count + 1 + auxv_words + 2;
    if (words > 512) call(__NR_exit_group, 99);
    long* sp = stack;
    *sp++ = 3;
    *sp++ = reinterpret_cast<long>(argv[0]);
    *sp++ = reinterpret_cast<long>("--child");
    *sp++ = reinterpret_cast<long>(name);
    *sp++ = 0;
    for (long i = 0; i < env_count; ++i) *sp++ = reinterpret_cast<long>(envp[i]);
    *sp++ = 0;
    for (long i = 0; i < auxv_words + 2; ++i) *sp++ = auxv[i];
    rawthread_start(stack);
  }
  call(__NR_close, pipe_fds[1]);
  if (pid < 0) {
    call(__NR_close, pipe_fds[0]);
    return false;
  }
  int status = 0;
  bool exited = wait_until([&] { return call(__NR_wait4, pid, &status, kWnohang, 0) == pid; },
                           seconds);
  if (!exited) {
    call(__NR_kill, pid, kSigKill);
    call(__NR_wait4, pid, &status, 0, 0);
  }
  long size = 0, got = 0;
  while (size < static_cast<long>(sizeof result->output) - 1 &&
         (got = call(__NR_read, pipe_fds[0], result->output + size,
                     sizeof result->output - 1 - size)) > 0)
    size += got;
  result->output[size] = '\0';
  call(__NR_close, pipe_fds[0]);
  result->signal = status & 0x7f;
  result->exit_code = result->signal == 0 ? (status >> 8) & 0xff : -1;
  return exited;
}

int main(int count, char** args, char** env) noexcept {
  argc = count, argv = args, envp = env;
  if (count == 3 && same(args[1], "--child")) {
    for (Child* child = children; child != nullptr; child = child->next)
      if (same(child->name, args[2])) return child->body();
    return 98;
  }
  // Static constructors pushed the tests in reverse; run them as written.
  Test* ordered = nullptr;
  while (tests != nullptr) {
    Test* next = tests->next;
    tests->next = ordered;
    ordered = tests;
    tests = next;
  }
  int passed = 0, failed = 0;
  for (Test* test = ordered; test != nullptr; test = test->next) {
    out("[ RUN      ] "), out(test->name), out("\n");
    test_failed.store(false);
    test->body();
    bool ok = !test_failed.load();
    out(ok ? "[       OK ] " : "[  FAILED  ] "), out(test->name), out("\n");
    ++(ok ? passed : failed);
  }
  out(passed), out(" passed, "), out(failed), out(" failed ("), out(checks.load()),
      out(" checks)\n");
  return failed == 0 ? 0 : 1;
}

}  // namespace check

int main(int argc, char** argv, char** envp) { return check::main(argc, argv, envp); }
