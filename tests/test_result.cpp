// SPDX-License-Identifier: MIT
// Result<T> / Result<void> shape, the error types and the API's constants and
// type properties, checked through real calls.
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;

// ---- compile-time shape of the API

static_assert(std::is_enum_v<Errc>);
static_assert(std::is_same_v<decltype(Error{}.kind), Errc>);
static_assert(std::is_same_v<decltype(Error{}.sys_errno), int>);
static_assert(std::is_same_v<decltype(Error{}.message), const char*>);

// explicit operator bool: usable in a condition, not convertible implicitly
static_assert(std::is_constructible_v<bool, Result<bool>>);
static_assert(!std::is_convertible_v<Result<bool>, bool>);
static_assert(std::is_constructible_v<bool, Result<void>>);
static_assert(!std::is_convertible_v<Result<void>, bool>);
static_assert(!std::is_convertible_v<Result<std::size_t>, bool>);

static_assert(std::is_same_v<Ident, unsigned long>);
static_assert(std::is_same_v<decltype(start_new_thread([] {})), Result<Ident>>);
static_assert(std::is_same_v<decltype(std::declval<Lock&>().acquire()), Result<bool>>);
static_assert(std::is_same_v<decltype(std::declval<Lock&>().release()), Result<void>>);
static_assert(std::is_same_v<decltype(stack_size(0L)), Result<std::size_t>>);
static_assert(std::is_same_v<decltype(stack_size()), std::size_t>);
static_assert(std::is_same_v<decltype(interrupt_main()), Result<void>>);
static_assert(std::is_same_v<decltype(get_ident()), Ident>);
static_assert(std::is_same_v<decltype(get_native_id()), long>);
static_assert(std::is_same_v<decltype(thread_count()), std::size_t>);
static_assert(noexcept(get_ident()) && noexcept(get_native_id()) && noexcept(thread_count()));
static_assert(noexcept(exit_thread()) && noexcept(stack_size()) && noexcept(stack_size(0L)));
static_assert(noexcept(request_interrupt()) && noexcept(interrupt_main()));
static_assert(noexcept(std::declval<Lock&>().acquire()) && noexcept(std::declval<Lock&>().release()));
static_assert(noexcept(std::declval<const Lock&>().locked()));

static_assert(MIN_STACK_SIZE == 32768);
static_assert(std::is_same_v<decltype(MIN_STACK_SIZE), const std::size_t>);
static_assert(std::is_same_v<decltype(TIMEOUT_MAX), const double>);
static_assert(TIMEOUT_MAX >= 1e9);
static_assert(TIMEOUT_MAX < std::numeric_limits<double>::infinity(),
              "+infinity must be above TIMEOUT_MAX (it is refused as too large)");

// name(Errc): each enumerator's own name, usable in a constant expression;
// "unknown" for a value outside the enum (an Errc is an int underneath, so
// the cast is well defined).
static_assert(std::is_same_v<decltype(name(Errc::thread_error)), const char*>);
static_assert(noexcept(name(Errc::thread_error)));
static_assert(name(Errc::value_error)[0] == 'v');

TEST(ResultTest, ErrcNames) {
  EXPECT_STREQ(name(Errc::thread_error), "thread_error");
  EXPECT_STREQ(name(Errc::value_error), "value_error");
  EXPECT_STREQ(name(Errc::overflow_error), "overflow_error");
  EXPECT_STREQ(name(Errc::interrupted), "interrupted");
  EXPECT_STREQ(name(Errc::os_error), "os_error");
  EXPECT_STREQ(name(Errc::broken_barrier), "broken_barrier");
  EXPECT_STREQ(name(Errc::full), "full");
  EXPECT_STREQ(name(Errc::empty), "empty");
  EXPECT_STREQ(name(static_cast<Errc>(static_cast<int>(Errc::empty) + 1)), "unknown");
  EXPECT_STREQ(name(static_cast<Errc>(-1)), "unknown");
  EXPECT_STREQ(name(static_cast<Errc>(std::numeric_limits<int>::max())), "unknown");
}

TEST(ResultTest, ValueResultShape) {
  // A successful Result<size_t>: stack_size(0) returns the old setting (0).
  ASSERT_EQ(stack_size(), 0u);
  Result<std::size_t> r = stack_size(0L);
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  if (r) {
    SUCCEED();
  } else {
    ADD_FAILURE() << "explicit operator bool false on a value";
  }
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 0u);
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(r.operator->(), &r.value());
  EXPECT_EQ(*r.operator->(), 0u);
  const Result<std::size_t>& cr = r;
  EXPECT_EQ(cr.value(), 0u);
  EXPECT_EQ(*cr, 0u);
}

TEST(ResultTest, ErrorResultShape) {
  Result<std::size_t> r = stack_size(-1L);
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  if (r) ADD_FAILURE() << "explicit operator bool true on an error";
  ASSERT_FALSE(r.has_value());
  const Error& e = r.error();
  EXPECT_EQ(e.kind, Errc::value_error);
  EXPECT_EQ(e.sys_errno, 0);
  EXPECT_STREQ(e.message, "size must be 0 or a positive value");
  EXPECT_EQ(stack_size(), 0u);
}

TEST(ResultTest, BoolResultHoldsFalseAsAValue) {
  // A Result<bool> holding false is a success: has_value() is about the
  // error, not the bool inside.
  Lock lock;
  Result<bool> first = lock.acquire(false);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(*first);
  Result<bool> second = lock.acquire(false);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(static_cast<bool>(second));
  EXPECT_FALSE(second.value());
  EXPECT_FALSE(*second);
  EXPECT_TRUE(lock.release().has_value());
}

TEST(ResultTest, VoidResultShape) {
  Lock lock;
  ASSERT_TRUE(rt_test::is_true(lock.acquire()));
  Result<void> ok = lock.release();
  EXPECT_TRUE(ok.has_value());
  EXPECT_TRUE(static_cast<bool>(ok));

  Result<void> bad = lock.release();
  EXPECT_FALSE(bad.has_value());
  EXPECT_FALSE(static_cast<bool>(bad));
  expect_error(bad, Errc::thread_error, "release unlocked lock");
}

TEST(ResultTest, ResultsCopyAndMove) {
  Result<std::size_t> bad = stack_size(-7L);
  Result<std::size_t> copy = bad;
  ASSERT_FALSE(copy.has_value());
  EXPECT_EQ(copy.error().kind, Errc::value_error);
  EXPECT_STREQ(copy.error().message, bad.error().message);

  Result<std::size_t> good = stack_size(0L);
  Result<std::size_t> moved = std::move(good);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(*moved, 0u);
}

TEST(ResultTest, StartNewThreadReturnsIdentResult) {
  std::size_t base = thread_count();
  static std::atomic<int> ran;
  ran = 0;
  Result<Ident> r = start_new_thread([] { ran.store(1); });
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(*r, 0u);
  EXPECT_TRUE(rt_test::wait_for([] { return ran.load() == 1; }));
  EXPECT_TRUE(rt_test::wait_thread_count(base));
}
