#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/bench/stability.sh [RUNS] - make bench-stability (root; on a shared
# machine `flock /run/tsnatd-netns.lock make bench-stability`): RUNS (3)
# consecutive `make bench`, each into build/bench/run<N>/ (tables.txt,
# results.json, raw.tsv) with the machine's load before it, then
# compare.py over their JSON: the same verdicts, every judged median
# within +-10% (issue 22). Exit 1 when a run fails or they disagree.
set -u
cd "$(dirname "$0")/../.."
N=${1:-3}
files=""
for i in $(seq "$N"); do
	out=$PWD/build/bench/run$i
	mkdir -p "$out"
	echo "== make bench, run $i of $N: $(date -u +%T) UTC, load:$(uptime | sed 's/.*load average://')" |
		tee "$out/load.txt"
	BENCH_OUT=$out make --no-print-directory bench >"$out/tables.txt" 2>&1 ||
		{ echo "run $i failed:"; tail -20 "$out/tables.txt"; exit 1; }
	echo "   done $(date -u +%T) UTC, load:$(uptime | sed 's/.*load average://')" | tee -a "$out/load.txt"
	files="$files $out/results.json"
done
python3 tests/bench/compare.py $files
