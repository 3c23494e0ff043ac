// SPDX-License-Identifier: MIT
// rawthread_snprintf and rawthread_dprintf (rawthread/sys.h): printf's
// syntax over the engines sys::format_to uses (format.hpp).
#include <asm/errno.h>  // EOVERFLOW, the kernel's: no libc here
#include <rawthread/sys.h>

#include <climits>
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include "format.hpp"

namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE::fmt {
namespace {

enum class Length { none, hh, h, l, ll, z, j, t };

// Walks `fmt`, formatting each conversion. A conversion it does not know
// (%n, %a, %lc, %Lf, ...) is written as it stands, from '%' to its last
// character, and takes no argument.
void vprintf_to(Sink& sink, const char* fmt, va_list ap) noexcept {
  const char* s = fmt;
  while (*s != '\0') {
    const char* start = s;
    while (*s != '\0' && *s != '%') ++s;
    sink.put(start, static_cast<std::size_t>(s - start));
    if (*s == '\0') break;
    const char* conversion = s++;
    Spec spec;
    spec.printf = true;
    for (;; ++s) {
      if (*s == '-')
        spec.align = '<';
      else if (*s == '+')
        spec.sign = '+';
      else if (*s == ' ') {
        if (spec.sign == 0) spec.sign = ' ';
      } else if (*s == '#')
        spec.alt = true;
      else if (*s == '0')
        spec.zero = true;
      else
        break;
    }
    if (*s == '*') {
      int width = va_arg(ap, int);
      ++s;
      if (width < 0) {
        spec.align = '<';
        width = width == INT_MIN ? INT_MAX : -width;
      }
      spec.width = width;
    } else {
      long width = 0;
      while (*s >= '0' && *s <= '9') {
        width = width * 10 + (*s++ - '0');
        if (width > INT_MAX) width = INT_MAX;
      }
      spec.width = static_cast<int>(width);
    }
    if (*s == '.') {
      ++s;
      if (*s == '*') {
        int precision = va_arg(ap, int);
        ++s;
        spec.precision = precision < 0 ? -1 : precision;
      } else {
        long precision = 0;
        while (*s >= '0' && *s <= '9') {
          precision = precision * 10 + (*s++ - '0');
          if (precision > INT_MAX) precision = INT_MAX;
        }
        spec.precision = static_cast<int>(precision);
      }
    }
    // Widths and precisions are capped (a text of 2^31 bytes is no log line).
    if (spec.width > kMaxWidth) spec.width = kMaxWidth;
    if (spec.precision > kMaxWidth) spec.precision = kMaxWidth;
    Length length = Length::none;
    if (s[0] == 'h' && s[1] == 'h')
      length = Length::hh, s += 2;
    else if (s[0] == 'h')
      length = Length::h, ++s;
    else if (s[0] == 'l' && s[1] == 'l')
      length = Length::ll, s += 2;
    else if (s[0] == 'l')
      length = Length::l, ++s;
    else if (s[0] == 'z')
      length = Length::z, ++s;
    else if (s[0] == 'j')
      length = Length::j, ++s;
    else if (s[0] == 't')
      length = Length::t, ++s;
    const char c = *s;
    if (c == '\0') {  // a '%' that ends the string: as it stands
      sink.put(conversion, static_cast<std::size_t>(s - conversion));
      break;
    }
    ++s;
    switch (c) {
      case 'd':
      case 'i': {
        long long v;
        switch (length) {
          case Length::hh:
            v = static_cast<signed char>(va_arg(ap, int));
            break;
          case Length::h:
            v = static_cast<short>(va_arg(ap, int));
            break;
          case Length::l:
            v = va_arg(ap, long);
            break;
          case Length::ll:
            v = va_arg(ap, long long);
            break;
          case Length::z:
            v = va_arg(ap, long);
            break;  // ssize_t
          case Length::j:
            v = va_arg(ap, std::intmax_t);
            break;
          case Length::t:
            v = va_arg(ap, std::ptrdiff_t);
            break;
          default:
            v = va_arg(ap, int);
            break;
        }
        spec.type = 'd';
        format_int(sink, spec, v < 0 ? 0 - static_cast<std::uint64_t>(v) : v, v < 0);
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        unsigned long long v;
        switch (length) {
          case Length::hh:
            v = static_cast<unsigned char>(va_arg(ap, unsigned));
            break;
          case Length::h:
            v = static_cast<unsigned short>(va_arg(ap, unsigned));
            break;
          case Length::l:
            v = va_arg(ap, unsigned long);
            break;
          case Length::ll:
            v = va_arg(ap, unsigned long long);
            break;
          case Length::z:
            v = va_arg(ap, std::size_t);
            break;
          case Length::j:
            v = va_arg(ap, std::uintmax_t);
            break;
          case Length::t:
            v = static_cast<std::make_unsigned_t<std::ptrdiff_t>>(va_arg(ap, std::ptrdiff_t));
            break;
          default:
            v = va_arg(ap, unsigned);
            break;
        }
        spec.type = c == 'u' ? 'd' : c;
        spec.sign = 0;  // printf's '+' and ' ' are for signed conversions
        format_int(sink, spec, v, false);
        break;
      }
      case 'c': {
        if (length != Length::none) goto unknown;
        char ch = static_cast<char>(va_arg(ap, int));
        spec.precision = -1;
        format_string(sink, spec, &ch, 1);
        break;
      }
      case 's': {
        if (length != Length::none) goto unknown;
        const char* text = va_arg(ap, const char*);
        if (text == nullptr) {
          // glibc prints "(null)", or nothing when the precision is too small for it.
          text = spec.precision >= 0 && spec.precision < 6 ? "" : "(null)";
        }
        std::size_t n = 0;
        // Only as far as the precision: the array need not be NUL-terminated.
        std::size_t limit =
            spec.precision >= 0 ? static_cast<std::size_t>(spec.precision) : SIZE_MAX;
        while (n < limit && text[n] != '\0') ++n;
        format_string(sink, spec, text, n);
        break;
      }
      case 'p': {
        if (length != Length::none) goto unknown;
        spec.precision = -1;
        format_pointer(sink, spec, va_arg(ap, void*));
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (length != Length::none && length != Length::l) goto unknown;
        spec.type = c;
        format_float(sink, spec, va_arg(ap, double));
        break;
      }
      case '%':
        sink.put('%');
        break;
      default:
      unknown:
        sink.put(conversion, static_cast<std::size_t>(s - conversion));
        break;
    }
  }
}

}  // namespace
}  // namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE::fmt

using rawthread::detail::fmt::Sink;

extern "C" int rawthread_vsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
  Sink sink;
  sink.buf = buf;
  sink.cap = buf != nullptr && size > 0 ? size - 1 : 0;
  rawthread::detail::fmt::vprintf_to(sink, fmt, ap);
  if (buf != nullptr && size > 0) buf[sink.used] = '\0';
  return sink.total > INT_MAX ? -EOVERFLOW : static_cast<int>(sink.total);
}

extern "C" int rawthread_snprintf(char* buf, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int result = rawthread_vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return result;
}

extern "C" int rawthread_vdprintf(int fd, const char* fmt, va_list ap) {
  char buffer[1024];
  Sink sink;
  sink.buf = buffer;
  sink.cap = sizeof buffer;
  sink.fd = fd;
  rawthread::detail::fmt::vprintf_to(sink, fmt, ap);
  sink.flush();
  if (sink.error != 0) return static_cast<int>(sink.error);
  return sink.total > INT_MAX ? -EOVERFLOW : static_cast<int>(sink.total);
}

extern "C" int rawthread_dprintf(int fd, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int result = rawthread_vdprintf(fd, fmt, ap);
  va_end(ap);
  return result;
}
