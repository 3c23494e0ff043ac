// SPDX-License-Identifier: MIT
// check: the test runner of the freestanding tests, which have no libc and so
// no GoogleTest.
//
// TEST(name) { ... } registers a test from a static constructor (so every
// test run also proves .init_array ran). CHECK and CHECK_EQ count each
// assertion and print the ones that fail; they may be used in any thread. The
// program's main is check::main, which runs every test and ends with one line:
//
//   N passed, N failed
//
// counting tests; its exit status is 0 only when none failed.
// CHILD(name) { ... } registers the main of a child process (run_child).
#pragma once

#include <atomic>
#include <cstdint>

namespace check {

struct Test {
  const char* name;
  void (*body)();
  Test* next;
};

struct Register {
  explicit Register(Test* test) noexcept;
};

// A child program: a body that runs as the whole main of a forked child
// process started afresh through the runtime's start-up (run_child).
struct Child {
  const char* name;
  int (*body)();
  Child* next;
};

struct RegisterChild {
  explicit RegisterChild(Child* child) noexcept;
};

struct ChildResult {
  int exit_code;     // main's value or exit's argument; -1 if killed by a signal
  int signal;        // the signal that killed it, or 0
  char output[4096]; // what it wrote to standard output, NUL-terminated
};

// Forks, and in the child restarts the program at rawthread_start with
// argv {argv[0], "--child", name}, this process's environment and auxiliary
// vector, standard output into a pipe: the child runs the start-up again
// (TLS, constructors), then the CHILD body as main, then exit. Waits at most
// `seconds`; a child still running then is killed and false returned.
// `prepare`, when given, runs in the child just before its start-up, with
// standard output the pipe already.
bool run_child(const char* name, ChildResult* result, double seconds,
               void (*prepare)() noexcept = nullptr) noexcept;

bool expect(bool ok, const char* file, int line, const char* text) noexcept;
bool expect_eq(long long actual, long long expected, const char* file, int line,
               const char* text) noexcept;

int main(int argc, char** argv, char** envp) noexcept;

// Whether two strings are equal (there is no strcmp without libc).
bool same(const char* a, const char* b) noexcept;

// The process's argv and envp, for the tests of the start-up.
extern int argc;
extern char** argv;
extern char** envp;

// Spins (sched_yield) until `done` holds or `seconds` pass; whether it held.
// Every wait of a test has a deadline: a broken lock fails, never hangs.
template <class Pred>
bool wait_until(Pred done, double seconds) noexcept;
std::int64_t now_ns() noexcept;
void yield() noexcept;

// The lines of /proc/self/maps, one per mapping, once the stacks of ended
// threads kept for reuse are released (so that only running threads' stacks
// count); -1 without /proc. Under valgrind (RAWTHREAD_TEST_VALGRIND=1 in the
// environment, as scripts/test's valgrind configuration sets it) the file
// lists valgrind's own mappings too, which appear as the program runs and
// stay: the count is then 1, a constant that every comparison of two counts
// passes.
long count_mappings() noexcept;

// Whether the runner runs under valgrind (RAWTHREAD_TEST_VALGRIND=1 in the
// environment, as scripts/test's valgrind configuration sets it).
bool under_valgrind() noexcept;

// Waits until rawthread::thread_count() drops to `count` (threads gone,
// stacks unmapped); whether it did within `seconds`.
bool wait_for_threads(std::size_t count, double seconds) noexcept;

template <class Pred>
bool wait_until(Pred done, double seconds) noexcept {
  const std::int64_t end = now_ns() + static_cast<std::int64_t>(seconds * 1e9);
  while (!done()) {
    if (now_ns() > end) return done();
    yield();
  }
  return true;
}

}  // namespace check

#define CHECK_CAT2(a, b) a##b
#define CHECK_CAT(a, b) CHECK_CAT2(a, b)

#define TEST(name)                                                   \
  static void name();                                                \
  static check::Test CHECK_CAT(name, _test){#name, name, nullptr};   \
  static check::Register CHECK_CAT(name, _register){&CHECK_CAT(name, _test)}; \
  static void name()

#define CHILD(name)                                                             \
  static int name();                                                            \
  static check::Child CHECK_CAT(name, _child){#name, name, nullptr};           \
  static check::RegisterChild CHECK_CAT(name, _register){&CHECK_CAT(name, _child)}; \
  static int name()

#define CHECK(expr) check::expect(static_cast<bool>(expr), __FILE__, __LINE__, #expr)
#define CHECK_EQ(actual, expected)                                                          \
  check::expect_eq(static_cast<long long>(actual), static_cast<long long>(expected), __FILE__, \
                   __LINE__, #actual " == " #expected)
// Ends the test at a failed precondition.
#define REQUIRE(expr) \
  do {                \
    if (!CHECK(expr)) return; \
  } while (0)
