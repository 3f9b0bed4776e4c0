#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/bench/check_results.py RESULTS.json - make bench-smoke: the harness
ran every part and results.json has the shape a later change compares
against (figures not judged)."""
import json
import sys

r = json.load(open(sys.argv[1]))
c = r.get("cost", {})
thread, bpf, progtest = c.get("thread", {}), c.get("bpf", {}), c.get("progtest", {})
problems = []
# syn: 8 rows with the HA row (a tsnatd that accepts ha_labels), 7 without
if len(r["syn"]) not in (7, 8) or len(r["bulk"]) != 12 or not r["memory"]:
    problems.append("syn %d rows (7-8), bulk %d (12), memory %s" % (len(r["syn"]), len(r["bulk"]), bool(r["memory"])))
if "load" not in r:
    problems.append("no load section (repetitions taken again for other jobs)")
# the daemon's own cost: the example and every tsnatd row, both parts
for key in ["syn/" + k for k in ("nfq-example", "tsnatd-accept", "tsnatd-strip", "tsnatd-rewrite",
                                 "tsnatd-rewrite-offload")] + \
           ["bulk/%s/%d" % (k, s) for k in ("nfq-example", "tsnatd-accept", "tsnatd-rewrite",
                                            "tsnatd-rewrite-offload", "tsnatd-observe") for s in (1, 4)]:
    row = thread.get(key)
    if not row or not row["ns_packet"] or row["ns_packet"]["median"] <= 0 or not row["ns_batch"]:
        problems.append("no thread CPU per packet for " + key)
# the kernel data path's own cost, beside the no-op, in the offload rows
for s in (1, 4):
    row = bpf.get("bulk/tsnatd-rewrite-offload/%d" % s)
    if not row or not all(row.get(k) for k in ("ingress", "egress", "noop_ingress", "noop_egress",
                                               "ingress_above_noop", "egress_above_noop")):
        problems.append("no program costs for bulk/tsnatd-rewrite-offload/%d" % s)
for case in ("noop", "ingress-v4", "egress-v4", "ingress-v6", "egress-v6"):
    if progtest.get(case, {}).get("median", 0) <= 0:
        problems.append("no BPF_PROG_TEST_RUN figure for " + case)
if not r.get("targets") or any(t["verdict"] not in ("met", "MISS", "inconclusive") for t in r["targets"]):
    problems.append("targets without a verdict")
for p in problems:
    print("bench-smoke: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
