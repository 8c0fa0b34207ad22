#!/usr/bin/env python3
"""Counts test cases and prints the closing line 'N passed, N failed'.

Reads meson's testlog.json (one JSON object per line, one per meson test)
and counts inside each test where its output says how many cases it ran:
GoogleTest's summary, Python unittest's, pytest's, or TAP lines. A test whose
output says nothing countable is one case. A test that meson saw fail
(crash, timeout, non-zero exit) counts at least one failure even when its
own summary was all green.

Usage: test-summary.py [--meson-rc N] TESTLOG.json [--extra NAME=PASS|FAIL|SKIP]...
Exit status: 0 when nothing failed, 1 otherwise.
"""
import argparse
import json
import os
import re
import sys

GTEST_PASSED = re.compile(r"^\[  PASSED  \] (\d+) tests?\.", re.M)
GTEST_FAILED = re.compile(r"^\[  FAILED  \] (\d+) tests?, listed below", re.M)
GTEST_SKIPPED = re.compile(r"^\[  SKIPPED \] (\d+) tests?, listed below", re.M)
GTEST_RAN = re.compile(r"^\[==========\] (\d+) tests? from \d+ test (?:suite|case)s? ran", re.M)
UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in ", re.M)
UNITTEST_END = re.compile(r"^(OK|FAILED)(?: \((.*)\))?\s*$", re.M)
PYTEST_END = re.compile(r"^=+ (.*?) in [\d.]+s(?: \([^)]*\))? =+\s*$", re.M)
TAP_LINE = re.compile(r"^(ok|not ok)\b(.*)$", re.M)
TAP_PLAN = re.compile(r"^1\.\.\d+", re.M)

OK = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}


def last(rx, text):
    found = rx.findall(text)
    return found[-1] if found else None


def gtest(text):
    if last(GTEST_RAN, text) is None:
        return None
    passed = int(last(GTEST_PASSED, text) or 0)
    failed = int(last(GTEST_FAILED, text) or 0)
    skipped = int(last(GTEST_SKIPPED, text) or 0)
    return passed, failed, skipped


def unittest(text):
    ran = last(UNITTEST_RAN, text)
    end = last(UNITTEST_END, text)
    if ran is None or end is None:
        return None
    counts = dict(re.findall(r"([a-z ]+)=(\d+)", end[1] or ""))
    counts = {k.strip(): int(v) for k, v in counts.items()}
    failed = counts.get("failures", 0) + counts.get("errors", 0) + counts.get("unexpected successes", 0)
    skipped = counts.get("skipped", 0)
    return int(ran) - failed - skipped, failed, skipped


def pytest(text):
    end = last(PYTEST_END, text)
    if end is None:
        return None
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (\w+)", end)}
    if not counts:
        return None
    failed = counts.get("failed", 0) + counts.get("error", 0) + counts.get("errors", 0)
    return counts.get("passed", 0) + counts.get("xfailed", 0), failed, counts.get("skipped", 0)


def tap(text):
    lines = TAP_LINE.findall(text)
    if not lines or not TAP_PLAN.search(text):
        return None
    passed = failed = skipped = 0
    for status, rest in lines:
        if re.search(r"#\s*SKIP", rest, re.I):
            skipped += 1
        elif status == "ok" or re.search(r"#\s*TODO", rest, re.I):
            passed += 1
        else:
            failed += 1
    return passed, failed, skipped


def count(entry):
    result = entry.get("result", "ERROR")
    text = (entry.get("stdout") or "") + "\n" + (entry.get("stderr") or "")
    for parse in (gtest, unittest, pytest, tap):
        detail = parse(text)
        if detail is not None:
            break
    if detail is None or sum(detail) == 0:
        if result in OK:
            return 1, 0, 0
        if result in SKIP:
            return 0, 0, 1
        return 0, 1, 0
    passed, failed, skipped = detail
    if result not in OK and result not in SKIP and failed == 0:
        failed = 1  # crashed, leaked, timed out or exited non-zero after its summary
    return passed, failed, skipped


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("testlog")
    ap.add_argument("--meson-rc", type=int, default=0)
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=PASS|FAIL|SKIP")
    args = ap.parse_args()

    passed = failed = skipped = 0
    failures = []
    if os.path.exists(args.testlog):
        with open(args.testlog, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                entry = json.loads(line)
                p, fl, s = count(entry)
                passed, failed, skipped = passed + p, failed + fl, skipped + s
                if fl:
                    failures.append(f"{entry.get('name')} ({entry.get('result')}, {fl} failed)")
    for extra in args.extra:
        name, _, status = extra.partition("=")
        if status == "PASS":
            passed += 1
        elif status == "SKIP":
            skipped += 1
        else:
            failed += 1
            failures.append(f"{name} ({status})")
    if args.meson_rc != 0 and failed == 0:
        failed += 1
        failures.append(f"meson test (exit status {args.meson_rc}, no failing test recorded)")

    for name in failures:
        print(f"FAILED: {name}")
    if skipped:
        print(f"({skipped} skipped)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
