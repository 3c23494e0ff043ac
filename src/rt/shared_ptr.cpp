// SPDX-License-Identifier: MIT
// What the reference counts of libstdc++'s headers (std::shared_ptr,
// std::weak_ptr) call out of line: __libc_single_threaded, the out-of-line
// atomic adds of targets whose libstdc++ was configured without atomic
// builtins, and _Sp_make_shared_tag::_S_eq.
#include <ext/atomicity.h>

#include <memory>
#include <typeinfo>

// Read by __gnu_cxx::__is_single_threaded() before every count update: 1
// lets the headers update counts with plain loads and stores. glibc sets it
// to 1 and clears it when pthread_create starts the second thread. Here it
// is 0 always, and every update is atomic: rawthread's threads start in the
// core (librawthread.a, the same for hosted programs, where the variable is
// libc's and the core may not name it), so clearing it at the first start
// would need a hook on the start path of every program for a saving of a
// few cycles per count update in programs that never start a thread. And a
// stale 1 is never harmless: a count updated non-atomically while a second
// thread runs is a use-after-free.
extern "C" {
char __libc_single_threaded = 0;
}

#ifndef _GLIBCXX_ATOMIC_BUILTINS
// Debian's riscv64 GCC 12 configured libstdc++ without _GLIBCXX_ATOMIC_BUILTINS,
// so its headers call these out of line; libstdc++.a's atomicity.o
// serialises them with a pthread mutex. The ordering of the builtin version
// the other targets inline: acq_rel, so the release of the last reference
// sees every write made through the others.
namespace __gnu_cxx {

_Atomic_word __exchange_and_add(volatile _Atomic_word* word, int value) noexcept {
  return __atomic_fetch_add(word, value, __ATOMIC_ACQ_REL);
}

void __atomic_add(volatile _Atomic_word* word, int value) noexcept {
  __atomic_fetch_add(word, value, __ATOMIC_ACQ_REL);
}

}  // namespace __gnu_cxx
#endif

namespace std {

// Asked by the control block of make_shared / allocate_shared (a virtual
// function, so every such program names it) whether a type_info is
// _Sp_make_shared_tag's, when it is not the tag's own stand-in object that
// the headers compare by address first. Only code built with RTTI passes a
// real type_info (std::get_deleter, which needs typeid), and a program with
// this runtime has no RTTI: there is no C++ ABI library, so no type_info
// vtable for such code to link with. No real type_info can be the tag's:
// false, as libstdc++ answers when it is itself built without RTTI.
bool _Sp_make_shared_tag::_S_eq(const type_info&) noexcept { return false; }

}  // namespace std
