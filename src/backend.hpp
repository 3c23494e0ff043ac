// SPDX-License-Identifier: MIT
// Which backend this library is: real threads on clone(), or Python's
// _dummy_thread (-Dthread_backend=dummy), which runs a started function to
// completion inside start_new_thread.
//
// The core branches on it with `if constexpr`, never `#if`, so the dummy
// backend's lines are compiled, and type-checked, in every build. A call in a
// discarded branch needs no definition: the real backend links without the
// dummy's functions (src/dummy/), and the dummy without the real one's.
#pragma once

#ifndef RAWTHREAD_BACKEND_DUMMY
#error "RAWTHREAD_BACKEND_DUMMY must be 0 or 1 (meson.build sets it from -Dthread_backend)"
#endif

namespace rawthread::backend {

inline constexpr bool kDummy = RAWTHREAD_BACKEND_DUMMY != 0;

}  // namespace rawthread::backend
