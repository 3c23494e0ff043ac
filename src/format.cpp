// SPDX-License-Identifier: MIT
// sys::format_to and sys::print: the sink, padding, integers, strings,
// pointers, and the walk over a std::format-style format string.
#include "format.hpp"

#include <rawthread/sys.hpp>

#include "errors.hpp"

namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE::fmt {

inline constexpr Error kNullBuffer{Errc::value_error, 0, "format buffer is null"};

void Sink::flush() noexcept {
  if (fd >= 0 && used > 0 && error == 0) {
    Result<void> wrote = sys::write_all(fd, buf, used);
    if (!wrote) error = -static_cast<long>(wrote.error().sys_errno);
  }
  used = 0;
}

void Sink::put(const char* s, std::size_t n) noexcept {
  total += n;
  while (n > 0) {
    if (used == cap) {
      if (fd < 0) return;  // snprintf: counted, not stored
      flush();
    }
    std::size_t room = cap - used;
    std::size_t step = n < room ? n : room;
    for (std::size_t k = 0; k < step; ++k) buf[used + k] = s[k];
    used += step;
    s += step;
    n -= step;
  }
}

void Sink::repeat(char c, std::size_t n) noexcept {
  char chunk[32];
  for (char& slot : chunk) slot = c;
  while (n > 0) {
    std::size_t step = n < sizeof chunk ? n : sizeof chunk;
    put(chunk, step);
    n -= step;
  }
}

void put_padded(Sink& sink, const Spec& spec, const char* prefix, std::size_t prefix_len,
                const char* body, std::size_t body_len, char default_align,
                bool zero_pad) noexcept {
  std::size_t length = prefix_len + body_len;
  std::size_t pad = static_cast<std::size_t>(spec.width) > length ? spec.width - length : 0;
  if (zero_pad) {
    sink.put(prefix, prefix_len);
    sink.repeat('0', pad);
    sink.put(body, body_len);
    return;
  }
  char align = spec.align != 0 ? spec.align : default_align;
  std::size_t before = align == '<' ? 0 : align == '^' ? pad / 2 : pad;
  sink.repeat(spec.fill, before);
  sink.put(prefix, prefix_len);
  sink.put(body, body_len);
  sink.repeat(spec.fill, pad - before);
}

// The digits of `value` in `base`, written backwards from `end`.
static char* digits(char* end, std::uint64_t value, unsigned base, bool upper) noexcept {
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    *--end = set[value % base];
    value /= base;
  } while (value != 0);
  return end;
}

void format_int(Sink& sink, const Spec& spec, std::uint64_t magnitude, bool negative) noexcept {
  const char t = spec.type;
  unsigned base = 10;
  if (t == 'x' || t == 'X')
    base = 16;
  else if (t == 'o')
    base = 8;
  else if (t == 'b' || t == 'B')
    base = 2;
  const bool upper = t == 'X' || t == 'B';

  char text[64 + 2];
  char* end = text + sizeof text;
  char* first = end;
  // printf: precision 0 and value 0 print no digits ("%.0d"); '#o' then
  // still gives its "0".
  if (!(spec.printf && spec.precision == 0 && magnitude == 0))
    first = digits(end, magnitude, base, upper);
  std::size_t count = static_cast<std::size_t>(end - first);

  char prefix[4];
  std::size_t prefix_len = 0;
  if (negative)
    prefix[prefix_len++] = '-';
  else if (spec.sign != 0)
    prefix[prefix_len++] = spec.sign;
  // Leading zeros printf's precision asks for (min digits); '#o' makes the
  // first digit a 0 (both printf and std::format print "0" for 0).
  std::size_t zeros = 0;
  if (spec.precision > 0 && static_cast<std::size_t>(spec.precision) > count)
    zeros = spec.precision - count;
  if (spec.alt) {
    if (base == 8) {
      if (zeros == 0 && (count == 0 || *first != '0')) zeros = 1;
    } else if (base != 10 && (magnitude != 0 || !spec.printf)) {
      prefix[prefix_len++] = '0';
      prefix[prefix_len++] = t;
    }
  }
  // printf ignores '0' with '-' or a precision; std::format ignores it with an alignment.
  bool zero_pad =
      spec.zero && (spec.printf ? spec.align != '<' && spec.precision < 0 : spec.align == 0);
  std::size_t length = prefix_len + zeros + count;
  std::size_t pad = static_cast<std::size_t>(spec.width) > length ? spec.width - length : 0;
  std::size_t before = 0;
  if (zero_pad) {
    zeros += pad;
    pad = 0;
  } else {
    char align = spec.align != 0 ? spec.align : '>';
    before = align == '<' ? 0 : align == '^' ? pad / 2 : pad;
  }
  sink.repeat(spec.fill, before);
  sink.put(prefix, prefix_len);
  sink.repeat('0', zeros);
  sink.put(first, count);
  sink.repeat(spec.fill, pad - before);
}

