// SPDX-License-Identifier: MIT
// environ and getenv(), declared as C declares them (<unistd.h>, <stdlib.h>).
// The start-up points environ at the initial stack's environment block.
// Nothing here changes the environment (there is no setenv), so a scan needs
// no lock and no allocation.
//
// <stdlib.h> is not included: glibc's declares getenv's name nonnull, and
// the compiler would then drop the check for null that this getenv makes.
extern "C" {

char** environ = nullptr;
char* getenv(const char* name) noexcept;

// NULL for a null or empty name and for one with '=' in it, which no entry
// can match as a name (POSIX leaves them unspecified; glibc returns NULL).
char* getenv(const char* name) noexcept {
  if (name == nullptr || *name == '\0') return nullptr;
  for (const char* c = name; *c != '\0'; ++c)
    if (*c == '=') return nullptr;
  if (environ == nullptr) return nullptr;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const char* e = *entry;
    const char* n = name;
    while (*n != '\0' && *e == *n) ++e, ++n;
    if (*n == '\0' && *e == '=') return const_cast<char*>(e + 1);
  }
  return nullptr;
}

}  // extern "C"
