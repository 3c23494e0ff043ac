// SPDX-License-Identifier: MIT
// The start-up and the end: argc/argv/envp, constructors in their order,
// main's return value as the exit status, and exit's handlers and
// destructors in theirs.
#include <cstdlib>  // exit, atexit, abort: the runtime defines them

#include <rawthread/rawthread.hpp>

#include "check.hpp"

namespace {

using check::same;

bool contains(const char* text, const char* part) {
  for (; *text != '\0'; ++text) {
    const char *t = text, *p = part;
    while (*p != '\0' && *t == *p) ++t, ++p;
    if (*p == '\0') return true;
  }
  return false;
}

// Constructors record the order they ran in: .preinit_array first, then
// .init_array, where a dynamic initialiser and a constructor function of one
// file run in the order they are written.
// Volatile, so that no optimiser runs a constructor at compile time (Clang's
// GlobalOpt folds one into the initial data, unaware of .preinit_array).
volatile int order[4];
volatile int order_count = 0;
// A child of check::run_child runs the constructors again over its copy of
// the parent's memory, where order_count is 3 already: only the steps that
// fit are kept (writing on was out of bounds; -Dubsan=true traps there).
void record(int step) {
  int at = order_count;
  if (at < static_cast<int>(sizeof order / sizeof order[0])) order[at] = step;
  order_count = at + 1;
}

void preinit() { record(1); }
[[gnu::used, gnu::section(".preinit_array")]] void (*preinit_entry)() = preinit;

[[gnu::constructor]] void constructor_function() { record(2); }

struct Constructed {
  int value;
  Constructed() : value(42) { record(3); }
};
Constructed constructed;

}  // namespace

TEST(arguments_reach_main) {
  // meson passes: alpha "beta gamma"
  REQUIRE(check::argc == 3);
  CHECK(check::argv[0] != nullptr);
  CHECK(same(check::argv[1], "alpha"));
  CHECK(same(check::argv[2], "beta gamma"));
  CHECK(check::argv[3] == nullptr);
}

TEST(environment_reaches_main) {
  bool found = false;
  for (char** env = check::envp; *env != nullptr; ++env)
    if (same(*env, "RAWTHREAD_RT_CHECK=present")) found = true;
  CHECK(found);
}

TEST(constructors_ran_in_order_before_main) {
  REQUIRE(order_count == 3);
  CHECK_EQ(order[0], 1);
  CHECK_EQ(order[1], 2);
  CHECK_EQ(order[2], 3);
  CHECK_EQ(constructed.value, 42);
}

// ---- The end of a process, seen from a parent --------------------------------

namespace {

void say(const char* text) { (void)rawthread::sys::write_str(1, text); }

struct Witness {
  const char* name;
  explicit Witness(const char* n) : name(n) {}
  ~Witness() { say(name); }
};

bool in_exit_child = false;
[[gnu::destructor]] void fini_function() {
  if (in_exit_child) say("fini_array\n");
}

void atexit_first() { say("atexit first\n"); }
void atexit_second() { say("atexit second\n"); }

}  // namespace

// Registered in this order; exit undoes them in reverse, atexit handlers and
// static destructors interleaved, thread_local destructors first and
// .fini_array last.
int exit_sequence() {
  in_exit_child = true;
  atexit(atexit_first);
  static Witness local_static("static destructor\n");
  thread_local Witness per_thread("thread_local destructor\n");
  atexit(atexit_second);
  say("main returns 42\n");
  return 42 + (per_thread.name == nullptr) + (local_static.name == nullptr);
}

CHILD(returns_42) { return exit_sequence(); }
CHILD(calls_exit_7) {
  exit_sequence();
  exit(7);
}
CHILD(traps) {
  (void)rawthread::sys::write_str(1, "trapping\n");
  __builtin_trap();
}
CHILD(aborts) {
  (void)rawthread::sys::write_str(1, "aborting\n");
  abort();
}

TEST(main_return_value_is_the_exit_status_after_handlers_and_destructors) {
  check::ChildResult child;
  REQUIRE(check::run_child("returns_42", &child, 30));
  CHECK_EQ(child.exit_code, 42);
  if (!CHECK(same(child.output,
                  "main returns 42\n"
                  "thread_local destructor\n"
                  "atexit second\n"
                  "static destructor\n"
                  "atexit first\n"
                  "fini_array\n")))
    say(child.output);
}

TEST(exit_runs_the_same_sequence) {
  check::ChildResult child;
  REQUIRE(check::run_child("calls_exit_7", &child, 30));
  CHECK_EQ(child.exit_code, 7);
  CHECK(contains(child.output, "main returns 42\nthread_local destructor\natexit second\n"));
  CHECK(contains(child.output, "fini_array\n"));
}

TEST(a_crash_ends_the_process_by_its_signal) {
  check::ChildResult child;
  REQUIRE(check::run_child("traps", &child, 30));
  CHECK_EQ(child.exit_code, -1);
  CHECK(child.signal != 0);
  CHECK(same(child.output, "trapping\n"));
}

TEST(abort_ends_the_process_by_sigabrt) {
  check::ChildResult child;
  REQUIRE(check::run_child("aborts", &child, 30));
  CHECK_EQ(child.exit_code, -1);
  CHECK_EQ(child.signal, 6);
  CHECK(same(child.output, "aborting\n"));
}