void format_string(Sink& sink, const Spec& spec, const char* s, std::size_t n) noexcept {
  if (spec.precision >= 0 && static_cast<std::size_t>(spec.precision) < n) n = spec.precision;
  put_padded(sink, spec, nullptr, 0, s, n, spec.printf ? '>' : '<', false);
}

void format_pointer(Sink& sink, const Spec& spec, const void* p) noexcept {
  auto value = reinterpret_cast<std::uintptr_t>(p);
  if (spec.printf && value == 0) {
    put_padded(sink, spec, nullptr, 0, "(nil)", 5, '>', false);
    return;
  }
  char text[20];
  char* end = text + sizeof text;
  char* first = digits(end, value, 16, false);
  put_padded(sink, spec, "0x", 2, first, static_cast<std::size_t>(end - first), '>',
             spec.printf && spec.zero && spec.align != '<');
}

// One argument, as its spec asks.
static void format_arg(Sink& sink, Spec spec, const Arg& arg) noexcept {
  const char t = spec.type;
  const bool integer_type = t == 'd' || t == 'x' || t == 'X' || t == 'o' || t == 'b' || t == 'B';
  switch (arg.kind) {
    case Kind::sint:
      if (t == 'c') {
        char c = static_cast<char>(arg.i);
        format_string(sink, spec, &c, 1);
        return;
      }
      format_int(sink, spec, arg.i < 0 ? 0 - static_cast<std::uint64_t>(arg.i) : arg.i, arg.i < 0);
      return;
    case Kind::uint:
      if (t == 'c') {
        char c = static_cast<char>(arg.u);
        format_string(sink, spec, &c, 1);
        return;
      }
      format_int(sink, spec, arg.u, false);
      return;
    case Kind::boolean:
      if (integer_type)
        format_int(sink, spec, arg.b ? 1 : 0, false);
      else
        format_string(sink, spec, arg.b ? "true" : "false", arg.b ? 4 : 5);
      return;
    case Kind::character:
      if (integer_type)
        format_int(sink, spec, static_cast<unsigned char>(arg.c), false);
      else
        format_string(sink, spec, &arg.c, 1);
      return;
    case Kind::string:
      format_string(sink, spec, arg.s.data, arg.s.size);
      return;
    case Kind::pointer:
      format_pointer(sink, spec, arg.p);
      return;
    case Kind::floating:
      format_float(sink, spec, arg.d);
      return;
  }
}

// The format string was checked when the call was compiled; a field that
// fails to parse here (only possible through the detail interface) ends the
// text.
static void vformat(Sink& sink, std::string_view fmt, const Arg* args, std::size_t count) noexcept {
  const char* s = fmt.data();
  const std::size_t n = fmt.size();
  std::size_t next = 0;
  std::size_t i = 0;
  while (i < n) {
    std::size_t start = i;
    while (i < n && s[i] != '{' && s[i] != '}') ++i;
    sink.put(s + start, i - start);
    if (i >= n) break;
    if (i + 1 < n && s[i + 1] == s[i]) {  // {{ or }}
      sink.put(s[i]);
      i += 2;
      continue;
    }
    if (s[i] == '}') return;
    ++i;
    Spec spec;
    if (parse_field(s, n, i, spec) != Bad::none || next >= count) return;
    if (check_spec(spec, args[next].kind) != Bad::none) return;
    format_arg(sink, spec, args[next++]);
  }
}

Result<std::size_t> vformat_to(char* buf, std::size_t size, std::string_view fmt, const Arg* args,
                               std::size_t count) noexcept {
  if (buf == nullptr && size > 0) return kNullBuffer;
  Sink sink;
  sink.buf = buf;
  sink.cap = size > 0 ? size - 1 : 0;
  vformat(sink, fmt, args, count);
  if (size > 0) buf[sink.used] = '\0';
  return sink.total;
}

Result<void> vprint(int fd, std::string_view fmt, const Arg* args, std::size_t count) noexcept {
  char buffer[1024];
  Sink sink;
  sink.buf = buffer;
  sink.cap = sizeof buffer;
  sink.fd = fd;
  vformat(sink, fmt, args, count);
  sink.flush();
  if (sink.error != 0) return errors::write_failed(sink.error);
  return {};
}

}  // namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE::fmt
