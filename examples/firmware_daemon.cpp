// SPDX-License-Identifier: MIT
// firmware_daemon: the shape of a small board daemon, with no libc at all
// (linked with librawthread_rt, like demo_rt).
//
//   supervisor (main)      forks a worker process and restarts it when it
//                          fails, as init or a board's watchdog would;
//   worker process:
//     "device" thread      stands in for the hardware: a sample every 50 ms
//                          into a pipe, as a UART or an ADC driver would
//                          deliver them (on a board: open("/dev/ttyS1"));
//     "sensor" thread      polls the device with a deadline, pinned to one
//                          CPU, and hands each sample to the logger;
//     "logger" thread      prints timestamped lines, one write(2) each;
//     "heartbeat" thread   the watchdog: a sample must arrive every second,
//                          or the worker gives up (exit status 3);
//     main thread          waits for SIGTERM, then ends every thread.
//
// The run, fixed so that a test can check it: worker 1's device stops after
// five samples (a hung bus), its watchdog fires, and it exits with status 3;
// the supervisor restarts it once; worker 2 runs until the supervisor sends
// it SIGTERM and exits 0. The supervisor exits 0 when both did just that.
#include <rawthread/rawthread.hpp>
#include <rawthread/sys.hpp>

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace sys = rawthread::sys;

