// The thread pointer area: see tls.hpp.
#include "tls.hpp"

#include "control.hpp"
#include "runtime.hpp"

namespace rawthread {

namespace runtime {
TlsImage tls_image{nullptr, 0, 0, 1};
}

namespace tls {
namespace {

// Byte loops the compiler must not turn into memcpy/memset calls: the core
// links against no library. TLS images are small; this runs once per thread.
void copy_bytes(unsigned char* to, const unsigned char* from, std::size_t size) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    to[i] = from[i];
    __asm__("" ::: "memory");
  }
}
void zero_bytes(unsigned char* to, std::size_t size) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    to[i] = 0;
    __asm__("" ::: "memory");
  }
}

// tp is aligned to the TLS block's alignment (every variant requires it) and
// to the control block's.
std::size_t tp_align() noexcept {
  std::size_t align = runtime::tls_image.align;
  return align > control::kBlockAlign ? align : control::kBlockAlign;
}

struct Extent {
  std::size_t below;  // bytes the area takes below tp
  std::size_t above;  // and from tp up
};

Extent extent() noexcept {
  const runtime::TlsImage& image = runtime::tls_image;
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
  const runtime::TlsImage& image = runtime::tls_image;
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
