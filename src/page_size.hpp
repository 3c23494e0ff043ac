// SPDX-License-Identifier: MIT
// The kernel's page size: the unit of stack and guard sizes.
#pragma once

#include <cstddef>

namespace rawthread {

// AT_PAGESZ from the auxiliary vector, read once. aarch64 kernels run with 4,
// 16 or 64 KiB pages, so it is never assumed.
std::size_t page_size() noexcept;

}  // namespace rawthread
