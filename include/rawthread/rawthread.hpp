// rawthread: Python's _thread module for Linux on clone() and futex(), with no
// pthread underneath. This umbrella header is the whole public API:
//
//   Result, Error, Errc      errors as values          <rawthread/result.hpp>
//   Lock, allocate_lock      futex locks, TIMEOUT_MAX  <rawthread/lock.hpp>
//   RLock                    re-entrant lock           <rawthread/rlock.hpp>
//   start_new_thread, ...    threads, stack_size       <rawthread/thread.hpp>
//   interrupt_main, ...      interruptible acquires    <rawthread/interrupt.hpp>
//   Thread, start_joinable_thread  joinable threads    <rawthread/joinable.hpp>
//   sys::sleep, ...          signals, clock, fds       <rawthread/sys.hpp>
#pragma once

#include <rawthread/interrupt.hpp>
#include <rawthread/joinable.hpp>
#include <rawthread/lock.hpp>
#include <rawthread/result.hpp>
#include <rawthread/rlock.hpp>
#include <rawthread/sys.hpp>
#include <rawthread/thread.hpp>
