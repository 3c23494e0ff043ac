// SPDX-License-Identifier: MIT
// The replaceable operator new forms (the C++ standard's [new.delete]) on
// the runtime's heap, std::nothrow and the new-handler.
//
// There are no exceptions: where the standard says a throwing new throws
// bad_alloc, it prints why and aborts, after the new-handler (if one is
// set) had its chances to free memory, as libstdc++'s new_op.cc loops. A
// nothrow new returns null instead.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "rt.hpp"

namespace rawthread::heap {
void* alloc_aligned(std::size_t size, std::size_t align) noexcept;
}

namespace std {
const nothrow_t nothrow{};
}

namespace {

std::atomic<std::new_handler> handler{nullptr};

void* allocate(std::size_t size, std::size_t align) noexcept {
  return align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__ ? std::malloc(size)
                                                   : rawthread::heap::alloc_aligned(size, align);
}

void* allocate_or_die(std::size_t size, std::size_t align) noexcept {
  for (;;) {
    if (void* p = allocate(size, align)) return p;
    std::new_handler h = handler.load(std::memory_order_acquire);
    if (h == nullptr) rawthread::rt::die("operator new: out of memory\n");
    h();
  }
}

}  // namespace

std::new_handler std::set_new_handler(std::new_handler h) noexcept {
  return handler.exchange(h, std::memory_order_acq_rel);
}
std::new_handler std::get_new_handler() noexcept { return handler.load(std::memory_order_acquire); }

void* operator new(std::size_t size) { return allocate_or_die(size, 0); }
void* operator new[](std::size_t size) { return allocate_or_die(size, 0); }
void* operator new(std::size_t size, std::align_val_t align) {
  return allocate_or_die(size, static_cast<std::size_t>(align));
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return allocate_or_die(size, static_cast<std::size_t>(align));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate(size, 0); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate(size, 0); }
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocate(size, static_cast<std::size_t>(align));
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocate(size, static_cast<std::size_t>(align));
}