namespace {

constexpr int kSigKill = 9, kSigTerm = 15;  // the same numbers on every Linux arch
constexpr double kSamplePeriod = 0.05;      // the device's rate
constexpr double kPollDeadline = 0.25;      // the sensor complains after this long
constexpr double kWatchdogTimeout = 1.0;    // no sample for this long: reset
constexpr int kWatchdogStatus = 3;          // the worker's exit status when it fires
constexpr int kHungAfter = 5;               // worker 1's device stops after 5 samples

// ---- The log: a bounded hand-off from every thread to the logger -----------

struct LogLine {
  std::int64_t time_ns;  // CLOCK_REALTIME when it was said
  char thread[16];       // who said it (the thread's name, as ps shows it)
  char text[80];
};

// Bounded, inline storage: no heap. A producer never blocks on it (a sensor
// must not stall because the console is slow): a full queue drops the line
// and counts it.
rawthread::Queue<LogLine, 16> log_queue;
std::atomic<unsigned> dropped{0};
std::atomic<bool> producers_done{false};

// log("sample {}", n): formats into a line, stamps it, queues it. The format
// string is checked against the arguments at compile time (type_identity
// keeps the arguments' types from being deduced from the string).
template <class... A>
void log(sys::format_string<std::type_identity_t<A>...> fmt, const A&... args) {
  LogLine line{};
  line.time_ns = sys::realtime_ns().value_or(0);
  (void)sys::thread_name(line.thread);
  (void)sys::format_to(line.text, sizeof line.text, fmt, args...);
  if (!log_queue.put_nowait(line)) dropped.fetch_add(1, std::memory_order_relaxed);
}

// One line per write(2): lines from two processes on one console do not mix.
void print_line(const LogLine& line) {
  const std::int64_t ms = line.time_ns / 1000000 % (24 * 3600 * 1000);  // UTC time of day
  (void)sys::print(1, "{:02}:{:02}:{:02}.{:03} {:>9}: {}\n", ms / 3600000, ms / 60000 % 60,
                   ms / 1000 % 60, ms % 1000, line.thread, line.text);
}

void logger() {
  (void)sys::set_thread_name("logger");
  for (;;) {
    rawthread::Result<LogLine> line = log_queue.get();  // no timeout: it has nothing else to do
    if (line) {
      print_line(*line);
      continue;
    }
    // Interrupted. By the main thread once the others are joined: print what
    // is left and end. By a SIGTERM that happened to land in this thread:
    // the others are still talking, so keep going.
    if (producers_done.load(std::memory_order_acquire)) break;
  }
  while (rawthread::Result<LogLine> line = log_queue.get_nowait()) print_line(*line);
}

// ---- The worker's threads -------------------------------------------------

rawthread::Event stop;           // set by SIGTERM's handler, or by the watchdog
rawthread::Semaphore alive{0};   // one release per sample: the watchdog's food
std::atomic<bool> watchdog_fired{false};
std::atomic<unsigned> samples{0};
int device_fds[2] = {-1, -1};    // [0]: the sensor reads; [1]: the device writes
int generation = 0;              // 1 for the first worker, 2 for its restart

// Async-signal-safe, both of them: Event::set is one atomic and a futex
// wake, request_interrupt one atomic. The request ends the blocking call of
// whichever thread the kernel chose to run the handler in; the event wakes
// the main thread, which interrupts the rest.
void on_sigterm(int) {
  stop.set();
  rawthread::request_interrupt();
}

void device() {
  (void)sys::set_thread_name("device");
  for (std::uint16_t n = 0; !stop.is_set(); ++n) {
    if (!rawthread::sleep(kSamplePeriod)) break;  // interrupted: shutting down
    if (generation == 1 && n >= kHungAfter) continue;  // the bus hangs: nothing comes
    const std::uint16_t raw = static_cast<std::uint16_t>(0x800 + n * 37 % 256);  // a 12-bit ADC
    (void)sys::write(device_fds[1], &raw, sizeof raw);  // 2 bytes < PIPE_BUF: never split
  }
}

// The first CPU this process may run on (CPU 0 on most boards): the sensor
// stays there, away from the scheduler's moves, as an interrupt-driven
// reader would.
void pin_to_first_cpu() {
  rawthread::Result<sys::CpuSet> allowed = sys::affinity();
  if (!allowed) return;
  for (int cpu = 0; cpu < sys::CpuSet::kMaxCpus; ++cpu) {
    if (!allowed->contains(cpu)) continue;
    sys::CpuSet one;
    one.add(cpu);
    if (sys::set_affinity(one)) log("pinned to CPU {}", cpu);
    return;
  }
}

void sensor() {
  (void)sys::set_thread_name("sensor");
  pin_to_first_cpu();
  while (!stop.is_set()) {
    pollfd device{device_fds[0], POLLIN, 0};
    rawthread::Result<int> ready = sys::poll(&device, 1, kPollDeadline);
    if (!ready) break;  // interrupted: shutting down
    if (*ready == 0) {
      log("no data for {} s", kPollDeadline);
      continue;
    }
    std::uint16_t raw = 0;
    if (!sys::read(device_fds[0], &raw, sizeof raw)) break;
    const unsigned n = samples.fetch_add(1, std::memory_order_relaxed) + 1;
    // 12 bits over 0..100 degrees C, as a thermistor front end might scale it.
    log("sample {:3}: raw {:#06x} = {:6.2f} C", n, raw, raw * 100.0 / 4096);
    (void)alive.release();
  }
}

// A real board kicks /dev/watchdog here; the rule is the same: no progress
// within the timeout, stop everything and let the supervisor restart us.
void heartbeat() {
  (void)sys::set_thread_name("heartbeat");
  while (!stop.is_set()) {
    rawthread::Result<bool> fed = alive.acquire(true, kWatchdogTimeout);
    if (!fed) break;  // interrupted: shutting down
    if (*fed) continue;
    log("watchdog: no sample for {} s, resetting", kWatchdogTimeout);
    watchdog_fired.store(true);
    stop.set();
  }
}

// Ends a thread wherever it is blocked: Thread::interrupt sends it SIGTERM
// with an interrupt request, so its poll, get, acquire or sleep returns
// Errc::interrupted (and a request that finds it between calls ends the next
// one). Every loop also checks `stop`, set before this is called.
// The join is tried twice: a SIGTERM whose handler ran in this thread outside
// a wait left its request pending, and that ends the first join at once.
void end(rawthread::Thread& thread) {
  (void)thread.interrupt(kSigTerm);
  if (!thread.join(5.0)) (void)thread.join(5.0);
}

int worker() {
  (void)sys::set_thread_name("worker");
  // The handler first, then SIGTERM unblocked (the supervisor blocked it
  // across fork): a SIGTERM sent before now waited, pending, for the handler.
  if (!sys::set_signal_handler(kSigTerm, on_sigterm, 0) ||
      !sys::change_signal_mask(sys::MaskHow::unblock, sys::SignalSet{}.add(kSigTerm)))
    return 1;
  if (!sys::pipe2(device_fds, O_CLOEXEC)) return 1;

  rawthread::Result<rawthread::Thread> threads[] = {
      rawthread::start_joinable_thread(logger), rawthread::start_joinable_thread(device),
      rawthread::start_joinable_thread(sensor), rawthread::start_joinable_thread(heartbeat)};
  for (auto& thread : threads)
    if (!thread) return 1;
  log("worker {} (pid {}) running", generation, sys::getpid().value_or(0));

  // SIGTERM or the watchdog. The deadline only guards against a supervisor
  // that forgot us; an interrupt (SIGTERM landed in this thread) also ends it.
  const bool stopped = stop.wait(30.0).value_or(true);
  if (!stopped)
    log("no SIGTERM in 30 s, stopping");
  else if (!watchdog_fired.load())
    log("SIGTERM: stopping");

  end(*threads[1]), end(*threads[2]), end(*threads[3]);  // the producers first,
  producers_done.store(true, std::memory_order_release);
  end(*threads[0]);  // then the logger, which prints what they queued
  const int status = watchdog_fired.load() ? kWatchdogStatus : stopped ? 0 : 1;
  (void)sys::print(1, "worker {}: exit {}, {} samples, {} lines dropped\n", generation, status,
                   samples.load(), dropped.load());
  return status;
}

// ---- The supervisor -------------------------------------------------------

// Forks worker `n`. SIGTERM is blocked across the fork so that the child
// cannot die of one before its handler is in place (it unblocks it after).
int start_worker(int n) {
  const sys::SignalSet term = sys::SignalSet{}.add(kSigTerm);
  (void)sys::change_signal_mask(sys::MaskHow::block, term);
  rawthread::Result<int> pid = sys::fork();
  if (pid && *pid == 0) {
    generation = n;
    sys::exit_group(worker());  // the child never returns into the supervisor's loop
  }
  (void)sys::change_signal_mask(sys::MaskHow::unblock, term);
  if (!pid) return -1;
  (void)sys::print(1, "supervisor: worker {} started, pid {}\n", n, *pid);
  return *pid;
}

// Waits for `pid` at most `seconds`, then kills it: the supervisor must not
// hang on a worker that hangs. wait4 with WNOHANG polls; 10 ms apart is cheap.
sys::WaitStatus wait_for(int pid, double seconds) {
  const std::int64_t deadline = sys::monotonic_ns().value_or(0) + std::int64_t(seconds * 1e9);
  bool killed = false;
  for (;;) {
    rawthread::Result<sys::WaitStatus> done = sys::wait4(pid, sys::kNoHang);
    if (!done) return {pid, 0xff00};  // ECHILD, which cannot be: reported as status 255
    if (done->pid == pid) return *done;
    if (!killed && sys::monotonic_ns().value_or(0) > deadline) {
      (void)sys::print(1, "supervisor: worker pid {} hangs, killing it\n", pid);
      killed = sys::kill(pid, kSigKill).has_value();  // then reap it
    }
    (void)sys::sleep(0.01);
  }
}

// The status as a shell shows it: the exit code, or 128 + the signal.
int describe(int n, sys::WaitStatus status) {
  if (status.exited()) {
    (void)sys::print(1, "supervisor: worker {} exited with status {}\n", n, status.exit_code());
    return status.exit_code();
  }
  (void)sys::print(1, "supervisor: worker {} killed by signal {}\n", n, status.term_signal());
  return 128 + status.term_signal();
}

}  // namespace

int main() {
  (void)sys::set_thread_name("supervisor");
  // Worker 1: its watchdog fires; restart it once.
  const int first = start_worker(1);
  if (first < 0) return 1;
  const int first_status = describe(1, wait_for(first, 20.0));
  if (first_status != 0) (void)sys::print(1, "supervisor: restarting the worker\n");

  // Worker 2: runs until we stop it, as init would at shutdown.
  const int second = start_worker(2);
  if (second < 0) return 1;
  (void)sys::sleep(0.6);
  (void)sys::kill(second, kSigTerm);
  const int second_status = describe(2, wait_for(second, 20.0));

  const bool ok = first_status == kWatchdogStatus && second_status == 0;
  (void)sys::print(1, "firmware_daemon: {}\n", ok ? "done" : "FAILED");
  return ok ? 0 : 1;
}
