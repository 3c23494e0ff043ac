#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""scripts/count_cases.py: the test cases of one `meson test` run, counted.

    count_cases.py clean BUILDDIR
    count_cases.py count BUILDDIR [SELECTED]

clean removes the XML files gtest-protocol tests wrote in an earlier run,
and meson's test logs, so that a test that crashes this time is not
credited with the results of the last one.

count prints the failed cases, then "PASSED FAILED SKIPPED" as the last
line. A GoogleTest case counts as one (from the XML each gtest-protocol
test writes), a freestanding test runner as its own "N passed, N failed"
line says (tests/freestanding/check.hpp), any other test as one. A test
that did not run counts as a failure: SELECTED, the output of `meson test
--list` with the run's options (a test setup may leave suites out), says
which were to run; without it, every test of the build directory.
"""
import glob
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

OK = {'OK', 'EXPECTEDFAIL'}


def short_name(name):
    # "name", "project:name" (a subproject's), or, once a project has tests
    # in suites of their own, "project[:suite] / name"
    return name.split(' / ')[-1].split(':')[-1]


def xml_path(builddir, test):
    # meson runs a gtest-protocol test with --gtest_output=xml:<workdir>/<name>.xml,
    # relative to the build directory when the test has no workdir.
    return os.path.join(test.get('workdir') or builddir, test['name'] + '.xml')


def test_logs(builddir):
    # meson test writes meson-logs/testlog.json, or testlog-<setup or
    # wrapper>.json with a test setup or a --wrapper.
    return glob.glob(os.path.join(builddir, 'meson-logs', 'testlog*.json'))


def clean(builddir, tests):
    for path in [xml_path(builddir, test) for test in tests
                 if test.get('protocol') == 'gtest'] + test_logs(builddir):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def count(builddir, tests):
    results = {}
    outputs = {}
    for test_log in test_logs(builddir):  # the one this run wrote: clean removed the others
        with open(test_log) as f:
            for line in f:
                if line.strip():
                    entry = json.loads(line)
                    name = short_name(entry['name'])
                    results[name] = entry['result']
                    outputs[name] = entry.get('stdout') or ''

    passed = failed = skipped = 0
    failures = []
    for test in tests:
        name = test['name']
        result = results.get(name)
        if result is None:
            failed += 1
            failures.append(f'{name}: did not run')
            continue
        output = outputs.get(name, '')
        summary = re.findall(r'^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?', output, re.M)
        if test.get('protocol') != 'gtest' and summary:
            # A freestanding test runner's own count, and its [  FAILED  ] lines.
            cases_passed, cases_failed = int(summary[-1][0]), int(summary[-1][1])
            passed += cases_passed
            failed += cases_failed
            skipped += int(summary[-1][2] or 0)
            failures += [f'{name}: {case}' for case in
                         re.findall(r'^\[  FAILED  \] (\S+)', output, re.M)]
            if result not in OK and cases_failed == 0:
                failed += 1
                failures.append(f'{name}: {result} (after its cases passed)')
            continue
        if test.get('protocol') != 'gtest':
            if result in OK:
                passed += 1
            elif result == 'SKIP':
                skipped += 1
            else:
                failed += 1
                failures.append(f'{name}: {result}')
            continue
        cases_failed = 0
        try:
            suites = ET.parse(xml_path(builddir, test)).getroot()
        except (FileNotFoundError, ET.ParseError):
            suites = None
        if suites is not None:
            for case in suites.iter('testcase'):
                if case.get('status') == 'notrun':          # DISABLED_ tests
                    continue
                case_name = f"{name}: {case.get('classname')}.{case.get('name')}"
                if case.find('failure') is not None or case.find('error') is not None:
                    cases_failed += 1
                    failures.append(case_name)
                elif case.get('result') == 'skipped' or case.find('skipped') is not None:
                    skipped += 1
                else:
                    passed += 1
        failed += cases_failed
        if result == 'SKIP' and suites is None:
            skipped += 1
        elif result not in OK and result != 'SKIP' and cases_failed == 0:
            # Crashed, timed out or exited non-zero with no failing case on
            # record (no XML when it died before writing it): one failure for
            # the binary.
            failed += 1
            why = 'no gtest XML written' if suites is None else 'after its cases passed'
            failures.append(f'{name}: {result} ({why})')

    for line in failures[:60]:
        print('    FAILED ' + line)
    if len(failures) > 60:
        print(f'    ... and {len(failures) - 60} more')
    print(passed, failed, skipped)


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ('clean', 'count'):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    mode, builddir = sys.argv[1], sys.argv[2]
    with open(os.path.join(builddir, 'meson-info', 'intro-tests.json')) as f:
        tests = json.load(f)
    if mode == 'clean':
        clean(builddir, tests)
        return 0
    if len(sys.argv) == 4:
        with open(sys.argv[3]) as f:
            selected = {short_name(line.strip()) for line in f if line.strip()}
        tests = [test for test in tests if test['name'] in selected]
    count(builddir, tests)
    return 0


if __name__ == '__main__':
    sys.exit(main())
