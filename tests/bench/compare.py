#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/bench/compare.py RESULTS.json... - is make bench stable? For runs of
the same commit: every judged target's verdict must be the same in all
runs, and every cost median a target is judged on within +-10% of the runs'
median of it (the other rows' costs are shown, marked "(out)" when they
move more). Exit 1 when not. (Copy build/bench/results.json aside after
each run.)"""
import json
import statistics
import sys

TOLERANCE = 0.10
# the cost rows the targets judge (report.py)
JUDGED = ("thread syn/nfq-example ", "thread syn/tsnatd-strip ", "thread syn/tsnatd-rewrite ",
          "thread bulk/tsnatd-rewrite/1 ", "bpf bulk/tsnatd-rewrite-offload/", "progtest ")
runs = [json.load(open(p)) for p in sys.argv[1:]]
if len(runs) < 2:
    sys.exit("usage: compare.py RESULTS.json RESULTS.json...")
ok = True


def costs(r):
    """name -> median of every cost figure a target is judged on"""
    c, out = r.get("cost", {}), {}
    for key, row in c.get("thread", {}).items():
        # a row that queues only the handshakes (offload, observe in
        # bulk) has too few packets for a figure per packet
        if row["packets"] >= 1000:
            out["thread %s ns/packet" % key] = row["ns_packet"]["median"]
    for key, row in c.get("bpf", {}).items():
        if not key.startswith("bulk/"):
            continue	# the SYN rows' programs see SYNs and nothing back
        for f in ("ingress", "egress", "noop_ingress", "noop_egress", "ingress_above_noop", "egress_above_noop"):
            if row.get(f):
                out["bpf %s %s ns/packet" % (key, f)] = row[f]["median"]
    for case, row in c.get("progtest", {}).items():
        out["progtest %s ns" % case] = row["median"]
    return out


print("Verdicts")
targets = [t["target"] for t in runs[0]["targets"]]
for name in targets:
    vs = []
    for r in runs:
        t = [x for x in r["targets"] if x["target"] == name]
        vs.append("%s %s" % (t[0]["verdict"], t[0]["value"]) if t else "absent")
    same = len(set(v.split()[0] for v in vs)) == 1
    ok &= same
    print("  %-4s %s\n       %s" % ("same" if same else "DIFF", name, " | ".join(vs)))

print("\nCost medians (each run's deviation from the runs' median)")
figs = [costs(r) for r in runs]
for name in sorted(figs[0]):
    vals = [f.get(name) for f in figs]
    if any(v is None for v in vals):
        print("  ABSENT %s" % name)
        ok = False
        continue
    m = statistics.median(vals)
    dev = [(v - m) / m if m else 0.0 for v in vals]
    within = all(abs(d) <= TOLERANCE for d in dev)
    judged = name.startswith(JUDGED)
    if judged:
        ok &= within
    print("  %-5s %-62s %s" % ("ok" if within else "OUT" if judged else "(out)", name,
                               "  ".join("%.0f (%+.0f%%)" % (v, 100 * d) for v, d in zip(vals, dev))))
print("\n%s" % ("stable: same verdicts, judged cost medians within +-10%" if ok else "NOT stable"))
sys.exit(0 if ok else 1)
