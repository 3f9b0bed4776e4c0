#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""metricnames.py - every tsnatd_* name the monitoring files use must be one
the daemon exports, so that a renamed metric fails make unit instead of
leaving an alert that never fires or a dashboard panel that stays empty.

    metricnames.py SAMPLE.prom FILE...

SAMPLE.prom is a rendering of the metrics (test_metrics --sample, which
make metrics-check writes): its "# TYPE" lines give every family the daemon
can export, also those without a sample in it. A FILE ending in .json must
be valid JSON, and its strings are searched (a Grafana dashboard: the
queries, legends and titles); any other file is searched as text (alert
rules and their tests, whose input series must be the real names too).

    metricnames.py --self-test

proves that the check fails on an unknown name and on broken JSON.
Standard library only: make unit needs no more than python3.
"""
import json
import os
import re
import sys
import tempfile

NAME = re.compile(r"\btsnatd_[A-Za-z0-9_]*[A-Za-z0-9]")


def exported(sample_path):
    names = set()
    with open(sample_path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"# TYPE (tsnatd_\w+) ", line)
            if m:
                names.add(m.group(1))
    return names


def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def used(path):
    """The tsnatd_* names in path: {name: first line it is on}."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        try:
            json.loads(text)
        except ValueError as e:
            raise SystemExit(f"{path}: not valid JSON: {e}")
        # Searching the text finds the same names as the strings (JSON
        # escapes nothing in a name) and gives their line numbers.
    found = {}
    for n, line in enumerate(text.splitlines(), 1):
        for m in NAME.finditer(line):
            found.setdefault(m.group(0), n)
    return found


def check(sample, paths):
    known = exported(sample)
    if not known:
        print(f"{sample}: no '# TYPE tsnatd_' line: not a metrics sample")
        return 1
    bad = 0
    total = 0
    for path in paths:
        names = used(path)
        if not names:
            print(f"{path}: names no tsnatd_ metric (wrong file?)")
            bad += 1
        for name, line in sorted(names.items(), key=lambda kv: kv[1]):
            total += 1
            if name not in known:
                print(f"{path}:{line}: {name} is not a metric tsnatd exports")
                bad += 1
    if bad:
        print(f"metricnames: {bad} problem(s); exported: {', '.join(sorted(known))}")
        return 1
    print(f"metricnames: {total} metric names in {len(paths)} files, all exported "
          f"({len(known)} families)")
    return 0


def self_test():
    with tempfile.TemporaryDirectory() as d:
        sample = os.path.join(d, "sample.prom")
        with open(sample, "w") as f:
            f.write("# TYPE tsnatd_up gauge\ntsnatd_up 1\n"
                    "# TYPE tsnatd_enobufs_total counter\n")
        cases = {
            "good.json": ('{"expr": "rate(tsnatd_enobufs_total[5m])"}', 0),
            "renamed.json": ('{"expr": "rate(tsnatd_enobuf_total[5m])"}', 1),
            "broken.json": ('{"expr": "tsnatd_up"', None),
            "rules.yml": ("expr: absent(tsnatd_up)\n", 0),
            "renamed.yml": ("expr: absent(tsnatd_upp)\n", 1),
        }
        failed = 0
        for name, (text, want) in cases.items():
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(text)
            try:
                with open(os.devnull, "w") as null:
                    saved, sys.stdout = sys.stdout, null
                    try:
                        got = check(sample, [path])
                    finally:
                        sys.stdout = saved
            except SystemExit:
                got = None
            if got != want:
                print(f"self-test: {name}: got {got}, want {want}")
                failed += 1
    print("metricnames: self-test " + ("FAILED" if failed else f"passed ({len(cases)} cases)"))
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(check(sys.argv[1], sys.argv[2:]))
