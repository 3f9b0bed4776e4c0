#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/bench/compare.py RESULTS.json... - is make bench stable? For runs of
the same commit (issue 22): every target's verdict the same in all runs,
and the cost each cost-based target judges (its median) within +-10% of
the runs' median of it. The other cost figures are shown, marked "(out)"
when they move more, but do not fail. Prints a table, one row a target:
median (spread) and verdict per run. Exit 1 when not stable.
(tests/bench/stability.sh runs make bench's harness three times and this.)"""
import json
import statistics
import sys

TOLERANCE = 0.10
runs = [json.load(open(p)) for p in sys.argv[1:]]
if len(runs) < 2:
    sys.exit("usage: compare.py RESULTS.json RESULTS.json...")
ok = True


def context_costs(r):
    """name -> median of the cost figures no target judges"""
    c, out = r.get("cost", {}), {}
    for key, row in c.get("thread", {}).items():
        # a row that queues only the handshakes (offload, observe in
        # bulk) has too few packets for a figure per packet
        if row["packets"] >= 1000:
            out["thread %s ns/packet" % key] = row["ns_packet"]["median"]
    for key, row in c.get("bpf", {}).items():
        if key.startswith("bulk/"):	# the SYN rows' programs see SYNs and nothing back
            for f in ("ingress", "egress", "noop_ingress", "noop_egress"):
                if row.get(f):
                    out["bpf %s %s ns/packet" % (key, f)] = row[f]["median"]
    for case, row in c.get("progtest", {}).items():
        out["progtest %s ns" % case] = row["median"]
    return out


def deviations(vals):
    m = statistics.median(vals)
    return [(v - m) / m if m else 0.0 for v in vals]


print("Targets: verdict, median (spread) per run; deviation of each median from the runs' median")
for name in [t["target"] for t in runs[0]["targets"]]:
    ts = []
    for r in runs:
        t = [x for x in r["targets"] if x["target"] == name]
        ts.append(t[0] if t else None)
    if any(t is None for t in ts):
        ok = False
        print("  ABSENT in some runs: %s" % name)
        continue
    same = len(set(t["verdict"] for t in ts)) == 1
    dev = deviations([t["median"] for t in ts])
    within = all(abs(d) <= TOLERANCE for d in dev)
    ok &= same and within
    print("  %-4s %-3s %s" % ("same" if same else "DIFF", "ok" if within else "OUT", name))
    print("           %s" % " | ".join("%s %s %+.0f%%" % (t["verdict"], t["value"], 100 * d)
                                      for t, d in zip(ts, dev)))
for name in [t["target"] for t in runs[-1]["targets"] if t["target"] not in
             {x["target"] for x in runs[0]["targets"]}]:
    ok = False
    print("  ABSENT in the first run: %s" % name)

print("\nOther cost medians, not judged (each run's deviation from the runs' median)")
figs = [context_costs(r) for r in runs]
for name in sorted(figs[0]):
    vals = [f.get(name) for f in figs]
    if any(v is None for v in vals):
        print("  absent %s" % name)
        continue
    dev = deviations(vals)
    print("  %-5s %-62s %s" % ("ok" if all(abs(d) <= TOLERANCE for d in dev) else "(out)", name,
                               "  ".join("%.0f (%+.0f%%)" % (v, 100 * d) for v, d in zip(vals, dev))))
for i, r in enumerate(runs):
    ld = r.get("load")
    if ld:
        print("run %d: %d of %d repetitions taken again for other jobs' load, kept disturbed: %s" % (
            i + 1, ld["taken_again"], ld["repetitions"], ", ".join(ld["kept_disturbed"]) or "none"))
print("\n%s" % ("stable: the same verdicts, every judged median within +-10%" if ok else "NOT stable"))
sys.exit(0 if ok else 1)
