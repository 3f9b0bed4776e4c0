#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/legacy/cli.sh TSNATD_LEGACY - the emulator's command line, without
# root or network: --help and what it refuses are decided before it opens
# a netlink socket (make unit runs it as legacy-cli). Each run is bounded
# (timeout 5): an emulator that starts instead of refusing fails, not hangs.
L=${1:?usage: cli.sh path/to/tsnatd-legacy}
T=$(mktemp -d /tmp/tsnatd-legacy-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }

# --help and -h: exit 0, the text on stdout, nothing on stderr; it names
# both variants, the options, and the rules that feed the queue.
for h in --help -h; do
	timeout 5 "$L" $h >"$T/out" 2>"$T/err" </dev/null; rc=$?
	[ $rc = 0 ] && ok || bad "$h exits $rc"
	[ ! -s "$T/err" ] && ok || bad "$h writes to stderr: $(cat "$T/err")"
	for want in "--variant 310|4x" "--queue" "310" "4x" "tcp_tw_recycle" \
		    "PAWSPassive" "-j NFQUEUE --queue-num 7 --queue-bypass" \
		    "INPUT" "OUTPUT" "queue num 7 bypass" "SIGUSR1" "tsnatd-legacy(8)"; do
		grep -qF -- "$want" "$T/out" && ok || bad "$h does not say: $want"
	done
done

# Refused before any socket: exit 1, one usage line on stderr, pointing at --help.
refused() { # DESC ARGS...
	desc=$1; shift
	timeout 5 "$L" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?
	[ $rc = 1 ] && ok || bad "$desc: exit $rc, want 1"
	grep -q "tsnatd-legacy --help" "$T/err" && ok || bad "$desc: no pointer to --help on stderr: $(cat "$T/err")"
	[ ! -s "$T/out" ] && ok || bad "$desc: stdout not empty: $(cat "$T/out")"
}
refused "unknown option" --frobnicate
refused "unknown variant" --variant 5x
refused "queue not a number" --queue abc
refused "queue with junk" --queue 7x
refused "queue above 65535" --queue 65536
refused "negative queue" --queue -1
refused "stray argument" --variant 4x extra

echo "legacy-cli: $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
