// page_size(): AT_PAGESZ, from the auxiliary vector the freestanding start-up
// found, or read from /proc/self/auxv with raw system calls (a hosted
// program's auxiliary vector is not reachable without libc).
#include "page_size.hpp"

#include <linux/auxvec.h>
#include <linux/fcntl.h>

#include <atomic>

#include "kernel.hpp"
#include "runtime.hpp"

namespace rawthread {

namespace runtime {
const unsigned long* auxv = nullptr;
}

namespace {

// Without /proc, assume the largest page any supported arch uses: a guard and
// a stack rounded to 64 KiB are still whole pages of a smaller size.
constexpr std::size_t kLargestPage = 64 * 1024;

std::size_t read_auxv_page_size() noexcept {
  long fd = kernel::openat(AT_FDCWD, "/proc/self/auxv", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::size_t found = 0;
  unsigned long entries[32][2];  // (type, value) pairs; reads keep pairs whole
  for (;;) {
    long got = kernel::read(static_cast<int>(fd), entries, sizeof entries);
    if (got <= 0) break;
    for (long i = 0; i < got / static_cast<long>(sizeof entries[0]); ++i)
      if (entries[i][0] == AT_PAGESZ) found = entries[i][1];
    if (found != 0) break;
  }
  kernel::close(static_cast<int>(fd));
  return found;
}

}  // namespace

std::size_t page_size() noexcept {
  static std::atomic<std::size_t> cached{0};
  std::size_t size = cached.load(std::memory_order_relaxed);
  if (size == 0) {
    size = runtime::auxv != nullptr ? runtime::aux_value(runtime::auxv, AT_PAGESZ)
                                  : read_auxv_page_size();
    if (size == 0 || (size & (size - 1)) != 0) size = kLargestPage;
    cached.store(size, std::memory_order_relaxed);
  }
  return size;
}

}  // namespace rawthread
