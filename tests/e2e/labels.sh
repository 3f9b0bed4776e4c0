#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/labels.sh - rewrite's state in conntrack labels (ha_labels), on
# one gateway (root): each rewritten flow's record is written into its
# conntrack entry; a daemon killed with -9 and restarted without its state
# (and, with offload, without its pinned map: a new gateway's view) adopts
# the flows in flight from their labels, so that no segment leaves raw or
# steps back; tsnatctl takeover reads the records and raises the clocks.
# Negative control: without the rule that keeps labels on, the writes fail
# and the same restart leaves the transfer's segments raw. The HA pair
# itself (keepalived, conntrackd) is ha.sh's. Everything it creates is
# removed on exit.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
tn_start "label tests need root"

[ -x "$TSNATD" ] && [ -x "$TSNATD_LEGACY" ] || { echo "build first: make"; exit 1; }
: "${TSNATCTL:=$(dirname "$TSNATD")/tsnatctl}"

BPFFS=$TN_DIR/bpffs
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS" || { echo "cannot mount a bpf file system"; exit 1; }
trap 'umount "$BPFFS" 2>/dev/null; tn_cleanup' EXIT

SOCK=$TN_DIR/control
ctl() { "$TSNATCTL" -s "$SOCK" "$@"; }
NQCONF=$TN_DIR/labels-nfqueue.conf
tn_rewrite_conf "$NQCONF"
sed -i "s|^control_socket = .*|control_socket = \"$SOCK\";|" "$NQCONF"
{ echo "offload = false;"; echo "ha_labels = true;"; } >>"$NQCONF"
OLCONF=$TN_DIR/labels-offload.conf
sed -e '/^offload = false;$/d' "$NQCONF" >"$OLCONF"
echo "offload_dir = \"$BPFFS/tsnatd\";" >>"$OLCONF"
for f in "$NQCONF" "$OLCONF"; do
	"$TSNATD" -t -c "$f" >/dev/null 2>&1 || { echo "bad test config $f"; "$TSNATD" -t -c "$f"; exit 1; }
done

tn_setup
tn_http_server
tn_iperf_server
tn_legacy 4x "$TN_DIR/legacy.log" "$SRV_IP"

echo "# the rules keep conntrack labels on"
"$TSNATD" -c "$NQCONF" --print-rules iptables >"$TN_DIR/rules.ipt"
check "the rules hold the label rule" has "$TN_DIR/rules.ipt" "connlabel --label 24 --set"

# A transfer through the daemon, killed with -9 mid-way and started again
# without its state: run_restart LABEL CONF [unload]. Prints nothing; sets
# R_IPERF (tn_iperf's line), R_ORDER_RC/LINE, R_ADOPTED, R_UNADOPTED.
run_restart() {
	local label=$1 conf=$2 loadpid
	tn_rules_off
	if [ "${4:-}" = nolabel ]; then
		"$TSNATD" -c "$conf" --print-rules iptables | grep -v 'connlabel' |
			in_ns "$TN_GW" iptables-restore --noflush
	else
		tn_load_rules "$conf"
	fi
	tn_daemon "$conf" "$TN_DIR/daemon.$label.1.log" || return 1
	tn_order_start lan1 5201
	(tn_iperf "$TN_C1" 6 >"$TN_DIR/$label.iperf") &
	loadpid=$!
	sleep 2
	R_WRITTEN=$(tn_daemon_counter "$TN_DIR/daemon.$label.1.log" labels_written)
	R_ERRORS=$(tn_daemon_counter "$TN_DIR/daemon.$label.1.log" label_errors)
	# No gateway for the transfer until the new daemon runs, as in a
	# failover: its segments are lost (and retransmitted), not passed
	# raw by the queue's bypass while no daemon listens.
	in_ns "$TN_GW" iptables -I FORWARD -p tcp --dport 5201 -j DROP
	in_ns "$TN_GW" iptables -I FORWARD -p tcp --sport 5201 -j DROP
	kill -KILL "$TN_DAEMON_PID"; wait "$TN_DAEMON_PID" 2>/dev/null
	rm -f "$TN_DIR/state/tsnatd.state"
	[ "${3:-}" = unload ] && "$TSNATD" -c "$conf" --unload >/dev/null 2>&1
	tn_daemon "$conf" "$TN_DIR/daemon.$label.2.log" || return 1
	in_ns "$TN_GW" iptables -D FORWARD -p tcp --dport 5201 -j DROP
	in_ns "$TN_GW" iptables -D FORWARD -p tcp --sport 5201 -j DROP
	wait "$loadpid"
	tn_order_stop
	R_IPERF=$(cat "$TN_DIR/$label.iperf")
	R_ORDER_RC=$TN_ORDER_RC R_ORDER_LINE=$TN_ORDER_LINE
	R_ADOPTED=$(tn_daemon_counter "$TN_DIR/daemon.$label.2.log" flows_adopted)
	R_UNADOPTED=$(tn_daemon_counter "$TN_DIR/daemon.$label.2.log" flows_unadopted)
}

