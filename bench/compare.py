#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/compare.py: rawthread against pthread, as ratios.

    bench/compare.py [--update-docs] [--repetitions N] [--min-time S] [--builddir DIR]

Installs what is missing (scripts/install-deps), builds the benchmarks in
release mode (build/bench: meson setup
-Dbuildtype=release -Dtests=disabled -Dexamples=false), then runs them twice:
pinned to one CPU (taskset -c 0) and on all CPUs. Each Google Benchmark
binary runs every benchmark --repetitions times, interleaved at random, and
every number here is the median over those repetitions:

  bench_single    uncontended pairs in a process that never started a thread
                  (glibc's single-threaded path: no atomics in pthread_mutex_*)
  bench_threaded  the locks and threads, in a process that started and
                  joined a pthread first: uncontended pairs, contended
                  throughput, start + join, timed-wait overshoot, memory
                  per thread
  bench_wait      Condition and Semaphore against pthread_cond_t and sem_t:
                  ping-pong round trips, notify_all to 4 waiters (both
                  sides' blocks of rounds in turns)
  bench_queue     queue_throughput: Queue<int, 64> against a pthread mutex +
                  two condition variables, 2 producers and 2 consumers
  callgrind_pairs instructions per uncontended pair (valgrind; the same in
                  both runs, being deterministic)
  malloc_bench_*  the heap: librawthread_rt's against glibc's and musl's
                  malloc (bench/malloc_bench.cpp, built three ways), run
                  once, on all CPUs, not in the two runs above

It prints one table per run, a line that says which of the targets (issue
7's and issue 15's) the pinned run meets, and, last, one machine-readable
line with the pinned run's ratios:

  ratios: uncontended_time=R uncontended_instr=R contended_2=R contended_4=R start_join=R timed_overshoot=R thread_kib=K cond_pingpong=R sem_pingpong=R notify_all_4=R queue_throughput=R malloc_small=R malloc_cross=R malloc_small_musl=R malloc_rss=R

time and instruction ratios are rawthread / pthread (below 1: rawthread is
faster or leaner; cond_pingpong, sem_pingpong and notify_all_4 are times
per round trip or round); contended ones are rawthread's ops/s / pthread's
(above 1: rawthread is faster); thread_kib is rawthread's resident
(anonymous) KiB per blocked thread. The uncontended times are CPU time (a loop preempted by
another process does not count); the other times are wall-clock time.
The malloc_* keys come from the heap run: malloc_small is the smaller of
rawthread's rate / glibc's with 1 thread and with 4 (the target holds for
both), malloc_small_musl the same against musl, malloc_cross rawthread's
rate / glibc's, malloc_rss rawthread's resident bytes left after freeing
everything / glibc's (below 1: rawthread gives more back).
--update-docs also writes the tables into docs/performance.md between
<!-- bench:begin --> and <!-- bench:end --> (--update-readme, its old
name, does the same).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join('docs', 'performance.md')
BEGIN, END = '<!-- bench:begin -->', '<!-- bench:end -->'
STARTED = time.monotonic()


def log(message):
    print(f'[{time.monotonic() - STARTED:5.0f}s] {message}', file=sys.stderr, flush=True)


def run(command, **kwargs):
    log('$ ' + ' '.join(shlex.quote(part) for part in command))
    return subprocess.run(command, check=True, **kwargs)


# ---- Build ---------------------------------------------------------------------

def build(builddir):
    # What a fresh machine lacks (Google Benchmark, valgrind, meson, ...):
    # the same script as scripts/test's, quick when nothing is missing.
    run([os.path.join(ROOT, 'scripts', 'install-deps')], cwd=ROOT)
    setup = ['meson', 'setup', '-Dbuildtype=release', '-Dtests=disabled', '-Dexamples=false',
             '-Dbenchmarks=enabled', builddir]
    stamp = os.path.join(builddir, 'rawthread-bench-setup-command')
    # Configure once; other options than last time start the directory over.
    configured = (os.path.exists(os.path.join(builddir, 'meson-private', 'coredata.dat')) and
                  os.path.exists(stamp) and open(stamp).read() == ' '.join(setup))
    if not configured:
        shutil.rmtree(builddir, ignore_errors=True)
        run(setup, cwd=ROOT, stdout=subprocess.DEVNULL)
        with open(stamp, 'w') as f:
            f.write(' '.join(setup))
    run(['ninja', '-C', builddir], cwd=ROOT, stdout=subprocess.DEVNULL)
    return {name: os.path.join(builddir, 'bench', name)
            for name in ('bench_single', 'bench_threaded', 'bench_wait', 'bench_queue', 'pair_instr',
                         'malloc_bench_glibc', 'malloc_bench_musl', 'malloc_bench_rt')}


# ---- Running -------------------------------------------------------------------

def base_name(run_name):
    """contended/x/threads:2/manual_time -> contended/x/threads:2"""
    return re.sub(r'/(manual_time|real_time|iterations:\d+|min_time:[\d.]+)', '', run_name)


def run_benchmark(binary, prefix, repetitions, min_time):
    """{benchmark: [one dict per repetition]} from one run of a binary."""
    command = prefix + [binary, f'--benchmark_repetitions={repetitions}',
                        f'--benchmark_min_time={min_time}',
                        '--benchmark_enable_random_interleaving=true',
                        '--benchmark_format=json']
    out = run(command, stdout=subprocess.PIPE, text=True).stdout
    report = json.loads(out)
    runs = {}
    for entry in report['benchmarks']:
        if entry.get('run_type') != 'iteration':
            continue
        if entry.get('error_occurred'):
            log(f'{entry["name"]}: {entry.get("error_message")}')
            continue
        runs.setdefault(base_name(entry['run_name']), []).append(entry)
    return runs


def median(runs, name, metric):
    values = [value for value in (metric(entry) for entry in runs.get(name, [])) if value is not None]
    return statistics.median(values) if values else None


TO_NS = {'ns': 1.0, 'us': 1e3, 'ms': 1e6, 's': 1e9}


def cpu_ns(entry):
    return entry['cpu_time'] * TO_NS[entry['time_unit']]


def real_us(entry):
    return entry['real_time'] * TO_NS[entry['time_unit']] / 1e3


def mops(entry):
    value = entry.get('items_per_second')
    return value / 1e6 if value is not None else None


def counter(key):
    return lambda entry: entry.get(key)


# ---- What is compared ----------------------------------------------------------

TIMED = 'timed/rawthread_lock+pthread_mutex_clocklock'
START_JOIN = 'start_join/rawthread_joinable+pthread'
COND_PINGPONG = 'cond_pingpong/interleaved'
SEM_PINGPONG = 'sem_pingpong/interleaved'
NOTIFY_ALL_4 = 'notify_all_4/interleaved'
IN_TURNS = (counter('rawthread_us'), counter('pthread_us'))

# key (in the ratios line, or ''), label, unit, source (a binary, or
# callgrind and which process), metric (or rawthread's and pthread's, where
# one benchmark measures both), rawthread's benchmark, pthread's, std::'s
# (or None)
ROWS = [
    ('uncontended_time', 'uncontended acquire()+release(), threaded process', 'ns CPU', 'threaded', cpu_ns,
     'uncontended/rawthread_acquire_release', 'uncontended/pthread_mutex', 'uncontended/std_mutex'),
    ('', 'uncontended lock()+unlock(), threaded process', 'ns CPU', 'threaded', cpu_ns,
     'uncontended/rawthread_lock_unlock', 'uncontended/pthread_mutex', 'uncontended/std_mutex'),
    ('', 'uncontended, C API (a call into the library each), threaded process', 'ns CPU', 'threaded',
     cpu_ns, 'uncontended/rawthread_c_api', 'uncontended/pthread_mutex', 'uncontended/std_mutex'),
    ('', 'uncontended acquire()+release(), single-threaded process', 'ns CPU', 'single', cpu_ns,
     'uncontended/rawthread_acquire_release', 'uncontended/pthread_mutex', 'uncontended/std_mutex'),
    ('', 'uncontended lock()+unlock(), single-threaded process', 'ns CPU', 'single', cpu_ns,
     'uncontended/rawthread_lock_unlock', 'uncontended/pthread_mutex', 'uncontended/std_mutex'),
    ('uncontended_instr', 'instructions per acquire()+release(), threaded (callgrind)', 'instr',
     'callgrind:threaded', None,
     'pairs_rawthread_acquire_release', 'pairs_pthread_mutex', 'pairs_std_mutex'),
    ('', 'instructions per lock()+unlock(), threaded (callgrind)', 'instr', 'callgrind:threaded', None,
     'pairs_rawthread_lock_unlock', 'pairs_pthread_mutex', 'pairs_std_mutex'),
    ('', 'instructions per pair, C API (a call into the library each), threaded (callgrind)', 'instr',
     'callgrind:threaded', None,
     'pairs_rawthread_c_api', 'pairs_pthread_mutex', 'pairs_std_mutex'),
    ('', 'instructions per acquire()+release(), single-threaded (callgrind)', 'instr',
     'callgrind:single', None,
     'pairs_rawthread_acquire_release', 'pairs_pthread_mutex', 'pairs_std_mutex'),
    ('contended_2', 'contended, 2 threads: own threads + own lock', 'Mops/s', 'threaded', mops,
     'contended/rawthread_threads+rawthread_lock/threads:2', 'contended/pthreads+pthread_mutex/threads:2',
     'contended/std_threads+std_mutex/threads:2'),
    ('', 'contended, 2 pthreads: rawthread Lock vs pthread_mutex', 'Mops/s', 'threaded', mops,
     'contended/pthreads+rawthread_lock/threads:2', 'contended/pthreads+pthread_mutex/threads:2', None),
    ('contended_4', 'contended, 4 threads: own threads + own lock', 'Mops/s', 'threaded', mops,
     'contended/rawthread_threads+rawthread_lock/threads:4', 'contended/pthreads+pthread_mutex/threads:4',
     'contended/std_threads+std_mutex/threads:4'),
    ('', 'contended, 4 pthreads: rawthread Lock vs pthread_mutex', 'Mops/s', 'threaded', mops,
     'contended/pthreads+rawthread_lock/threads:4', 'contended/pthreads+pthread_mutex/threads:4', None),
    ('start_join', 'start + join a thread that does nothing, rawthread and pthread in turns', 'us',
     'threaded', (counter('rawthread_us'), counter('pthread_us')), START_JOIN, START_JOIN, None),
    ('', 'start + join a thread that does nothing, separate benchmarks', 'us', 'threaded', real_us,
     'start_join/rawthread_joinable', 'start_join/pthread', 'start_join/std_thread'),
    ('', 'start_new_thread + wait for thread_count() == 0', 'us', 'threaded', real_us,
     'start_join/rawthread_new_thread_count', 'start_join/pthread', 'start_join/std_thread'),
    ('', 'the kernel\'s floor: bare clone + exit + futex wait, no library (in the rawthread column)',
     'us', 'threaded', real_us, 'start_join/kernel_floor', 'start_join/pthread', None),
    # One benchmark takes both locks' samples in turns: a counter each.
    ('timed_overshoot', '10 ms timed acquire of a held lock: median overshoot', 'us', 'threaded',
     (counter('rawthread_overshoot_median_us'), counter('pthread_overshoot_median_us')),
     TIMED, TIMED, None),
    ('', '10 ms timed acquire of a held lock: p99 overshoot', 'us', 'threaded',
     (counter('rawthread_overshoot_p99_us'), counter('pthread_overshoot_p99_us')),
     TIMED, TIMED, None),
    ('thread_kib', 'resident anonymous memory (RssAnon) per blocked thread, 32 KiB stacks', 'KiB', 'threaded',
     counter('rss_anon_kib_per_thread'), 'memory/rawthread', 'memory/pthread', None),
    ('', 'mapped memory (VmSize) per blocked thread, 32 KiB stacks', 'KiB', 'threaded',
     counter('vm_kib_per_thread'), 'memory/rawthread', 'memory/pthread', None),
    # The threading layer: each side's blocks of rounds in turns, one
    # benchmark, a counter each.
    ('cond_pingpong', 'a turn handed back and forth through a Condition (pthread_cond_t): round trip',
     'us', 'wait', IN_TURNS, COND_PINGPONG, COND_PINGPONG, None),
    ('sem_pingpong', 'a turn handed back and forth through two Semaphores (sem_t): round trip',
     'us', 'wait', IN_TURNS, SEM_PINGPONG, SEM_PINGPONG, None),
    ('notify_all_4', 'notify_all to 4 waiters, each takes the lock once: round', 'us', 'wait',
     IN_TURNS, NOTIFY_ALL_4, NOTIFY_ALL_4, None),
    ('queue_throughput', 'Queue<int, 64>, 2 producers + 2 consumers: own threads + own queue', 'Mitems/s',
     'queue', mops, 'queue_throughput/rawthread_threads+rawthread_queue',
     'queue_throughput/pthreads+pthread_queue', None),
    ('', 'Queue<int, 64>, 2 + 2 pthreads: rawthread Queue vs pthread mutex + 2 conds', 'Mitems/s',
     'queue', mops, 'queue_throughput/pthreads+rawthread_queue', 'queue_throughput/pthreads+pthread_queue',
     None),
]
RATIO_KEYS = ['uncontended_time', 'uncontended_instr', 'contended_2', 'contended_4', 'start_join',
              'timed_overshoot', 'thread_kib', 'cond_pingpong', 'sem_pingpong', 'notify_all_4',
              'queue_throughput', 'malloc_small', 'malloc_cross', 'malloc_small_musl', 'malloc_rss']

# The targets for the pinned run on x86_64, issue 7's (the locks and
# threads) and issue 15's (the threading layer): (at most, bound) or (at
# least, bound).
TARGETS = {
    'uncontended_time': ('<=', 0.9),
    'uncontended_instr': ('<=', 0.25),
    'contended_2': ('>=', 1.1),
    'contended_4': ('>=', 1.1),
    'start_join': ('<=', 0.9),
    'timed_overshoot': ('<=', 1.1),
    'thread_kib': ('<=', 4.0),
    'cond_pingpong': ('<=', 0.9),
    'sem_pingpong': ('<=', 0.9),
    'notify_all_4': ('<=', 0.9),
    'queue_throughput': ('>=', 1.2),
    # issue 16: the heap
    'malloc_small': ('>=', 1.0),
    'malloc_cross': ('>=', 1.0),
    'malloc_small_musl': ('>=', 2.0),
    'malloc_rss': ('<=', 1.0),
}


def evaluate(results, instr):
    """[(row, rawthread, pthread, std, ratio)] for one run."""
    table = []
    for row in ROWS:
        key, label, unit, source, metric, raw, pth, std = row
        if source.startswith('callgrind:'):
            process = source.split(':')[1]
            values = instr.get(process, {}) if instr else {}
            numbers = [values.get(name) if name else None for name in (raw, pth, std)]
        else:
            runs = results[source]
            metrics = (*metric, None) if isinstance(metric, tuple) else (metric, metric, metric)
            numbers = [median(runs, name, m) if name else None
                       for name, m in zip((raw, pth, std), metrics)]
        ratio = numbers[0] / numbers[1] if numbers[0] is not None and numbers[1] else None
        table.append((row, *numbers, ratio))
    return table


def fmt(value, digits=2):
    if value is None:
        return 'n/a'
    if abs(value) >= 1000:
        return f'{value:,.0f}'
    if abs(value) >= 100:
        return f'{value:.1f}'
    return f'{value:.{digits}f}'


def markdown(table):
    lines = ['| measurement | unit | rawthread | pthread | std:: | rawthread / pthread |',
             '| --- | --- | ---: | ---: | ---: | ---: |']
    for (key, label, unit, *_), raw, pth, std, ratio in table:
        name = f'{label} (`{key}`)' if key else label
        lines.append(f'| {name} | {unit} | {fmt(raw)} | {fmt(pth)} | {fmt(std)} | {fmt(ratio)} |')
    return '\n'.join(lines)


def pinned_values(table):
    """{key: the value the ratios line gives for it, or None}"""
    by_key = {row[0]: (raw, ratio) for row, raw, _, _, ratio in table if row[0]}
    return {key: by_key[key][0] if key == 'thread_kib' else by_key[key][1]
            for key in RATIO_KEYS if key in by_key}


def ratios_line(values):
    return 'ratios: ' + ' '.join(
        f'{key}={"n/a" if values[key] is None else f"{values[key]:.2f}"}' for key in RATIO_KEYS)


def targets_line(values):
    """Which targets the values meet, compared as printed (two decimals)."""
    missed = []
    for key in RATIO_KEYS:
        op, bound = TARGETS[key]
        value = values[key]
        shown = None if value is None else round(value, 2)
        if shown is None or (shown > bound if op == '<=' else shown < bound):
            missed.append(f'{key}={"n/a" if shown is None else f"{shown:.2f}"} (target {op} {bound})')
    return 'targets: all met' if not missed else 'targets: missed ' + ', '.join(missed)


# ---- The heap: malloc_bench, three builds --------------------------------------

# name, label, unit, malloc_bench's arguments (repetitions added), how the
# processes' figures are combined: each process is one repetition, the three
# builds in turns; rates take the best (the least disturbed run), RSS the
# median.
HEAP_ROWS = [
    ('malloc_small_1', 'malloc+free pairs, 16-256 B, 64 live blocks, 1 thread', 'Mops/s',
     ['small', '1', '1'], max),
    ('malloc_small_4', 'malloc+free pairs, 16-256 B, 64 live blocks each, 4 threads', 'Mops/s',
     ['small', '4', '1'], max),
    ('malloc_cross', 'blocks malloc\'d by one thread, freed by another (SPSC ring)', 'Mblocks/s',
     ['cross', '1'], max),
    ('malloc_rss', 'resident memory left after 100 MiB of 16-256 B blocks are freed', 'MiB',
     ['rss'], statistics.median),
]
HEAP_BUILDS = ('rt', 'glibc', 'musl')


def run_heap(binaries, repetitions):
    """{row name: {build: value}}: rates in M/s, RSS in MiB."""
    present = [b for b in HEAP_BUILDS if os.path.exists(binaries[f'malloc_bench_{b}'])]
    samples = {name: {b: [] for b in present} for name, *_ in HEAP_ROWS}
    for name, _, _, arguments, _ in HEAP_ROWS:
        # RSS is the same run after run: three suffice.
        for _ in range(min(repetitions, 3) if name == 'malloc_rss' else repetitions):
            for build in present:
                out = run([binaries[f'malloc_bench_{build}']] + arguments,
                          stdout=subprocess.PIPE, text=True).stdout.split()
                samples[name][build].append(int(out[1]) / (1 << 20 if name == 'malloc_rss' else 1e6))
    return {name: {b: combine(v) for b, v in samples[name].items() if v}
            for name, _, _, _, combine in HEAP_ROWS}


def ratio(a, b):
    return a / b if a is not None and b else None


def heap_values(heap):
    """The ratios line's malloc_* values."""
    def over(name, other):
        return ratio(heap[name].get('rt'), heap[name].get(other))
    def smaller(*values):
        return None if None in values else min(values)
    return {
        'malloc_small': smaller(over('malloc_small_1', 'glibc'), over('malloc_small_4', 'glibc')),
        'malloc_cross': over('malloc_cross', 'glibc'),
        'malloc_small_musl': smaller(over('malloc_small_1', 'musl'), over('malloc_small_4', 'musl')),
        'malloc_rss': over('malloc_rss', 'glibc'),
    }


def heap_markdown(heap):
    lines = ['| measurement | unit | rawthread_rt | glibc | musl | rawthread / glibc | rawthread / musl |',
             '| --- | --- | ---: | ---: | ---: | ---: | ---: |']
    for name, label, unit, _, _ in HEAP_ROWS:
        row = heap[name]
        raw, glibc, musl = (row.get(b) for b in HEAP_BUILDS)
        lines.append(f'| {label} (`{name}`) | {unit} | {fmt(raw)} | {fmt(glibc)} | {fmt(musl)} | '
                     f'{fmt(ratio(raw, glibc))} | {fmt(ratio(raw, musl))} |')
    return '\n'.join(lines)


# ---- The machine ---------------------------------------------------------------

def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                # x86: model name; aarch64: often none; riscv: uarch / isa
                if re.match(r'(model name|Model|uarch|cpu model)\s*:', line):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'unknown CPU'


def compiler_version(builddir):
    """The first line of --version of the C++ compiler the build used."""
    try:
        with open(os.path.join(builddir, 'compile_commands.json')) as f:
            commands = json.load(f)
        compiler = next(shlex.split(c['command'])[0] for c in commands if c['file'].endswith('.cpp'))
        lines = subprocess.run([compiler, '--version'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True).stdout.splitlines()
        return lines[0] if lines else compiler
    except (OSError, ValueError, StopIteration, KeyError, IndexError):
        return 'c++'


def machine(builddir):
    libc = ' '.join(os.confstr('CS_GNU_LIBC_VERSION').split()) if hasattr(os, 'confstr') else ''
    return {
        'date': datetime.date.today().isoformat(),
        'arch': platform.machine(),
        'cpu': cpu_model(),
        'cpus': os.cpu_count(),
        'kernel': platform.release(),
        'libc': libc,
        'compiler': compiler_version(builddir),
    }


def update_docs(text):
    path = os.path.join(ROOT, DOC)
    with open(path) as f:
        doc = f.read()
    start, end = doc.find(BEGIN), doc.find(END)
    if start < 0 or end < start:
        sys.exit(f'bench/compare.py: {DOC} has no {BEGIN} ... {END} markers')
    doc = doc[:start + len(BEGIN)] + '\n' + text + '\n' + doc[end:]
    with open(path, 'w') as f:
        f.write(doc)
    log(f'{DOC} updated')


# ---- Main ----------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--update-docs', '--update-readme', dest='update_docs', action='store_true',
                        help='write the tables into docs/performance.md between the bench markers')
    parser.add_argument('--repetitions', type=int, default=7,
                        help='repetitions of each benchmark; medians are taken over them (default 7)')
    parser.add_argument('--min-time', type=float, default=0.1,
                        help='seconds Google Benchmark spends on one repetition at least (default 0.1)')
    parser.add_argument('--builddir', default=os.path.join(ROOT, 'build', 'bench'),
                        help='the build directory (default build/bench)')
    args = parser.parse_args()
    command = ' '.join(['bench/compare.py'] + [shlex.quote(arg) for arg in sys.argv[1:]])

    binaries = build(args.builddir)
    # The machine's load, before and after: the ratios hold on a busy
    # machine, the absolute figures do not, so the tables say how busy.
    load_before = os.getloadavg()[0]

    # The first CPU this process may run on: CPU 0 unless a cpuset says otherwise.
    cpu = min(os.sched_getaffinity(0))
    modes = [(f'pinned to one CPU (`taskset -c {cpu}`)', ['taskset', '-c', str(cpu)]),
             (f'all CPUs ({len(os.sched_getaffinity(0))})', [])]

    instr = None
    if shutil.which('valgrind') and shutil.which('callgrind_annotate'):
        out = run([os.path.join(ROOT, 'bench', 'callgrind_pairs'), '--json', binaries['pair_instr']],
                  stdout=subprocess.PIPE, text=True).stdout
        instr = json.loads(out)
    else:
        log('valgrind not found: no instruction counts (Debian: apt-get install valgrind)')

    tables = []
    for title, prefix in modes:
        results = {
            'single': run_benchmark(binaries['bench_single'], prefix, args.repetitions, args.min_time),
            'threaded': run_benchmark(binaries['bench_threaded'], prefix, args.repetitions, args.min_time),
            'wait': run_benchmark(binaries['bench_wait'], prefix, args.repetitions, args.min_time),
            'queue': run_benchmark(binaries['bench_queue'], prefix, args.repetitions, args.min_time),
        }
        tables.append((title, evaluate(results, instr)))
    heap = run_heap(binaries, args.repetitions)

    info = machine(args.builddir)
    header = (f'{info["date"]}, {info["arch"]}, {info["cpu"]} ({info["cpus"]} CPUs), '
              f'Linux {info["kernel"]}, {info["libc"]}, {info["compiler"]}; `{command}`: '
              f'release build, medians of {args.repetitions} repetitions (interleaved at random), '
              f'instructions counted by callgrind; load average {load_before:.2f} before the runs, '
              f'{os.getloadavg()[0]:.2f} after.')
    body = [header]
    for title, table in tables:
        body += ['', f'**{title}**', '', markdown(table)]
    body += ['', f'**The heap: librawthread_rt against glibc and musl, all CPUs '
             f'({len(os.sched_getaffinity(0))}), best of {args.repetitions} processes each '
             f'(resident memory: median of {min(args.repetitions, 3)})**', '', heap_markdown(heap)]
    values = {**pinned_values(tables[0][1]), **heap_values(heap)}
    targets, ratios = targets_line(values), ratios_line(values)
    print('\n'.join(body))
    if args.update_docs:
        update_docs('\n'.join(body + [
            '', 'The pinned run\'s ratios, as `bench/compare.py` ends:', '', '```', targets, ratios, '```']))
    log(f'done in {time.monotonic() - STARTED:.0f}s')
    print()
    print(targets)
    print(ratios)


if __name__ == '__main__':
    main()
