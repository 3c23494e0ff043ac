// SPDX-License-Identifier: MIT
// The replaceable operator delete forms: all of them free().
//
// A class with a virtual destructor names operator delete in its vtable
// even in a program that never allocates, so these must not pull the heap
// into such a program: they reach free() through a weak reference, which
// a static link resolves only when something else (malloc, operator new)
// brought the heap in. Without a heap no pointer but null can reach them.
#include <cstddef>
#include <new>

#include "rt.hpp"

extern "C" [[gnu::weak]] void free(void* ptr) noexcept;

namespace {

void release(void* ptr) noexcept {
  if (ptr == nullptr) return;
  if (&free == nullptr) rawthread::rt::die("operator delete: there is no heap\n");
  free(ptr);
}

}  // namespace

void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
