// SPDX-License-Identifier: MIT
// The std::__throw_* family (every function of libstdc++'s
// bits/functexcept.h) and std::__glibcxx_assert_fail: what the standard
// library's header code calls where it would throw, or where a
// -D_GLIBCXX_ASSERTIONS check fails. libstdc++.a has them too, but its
// functexcept.o throws (the library is built with exceptions) and drags in
// the unwinder, typeinfo and gettext; a program with no exceptions has
// nothing to catch them with anyway. Each prints its reason to standard error
// and aborts; none may return (the headers declare them noreturn and the code
// after each call assumes it never comes back).
//
// One object, each function in its own section: a program that names one of
// them links this file, and --gc-sections keeps only the ones it calls.
#include <bits/c++config.h>
#include <bits/functexcept.h>

#include <cstdarg>
#include <cstddef>

#include <rawthread/sys.hpp>

#include "rt.hpp"

namespace {

// The reason on one line, written with one write(2) so that the lines of
// threads that fail at once do not interleave mid-line.
class Line {
 public:
  Line& add(const char* text) noexcept {
    while (*text != '\0' && used_ < sizeof text_ - 1) text_[used_++] = *text++;
    return *this;
  }
  Line& add(unsigned long long value, bool negative = false) noexcept {
    char digits[24];
    std::size_t n = 0;
    do digits[n++] = static_cast<char>('0' + value % 10); while ((value /= 10) != 0);
    if (negative) digits[n++] = '-';
    while (n > 0 && used_ < sizeof text_ - 1) text_[used_++] = digits[--n];
    return *this;
  }
  [[noreturn]] void die() noexcept {
    add("\n");
    text_[used_] = '\0';
    rawthread::rt::die(text_);
  }

 private:
  char text_[512];
  std::size_t used_ = 0;
};

[[noreturn]] void fail(const char* what, const char* reason) noexcept {
  Line line;
  line.add("terminate called: ").add(what);
  if (reason != nullptr) line.add(": ").add(reason);
  line.die();
}

}  // namespace

namespace std {

void __throw_bad_exception() { fail("std::bad_exception", nullptr); }
void __throw_bad_alloc() { fail("std::bad_alloc", nullptr); }
void __throw_bad_array_new_length() { fail("std::bad_array_new_length", nullptr); }
void __throw_bad_cast() { fail("std::bad_cast", nullptr); }
void __throw_bad_typeid() { fail("std::bad_typeid", nullptr); }
void __throw_logic_error(const char* reason) { fail("std::logic_error", reason); }
void __throw_domain_error(const char* reason) { fail("std::domain_error", reason); }
void __throw_invalid_argument(const char* reason) { fail("std::invalid_argument", reason); }
void __throw_length_error(const char* reason) { fail("std::length_error", reason); }
void __throw_out_of_range(const char* reason) { fail("std::out_of_range", reason); }
void __throw_runtime_error(const char* reason) { fail("std::runtime_error", reason); }
void __throw_range_error(const char* reason) { fail("std::range_error", reason); }
void __throw_overflow_error(const char* reason) { fail("std::overflow_error", reason); }
void __throw_underflow_error(const char* reason) { fail("std::underflow_error", reason); }
void __throw_ios_failure(const char* reason) { fail("std::ios_base::failure", reason); }
void __throw_ios_failure(const char* reason, int) { fail("std::ios_base::failure", reason); }
void __throw_bad_function_call() { fail("std::bad_function_call", nullptr); }

void __throw_system_error(int error) {
  Line line;
  line.add("terminate called: std::system_error: errno ").add(static_cast<unsigned>(error)).die();
}

void __throw_future_error(int error) {
  Line line;
  line.add("terminate called: std::future_error: code ").add(static_cast<unsigned>(error)).die();
}

// The format is the header's own (vector::at, string::substr, bitset...):
// only %s, %zu, %lu, %d and %% occur there, as in libstdc++'s own
// __snprintf_lite, which this follows.
void __throw_out_of_range_fmt(const char* format, ...) {
  Line line;
  line.add("terminate called: std::out_of_range: ");
  va_list args;
  va_start(args, format);
  char one[2] = {0, 0};
  for (const char* p = format; *p != '\0'; ++p) {
    if (*p != '%') {
      one[0] = *p;
      line.add(one);
      continue;
    }
    ++p;
    if (*p == 's') {
      line.add(va_arg(args, const char*));
    } else if (*p == 'z' && p[1] == 'u') {
      ++p;
      line.add(va_arg(args, std::size_t));
    } else if (*p == 'l' && p[1] == 'u') {
      ++p;
      line.add(va_arg(args, unsigned long));
    } else if (*p == 'd') {
      const int value = va_arg(args, int);
      line.add(value < 0 ? 0ULL - static_cast<unsigned long long>(value)
                         : static_cast<unsigned long long>(value),
               value < 0);
    } else if (*p == '%') {
      line.add("%");
    } else {
      break;  // not one the headers use: stop rather than misread the arguments
    }
  }
  va_end(args);
  line.die();
}

// -D_GLIBCXX_ASSERTIONS: a precondition of the library failed (an index out
// of range, front() of an empty container...). The message libstdc++'s own
// debug.o prints.
void __glibcxx_assert_fail(const char* file, int line_number, const char* function,
                           const char* condition) noexcept {
  Line line;
  if (file != nullptr) line.add(file).add(":").add(static_cast<unsigned>(line_number)).add(": ");
  if (function != nullptr) line.add(function).add(": ");
  line.add("Assertion '").add(condition != nullptr ? condition : "?").add("' failed.").die();
}

}  // namespace std
