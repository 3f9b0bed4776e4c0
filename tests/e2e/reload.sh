#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/reload.sh - a reload never leaves the rules the kernel holds
# and the queues the daemon listens on out of step (root):
#  - the daemon runs strip on queue 0 (rules = "iptables", applied with
#    --apply-rules); the file then says queue.count = 2 and the unit's
#    reload runs (tsnatd -t, tsnatd --apply-rules, SIGHUP, stopping at the
#    first failure as systemd does): it must fail with "restart required"
#    and leave the rules on queue 0;
#  - SYNs from 16 client addresses (which --queue-balance would spread
#    over both queues) then reach the server: none with its timestamp;
#  - a SIGHUP or tsnatctl reload on its own refuses the same way, the
#    running configuration kept whole;
#  - a restart (stop, --apply-rules, start) takes the two queues, and
#    every SYN is stripped again; status says the rules match throughout.
# Run it under flock /run/tsnatd-netns.lock, as every namespace test.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
tn_start "reload tests need root"
: "${TSNATCTL:=$(dirname "$TSNATD")/tsnatctl}"
[ -x "$TSNATD" ] && [ -x "$TSNATCTL" ] || { echo "build first: make"; exit 1; }

OUT=$TN_DIR/out
mkdir "$OUT"
SOCK=$TN_DIR/control
CONF=$TN_DIR/reload.conf
LOG=$TN_DIR/daemon.log
sed -e 's/^rules = .*/rules = "iptables";/' \
    -e "s|^state_dir = .*|state_dir = \"$TN_DIR/state\";|" \
    -e "s|^control_socket = .*|control_socket = \"$SOCK\";|" conf/tsnatd.conf >"$CONF"
grep -q '^queue = { first = 0; count = 1;' "$CONF" ||
	{ echo "conf/tsnatd.conf: queue line not as expected"; exit 1; }
count2() { sed -i 's/^queue = { first = 0; count = 1;/queue = { first = 0; count = 2;/' "$CONF"; }
ctl() { "$TSNATCTL" -s "$SOCK" "$@"; }
gw() { in_ns "$TN_GW" "$@"; }

tn_setup
tn_http_server
# Eight addresses per client namespace: 16 clients. --queue-balance hashes
# the address pair, so with two queues about half of them land on each.
CLIENTS=""
for i in $(seq 3 9); do in_ns "$TN_C1" ip addr add 192.0.2.$i/26 dev eth0; done
for i in $(seq 67 73); do in_ns "$TN_C2" ip addr add 192.0.2.$i/26 dev eth0; done
for i in $(seq 2 9); do CLIENTS="$CLIENTS $TN_C1:192.0.2.$i"; done
for i in $(seq 66 73); do CLIENTS="$CLIENTS $TN_C2:192.0.2.$i"; done

# syns N: N connections from each client address (bounded: 5 s each at
# most); prints "syns with_timestamp" as the server counted them.
syns() {
	local c ns addr i
	tn_count_zero
	for c in $CLIENTS; do
		ns=${c%%:*} addr=${c#*:}
		for i in $(seq "$1"); do
			in_ns "$ns" curl -s -o /dev/null --connect-timeout 2 --max-time 5 \
				--interface "$addr" "$SRV_URL"
		done
	done
	tn_count "$SRV_IP"
}
# all_fixed SYNS WITH_TS: every client's SYNs arrived (2 each), none kept its timestamp
all_fixed() { [ "$1" -ge 32 ] && [ "$2" -eq 0 ]; }
# the queues the loaded rules name, as iptables lists them
rule_queues() { gw iptables -t mangle -S TSNATD | grep -o -- '--queue-[a-z]* [0-9:]*' | sort -u | tr '\n' ' '; }

gw "$TSNATD" --apply-rules -c "$CONF" >"$OUT/apply0.out" 2>&1
check "--apply-rules before the start ($(tr '\n' ' ' <"$OUT/apply0.out"))" eq $? 0
tn_daemon "$CONF" "$LOG"
check "tsnatd starts on queue 0" has "$LOG" "queues 0..0"
set -- $(syns 2)
check "before the reload: $1 SYNs, $2 with a timestamp" all_fixed $1 $2

echo "# the unit's reload with queue.count = 2"
count2
{
	"$TSNATD" -t -c "$CONF" &&
	gw "$TSNATD" --apply-rules -c "$CONF" &&
	kill -HUP "$TN_DAEMON_PID"
} >"$OUT/reload.out" 2>&1
rc=$?
sleep 0.5
cat "$OUT/reload.out"
check "the unit's reload fails (exit $rc)" [ $rc -ne 0 ]
check "saying a restart is required" has "$OUT/reload.out" "restart required"
check "the rules still name queue 0 only: $(rule_queues)" [ "$(rule_queues)" = "--queue-num 0 " ]
set -- $(syns 2)
UNFIXED=$2
echo "SYNs passed unfixed after the reload: $2 of $1"
check "after the reload: $1 SYNs, $2 reached the server with their timestamp" \
	all_fixed $1 $2

echo "# SIGHUP and tsnatctl reload on their own"
kill -HUP "$TN_DAEMON_PID"; sleep 0.5
check "SIGHUP: the daemon refuses, restart required" has "$LOG" "restart required"
check "and keeps its configuration (no policies logged for queues 0..1)" [ "$(grep -c 'polic[a-z]*; queues 0\.\.1' "$LOG")" = 0 ]
ctl reload >"$OUT/ctl-reload.out" 2>&1
rc=$?
check "tsnatctl reload exits 1 ($(tr '\n' ' ' <"$OUT/ctl-reload.out"))" eq $rc 1
ctl status >"$OUT/status.txt" 2>&1
check "status still says queues 0..0" grep -q "^queues  *0\.\.0" "$OUT/status.txt"
sleep 1
ctl status >"$OUT/status.txt" 2>&1
check "and that the rules queue to them: $(grep ^rules "$OUT/status.txt")" \
	grep -q "^rules  *iptables: present, queues 0\.\.0, as the daemon's" "$OUT/status.txt"

echo "# a restart takes the new queues"
tn_stop "$TN_DAEMON_PID"
gw "$TSNATD" --apply-rules -c "$CONF" >"$OUT/apply2.out" 2>&1
check "--apply-rules with no daemon running exits 0" eq $? 0
check "the rules now balance over queues 0 and 1: $(rule_queues)" \
	[ "$(rule_queues)" = "--queue-balance 0:1 " ]
: >"$LOG"
tn_daemon "$CONF" "$LOG"
check "tsnatd starts on queues 0..1" has "$LOG" "queues 0..1"
set -- $(syns 2)
check "after the restart: $1 SYNs, $2 with a timestamp" all_fixed $1 $2
gw "$TSNATD" --apply-rules -c "$CONF" >"$OUT/apply3.out" 2>&1
check "--apply-rules with the running daemon's queues exits 0" eq $? 0
tn_stop "$TN_DAEMON_PID"
gw "$TSNATD" --remove-rules -c "$CONF" >/dev/null 2>&1

echo "SYNs passed unfixed after the queue reload: $UNFIXED"
tn_summary reload
