// SPDX-License-Identifier: MIT
// The formatter: sys::format_to / print and rawthread_snprintf / dprintf,
// byte for byte against glibc's snprintf on random integers and doubles
// (every width, random bit patterns with subnormals, infinities and NaNs,
// random flags, widths, precisions and conversions), "{}" of a double against
// std::to_chars and strtod (shortest round trip), and the documented cases.
#include <fcntl.h>
#include <rawthread/sys.h>
#include <unistd.h>

#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <rawthread/sys.hpp>
#include <string>
#include <string_view>

#include "support.hpp"

using namespace rawthread;
using rt_test::expect_error;

namespace {

// The text of rawthread_snprintf and glibc's snprintf for one format and value.
template <class T>
void expect_same_printf(const char* format, T value) {
  char want[4096];
  char got[4096];
  int want_len = std::snprintf(want, sizeof want, format, value);
  int got_len = rawthread_snprintf(got, sizeof got, format, value);
  ASSERT_EQ(std::string(got), std::string(want)) << "format \"" << format << "\"";
  ASSERT_EQ(got_len, want_len) << "format \"" << format << "\"";
}

std::string vformat(std::string_view fmt, const detail::fmt::Arg& arg) {
  char buf[4096];
  Result<std::size_t> n = detail::fmt::vformat_to(buf, sizeof buf, fmt, &arg, 1);
  EXPECT_TRUE(n.has_value());
  EXPECT_LT(*n, sizeof buf);
  return std::string(buf, *n);
}

double random_double(std::mt19937_64& rng) {
  std::uint64_t bits = rng();
  switch (rng() % 16) {
    case 0:  // subnormal or zero
      bits &= (std::uint64_t{1} << 63) | ((std::uint64_t{1} << 52) - 1);
      if (rng() % 4 == 0) bits &= (std::uint64_t{1} << 63) | 0xffff;
      break;
    case 1:  // infinity or NaN
      bits |= std::uint64_t{0x7ff} << 52;
      if (rng() % 2 == 0) bits &= ~((std::uint64_t{1} << 52) - 1);
      break;
    case 2:
    case 3:
    case 4: {  // a short decimal: ties and exact cases (0.125, 2.5, 1e22)
      double v = static_cast<double>(rng() % 100000) / std::pow(10.0, static_cast<int>(rng() % 8));
      return rng() % 2 ? -v : v;
    }
    case 5:  // a modest exponent, where %f is short
      bits = (bits & ~(std::uint64_t{0x7ff} << 52)) | (std::uint64_t{1023 - 30 + rng() % 90} << 52);
      break;
    default:
      break;
  }
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

const char* const kIntConversions[] = {"d", "i", "u", "x", "X", "o"};
const char* const kLengths[] = {"hh", "h", "", "l", "ll", "z", "j", "t"};
const char* const kFloatConversions[] = {"f", "F", "e", "E", "g", "G"};

std::string random_flags(std::mt19937_64& rng, const char* allowed) {
  std::string flags;
  for (const char* f = allowed; *f != '\0'; ++f)
    if (rng() % 3 == 0) flags += *f;
  return flags;
}

std::string random_width(std::mt19937_64& rng) {
  return rng() % 2 ? "" : std::to_string(rng() % 30);
}

std::string random_precision(std::mt19937_64& rng, unsigned max) {
  if (rng() % 3 == 0) return "";
  if (rng() % 8 == 0) return ".";  // precision 0
  return "." + std::to_string(rng() % (max + 1));
}

// One random integer conversion, the value read with its length modifier.
void random_printf_int(std::mt19937_64& rng) {
  const char* conversion = kIntConversions[rng() % 6];
  const char* length = kLengths[rng() % 8];
  std::string format = "<%" + random_flags(rng, "-+ #0") + random_width(rng) +
                       random_precision(rng, 25) + length + conversion + ">";
  std::uint64_t bits = rng() >> (rng() % 64);
  if (rng() % 16 == 0) bits = 0;
  std::string_view l = length;
  const bool is_signed = *conversion == 'd' || *conversion == 'i';
  if (l == "hh" || l == "h" || l.empty()) {
    if (is_signed)
      expect_same_printf(format.c_str(), static_cast<int>(bits));
    else
      expect_same_printf(format.c_str(), static_cast<unsigned>(bits));
  } else if (l == "j") {
    if (is_signed)
      expect_same_printf(format.c_str(), static_cast<std::intmax_t>(bits));
    else
      expect_same_printf(format.c_str(), static_cast<std::uintmax_t>(bits));
  } else if (l == "z") {
    if (is_signed)
      expect_same_printf(format.c_str(), static_cast<ssize_t>(bits));
    else
      expect_same_printf(format.c_str(), static_cast<std::size_t>(bits));
  } else if (l == "t") {
    expect_same_printf(format.c_str(), static_cast<std::ptrdiff_t>(bits));
  } else if (l == "l") {
    if (is_signed)
      expect_same_printf(format.c_str(), static_cast<long>(bits));
    else
      expect_same_printf(format.c_str(), static_cast<unsigned long>(bits));
  } else {
    if (is_signed)
      expect_same_printf(format.c_str(), static_cast<long long>(bits));
    else
      expect_same_printf(format.c_str(), static_cast<unsigned long long>(bits));
  }
}

void random_printf_float(std::mt19937_64& rng) {
  std::string format = std::string("%") + random_flags(rng, "-+ #0") + random_width(rng) +
                       random_precision(rng, rng() % 8 == 0 ? 60 : 17) +
                       kFloatConversions[rng() % 6];
  expect_same_printf(format.c_str(), random_double(rng));
}

// format_to against snprintf: a random std::format spec and the printf spec
// that means the same, for the subset where both exist.
void random_format_int(std::mt19937_64& rng) {
  // Signed types with d (std::format prints negative hex as "-ff", printf
  // cannot), unsigned ones with every base.
  static const char kTypes[] = {'d', 'x', 'X', 'o', 0};
  char type = kTypes[rng() % 5];
  std::uint64_t bits = rng() >> (rng() % 64);
  const bool is_signed = type == 'd' && rng() % 2 == 0;
  std::string std_spec = "{:";
  std::string c_spec = "%";
  if (rng() % 3 == 0) {
    std_spec += '<';
    c_spec += '-';
  } else if (rng() % 2 == 0) {
    std_spec += '>';
  }
  if (is_signed && rng() % 2 == 0) {  // printf's '+' is for signed conversions
    char sign = rng() % 2 ? '+' : ' ';
    std_spec += sign;
    c_spec += sign;
  }
  // "{:#x}" of 0 is "0x0", "%#x" of 0 is "0": the targeted tests have it.
  if (type != 'd' && type != 0 && bits != 0 && rng() % 2 == 0) {
    std_spec += '#';
    c_spec += '#';
  }
  if (rng() % 3 == 0) {
    std_spec += '0';  // std::format ignores it after an alignment
    if (std_spec[2] != '>') c_spec += '0';
  }
  std::string width = random_width(rng);
  std_spec += width;
  c_spec += width;
  if (type != 0) std_spec += type;
  std_spec += '}';
  char want[256];
  std::string got;
  if (is_signed) {
    c_spec += "lld";
    auto v = static_cast<long long>(bits);
    std::snprintf(want, sizeof want, c_spec.c_str(), v);
    got = vformat(std_spec, detail::fmt::make_arg(v));
  } else {
    c_spec += "ll";
    c_spec += type == 0 ? 'u' : type == 'd' ? 'u' : type;
    auto v = static_cast<unsigned long long>(bits);
    std::snprintf(want, sizeof want, c_spec.c_str(), v);
    got = vformat(std_spec, detail::fmt::make_arg(v));
  }
  ASSERT_EQ(got, std::string(want)) << std_spec << " vs " << c_spec;
}

void random_format_float(std::mt19937_64& rng) {
  static const char kTypes[] = {'f', 'F', 'e', 'E', 'g', 'G', 0};
  char type = kTypes[rng() % 7];
  double v = random_double(rng);
  std::string std_spec = "{:";
  std::string c_spec = "%";
  if (rng() % 3 == 0) {
    std_spec += '<';
    c_spec += '-';
  }
  if (rng() % 2 == 0) {
    char sign = rng() % 2 ? '+' : ' ';
    std_spec += sign;
    c_spec += sign;
  }
  if (type != 0 && rng() % 3 == 0) {
    std_spec += '#';
    c_spec += '#';
  }
  if (rng() % 3 == 0) {
    std_spec += '0';  // std::format ignores it after an alignment
    if (std_spec[2] != '>') c_spec += '0';
  }
  std::string width = random_width(rng);
  std_spec += width;
  c_spec += width;
  // No type: a precision is %g's (the shortest form has its own test).
  std::string precision = random_precision(rng, rng() % 8 == 0 ? 60 : 17);
  if (type == 0 && precision.empty()) precision = ".6";
  if (precision == ".") precision = ".0";
  std_spec += precision;
  c_spec += precision;
  if (type != 0) std_spec += type;
  c_spec += type != 0 ? type : 'g';
  std_spec += '}';
  char want[4096];
  std::snprintf(want, sizeof want, c_spec.c_str(), v);
  ASSERT_EQ(vformat(std_spec, detail::fmt::make_arg(v)), std::string(want))
      << std_spec << " vs " << c_spec;
}

// "{}" of a double: std::to_chars's text, and it reads back as the double.
void shortest_round_trip(double v) {
  std::string got = vformat("{}", detail::fmt::make_arg(v));
  char want[64];
  auto [end, ec] = std::to_chars(want, want + sizeof want, v);
  ASSERT_EQ(ec, std::errc{});
  ASSERT_EQ(got, std::string(want, end));
  if (std::isnan(v)) return;
  double back = std::strtod(got.c_str(), nullptr);
  ASSERT_EQ(std::memcmp(&back, &v, sizeof v), 0) << got;
  // Shortest: no text with one digit fewer reads back as v.
  // Its significant digits: from the first non-zero one to the last.
  char shorter[64];
  int digits = 0;
  int seen = 0;
  for (char c : got) {
    if (c == 'e') break;
    if (c < '0' || c > '9') continue;
    if (c != '0' || seen > 0) ++seen;
    if (c != '0') digits = seen;
  }
  // (An integer's text is its exact digits: as many characters, nearer.)
  const bool integer_text = got.find_first_of(".e") == std::string::npos;
  if (digits > 1 && v != 0 && !integer_text) {
    std::snprintf(shorter, sizeof shorter, "%.*e", digits - 2, v);
    ASSERT_NE(std::strtod(shorter, nullptr), v) << got << " is not the shortest: " << shorter;
  }
}

// ------------------------------------------------------- random comparisons

TEST(FormatRandom, PrintfIntegersMatchGlibc) {
  std::mt19937_64 rng(1);
  long n = rt_test::iterations(300000, 3000);
  for (long i = 0; i < n && !HasFatalFailure(); ++i) random_printf_int(rng);
}

TEST(FormatRandom, PrintfDoublesMatchGlibc) {
  std::mt19937_64 rng(2);
  long n = rt_test::iterations(250000, 2500);
  for (long i = 0; i < n && !HasFatalFailure(); ++i) random_printf_float(rng);
}

TEST(FormatRandom, FormatToIntegersMatchGlibc) {
  std::mt19937_64 rng(3);
  long n = rt_test::iterations(200000, 2000);
  for (long i = 0; i < n && !HasFatalFailure(); ++i) random_format_int(rng);
}

TEST(FormatRandom, FormatToDoublesMatchGlibc) {
  std::mt19937_64 rng(4);
  long n = rt_test::iterations(150000, 1500);
  for (long i = 0; i < n && !HasFatalFailure(); ++i) random_format_float(rng);
}

TEST(FormatRandom, ShortestDoublesRoundTrip) {
  std::mt19937_64 rng(5);
  long n = rt_test::iterations(100000, 1000);
  for (long i = 0; i < n && !HasFatalFailure(); ++i) shortest_round_trip(random_double(rng));
}

TEST(FormatRandom, PrintfOtherConversionsMatchGlibc) {
  std::mt19937_64 rng(6);
  long n = rt_test::iterations(50000, 500);
  static const char* const kStrings[] = {"", "a", "hello", "a longer string of text", "tab\there"};
  for (long i = 0; i < n && !HasFatalFailure(); ++i) {
    std::string flags = rng() % 2 ? "-" : "";
    std::string width = random_width(rng);
    switch (rng() % 3) {
      case 0:
        expect_same_printf(("[%" + flags + width + random_precision(rng, 30) + "s]").c_str(),
                           kStrings[rng() % 5]);
        break;
      case 1:
        expect_same_printf(("[%" + flags + width + "c]").c_str(),
                           static_cast<int>(rng() % 95 + 32));
        break;
      default:
        expect_same_printf(
            ("[%" + flags + width + "p]").c_str(),
            reinterpret_cast<void*>(static_cast<std::uintptr_t>(rng() >> (rng() % 64))));
        break;
    }
  }
}

// ------------------------------------------------------------ targeted cases

std::string fmt1(const char* spec, double v) { return vformat(spec, detail::fmt::make_arg(v)); }

TEST(Format, FloatsRoundTheExactValueTiesToEven) {
  EXPECT_EQ(fmt1("{:.1f}", 0.35), "0.3");  // 0.34999999999999997779...
  EXPECT_EQ(fmt1("{:.0f}", 0.5), "0");
  EXPECT_EQ(fmt1("{:.0f}", 1.5), "2");
  EXPECT_EQ(fmt1("{:.0f}", 2.5), "2");
  EXPECT_EQ(fmt1("{:.2f}", 0.125), "0.12");
  EXPECT_EQ(fmt1("{:.2f}", 0.375), "0.38");
  EXPECT_EQ(fmt1("{:.3e}", 1.0005), "1.000e+00");  // 1.000499999...
  EXPECT_EQ(fmt1("{:.0e}", 9.5), "1e+01");
  EXPECT_EQ(fmt1("{:.1f}", 9.96), "10.0");
  EXPECT_EQ(fmt1("{:.3f}", 0.0004), "0.000");
  EXPECT_EQ(fmt1("{:.3f}", 0.0005), "0.001");  // 0.000500000000000000010...
  EXPECT_EQ(fmt1("{:g}", 100000.0), "100000");
  EXPECT_EQ(fmt1("{:g}", 1e6), "1e+06");
  EXPECT_EQ(fmt1("{:g}", 0.0001), "0.0001");
  EXPECT_EQ(fmt1("{:.3}", 3.14159), "3.14");
  EXPECT_EQ(fmt1("{:.40f}", 0.1), "0.1000000000000000055511151231257827021182");
  EXPECT_EQ(fmt1("{:e}", 4.9406564584124654e-324), "4.940656e-324");
  EXPECT_EQ(fmt1("{:.0f}", 1e300).size(), 301u);
}

TEST(Format, ShortestIsToCharsText) {
  EXPECT_EQ(fmt1("{}", 0.1), "0.1");
  EXPECT_EQ(fmt1("{}", 1.0), "1");
  EXPECT_EQ(fmt1("{}", -0.0), "-0");
  EXPECT_EQ(fmt1("{}", 100.0), "100");
  EXPECT_EQ(fmt1("{}", 1e20), "1e+20");
  EXPECT_EQ(fmt1("{}", 0.0001), "1e-04");
  EXPECT_EQ(fmt1("{}", 0.001), "0.001");
  EXPECT_EQ(fmt1("{}", 1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(fmt1("{}", 5e-324), "5e-324");
  EXPECT_EQ(fmt1("{}", 1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(fmt1("{}", 2.2250738585072014e-308), "2.2250738585072014e-308");
  EXPECT_EQ(fmt1("{}", 9007199254740992.0), "9007199254740992");
  EXPECT_EQ(fmt1("{}", 123456789012345680.0), "123456789012345680");
  for (double v : {0.3, 2.0 / 3, 1e23, 5e-310, 1e-5, 123.456, 4.35, 0.1 + 0.2})
    shortest_round_trip(v);
  // Every power of two: their lower neighbour is half as far.
  for (int e = -1074; e <= 1023; ++e) shortest_round_trip(std::ldexp(1.0, e));
}

TEST(Format, InfinityAndNan) {
  double inf = std::numeric_limits<double>::infinity();
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(fmt1("{}", inf), "inf");
  EXPECT_EQ(fmt1("{}", -inf), "-inf");
  EXPECT_EQ(fmt1("{}", nan), "nan");
  EXPECT_EQ(fmt1("{:+}", inf), "+inf");
  EXPECT_EQ(fmt1("{:F}", inf), "INF");
  EXPECT_EQ(fmt1("{:06}", inf), "   inf");  // '0' pads only finite values
  EXPECT_EQ(fmt1("{:*<6}", nan), "nan***");
}

TEST(Format, Placeholders) {
  char buf[128];
  Result<std::size_t> n = sys::format_to(buf, sizeof buf, "{} {:#x} {:08.3f}", 42, 255, 3.14159);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(std::string(buf), "42 0xff 0003.142");
  EXPECT_EQ(*n, 16u);
  n = sys::format_to(buf, sizeof buf, "{{}} }}{{");
  EXPECT_EQ(std::string(buf), "{} }{");
  (void)sys::format_to(buf, sizeof buf, "{{{}}}", 7);
  EXPECT_EQ(std::string(buf), "{7}");
  (void)sys::format_to(buf, sizeof buf, "no arguments");
  EXPECT_EQ(std::string(buf), "no arguments");
}

TEST(Format, FillAndAlign) {
  char buf[128];
  (void)sys::format_to(buf, sizeof buf, "[{:*^9}] [{:<5}] [{:>5}] [{:^6}] [{:-<4}]", "mid", 7, "ab",
                       'c', true);
  EXPECT_EQ(std::string(buf), "[***mid***] [7    ] [   ab] [  c   ] [true]");
  (void)sys::format_to(buf, sizeof buf, "[{:5}] [{:5}] [{:5}] [{:^5}]", "ab", 12, 'x', 1.5);
  EXPECT_EQ(std::string(buf), "[ab   ] [   12] [x    ] [ 1.5 ]");
  (void)sys::format_to(buf, sizeof buf, "[{:x<08}] [{:+06}] [{:#010x}] [{:<06}]", 5, -3, 255, 9);
  EXPECT_EQ(std::string(buf), "[5xxxxxxx] [-00003] [0x000000ff] [9     ]");
  (void)sys::format_to(buf, sizeof buf, "[{:.3}] [{:7.2s}]", "abcdef", "xyz");
  EXPECT_EQ(std::string(buf), "[abc] [xy     ]");
}

TEST(Format, Integers) {
  char buf[256];
  (void)sys::format_to(buf, sizeof buf, "{} {} {} {}", INT64_MIN, UINT64_MAX, (signed char)-5,
                       (unsigned short)65535);
  EXPECT_EQ(std::string(buf), "-9223372036854775808 18446744073709551615 -5 65535");
  (void)sys::format_to(buf, sizeof buf, "{:#x} {:#X} {:#o} {:#b} {:b} {:#B} {:x}", 0, 255, 8, 5, 0,
                       2, -255);
  EXPECT_EQ(std::string(buf), "0x0 0XFF 010 0b101 0 0B10 -ff");
  (void)sys::format_to(buf, sizeof buf, "{:+x} {: d} {:c} {:o}", 15u, 4, 65, 0);
  EXPECT_EQ(std::string(buf), "+f  4 A 0");
}

TEST(Format, BoolCharStringPointer) {
  char buf[256];
  const char* null_text = nullptr;
  char array[8] = "arr";
  std::string_view view("view!", 4);
  (void)sys::format_to(buf, sizeof buf, "{} {} {:d} {:#x} {} {:d} {:x} {} {} {} {}", true, false,
                       true, false, 'q', 'A', '\xff', null_text, array, view, "lit");
  EXPECT_EQ(std::string(buf), "true false 1 0x0 q 65 ff (null) arr view lit");
  int object = 0;
  char want[64];
  std::snprintf(want, sizeof want, "%p", static_cast<void*>(&object));
  (void)sys::format_to(buf, sizeof buf, "{}", &object);
  EXPECT_EQ(std::string(buf), want);
  (void)sys::format_to(buf, sizeof buf, "{} [{:>6}] [{:<6p}]", nullptr, nullptr,
                       static_cast<const void*>(nullptr));
  EXPECT_EQ(std::string(buf), "0x0 [   0x0] [0x0   ]");
  float f = 0.1f;
  (void)sys::format_to(buf, sizeof buf, "{} {:.2f}", f, f);
  EXPECT_EQ(std::string(buf), "0.10000000149011612 0.10");  // float promotes to double
}

TEST(Format, TruncationAndSizeZero) {
  char buf[8];
  std::memset(buf, 'z', sizeof buf);
  Result<std::size_t> n = sys::format_to(buf, 5, "{}-{}", 1234, 5678);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 9u);
  EXPECT_EQ(std::string(buf), "1234");
  EXPECT_EQ(buf[5], 'z');
  n = sys::format_to(nullptr, 0, "{:.3f}", 3.14159);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 5u);
  n = sys::format_to(buf, 0, "{}", 1);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(buf[0], '1');  // untouched ('1' of the first call)
  n = sys::format_to(buf, 1, "{}", 12);
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(buf[0], '\0');
  expect_error(sys::format_to(nullptr, 4, "{}", 1), Errc::value_error, "format buffer is null");
  // snprintf's return value and truncation.
  std::memset(buf, 'z', sizeof buf);
  EXPECT_EQ(rawthread_snprintf(buf, 4, "%d%s", 12345, "ab"), 7);
  EXPECT_EQ(std::string(buf), "123");
  EXPECT_EQ(rawthread_snprintf(nullptr, 0, "%08.3f", 2.5), 8);
  EXPECT_EQ(rawthread_snprintf(buf, 0, "x"), 1);
  EXPECT_EQ(buf[0], '1');
}

TEST(Format, PrintfDocumentedCases) {
  char buf[128];
  const char* volatile null_text = nullptr;  // hidden from the format checker
  EXPECT_EQ(rawthread_snprintf(buf, sizeof buf, "%s|%.3s|%10s", null_text, null_text, null_text),
            18);
  EXPECT_EQ(std::string(buf), "(null)||    (null)");
  rawthread_snprintf(buf, sizeof buf, "%p %5p", static_cast<void*>(nullptr),
                     static_cast<void*>(nullptr));
  EXPECT_EQ(std::string(buf), "(nil) (nil)");
  rawthread_snprintf(buf, sizeof buf, "%*d|%-*d|%.*f|%.*d", 5, 42, 4, 7, 2, 3.14159, -1, 9);
  EXPECT_EQ(std::string(buf), "   42|7   |3.14|9");
  rawthread_snprintf(buf, sizeof buf, "%*d|", -5, 42);
  EXPECT_EQ(std::string(buf), "42   |");
  rawthread_snprintf(buf, sizeof buf, "100%% %c%c", 'o', 'k');
  EXPECT_EQ(std::string(buf), "100% ok");
  volatile int wide = 300;  // (the random tests pass hh and h values as wide ints)
  volatile int wider = 70000;
  rawthread_snprintf(buf, sizeof buf, "%hhd %hu %zu %td %jd %lld", static_cast<signed char>(wide),
                     static_cast<unsigned short>(wider), (size_t)7, (ptrdiff_t)-8, (intmax_t)9,
                     -10LL);
  EXPECT_EQ(std::string(buf), "44 4464 7 -8 9 -10");
  // Unknown conversions are printed as they stand and take no argument.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
  int n = rawthread_snprintf(buf, sizeof buf, "a%yb %-5qc %d%", 42);
  EXPECT_EQ(std::string(buf), "a%yb %-5qc 42%");
  EXPECT_EQ(n, 14);
  rawthread_snprintf(buf, sizeof buf, "%n|%a|%lc|%Lf|%d", 5);
  EXPECT_EQ(std::string(buf), "%n|%a|%lc|%Lf|5");
#pragma GCC diagnostic pop
}

// ------------------------------------------------------------------ print

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

TEST(Format, PrintReachesAPipeInOneWrite) {
  Pipe pipe;
  std::string long_text(900, 'x');
  ASSERT_TRUE(sys::print(pipe.fds[1], "line {} {:.2f} {}\n", 1, 2.5, long_text).has_value());
  // One write(2) of 916 bytes (under PIPE_BUF): a single read takes it all.
  char buf[2048];
  ssize_t got = ::read(pipe.fds[0], buf, sizeof buf);
  EXPECT_EQ(std::string(buf, got > 0 ? got : 0), "line 1 2.50 " + long_text + "\n");
  // Longer than the 1 KiB buffer: complete, in 1 KiB writes.
  std::string longer(3000, 'y');
  ASSERT_TRUE(sys::print(pipe.fds[1], "<{}>", longer).has_value());
  std::string all;
  while (all.size() < 3002) {
    got = ::read(pipe.fds[0], buf, sizeof buf);
    ASSERT_GT(got, 0);
    all.append(buf, got);
  }
  EXPECT_EQ(all, "<" + longer + ">");
  // The C twin: the bytes written.
  EXPECT_EQ(rawthread_dprintf(pipe.fds[1], "%s=%d\n", "c", 5), 4);
  got = ::read(pipe.fds[0], buf, sizeof buf);
  EXPECT_EQ(std::string(buf, got > 0 ? got : 0), "c=5\n");
}

TEST(Format, PrintToABadFdFails) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  expect_error(sys::print(fds[0], "{}\n", 1), Errc::os_error, "write failed", EBADF);
  EXPECT_EQ(rawthread_dprintf(fds[0], "%d\n", 1), -EBADF);
}

}  // namespace
