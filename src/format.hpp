// SPDX-License-Identifier: MIT
// The formatter's engines, shared by sys::format_to / print (format.cpp) and
// rawthread_snprintf / dprintf (printf.cpp): one for integers, one for
// floats (format_float.cpp), padding, and the sink they write to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <rawthread/format.hpp>

namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE::fmt {

// Where the text goes: a caller's buffer (snprintf: what does not fit is
// counted and dropped), or a buffer flushed to a file descriptor when full.
struct Sink {
  char* buf = nullptr;
  std::size_t cap = 0;    // bytes buf holds (for a buffer: its size less the NUL)
  std::size_t used = 0;   // bytes in buf
  std::size_t total = 0;  // bytes of the whole text
  int fd = -1;            // >= 0: flush to it when full
  long error = 0;         // the first failed write's -errno; later text is dropped

  void put(const char* s, std::size_t n) noexcept;
  void put(char c) noexcept { put(&c, 1); }
  void repeat(char c, std::size_t n) noexcept;
  void flush() noexcept;
};

// Pads prefix+body to spec.width: `default_align` when spec has none, zeros
// after the prefix when `zero_pad` (std::format's '0', printf's '0' flag).
void put_padded(Sink& sink, const Spec& spec, const char* prefix, std::size_t prefix_len,
                const char* body, std::size_t body_len, char default_align, bool zero_pad) noexcept;

void format_int(Sink& sink, const Spec& spec, std::uint64_t magnitude, bool negative) noexcept;
void format_string(Sink& sink, const Spec& spec, const char* s, std::size_t n) noexcept;
void format_pointer(Sink& sink, const Spec& spec, const void* p) noexcept;
void format_float(Sink& sink, const Spec& spec, double value) noexcept;

}  // namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE::fmt
