// SPDX-License-Identifier: MIT
// rawthread/format.hpp: the machinery of sys::format_to and sys::print
// (rawthread/sys.hpp, "Formatted output", includes this header).
//
// A format string is checked when it is compiled: format_string's consteval
// constructor parses it against the argument types, and a bad spec, a type a
// spec does not fit, or a count of "{}" other than the arguments' is a compile
// error: a call to the non-constexpr function format_error, which the
// compiler shows with its argument, the reason. The arguments are then
// packed into an array of tagged values, and one non-template function
// formats them all, so each call site costs little code.
//
// The syntax is std::format's subset:
//   {}  or  {:[[fill]align][sign][#][0][width][.precision][type]}
//   {{ and }} are literal braces.
// Only automatic indexing ("{}", not "{0}"), no dynamic width or precision
// ("{:{}}"), a fill of one byte.
//   integers:   d x X o b B c (default d); no precision
//   bool:       "true"/"false" (default, s), or d x X o b B as 0/1
//   char:       the character (default, c), or d x X o b B as unsigned char
//   strings:    const char*, char arrays, std::string_view (default, s);
//               precision cuts; a null const char* prints "(null)"
//   double, float: default (no precision) is the shortest text that reads
//               back as the same double (std::to_chars: fixed or scientific,
//               whichever is shorter); with a precision and no type, %g's
//               rules; f F e E g G as printf, correctly rounded from the
//               exact binary value (ties to even). No long double.
//   pointers:   any object pointer and nullptr, "0x" and hex (default, p)
#pragma once

#include <rawthread/version.h>  // RAWTHREAD_ABI_NAMESPACE

#include <cstddef>
#include <cstdint>
#include <rawthread/result.hpp>
#include <string_view>
#include <type_traits>

namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE::fmt {

enum class Kind : unsigned char { sint, uint, boolean, character, string, pointer, floating };

struct Text {
  const char* data;
  std::size_t size;
};

struct Arg {
  Kind kind;
  union {
    long long i;
    unsigned long long u;
    bool b;
    char c;
    double d;
    const void* p;
    Text s;
  };
};

template <class T>
inline constexpr bool is_char_pointer =
    std::is_pointer_v<T>&& std::is_same_v<std::remove_cv_t<std::remove_pointer_t<T>>, char>;

template <class>
inline constexpr bool unsupported_type = false;

template <class T>
consteval Kind kind_of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>)
    return Kind::boolean;
  else if constexpr (std::is_same_v<U, char>)
    return Kind::character;
  else if constexpr (std::is_same_v<U, wchar_t> || std::is_same_v<U, char8_t> ||
                     std::is_same_v<U, char16_t> || std::is_same_v<U, char32_t>) {
    static_assert(unsupported_type<T>, "format: wide characters are not supported");
    return Kind::sint;
  } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>)
    return Kind::sint;
  else if constexpr (std::is_integral_v<U>)
    return Kind::uint;
  else if constexpr (std::is_same_v<U, float> || std::is_same_v<U, double>)
    return Kind::floating;
  else if constexpr (is_char_pointer<std::decay_t<U>>)
    return Kind::string;
  else if constexpr (std::is_null_pointer_v<U>)
    return Kind::pointer;
  else if constexpr (std::is_convertible_v<const U&, std::string_view>)
    return Kind::string;
  else if constexpr (std::is_pointer_v<U> && !std::is_function_v<std::remove_pointer_t<U>>)
    return Kind::pointer;
  else {
    static_assert(unsupported_type<T>, "format: argument type not supported");
    return Kind::sint;
  }
}

template <class T>
Arg make_arg(const T& value) noexcept {
  using U = std::remove_cv_t<T>;
  Arg arg{};
  arg.kind = kind_of<T>();
  if constexpr (std::is_same_v<U, bool>)
    arg.b = value;
  else if constexpr (std::is_same_v<U, char>)
    arg.c = value;
  else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>)
    arg.i = value;
  else if constexpr (std::is_integral_v<U>)
    arg.u = value;
  else if constexpr (std::is_floating_point_v<U>)
    arg.d = value;
  else if constexpr (std::is_array_v<U>) {
    // A char array is a string up to its first NUL or its end.
    std::size_t n = 0;
    while (n < std::extent_v<U> && value[n] != '\0') ++n;
    arg.s = {value, n};
  } else if constexpr (is_char_pointer<U>) {
    const char* text = value == nullptr ? "(null)" : value;
    std::size_t n = 0;
    while (text[n] != '\0') ++n;
    arg.s = {text, n};
  } else if constexpr (std::is_null_pointer_v<U>) {
    arg.p = nullptr;
  } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
    std::string_view view = value;
    arg.s = {view.data(), view.size()};
  } else
    arg.p = static_cast<const void*>(value);
  return arg;
}

