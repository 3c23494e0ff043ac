// SPDX-License-Identifier: MIT
// exit() called while the process is already ending. The thread running the
// exit sequence calling it again (from an atexit handler, a static or
// thread_local destructor, a .fini_array function) carries the sequence on
// and ends with the new status, as glibc does; another thread's call waits
// for the process to end. Each child runs under a deadline: a hang fails.
#include <atomic>
#include <cstdlib>  // exit, atexit: the runtime's

#include <rawthread/rawthread.hpp>

#include "check.hpp"

namespace {

void say(const char* text) { (void)rawthread::sys::write_str(1, text); }

using check::same;

// What the .fini_array functions below do: nothing (in the other files'
// children), say their names, or the first one to run calls exit(8).
enum class Fini { quiet, say, exit };
Fini fini = Fini::quiet;

// With priorities the link orders them: .fini_array runs last to first, so
// 102 runs before 101.
[[gnu::destructor(102)]] void fini_runs_first() {
  if (fini == Fini::quiet) return;
  say(fini == Fini::exit ? "fini one calls exit(8)\n" : "fini one\n");
  if (fini == Fini::exit) exit(8);
}
[[gnu::destructor(101)]] void fini_runs_second() {
  if (fini != Fini::quiet) say("fini two\n");
}

struct Witness {
  const char* name;
  int exit_status;  // 0: the destructor only says its name
  ~Witness() {
    say(name);
    if (exit_status != 0) exit(exit_status);
  }
};

void atexit_first() { say("atexit first\n"); }
void atexit_last() { say("atexit last\n"); }
void calls_exit_5() {
  say("handler calls exit(5)\n");
  exit(5);
}
void calls_exit_6() {
  say("handler calls exit(6)\n");
  exit(6);
}

// Runs a child and checks its status and everything it wrote.
void expect_child(const char* name, int status, const char* output) {
  check::ChildResult child;
  REQUIRE(check::run_child(name, &child, 30));
  CHECK_EQ(child.exit_code, status);
  if (!CHECK(same(child.output, output))) say(child.output);
}

}  // namespace

CHILD(exit_from_an_atexit_handler) {
  fini = Fini::say;
  atexit(atexit_first);
  atexit(calls_exit_5);
  atexit(atexit_last);
  return 3;
}

TEST(exit_from_an_atexit_handler_runs_the_remaining_ones_and_ends_with_its_status) {
  expect_child("exit_from_an_atexit_handler", 5,
               "atexit last\n"
               "handler calls exit(5)\n"
               "atexit first\n"
               "fini one\n"
               "fini two\n");
}

CHILD(exit_from_two_nested_handlers) {
  fini = Fini::say;
  atexit(atexit_first);
  atexit(calls_exit_6);
  atexit(calls_exit_5);
  return 3;
}

TEST(a_nested_exit_may_itself_be_nested_and_the_last_status_wins) {
  expect_child("exit_from_two_nested_handlers", 6,
               "handler calls exit(5)\n"
               "handler calls exit(6)\n"
               "atexit first\n"
               "fini one\n"
               "fini two\n");
}

CHILD(exit_from_a_static_destructor) {
  fini = Fini::say;
  atexit(atexit_first);
  static Witness exits{"static destructor calls exit(6)\n", 6};
  atexit(atexit_last);
  return 3;
}

TEST(exit_from_a_static_destructor_runs_the_rest) {
  expect_child("exit_from_a_static_destructor", 6,
               "atexit last\n"
               "static destructor calls exit(6)\n"
               "atexit first\n"
               "fini one\n"
               "fini two\n");
}

CHILD(exit_from_a_thread_local_destructor) {
  fini = Fini::say;
  atexit(atexit_first);
  thread_local Witness one{"thread_local one\n", 0};
  thread_local Witness two{"thread_local two calls exit(4)\n", 4};
  thread_local Witness three{"thread_local three\n", 0};
  return 3 + (one.name == nullptr) + (two.name == nullptr) + (three.name == nullptr);
}

TEST(exit_from_a_thread_local_destructor_runs_the_rest) {
  expect_child("exit_from_a_thread_local_destructor", 4,
               "thread_local three\n"
               "thread_local two calls exit(4)\n"
               "thread_local one\n"
               "atexit first\n"
               "fini one\n"
               "fini two\n");
}

CHILD(exit_from_a_fini_array_function) {
  fini = Fini::exit;
  atexit(atexit_first);
  return 3;
}

TEST(exit_from_a_fini_array_function_ends_at_once_as_glibc_does) {
  // glibc runs .fini_array as one exit handler, begun already: the rest of
  // the array does not run.
  expect_child("exit_from_a_fini_array_function", 8,
               "atexit first\n"
               "fini one calls exit(8)\n");
}

namespace {

std::atomic<int> main_exiting{0}, thread_in_exit{0};

// Lets another thread call exit while this one runs the sequence, then
// calls exit itself.
void waits_for_another_exit_then_calls_exit_5() {
  main_exiting.store(1);
  if (!check::wait_until([] { return thread_in_exit.load() == 1; }, 20)) say("no thread exit\n");
  (void)rawthread::sys::sleep(0.2);  // long enough to be asleep in exit
  calls_exit_5();
}

}  // namespace

CHILD(exit_from_another_thread_while_exiting) {
  fini = Fini::say;
  atexit(atexit_first);
  atexit(waits_for_another_exit_then_calls_exit_5);
  if (!rawthread::start_new_thread([] {
        while (main_exiting.load() == 0) check::yield();
        say("thread calls exit(9)\n");
        thread_in_exit.store(1);
        exit(9);
      }))
    return 99;
  return 3;
}

TEST(exit_from_another_thread_waits_while_one_thread_runs_the_sequence) {
  // The thread's exit runs nothing: every handler runs once, in main's.
  expect_child("exit_from_another_thread_while_exiting", 5,
               "thread calls exit(9)\n"
               "handler calls exit(5)\n"
               "atexit first\n"
               "fini one\n"
               "fini two\n");
}

CHILD(exit_from_a_threads_thread_local_destructor) {
  fini = Fini::say;
  atexit(atexit_first);
  if (!rawthread::start_new_thread([] {
        thread_local Witness exits{"the thread's thread_local calls exit(11)\n", 11};
        (void)exits.name;
      }))
    return 99;
  (void)rawthread::sys::sleep(25);  // the process ends first
  return 3;
}

TEST(exit_from_an_ending_threads_thread_local_destructor_ends_the_process) {
  expect_child("exit_from_a_threads_thread_local_destructor", 11,
               "the thread's thread_local calls exit(11)\n"
               "atexit first\n"
               "fini one\n"
               "fini two\n");
}
