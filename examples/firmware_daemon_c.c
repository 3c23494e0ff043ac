/* SPDX-License-Identifier: MIT */
/* firmware_daemon_c: firmware_daemon.cpp's shape in C11, with no libc
 * (linked with librawthread_rt, through <rawthread.h> and <rawthread/sys.h>).
 *
 * A supervisor forks a worker process and restarts it once. The worker's
 * "sensor" thread reads a device (/dev/urandom here) with poll and a
 * deadline and hands each sample to the main thread through a bounded
 * rawthread_queue; the main thread logs them, timestamped, until SIGTERM.
 * Worker 1 reports a sensor fault after three samples and exits with status
 * 3; worker 2 runs until the supervisor sends SIGTERM and exits 0. Exits 0
 * when both did just that. */
#include <rawthread.h>
#include <rawthread/sys.h>

#include <stdbool.h>
#include <stdint.h>

enum { kSigTerm = 15, kFaultStatus = 3, kFaultAfter = 3, kSlots = 8 };

struct sample {
  int64_t time_ns; /* CLOCK_REALTIME when it was read */
  unsigned seq;
  uint32_t value;
  bool fault; /* the sensor gave up: the worker must restart */
};

static struct sample slots[kSlots]; /* the queue's storage: no heap */
static rawthread_queue samples;
static rawthread_event stop = RAWTHREAD_EVENT_INIT;
static int generation; /* 1 for the first worker, 2 for its restart */

/* Async-signal-safe, both: the event wakes whoever waits for it; the request
 * ends the blocking call of the thread the kernel ran the handler in. */
static void on_sigterm(int signum) {
  (void)signum;
  rawthread_event_set(&stop);
  rawthread_request_interrupt();
}

/* The sensor: a sample every 50 ms. Any error (the poll deadline passed, or
 * an interrupt ended a wait) ends it. */
static void sensor(void* arg) {
  const int fd = *(const int*)arg;
  rawthread_set_thread_name("sensor");
  for (unsigned seq = 1; !rawthread_event_is_set(&stop); ++seq) {
    struct pollfd device = {.fd = fd, .events = POLLIN};
    if (rawthread_poll(&device, 1, 0.25) <= 0) break;
    struct sample s = {.time_ns = rawthread_realtime_ns(), .seq = seq,
                       .fault = generation == 1 && seq > kFaultAfter};
    if (rawthread_read(fd, &s.value, sizeof s.value) != (long)sizeof s.value) break;
    if (rawthread_queue_put(&samples, &s, true, 1.0) != RAWTHREAD_OK || s.fault) break;
    if (rawthread_sleep(0.05) != RAWTHREAD_OK) break;
  }
}

static void log_sample(const struct sample* s) {
  const int64_t ms = s->time_ns / 1000000 % (24 * 3600 * 1000); /* UTC time of day */
  rawthread_dprintf(1, "%02d:%02d:%02d.%03d worker %d: sample %u = 0x%08x\n",
                    (int)(ms / 3600000), (int)(ms / 60000 % 60), (int)(ms / 1000 % 60),
                    (int)(ms % 1000), generation, s->seq, (unsigned)s->value);
}

static const uint64_t term = UINT64_C(1) << (kSigTerm - 1); /* SIGTERM in a signal set */

static int worker(void) {
  static int fd; /* the sensor thread reads it: not on this stack */
  rawthread_set_thread_name("worker");
  /* The handler first, then SIGTERM unblocked (the supervisor blocked it
   * across fork): a SIGTERM sent before now waited, pending. */
  if (rawthread_set_signal_handler(kSigTerm, on_sigterm, 0, 0) < 0 ||
      rawthread_signal_mask(RAWTHREAD_SIG_UNBLOCK, &term, 0) < 0)
    return 1;
  fd = rawthread_open("/dev/urandom", O_RDONLY, 0);
  rawthread_thread thread = RAWTHREAD_THREAD_INIT;
  if (fd < 0 || rawthread_queue_init(&samples, slots, sizeof slots[0], kSlots) != RAWTHREAD_OK ||
      rawthread_start_joinable_thread(&thread, sensor, &fd) != RAWTHREAD_OK)
    return 1;

  int status = 0;
  while (!rawthread_event_is_set(&stop)) {
    struct sample s;
    /* A timeout, or SIGTERM landing in this thread: look at `stop` again. */
    if (rawthread_queue_get(&samples, &s, true, 1.0) != RAWTHREAD_OK) continue;
    if (s.fault) {
      rawthread_dprintf(1, "worker %d: sensor fault after %u samples\n", generation, s.seq - 1);
      status = kFaultStatus;
      break;
    }
    log_sample(&s);
  }
  /* Ends the sensor wherever it waits (poll, put, sleep): SIGTERM with an
   * interrupt request. */
  rawthread_thread_interrupt(&thread, kSigTerm);
  /* A SIGTERM whose handler ran in this thread outside a wait left its
   * interrupt request pending, and that ends the first join at once. */
  bool joined = false;
  if (rawthread_join(&thread, 5.0, &joined) == RAWTHREAD_E_JOIN_INTERRUPTED)
    rawthread_join(&thread, 5.0, &joined);
  rawthread_dprintf(1, "worker %d: exit %d\n", generation, joined ? status : 1);
  return joined ? status : 1;
}

/* Forks worker n, stops it with SIGTERM after 0.5 s if asked to, waits for
 * it and returns its exit status (128 + the signal if one killed it). */
static int run_worker(int n, bool terminate) {
  rawthread_signal_mask(RAWTHREAD_SIG_BLOCK, &term, 0);
  const int pid = rawthread_fork();
  if (pid == 0) {
    generation = n;
    rawthread_exit_group(worker());
  }
  rawthread_signal_mask(RAWTHREAD_SIG_UNBLOCK, &term, 0);
  if (pid < 0) return -1;
  rawthread_dprintf(1, "supervisor: worker %d started, pid %d\n", n, pid);
  if (terminate) {
    rawthread_sleep(0.5);
    rawthread_kill(pid, kSigTerm);
  }
  int status = 0;
  if (rawthread_wait4(pid, &status, 0, 0) != pid) return -1;
  const int code = rawthread_wifexited(status) ? rawthread_wexitstatus(status)
                                                : 128 + rawthread_wtermsig(status);
  rawthread_dprintf(1, "supervisor: worker %d ended with status %d\n", n, code);
  return code;
}

int main(void) {
  rawthread_set_thread_name("supervisor");
  const int first = run_worker(1, false);
  if (first != 0) rawthread_dprintf(1, "supervisor: restarting the worker\n");
  const int second = run_worker(2, true);
  const bool ok = first == kFaultStatus && second == 0;
  rawthread_dprintf(1, "firmware_daemon_c: %s\n", ok ? "done" : "FAILED");
  return ok ? 0 : 1;
}
