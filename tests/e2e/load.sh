# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/load.sh - bounded interleaved curl load and the before/after
# scenarios against the legacy server emulator (sourced after lib.sh).

# tn_load N URL NS...: N requests per client namespace, clients in
# parallel; prints "attempts slow failed" (slow: connect > 0.9 s, i.e. at
# least one SYN retransmission). Bounded: N requests, 5 s each at most.
tn_load() {
	local n=$1 url=$2; shift 2
	local ns pids="" out=$TN_DIR/load.$RANDOM
	for ns in "$@"; do
		(for i in $(seq "$n"); do tn_curl "$ns" "$url"; done) >"$out.$ns" &
		pids="$pids $!"
	done
	for ns in $pids; do wait "$ns"; done
	cat "$out".* | awk '{ n++; if ($2 != 0) f++; else if ($1 > 0.9) s++ }
		END { printf "%d %d %d\n", n, s, f }'
	rm -f "$out".*
}

# One before/after scenario: tn_scenario MODE VARIANT N CLIENT_NS...
# MODE: none (no tsnatd rules), strip (tsnatd running with the default
# config). Prints a table row and sets SC_ATTEMPTS SC_SLOW SC_FAILED
# SC_PASSIVE SC_ESTAB.
tn_scenario() {
	local mode=$1 variant=$2 n=$3; shift 3
	local log=$TN_DIR/legacy.$mode.$variant.$RANDOM line
	# A fresh emulator: a legacy server that has not seen this gateway
	# in the last minute.
	tn_legacy "$variant" "$log"
	set -- $(tn_load "$n" "$SRV_URL" "$@")
	SC_ATTEMPTS=$1 SC_SLOW=$2 SC_FAILED=$3
	line=$(tn_legacy_stop "$log")
	SC_PASSIVE=$(echo "$line" | sed -n 's/.*PAWSPassive=\([0-9]*\).*/\1/p')
	SC_ESTAB=$(echo "$line" | sed -n 's/.*PAWSEstab=\([0-9]*\).*/\1/p')
	printf "%-22s %-7s %8s %6s %7s %12s %10s\n" "$mode" "$variant" \
		"$SC_ATTEMPTS" "$SC_SLOW" "$SC_FAILED" "$SC_PASSIVE" "$SC_ESTAB"
}

tn_table_header() {
	printf "%-22s %-7s %8s %6s %7s %12s %10s\n" "mode" "variant" "attempts" \
		"slow" "failed" "PAWSPassive" "PAWSEstab"
}
