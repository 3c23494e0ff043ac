// SPDX-License-Identifier: MIT
// memcpy, memmove, memset, memcmp, strlen: the compiler emits calls to these
// for struct copies, zeroing and loops it recognises, even with
// -ffreestanding, so a program without libc needs them. memchr, and bcmp
// (Clang's call for a memcmp whose result is only compared with zero): what
// std::char_traits<char> calls, so std::string's find and comparisons. Built with -fno-builtin (and GCC's
// -fno-tree-loop-distribute-patterns) so that these loops do not become calls
// to themselves.
//
// Word at a time where both sides allow it, bytes for the rest: small, and
// fast enough for the copies a firmware program's compiler makes.
#include <cstddef>
#include <cstdint>

namespace {

// A word that may alias anything, so copying through it is not undefined.
using Word [[gnu::may_alias]] = std::uintptr_t;
constexpr std::size_t kWord = sizeof(Word);

bool aligned(const void* a, const void* b) noexcept {
  return ((reinterpret_cast<std::uintptr_t>(a) | reinterpret_cast<std::uintptr_t>(b)) &
          (kWord - 1)) == 0;
}

}  // namespace

extern "C" {

void* memcpy(void* __restrict to, const void* __restrict from, std::size_t size) noexcept {
  auto* d = static_cast<unsigned char*>(to);
  const auto* s = static_cast<const unsigned char*>(from);
  if (aligned(d, s))
    for (; size >= kWord; size -= kWord, d += kWord, s += kWord)
      *reinterpret_cast<Word*>(d) = *reinterpret_cast<const Word*>(s);
  for (; size > 0; --size) *d++ = *s++;
  return to;
}

// Forward when the destination is below the source: each word is read before
// the store that could overlap it. Backward otherwise.
void* memmove(void* to, const void* from, std::size_t size) noexcept {
  auto* d = static_cast<unsigned char*>(to);
  const auto* s = static_cast<const unsigned char*>(from);
  if (d == s || size == 0) return to;
  if (d < s) {
    if (aligned(d, s))
      for (; size >= kWord; size -= kWord, d += kWord, s += kWord)
        *reinterpret_cast<Word*>(d) = *reinterpret_cast<const Word*>(s);
    for (; size > 0; --size) *d++ = *s++;
  } else {
    d += size;
    s += size;
    if (aligned(d, s))
      for (; size >= kWord; size -= kWord)
        *reinterpret_cast<Word*>(d -= kWord) = *reinterpret_cast<const Word*>(s -= kWord);
    for (; size > 0; --size) *--d = *--s;
  }
  return to;
}

void* memset(void* to, int value, std::size_t size) noexcept {
  auto* d = static_cast<unsigned char*>(to);
  const auto byte = static_cast<unsigned char>(value);
  for (; size > 0 && (reinterpret_cast<std::uintptr_t>(d) & (kWord - 1)) != 0; --size) *d++ = byte;
  const Word fill = byte * (~Word{0} / 0xff);  // the byte in every byte of a word
  for (; size >= kWord; size -= kWord, d += kWord) *reinterpret_cast<Word*>(d) = fill;
  for (; size > 0; --size) *d++ = byte;
  return to;
}

int memcmp(const void* a, const void* b, std::size_t size) noexcept {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (; size > 0; --size, ++x, ++y)
    if (*x != *y) return *x < *y ? -1 : 1;
  return 0;
}

// Only whether the two differ: memcmp answers that too.
int bcmp(const void* a, const void* b, std::size_t size) noexcept { return memcmp(a, b, size); }

void* memchr(const void* from, int value, std::size_t size) noexcept {
  const auto* p = static_cast<const unsigned char*>(from);
  const auto byte = static_cast<unsigned char>(value);
  for (; size > 0; --size, ++p)
    if (*p == byte) return const_cast<unsigned char*>(p);
  return nullptr;
}

std::size_t strlen(const char* text) noexcept {
  const char* end = text;
  while (*end != '\0') ++end;
  return static_cast<std::size_t>(end - text);
}

}  // extern "C"