// What is wrong with a format string (report() names it).
enum class Bad : unsigned char {
  none,
  width_too_large,
  argument_index,
  bad_field,
  dynamic_width,
  missing_precision,
  bad_spec,
  integer_type,
  integer_precision,
  char_flags,
  bool_char_precision,
  bool_char_type,
  bool_char_flags,
  string_type,
  string_flags,
  pointer_type,
  pointer_flags,
  hex_float,
  float_type,
  unknown_kind,
  unmatched_close,
  too_few_arguments,
  too_many_arguments,
};

// One replacement field's spec, parsed. printf marks rawthread_snprintf's
// rules where they differ from std::format's (precision of integers, "#x" of
// 0, the '0' flag with '-').
struct Spec {
  char fill = ' ';
  char align = 0;  // '<' '>' '^', or 0: the type's default
  char sign = 0;   // '+' ' ', or 0 ('-' is the default)
  bool alt = false;
  bool zero = false;
  bool printf = false;
  int width = 0;
  int precision = -1;
  char type = 0;
};

inline constexpr int kMaxWidth = 1 << 20;  // width and precision above it are errors

// Parses the spec of a replacement field: `i` is just past '{'. On success,
// `i` is just past the closing '}' and the result is Bad::none.
constexpr Bad parse_field(const char* s, std::size_t n, std::size_t& i, Spec& spec) {
  auto number = [&](int& out) -> Bad {
    long v = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + (s[i++] - '0');
      if (v > kMaxWidth) return Bad::width_too_large;
    }
    out = static_cast<int>(v);
    return Bad::none;
  };
  if (i < n && s[i] >= '0' && s[i] <= '9') return Bad::argument_index;
  if (i < n && s[i] == '}') {
    ++i;
    return Bad::none;
  }
  if (i >= n || s[i] != ':') return Bad::bad_field;
  ++i;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^'; };
  if (i + 1 < n && is_align(s[i + 1]) && s[i] != '{' && s[i] != '}') {
    spec.fill = s[i];
    spec.align = s[i + 1];
    i += 2;
  } else if (i < n && is_align(s[i])) {
    spec.align = s[i++];
  }
  if (i < n && (s[i] == '+' || s[i] == ' '))
    spec.sign = s[i++];
  else if (i < n && s[i] == '-')
    ++i;
  if (i < n && s[i] == '#') spec.alt = true, ++i;
  if (i < n && s[i] == '0') spec.zero = true, ++i;
  if (i < n && s[i] == '{') return Bad::dynamic_width;
  if (Bad error = number(spec.width); error != Bad::none) return error;
  if (i < n && s[i] == '.') {
    ++i;
    if (i < n && s[i] == '{') return Bad::dynamic_width;
    if (i >= n || s[i] < '0' || s[i] > '9') return Bad::missing_precision;
    if (Bad error = number(spec.precision); error != Bad::none) return error;
  }
  if (i < n && s[i] != '}') spec.type = s[i++];
  if (i >= n || s[i] != '}') return Bad::bad_spec;
  ++i;
  return Bad::none;
}

// Whether `spec` fits an argument of `kind`: Bad::none if so, else why not.
constexpr Bad check_spec(const Spec& spec, Kind kind) {
  const char t = spec.type;
  const bool integer_type = t == 'd' || t == 'x' || t == 'X' || t == 'o' || t == 'b' || t == 'B';
  const bool numeric_flags = spec.sign != 0 || spec.alt || spec.zero;
  switch (kind) {
    case Kind::sint:
    case Kind::uint:
      if (!(t == 0 || integer_type || t == 'c')) return Bad::integer_type;
      if (spec.precision >= 0) return Bad::integer_precision;
      if (t == 'c' && numeric_flags) return Bad::char_flags;
      return Bad::none;
    case Kind::boolean:
    case Kind::character:
      if (spec.precision >= 0) return Bad::bool_char_precision;
      if (integer_type) return Bad::none;
      if (t != 0 && t != (kind == Kind::boolean ? 's' : 'c')) return Bad::bool_char_type;
      if (numeric_flags) return Bad::bool_char_flags;
      return Bad::none;
    case Kind::string:
      if (t != 0 && t != 's') return Bad::string_type;
      if (numeric_flags) return Bad::string_flags;
      return Bad::none;
    case Kind::pointer:
      if (t != 0 && t != 'p') return Bad::pointer_type;
      if (numeric_flags || spec.precision >= 0) return Bad::pointer_flags;
      return Bad::none;
    case Kind::floating:
      if (t == 'a' || t == 'A') return Bad::hex_float;
      if (!(t == 0 || t == 'e' || t == 'E' || t == 'f' || t == 'F' || t == 'g' || t == 'G'))
        return Bad::float_type;
      return Bad::none;
  }
  return Bad::unknown_kind;
}

