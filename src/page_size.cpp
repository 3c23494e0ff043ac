// SPDX-License-Identifier: MIT
// page_size(): AT_PAGESZ from the auxiliary vector, read once.
#include "page_size.hpp"

#include <linux/auxvec.h>

#include <atomic>

#include "auxv.hpp"

namespace rawthread {

namespace {

// Without /proc, assume the largest page any supported arch uses: a guard and
// a stack rounded to 64 KiB are still whole pages of a smaller size.
constexpr std::size_t kLargestPage = 64 * 1024;

}  // namespace

std::size_t page_size() noexcept {
  static std::atomic<std::size_t> cached{0};
  std::size_t size = cached.load(std::memory_order_relaxed);
  if (size == 0) {
    size = auxv::value(AT_PAGESZ);
    if (size == 0 || (size & (size - 1)) != 0) size = kLargestPage;
    cached.store(size, std::memory_order_relaxed);
  }
  return size;
}

}  // namespace rawthread