for path in nfqueue offload; do
	conf=$NQCONF; [ $path = offload ] && conf=$OLCONF
	echo "# $path: a restart without state adopts the transfer from its labels"
	paws_before=$(tn_legacy_now "$TN_DIR/legacy.log" PAWSEstab)
	run_restart "$path" "$conf" unload || { check "$path: tsnatd starts" false; continue; }
	check "$path: the labels were written ($R_WRITTEN written, $R_ERRORS errors)" \
		test "$R_WRITTEN" -ge 1 -a "$R_ERRORS" -eq 0
	set -- $R_IPERF
	check "$path: the transfer completes across kill -9 and a lost state ($1 Gbit/s)" eq "$3" 0
	check "$path: the new daemon adopted it (flows_adopted $R_ADOPTED)" ge "$R_ADOPTED" 1
	check "$path: no segment left raw or stepped back ($R_ORDER_LINE)" eq "$R_ORDER_RC" 0
	check "$path: no packet of it was left without state (flows_unadopted $R_UNADOPTED)" \
		eq "$R_UNADOPTED" 0
	paws_after=$(tn_legacy_now "$TN_DIR/legacy.log" PAWSEstab)
	check "$path: the emulated server dropped nothing (PAWSEstab $paws_before -> $paws_after)" \
		eq "$paws_after" "$paws_before"
	ctl status >"$TN_DIR/status.$path" 2>&1
	check "$path: status shows the labels and the adoption" \
		grep -q "labels on (bits 24-127, clock skew 100 ms): $R_ADOPTED flows adopted" \
		"$TN_DIR/status.$path"
	tn_stop "$TN_DAEMON_PID"
	"$TSNATD" -c "$conf" --unload >/dev/null 2>&1
done

echo "# takeover: the clocks start above every record"
tn_rules_off
tn_load_rules "$NQCONF"
tn_daemon "$NQCONF" "$TN_DIR/daemon.takeover.log"
fails=0
for i in $(seq 5); do
	set -- $(tn_curl "$TN_C1" "$SRV_URL")
	[ "$2" = 0 ] || fails=$((fails + 1))
done
check "5 connects through the rewriting gateway" eq "$fails" 0
ctl takeover >"$TN_DIR/takeover.out" 2>&1
labelled=$(sed -n 's/^takeover: \([0-9]*\) labelled.*/\1/p' "$TN_DIR/takeover.out")
check "takeover read the records of the connects (${labelled:-none}: $(cat "$TN_DIR/takeover.out"))" \
	test "${labelled:-0}" -ge 5
ctl status >"$TN_DIR/status.takeover" 2>&1
check "status tells the takeover" has "$TN_DIR/status.takeover" "last takeover .*labelled of"
tn_stop "$TN_DAEMON_PID"

echo "# negative control: without the rule that keeps labels on"
# (conntrack gives new entries room for labels only while such a rule
# exists: the transfer's entry is made after the rule is gone)
run_restart nolabel "$NQCONF" "" nolabel || check "nolabel: tsnatd starts" false
check "without the label rule the writes fail ($R_ERRORS errors, $R_WRITTEN written)" \
	test "$R_ERRORS" -ge 1 -a "$R_WRITTEN" -eq 0
check "without the label rule nothing is adopted (flows_adopted $R_ADOPTED)" eq "$R_ADOPTED" 0
check "without the label rule the packets without state are counted ($R_UNADOPTED)" \
	gt "$R_UNADOPTED" 0
check "without the label rule the transfer's segments leave raw ($R_ORDER_LINE)" \
	test "$R_ORDER_RC" -ne 0
tn_stop "$TN_DAEMON_PID"
tn_legacy_stop "$TN_DIR/legacy.log" >/dev/null
tn_summary "labels"