// Called only in a constant evaluation that found an error: not constexpr, so
// the compiler stops at the call and shows it, with the reason. Never defined.
void format_error(const char* reason);

consteval void report(Bad bad) {
  switch (bad) {
    case Bad::none:
      return;
    case Bad::width_too_large:
      format_error("width or precision too large");
      return;
    case Bad::argument_index:
      format_error("argument indexes are not supported, only {}");
      return;
    case Bad::bad_field:
      format_error("expected ':' or '}' after '{'");
      return;
    case Bad::dynamic_width:
      format_error("dynamic width or precision is not supported");
      return;
    case Bad::missing_precision:
      format_error("missing precision after '.'");
      return;
    case Bad::bad_spec:
      format_error("unknown or misplaced character in format spec");
      return;
    case Bad::integer_type:
      format_error("type not valid for an integer");
      return;
    case Bad::integer_precision:
      format_error("precision not allowed for an integer");
      return;
    case Bad::char_flags:
      format_error("sign, '#' or '0' not allowed with 'c'");
      return;
    case Bad::bool_char_precision:
      format_error("precision not allowed for bool or char");
      return;
    case Bad::bool_char_type:
      format_error("type not valid for bool or char");
      return;
    case Bad::bool_char_flags:
      format_error("sign, '#' or '0' need an integer type for bool or char");
      return;
    case Bad::string_type:
      format_error("type not valid for a string");
      return;
    case Bad::string_flags:
      format_error("sign, '#' or '0' not allowed for a string");
      return;
    case Bad::pointer_type:
      format_error("type not valid for a pointer");
      return;
    case Bad::pointer_flags:
      format_error("sign, '#', '0' or precision not allowed for a pointer");
      return;
    case Bad::hex_float:
      format_error("hexadecimal floats are not supported");
      return;
    case Bad::float_type:
      format_error("type not valid for a floating-point value");
      return;
    case Bad::unknown_kind:
      format_error("unknown argument kind");
      return;
    case Bad::unmatched_close:
      format_error("unmatched '}' in format string (use }} for a literal })");
      return;
    case Bad::too_few_arguments:
      format_error("more {} in the format string than arguments");
      return;
    case Bad::too_many_arguments:
      format_error("more arguments than {} in the format string");
      return;
  }
}

consteval void check_format(std::string_view text, const Kind* kinds, std::size_t count) {
  const char* s = text.data();
  const std::size_t n = text.size();
  std::size_t used = 0;
  for (std::size_t i = 0; i < n;) {
    const char c = s[i++];
    if (c == '}') {
      if (i < n && s[i] == '}')
        ++i;
      else
        report(Bad::unmatched_close);
    } else if (c == '{') {
      if (i < n && s[i] == '{') {
        ++i;
        continue;
      }
      Spec spec;
      report(parse_field(s, n, i, spec));
      if (used >= count) report(Bad::too_few_arguments);
      report(check_spec(spec, kinds[used]));
      ++used;
    }
  }
  if (used < count) report(Bad::too_many_arguments);
}

Result<std::size_t> vformat_to(char* buf, std::size_t size, std::string_view fmt, const Arg* args,
                               std::size_t count) noexcept;
Result<void> vprint(int fd, std::string_view fmt, const Arg* args, std::size_t count) noexcept;

}  // namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE::fmt

namespace rawthread::sys {

// A format string checked against the argument types A... at compile time.
template <class... A>
struct format_string {
  template <class S>
  requires std::is_convertible_v<const S&, std::string_view>
  consteval format_string(const S& text) : str(text) {
    // Qualified in full: sys.hpp has a rawthread::sys::detail of its own.
    namespace fmt = rawthread::detail::fmt;
    constexpr fmt::Kind kinds[sizeof...(A) + 1] = {fmt::kind_of<A>()...};
    fmt::check_format(str, kinds, sizeof...(A));
  }
  std::string_view str;
};

}  // namespace rawthread::sys
