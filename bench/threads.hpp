// SPDX-License-Identifier: MIT
// bench/threads.hpp: the kinds of threads a contended benchmark runs its
// bodies in, rawthread's joinable ones and pthreads, each thread i calling
// Body(arena, i). bench_threaded (the locks) and bench_queue share them, so
// both sides of a comparison start and join threads the same way.
#pragma once

#include <pthread.h>

#include <array>
#include <cstddef>

#include <rawthread/joinable.hpp>

namespace bench {

template <int kMax>
struct RawthreadThreads {
  std::array<rawthread::Thread, kMax> threads;

  // Starts n threads; returns how many started.
  template <auto Body, class Arena>
  int start(Arena* arena, int n) {
    for (int i = 0; i < n; ++i) {
      rawthread::Result<rawthread::Thread> thread = rawthread::start_joinable_thread(Body, arena, i);
      if (!thread) return i;
      threads[static_cast<std::size_t>(i)] = std::move(*thread);
    }
    return n;
  }
  void join(int n) {
    for (int i = 0; i < n; ++i) (void)threads[static_cast<std::size_t>(i)].join();
  }
};

template <int kMax>
struct Pthreads {
  struct Args {
    void* arena;
    int index;
  };
  std::array<pthread_t, kMax> threads{};
  std::array<Args, kMax> args{};

  template <auto Body, class Arena>
  static void* body(void* arg) {
    auto* args = static_cast<Args*>(arg);
    Body(static_cast<Arena*>(args->arena), args->index);
    return nullptr;
  }
  template <auto Body, class Arena>
  int start(Arena* arena, int n) {
    for (int i = 0; i < n; ++i) {
      auto slot = static_cast<std::size_t>(i);
      args[slot] = Args{arena, i};
      if (pthread_create(&threads[slot], nullptr, &body<Body, Arena>, &args[slot]) != 0) return i;
    }
    return n;
  }
  void join(int n) {
    for (int i = 0; i < n; ++i) pthread_join(threads[static_cast<std::size_t>(i)], nullptr);
  }
};

}  // namespace bench
