// SPDX-License-Identifier: MIT
// __tls_get_addr: general-dynamic TLS access in a static program.
//
// Code built with -fPIC reaches a thread_local through __tls_get_addr. A
// static link usually rewrites such accesses into direct ones (x86_64, and
// aarch64's TLS descriptors), but not on riscv64, where a PIC object in a
// static program still calls it. The program has one module, its TLS block
// at a fixed place from the thread pointer, so the answer is arithmetic.
#include <cstdint>

#include "arch.hpp"
#include "hooks.hpp"

namespace {
struct TlsIndex {
  unsigned long module;  // always 1: the executable
  unsigned long offset;  // from the TLS block's start, less arch::kDtvOffset
};
}  // namespace

extern "C" void* __tls_get_addr(const TlsIndex* index) noexcept {
  using namespace rawthread;
  const hooks::TlsImage& image = hooks::tls_image;
  std::uintptr_t block = arch::thread_pointer() + arch::tls_offset(image.memsz, image.align);
  return reinterpret_cast<void*>(block + index->offset + arch::kDtvOffset);
}
