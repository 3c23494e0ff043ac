// SPDX-License-Identifier: MIT
// rawthread_start: from the kernel's initial stack to main(), with no libc.
//
// arch/<arch>/start.S (_start) calls it with the initial stack pointer:
//
//   sp -> argc, argv[0..argc-1], NULL, envp[...], NULL, auxv (type, value)...
//
// In order: find the auxiliary vector, give the main thread its TLS and
// thread pointer, seed the stack protector, run the static constructors, run
// main, and hand its result to exit().
#include <linux/auxvec.h>
#include <linux/elf.h>
#include <linux/mman.h>

#include <cstddef>
#include <cstdint>

#include <rawthread/sys.hpp>

#include "arch.hpp"
#include "hooks.hpp"
#include "kernel.hpp"
#include "rt.hpp"
#include "tls.hpp"

// Linker-defined bounds of the constructor arrays (GNU ld and lld both
// provide them in a static link).
extern "C" {
using InitFunction = void (*)(int, char**, char**);
[[gnu::visibility("hidden")]] extern InitFunction __preinit_array_start[];
[[gnu::visibility("hidden")]] extern InitFunction __preinit_array_end[];
[[gnu::visibility("hidden")]] extern InitFunction __init_array_start[];
[[gnu::visibility("hidden")]] extern InitFunction __init_array_end[];
}

// The program's main. C++ forbids naming ::main, so it is reached through
// another name for the same symbol. Every form of main may be called with
// (argc, argv, envp) on the ABIs supported.
extern "C" int rawthread_program_main(int, char**, char**) __asm__("main");

// <unistd.h>'s, defined in environ.cpp.
extern "C" char** environ;

namespace rawthread::rt {
namespace {

// Finds PT_TLS through the program headers the kernel mapped (AT_PHDR). The
// load bias, zero in a static executable and not in a static PIE, is where
// PT_PHDR says the headers should be against where they are.
void find_tls(const unsigned long* auxv) noexcept {
  const auto* phdr = reinterpret_cast<const Elf64_Phdr*>(hooks::aux_value(auxv, AT_PHDR));
  const unsigned long count = hooks::aux_value(auxv, AT_PHNUM);
  std::uintptr_t bias = 0;
  const Elf64_Phdr* tls = nullptr;
  for (unsigned long i = 0; i < count; ++i) {
    if (phdr[i].p_type == PT_PHDR) bias = reinterpret_cast<std::uintptr_t>(phdr) - phdr[i].p_vaddr;
    if (phdr[i].p_type == PT_TLS) tls = &phdr[i];
  }
  if (tls == nullptr) return;
  hooks::tls_image = {
      reinterpret_cast<const unsigned char*>(bias + tls->p_vaddr),
      tls->p_filesz,
      tls->p_memsz,
      tls->p_align != 0 ? tls->p_align : 1,
  };
}

// The largest TLS area built on the initial stack. Bigger ones get a mapping
// of their own: the stack's limit (8 MiB by default, and QEMU user mode's
// guest stack is a fixed 8 MiB) would end the process before main, and a
// large area there would leave main's own frames that much less. Below it,
// which is every program without large thread_local arrays, alloca costs no
// system call.
constexpr std::size_t kMaxTlsOnStack = 64 * 1024;

// A mapping for the main thread's TLS area, or the end of the process: there
// is no way to run the program without it. Fresh anonymous memory, zeroed.
unsigned char* map_tls(std::size_t size) noexcept {
  long mapped = kernel::mmap(size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (kernel::failed(mapped)) {
    // Nothing here reads TLS or the canary: neither exists yet.
    (void)sys::write_str(2, "rawthread: cannot map the main thread's TLS (");
    (void)sys::write_int(2, static_cast<long long>(size));
    (void)sys::write_str(2, " bytes)\n");
    kernel::exit_group(127);
  }
  return reinterpret_cast<unsigned char*>(mapped);
}

void run_all(InitFunction* begin, InitFunction* end, int argc, char** argv, char** envp) {
  for (InitFunction* f = begin; f != end; ++f) (*f)(argc, argv, envp);
}

}  // namespace
}  // namespace rawthread::rt

// Built without the stack protector (it installs the canary), and never
// returns, so its frame, which holds a small main thread TLS area, lives as
// long as the process. (Declared in arch.hpp, for start.S.)
extern "C" [[gnu::used]] void rawthread_start(long* sp) noexcept {
  using namespace rawthread;
  const int argc = static_cast<int>(sp[0]);
  char** argv = reinterpret_cast<char**>(sp + 1);
  char** envp = argv + argc + 1;
  char** end_of_env = envp;
  while (*end_of_env != nullptr) ++end_of_env;
  const auto* auxv = reinterpret_cast<const unsigned long*>(end_of_env + 1);
  hooks::auxv = auxv;
  environ = envp;
  rt::find_tls(auxv);

  // The main thread's TLS and control block live in this frame, on the
  // initial stack (no heap, no fixed-size buffer to outgrow), or when they
  // are too big for it in a mapping of their own, never unmapped.
  const std::size_t area_size = tls::area_size();
  const bool on_stack = area_size <= rt::kMaxTlsOnStack;
  // alloca's memory lasts until the function returns: for ever.
  auto* area = on_stack ? static_cast<unsigned char*>(__builtin_alloca(area_size))
                        : rt::map_tls(area_size);
  std::uintptr_t low = 0;
  std::uintptr_t tp = tls::build(reinterpret_cast<std::uintptr_t>(area) + area_size,
                                 /*zeroed=*/!on_stack, &low);

  // AT_RANDOM: 16 bytes the kernel drew for this process.
  std::uint64_t random[2] = {0, 0};
  if (unsigned long at = hooks::aux_value(auxv, AT_RANDOM)) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(at);
    for (int i = 0; i < 16; ++i)
      random[i / 8] = (random[i / 8] << 8) | bytes[i];
  }
  rt::stack_guard_init(random[0]);
  arch::init_first_tcb(tp, random);
  arch::set_thread_pointer(tp);

  rt::run_all(__preinit_array_start, __preinit_array_end, argc, argv, envp);
  rt::run_all(__init_array_start, __init_array_end, argc, argv, envp);
  rt::exit_process(rawthread_program_main(argc, argv, envp));
}
