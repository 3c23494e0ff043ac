// SPDX-License-Identifier: MIT
// The thread pointer area: see tls.hpp.
#include "tls.hpp"

#include <cstdint>

#include "control.hpp"
#include "hooks.hpp"

namespace rawthread {

namespace tls {
namespace {

// Loops the compiler must not turn into memcpy/memset calls (the empty asm
// with a memory clobber in each turn): the core links against no library.
// TLS images are small; this runs once per thread.
void copy_bytes(unsigned char* to, const unsigned char* from, std::size_t size) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    to[i] = from[i];
    __asm__("" ::: "memory");
  }
}

// A word that may alias whatever the zeroed bytes hold (the control block's
// fields).
using Word [[gnu::may_alias]] = std::uintptr_t;

// A word at a time where aligned: byte by byte, zeroing a reused control
// block was most of the instructions a start and join make (the figures:
// docs/performance.md).
void zero_bytes(unsigned char* to, std::size_t size) noexcept {
  std::size_t i = 0;
  for (; i < size && reinterpret_cast<std::uintptr_t>(to + i) % sizeof(Word) != 0; ++i) {
    to[i] = 0;
    __asm__("" ::: "memory");
  }
  for (; i + sizeof(Word) <= size; i += sizeof(Word)) {
    *reinterpret_cast<Word*>(to + i) = 0;
    __asm__("" ::: "memory");
  }
  for (; i < size; ++i) {
    to[i] = 0;
    __asm__("" ::: "memory");
  }
}

// tp is aligned to the TLS block's alignment (every variant requires it) and
// to the control block's.
std::size_t tp_align() noexcept {
  std::size_t align = hooks::tls_image.align;
  return align > control::kBlockAlign ? align : control::kBlockAlign;
}

struct Extent {
  std::size_t below;  // bytes the area takes below tp
  std::size_t above;  // and from tp up
};

Extent extent() noexcept {
  const hooks::TlsImage& image = hooks::tls_image;
  long start = arch::tls_offset(image.memsz, image.align);
  long end = start + static_cast<long>(image.memsz);
  auto below = static_cast<std::size_t>(start < 0 ? -start : 0);
  auto above = static_cast<std::size_t>(end > 0 ? end : 0);
  return {below > control::kBelowTp ? below : control::kBelowTp,
          above > control::kAboveTp ? above : control::kAboveTp};
}

}  // namespace

std::size_t area_size() noexcept {
  Extent e = extent();
  return e.below + e.above + tp_align() - 1;
}

std::uintptr_t build(std::uintptr_t top, bool zeroed, std::uintptr_t* low) noexcept {
  const hooks::TlsImage& image = hooks::tls_image;
  Extent e = extent();
  std::uintptr_t tp = (top - e.above) & ~static_cast<std::uintptr_t>(tp_align() - 1);
  *low = tp - e.below;
  auto* block = reinterpret_cast<unsigned char*>(tp + arch::tls_offset(image.memsz, image.align));
  copy_bytes(block, image.data, image.filesz);
  if (!zeroed) {
    zero_bytes(reinterpret_cast<unsigned char*>(tp - control::kBelowTp), control::kBlockSize);
    zero_bytes(block + image.filesz, image.memsz - image.filesz);
  }
  return tp;
}

}  // namespace tls
}  // namespace rawthread
