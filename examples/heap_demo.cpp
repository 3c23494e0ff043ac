// SPDX-License-Identifier: MIT
// heap_demo: the C++ standard library's containers in a program with no libc,
// linked with librawthread_rt (its heap and what libstdc++'s headers need).
//
//   1. a std::vector<int> grows to 1,000 squares;
//   2. a std::map<std::string, int> counts the words of a sentence;
//   3. a std::string is built from the map, in the map's (sorted) order;
//   4. new and delete: a small linked list, made and taken down.
//
// Printed with rawthread::sys, since there is no printf. Exits 0 when every
// result is the expected one. The same object file also links against glibc
// and musl, statically (scripts/sizes compares the three): it uses no
// thread, so it never runs a libc's malloc on a thread the libc does not know.
#include <rawthread/sys.hpp>

#include <map>
#include <string>
#include <vector>

namespace sys = rawthread::sys;

namespace {

int failures = 0;

void say(const char* text) { (void)sys::write_str(1, text); }
void say(long long value) { (void)sys::write_int(1, value); }

void check(bool ok, const char* what) {
  say(ok ? "  [ ok ] " : "  [FAIL] "), say(what), say("\n");
  if (!ok) ++failures;
}

struct Node {
  int value;
  Node* next;
};

}  // namespace

int main() {
  say("1. std::vector<int>\n");
  std::vector<int> squares;
  for (int i = 0; i < 1000; ++i) squares.push_back(i * i);
  long long sum = 0;
  for (int square : squares) sum += square;
  say("  1,000 squares, sum "), say(sum), say("\n");
  check(squares.size() == 1000 && sum == 332833500, "the vector holds every square");

  say("2. std::map<std::string, int>\n");
  const char* text = "the quick brown fox jumps over the lazy dog and the end";
  std::map<std::string, int> counts;
  for (const char* word = text; *word;) {
    const char* end = word;
    while (*end && *end != ' ') ++end;
    ++counts[std::string(word, end)];
    word = *end ? end + 1 : end;
  }
  check(counts.size() == 10 && counts["the"] == 3 && counts["fox"] == 1, "10 words, \"the\" 3 times");

  say("3. std::string\n");
  std::string joined;
  for (const auto& [word, count] : counts) {
    if (!joined.empty()) joined += ' ';
    joined += word;
    joined += '=';
    joined += static_cast<char>('0' + count);
  }
  say("  "), say(joined.c_str()), say("\n");
  check(joined.rfind("and=1 brown=1", 0) == 0 && joined.find("the=3") != std::string::npos,
        "the words in sorted order");

  say("4. new and delete\n");
  Node* list = nullptr;
  for (int i = 0; i < 100; ++i) list = new Node{i, list};
  int taken = 0;
  while (list) {
    Node* next = list->next;
    taken += list->value;
    delete list;
    list = next;
  }
  check(taken == 4950, "100 nodes made and deleted");

  say(failures == 0 ? "heap_demo: all good\n" : "heap_demo: FAILED\n");
  return failures == 0 ? 0 : 1;
}
