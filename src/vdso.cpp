// SPDX-License-Identifier: MIT
// vdso::clock_gettime: see vdso.hpp.
//
// The vDSO is a small shared object the kernel maps into every process: its
// clock_gettime reads the clock from a page the kernel keeps up to date, in
// tens of nanoseconds where the system call takes hundreds. It is found from
// AT_SYSINFO_EHDR and looked up as a dynamic linker would, through its
// dynamic section: the symbol table, its string table and its hash table,
// which gives the number of symbols. The name differs per arch
// (arch/<arch>/vdso.hpp). Symbol versions are not checked: each vDSO has one
// clock_gettime, under one version.
#include "vdso.hpp"

#include <linux/auxvec.h>
#include <linux/elf.h>

#include <atomic>
#include <cstdint>

#include "arch.hpp"
#include "auxv.hpp"

namespace rawthread::vdso {
namespace {

// The C ABI's int clock_gettime(clockid_t, struct timespec*): an int, whose
// upper register half is undefined on return.
using ClockGettime = int (*)(int, kernel::Timespec*);

constexpr long kDtGnuHash = 0x6ffffef5;  // not in the UAPI headers

// A symbol's name against the one looked for: a lookup by name, as a dynamic
// linker's, ends in comparing the text (there is no libc strcmp here).
bool same(const char* a, const char* b) noexcept {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// How many symbols a DT_GNU_HASH table covers: past the highest bucket's
// chain, whose last entry has the low bit set.
std::uint32_t gnu_hash_count(const std::uint32_t* table) noexcept {
  const std::uint32_t nbuckets = table[0], symoffset = table[1], bloom_size = table[2];
  const std::uint32_t* buckets = table + 4 + bloom_size * (sizeof(std::uintptr_t) / 4);
  const std::uint32_t* chains = buckets + nbuckets;
  std::uint32_t last = 0;
  for (std::uint32_t i = 0; i < nbuckets; ++i)
    if (buckets[i] > last) last = buckets[i];
  if (last < symoffset) return symoffset;
  while ((chains[last - symoffset] & 1) == 0) ++last;
  return last + 1;
}

void* find(std::uintptr_t base, const char* name) noexcept {
  const auto* ehdr = reinterpret_cast<const Elf64_Ehdr*>(base);
  const auto* phdr = reinterpret_cast<const Elf64_Phdr*>(base + ehdr->e_phoff);
  // Addresses in the object are link-time ones: the first PT_LOAD, at file
  // offset 0, is where `base` is.
  std::uintptr_t bias = base;
  const Elf64_Dyn* dynamic = nullptr;
  bool loaded = false;
  for (int i = 0; i < ehdr->e_phnum; ++i) {
    if (phdr[i].p_type == PT_LOAD && !loaded) {
      bias = base + phdr[i].p_offset - phdr[i].p_vaddr;
      loaded = true;
    }
    if (phdr[i].p_type == PT_DYNAMIC) dynamic = reinterpret_cast<const Elf64_Dyn*>(phdr[i].p_vaddr);
  }
  if (dynamic == nullptr) return nullptr;
  dynamic = reinterpret_cast<const Elf64_Dyn*>(bias + reinterpret_cast<std::uintptr_t>(dynamic));

  const Elf64_Sym* symbols = nullptr;
  const char* strings = nullptr;
  std::uint32_t count = 0;
  for (const Elf64_Dyn* d = dynamic; d->d_tag != DT_NULL; ++d) {
    const std::uintptr_t at = bias + d->d_un.d_ptr;
    if (d->d_tag == DT_SYMTAB) symbols = reinterpret_cast<const Elf64_Sym*>(at);
    if (d->d_tag == DT_STRTAB) strings = reinterpret_cast<const char*>(at);
    if (d->d_tag == DT_HASH) count = reinterpret_cast<const std::uint32_t*>(at)[1];  // nchain
    if (d->d_tag == kDtGnuHash && count == 0)
      count = gnu_hash_count(reinterpret_cast<const std::uint32_t*>(at));
  }
  if (symbols == nullptr || strings == nullptr) return nullptr;
  for (std::uint32_t i = 0; i < count; ++i) {
    const Elf64_Sym& s = symbols[i];
    if (ELF64_ST_TYPE(s.st_info) == STT_FUNC && s.st_shndx != SHN_UNDEF &&
        same(strings + s.st_name, name))
      return reinterpret_cast<void*>(bias + s.st_value);
  }
  return nullptr;
}

int by_syscall(int clock, kernel::Timespec* now) {
  return static_cast<int>(kernel::clock_gettime(clock, now));
}

// Looks the function up on the first call and calls it; every later call
// goes to it directly. Racing first calls find the same pointer.
int look_up(int clock, kernel::Timespec* now);

std::atomic<ClockGettime> clock_gettime_fn{look_up};

int look_up(int clock, kernel::Timespec* now) {
  ClockGettime fn = by_syscall;
  if (std::uintptr_t base = auxv::value(AT_SYSINFO_EHDR))
    if (void* found = find(base, arch::kVdsoClockGettime))
      fn = reinterpret_cast<ClockGettime>(found);
  clock_gettime_fn.store(fn, std::memory_order_relaxed);
  return fn(clock, now);
}

}  // namespace

long clock_gettime(int clock, kernel::Timespec* now) noexcept {
  return clock_gettime_fn.load(std::memory_order_relaxed)(clock, now);
}

}  // namespace rawthread::vdso
