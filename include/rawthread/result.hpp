// SPDX-License-Identifier: MIT
// rawthread/result.hpp: errors as values.
//
// Every fallible call returns Result<T>, shaped like C++23's
// std::expected<T, Error>. Nothing throws and nothing sets errno. A call that
// returns an error leaves the object it was called on exactly as it was.
#pragma once

#include <new>
#include <type_traits>
#include <utility>

namespace rawthread {

// What went wrong, in Python's terms.
enum class Errc {
  thread_error,    // _thread.error: a thread could not start, a lock misused
  value_error,     // ValueError: an argument out of its domain
  overflow_error,  // OverflowError: an argument too large
  interrupted,     // a blocking acquire cut short by a requested interrupt
  os_error,        // OSError: a system call of rawthread/sys.hpp failed (see sys_errno)
  broken_barrier,  // threading.BrokenBarrierError: a Barrier broken, reset or aborted
  full,            // queue.Full: a put that found no room in time
  empty,           // queue.Empty: a get that found no item in time
};

// The enumerator's own name, for messages and logs: name(Errc::value_error)
// is "value_error". "unknown" for a value that is none of them (an Errc cast
// from a number, or from a newer library). Static text, never null.
constexpr const char* name(Errc kind) noexcept {
  switch (kind) {
    case Errc::thread_error: return "thread_error";
    case Errc::value_error: return "value_error";
    case Errc::overflow_error: return "overflow_error";
    case Errc::interrupted: return "interrupted";
    case Errc::os_error: return "os_error";
    case Errc::broken_barrier: return "broken_barrier";
    case Errc::full: return "full";
    case Errc::empty: return "empty";
  }
  return "unknown";
}

struct Error {
  Errc kind;
  int sys_errno;        // the kernel errno behind it; 0 when no system call failed
  const char* message;  // static text; CPython's wording where CPython has one
};

// Result<T>: a T, or an Error. value() and operator* on an error, and error()
// on a value, are contract violations: they trap (there are no exceptions).
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result holds values, not references");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  using value_type = T;
  using error_type = Error;

  template <class U = T>
    requires(std::is_constructible_v<T, U> &&
             !std::is_same_v<std::remove_cvref_t<U>, Result> &&
             !std::is_same_v<std::remove_cvref_t<U>, Error>)
  constexpr Result(U&& value) noexcept : value_(std::forward<U>(value)), has_value_(true) {}
  constexpr Result(Error error) noexcept : error_(error), has_value_(false) {}

  constexpr Result(const Result& other) noexcept
    requires std::is_copy_constructible_v<T>
      : has_value_(other.has_value_) {
    if (has_value_)
      ::new (static_cast<void*>(&value_)) T(other.value_);
    else
      error_ = other.error_;
  }
  constexpr Result(Result&& other) noexcept : has_value_(other.has_value_) {
    if (has_value_)
      ::new (static_cast<void*>(&value_)) T(std::move(other.value_));
    else
      error_ = other.error_;
  }
  constexpr Result& operator=(Result other) noexcept {
    if (this != &other) {
      this->~Result();
      ::new (static_cast<void*>(this)) Result(std::move(other));
    }
    return *this;
  }
  constexpr ~Result() {
    if (has_value_) value_.~T();
  }

  constexpr bool has_value() const noexcept { return has_value_; }
  constexpr explicit operator bool() const noexcept { return has_value_; }

  constexpr T& value() & noexcept { return check(has_value_), value_; }
  constexpr const T& value() const& noexcept { return check(has_value_), value_; }
  constexpr T&& value() && noexcept { return check(has_value_), std::move(value_); }
  constexpr T& operator*() & noexcept { return value(); }
  constexpr const T& operator*() const& noexcept { return value(); }
  constexpr T&& operator*() && noexcept { return std::move(*this).value(); }
  constexpr T* operator->() noexcept { return &value(); }
  constexpr const T* operator->() const noexcept { return &value(); }
  template <class U>
  constexpr T value_or(U&& fallback) const& noexcept {
    return has_value_ ? value_ : static_cast<T>(std::forward<U>(fallback));
  }

  constexpr const Error& error() const noexcept { return check(!has_value_), error_; }

 private:
  static constexpr void check(bool ok) noexcept {
    if (!ok) __builtin_trap();
  }

  union {
    T value_;
    Error error_;
  };
  bool has_value_;
};

// Result<void>: success, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;
  using error_type = Error;

  constexpr Result() noexcept : error_{}, has_value_(true) {}
  constexpr Result(Error error) noexcept : error_(error), has_value_(false) {}

  constexpr bool has_value() const noexcept { return has_value_; }
  constexpr explicit operator bool() const noexcept { return has_value_; }
  constexpr void value() const noexcept {
    if (!has_value_) __builtin_trap();
  }
  constexpr void operator*() const noexcept { value(); }
  constexpr const Error& error() const noexcept {
    if (has_value_) __builtin_trap();
    return error_;
  }

 private:
  Error error_;
  bool has_value_;
};

}  // namespace rawthread
