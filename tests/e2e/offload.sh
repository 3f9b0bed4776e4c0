#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/offload.sh - rewrite's kernel data path (tc BPF) end to end
# (root): the rewrite scenarios against the legacy emulator with offload,
# with offload = false and with an offload that cannot load; checksums
# forced into software (and the negative control that must fail them);
# kill -9 of the daemon mid-transfer and adoption by the next one; --unload.
# Everything it creates is removed on exit.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
tn_start "offload tests need root"
: "${TSNATD_NOCSUM:=}"

[ -x "$TSNATD" ] && [ -x "$TSNATD_LEGACY" ] || { echo "build first: make"; exit 1; }

# A bpf file system of the test's own, on the host: `ip netns exec` gives
# each command its own mount namespace and its own /sys, so pins under
# /sys/fs/bpf would vanish with the daemon that made them.
BPFFS=$TN_DIR/bpffs
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS" || { echo "cannot mount a bpf file system"; exit 1; }
trap 'umount "$BPFFS" 2>/dev/null; tn_cleanup' EXIT

: "${TSNATCTL:=$(dirname "$TSNATD")/tsnatctl}"
SOCK=$TN_DIR/control
ctl() { "$TSNATCTL" -s "$SOCK" "$@"; }
RWCONF=$TN_DIR/rewrite.conf
tn_rewrite_conf "$RWCONF"
sed -i "s|^control_socket = .*|control_socket = \"$SOCK\";|" "$RWCONF"
grep -q "^control_socket = \"$SOCK\";" "$RWCONF" || { echo "rewrite.conf: no control_socket"; exit 1; }
OLCONF=$TN_DIR/offload.conf
{ cat "$RWCONF"; echo "offload_dir = \"$BPFFS/tsnatd\";"; } >"$OLCONF"
OFFCONF=$TN_DIR/nooffload.conf
{ cat "$OLCONF"; echo "offload = false;"; } >"$OFFCONF"
FAILCONF=$TN_DIR/failoffload.conf
mkdir -p "$TN_DIR/notbpf"
{ cat "$RWCONF"; echo "offload_dir = \"$TN_DIR/notbpf/tsnatd\";"; } >"$FAILCONF"
for f in "$OLCONF" "$OFFCONF" "$FAILCONF"; do
	"$TSNATD" -t -c "$f" >/dev/null 2>&1 || { echo "bad test config $f"; "$TSNATD" -t -c "$f"; exit 1; }
done

tn_setup
tn_http_server
tn_iperf_server

# Filters of ours on the gateway's client side: "ingress egress" counts.
tc_filters() { # IF
	local i e
	i=$(in_ns "$TN_GW" tc filter show dev "$1" ingress 2>/dev/null | grep -c "shift_ingress")
	e=$(in_ns "$TN_GW" tc filter show dev "$1" egress 2>/dev/null | grep -c "shift_egress")
	echo "$i $e"
}
flows_in_map() { bpftool map dump pinned "$BPFFS/tsnatd/flows" 2>/dev/null | grep -c '"key"'; }
paws_active() { echo $(( $(tn_counter "$TN_C1" TcpExt PAWSActive) + $(tn_counter "$TN_C2" TcpExt PAWSActive) )); }
queued() { tn_daemon_counter "$1" packets; }

echo "# the rules: one set fits both data paths"
"$TSNATD" -c "$OLCONF" --print-rules iptables >"$TN_DIR/rules.ipt"
check "the offload rules keep marked packets out of the queue" has "$TN_DIR/rules.ipt" "mark --mark 0x10000000/0x10000000 .*-j RETURN"
check "and their connections' replies" has "$TN_DIR/rules.ipt" "connmark --mark 0x10000000/0x10000000 .*-j RETURN"
check "and queues with --queue-bypass" has "$TN_DIR/rules.ipt" "NFQUEUE --queue-num 0 --queue-bypass"

echo "# the rewrite scenarios, three data paths, against the legacy emulator"
tn_table_header
for path in offload nooffload failoffload; do
	case $path in
	offload) conf=$OLCONF ;;
	nooffload) conf=$OFFCONF ;;
	failoffload) conf=$FAILCONF ;;
	esac
	# no earlier data path to drain: these rows are NFQUEUE alone
	[ "$path" = offload ] || in_ns "$TN_GW" "$TSNATD" -c "$OLCONF" --unload >/dev/null
	for variant in 310 4x; do
		tn_rules_off
		tn_load_rules "$conf"
		log=$TN_DIR/daemon.$path.$variant.log
		tn_daemon "$conf" "$log"
		check "$path, $variant: tsnatd starts" eq $? 0
		tn_count_zero
		pa_before=$(paws_active)
		tn_scenario "rewrite $path" "$variant" 12 "$TN_C1" "$TN_C2"
		check "$path, $variant: no SYN dropped, no estab drop, none slow or failed" \
			eq "$((SC_PASSIVE + SC_ESTAB + SC_SLOW + SC_FAILED))" 0
		set -- $(tn_count "$SRV_IP")
		check "$path, $variant: every SYN at the server has a timestamp ($2 of $1)" \
			eq "$(($1 >= 24 ? $2 : -1))" "$1"
		check "$path, $variant: clients' PAWSActive stays 0" eq "$(paws_active)" "$pa_before"
		off=$(tn_daemon_counter "$log" flows_offloaded)
		rw=$(tn_daemon_counter "$log" rewritten)
		pk=$(queued "$log")
		ctl status >"$TN_DIR/status.$path.$variant" 2>&1
		case $path in
		offload)
			check "$path, $variant: the daemon says the kernel shifts" has "$log" "offload: rewritten flows are shifted in the kernel"
			check "$path, $variant: tsnatctl status says active" has "$TN_DIR/status.$path.$variant" "^offload  *active"
			check "$path, $variant: every flow went to the kernel ($off)" ge "$off" 24
			check "$path, $variant: the daemon queued at most 4 packets a connection ($pk)" \
				ge "$((4 * off))" "$pk"
			;;
		nooffload)
			check "$path, $variant: the daemon says why not" has "$log" "offload: NOT USED: offload = false"
			check "$path, $variant: tsnatctl status says off, and why" has "$TN_DIR/status.$path.$variant" "^offload  *off: offload = false"
			check "$path, $variant: no flow went to the kernel" eq "$off" 0
			check "$path, $variant: the daemon shifted the flows' packets ($rw)" gt "$rw" 100
			;;
		failoffload)
			check "$path, $variant: the daemon says why not" has "$log" "offload: NOT USED: .*not on a bpf file system"
			check "$path, $variant: no flow went to the kernel" eq "$off" 0
			check "$path, $variant: the daemon shifted the flows' packets ($rw)" gt "$rw" 100
			;;
		esac
		tn_stop "$TN_DAEMON_PID"
	done
done
check "no pins left by the paths that did not load" test ! -e "$TN_DIR/notbpf/tsnatd/flows"

echo "# offload: bulk, kill -9 mid-transfer, adoption"
tn_rules_off
tn_load_rules "$OLCONF"
tn_daemon "$OLCONF" "$TN_DIR/daemon.bulk.log"
csum_before=$(tn_counter "$TN_SRV" Tcp InCsumErrors)
tn_order_start lan1 5201
(tn_iperf "$TN_C1" 6 >"$TN_DIR/kill.iperf") &
loadpid=$!
sleep 2
inmap=$(flows_in_map)
check "the transfer's flows are in the kernel's map ($inmap)" ge "$inmap" 1
set -- $(tc_filters lan1)
check "the first SYN put the programs on lan1 (ingress $1, egress $2)" eq "$(( $1 * 10 + $2 ))" 11
kill -KILL "$TN_DAEMON_PID"; wait "$TN_DAEMON_PID" 2>/dev/null
sleep 1
tn_daemon "$OLCONF" "$TN_DIR/daemon.adopted.log"
check "a new daemon adopts the pinned data path" has "$TN_DIR/daemon.adopted.log" "adopted from"
ctl metrics >"$TN_DIR/metrics.adopted" 2>&1
check "the metrics say the kernel data path is active" has "$TN_DIR/metrics.adopted" "^tsnatd_offload_active 1$"
wait "$loadpid"
tn_order_stop
set -- $(cat "$TN_DIR/kill.iperf")
check "the transfer completes across kill -9 ($1 Gbit/s, $2 retransmits)" eq "$3" 0
check "tsnatd adds no step back across kill -9 ($TN_ORDER_LINE)" eq "$TN_ORDER_RC" 0
check "server TcpInCsumErrors stays 0" eq "$(tn_counter "$TN_SRV" Tcp InCsumErrors)" "$csum_before"
check "no resync was needed" eq "$(tn_daemon_counter "$TN_DIR/daemon.adopted.log" flows_resynced)" 0

echo "# offload: checksums computed in software"
check "checksums are computed in software on every link" tn_csum_software
csum_before=$(tn_counter "$TN_SRV" Tcp InCsumErrors)
ccsum_before=$(tn_counter "$TN_C1" Tcp InCsumErrors)
set -- $(tn_iperf "$TN_C1" 3)
check "iperf3 with software checksums completes ($1 Gbit/s)" eq "$3" 0
check "the server counts no checksum error" eq "$(tn_counter "$TN_SRV" Tcp InCsumErrors)" "$csum_before"
check "the client counts no checksum error" eq "$(tn_counter "$TN_C1" Tcp InCsumErrors)" "$ccsum_before"
tn_stop "$TN_DAEMON_PID"

echo "# offload = false while the kernel shifts a transfer: it drains"
tn_daemon "$OLCONF" "$TN_DIR/daemon.before-switch.log"
tn_order_start lan1 5201
(tn_iperf "$TN_C1" 6 >"$TN_DIR/switch.iperf") &
loadpid=$!
sleep 2
tn_stop "$TN_DAEMON_PID"
tn_rules_off
tn_load_rules "$OFFCONF"
tn_daemon "$OFFCONF" "$TN_DIR/daemon.switched.log"
check "the new daemon says the kernel data path drains" has "$TN_DIR/daemon.switched.log" "keeps shifting its flows until they end"
ctl status >"$TN_DIR/status.switched" 2>&1
check "tsnatctl status says draining" has "$TN_DIR/status.switched" "^offload  *draining: [1-9][0-9]* map entr"
set -- $(tn_load 5 "http://$SRV_IP/" "$TN_C2")
check "new connections meanwhile go through NFQUEUE ($3 failed)" eq "$(($1 == 5 ? $3 : -1))" 0
wait "$loadpid"
tn_order_stop
set -- $(cat "$TN_DIR/switch.iperf")
check "the transfer completes across the switch ($1 Gbit/s)" eq "$3" 0
check "tsnatd adds no step back across the switch ($TN_ORDER_LINE)" eq "$TN_ORDER_RC" 0
check "no flow went to the kernel after the switch" eq "$(tn_daemon_counter "$TN_DIR/daemon.switched.log" flows_offloaded)" 0
tn_stop "$TN_DAEMON_PID"

echo "# under load: a busy loop per core beside the transfer, both data paths"
tn_load_runs "IPv4, rewrite offload" "$OLCONF"
tn_load_runs "IPv4, rewrite NFQUEUE" "$OFFCONF"

echo "# a hostile client floods SYNs: its neighbours keep their kernel flows"
FLCONF=$TN_DIR/flood.conf
sed -e 's/^flows = .*/flows = { max = 1024; };/' "$OLCONF" >"$FLCONF"
check "a flood config (flows.max = 1024, quota 64 a client)" has "$FLCONF" "^flows = { max = 1024; };"
in_ns "$TN_GW" "$TSNATD" -c "$OLCONF" --unload >/dev/null	# a map of 1024 entries
in_ns "$TN_C1" ip addr add 192.0.2.3/26 dev eth0
in_ns "$TN_SRV" iptables -A INPUT -p tcp --dport 81 -j DROP	# never answered
tn_rules_off
tn_load_rules "$FLCONF"
tn_daemon "$FLCONF" "$TN_DIR/daemon.flood.log"
# checksums in software on c2's link too: no TSO, so both captures see the
# same segments (tsorder.py pairs them by sequence range)
in_ns "$TN_C2" ethtool -K eth0 tx off rx off >/dev/null 2>&1
in_ns "$TN_GW" ethtool -K lan2 tx off rx off >/dev/null 2>&1
tn_order_start lan2 5201
(tn_iperf "$TN_C2" 6 >"$TN_DIR/flood.iperf") &
loadpid=$!
sleep 1
ip netns exec "$TN_C1" python3 tests/e2e/rawtcp.py flood "$SRV_IP" 81 192.0.2.3 4096 3 >"$TN_DIR/flood.out" &
floodpid=$!
tn_track $floodpid
set -- $(tn_load 10 "http://$SRV_IP/" "$TN_C2")
h_failed=$3
wait "$floodpid"
wait "$loadpid"
tn_order_stop
check "the flood was sent ($(cat "$TN_DIR/flood.out"))" has "$TN_DIR/flood.out" "sent=4096"
over=$(tn_daemon_counter "$TN_DIR/daemon.flood.log" flows_over_quota)
check "the flooding client hit its quota in the map ($over SYNs stripped)" gt "$over" 3000
check "the neighbour's connects during the flood all succeed" eq "$h_failed" 0
set -- $(cat "$TN_DIR/flood.iperf")
check "the neighbour's transfer completes ($1 Gbit/s)" eq "$3" 0
check "and tsnatd adds no step back to it ($TN_ORDER_LINE)" eq "$TN_ORDER_RC" 0
tn_stop "$TN_DAEMON_PID"
in_ns "$TN_SRV" iptables -D INPUT -p tcp --dport 81 -j DROP

if [ -n "$TSNATD_NOCSUM" ] && [ -x "$TSNATD_NOCSUM" ]; then
	echo "# negative control: a kernel program that leaves the checksum stale"
	in_ns "$TN_GW" "$TSNATD" -c "$OLCONF" --unload >/dev/null
	ip netns exec "$TN_GW" "$TSNATD_NOCSUM" -c "$OLCONF" >"$TN_DIR/daemon.nocsum.log" 2>&1 </dev/null &
	TN_DAEMON_PID=$!; tn_track $TN_DAEMON_PID
	sleep 1
	csum_before=$(tn_counter "$TN_SRV" Tcp InCsumErrors)
	set -- $(tn_iperf "$TN_C1" 2)
	bad=$(( $(tn_counter "$TN_SRV" Tcp InCsumErrors) - csum_before ))
	# Segments with a stale checksum never make it: the transfer stalls
	# (the gateway's conntrack finds them invalid first) or the server
	# counts them.
	check "without the checksum update the transfer fails (rc $3, $1 Gbit/s) or the server counts errors ($bad)" \
		test "$3" != 0 -o "$bad" -gt 0
	tn_stop "$TN_DAEMON_PID"
fi

echo "# a reload from strip to rewrite loads the kernel data path, one back drains it"
in_ns "$TN_GW" "$TSNATD" -c "$OLCONF" --unload >/dev/null
LIVE=$TN_DIR/live.conf
sed 's/mode = "rewrite";/mode = "strip";/' "$OLCONF" >"$LIVE"
tn_rules_off
tn_load_rules "$LIVE"
tn_daemon "$LIVE" "$TN_DIR/daemon.live.log"
ctl status >"$TN_DIR/status.strip" 2>&1
check "strip: status says the kernel data path is off" grep -q "^offload  *off: no policy rewrites" "$TN_DIR/status.strip"
cp "$OLCONF" "$LIVE"
tn_rules_off
tn_load_rules "$LIVE"
ctl reload >/dev/null 2>&1
check "the reload to rewrite is taken" eq $? 0
check "and logged as at start" has "$TN_DIR/daemon.live.log" "offload: rewritten flows are shifted in the kernel"
ctl status >"$TN_DIR/status.rewrite" 2>&1
grep "^offload" "$TN_DIR/status.rewrite"
check "status follows: active" grep -q "^offload  *active (loaded in" "$TN_DIR/status.rewrite"
set -- $(tn_load 5 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
check "ten HTTP/1.0 connections through it ($3 failed)" eq "$(($1 == 10 ? $3 : -1))" 0
check "they went to the kernel" gt "$(tn_daemon_counter "$TN_DIR/daemon.live.log" flows_offloaded)" 0
sleep 2.5	# a sweep counts them (every 2 s)
ctl status >"$TN_DIR/status.counted" 2>&1
counted=$(grep -o "[0-9]* map entr[a-z]* ([0-9]* open)" "$TN_DIR/status.counted")
check "status counts the closed connections as map entries, none open: $counted" \
	grep -q "^1[0-9] map entries (0 open)$" <<<"$counted"
sed 's/mode = "rewrite";/mode = "strip";/' "$OLCONF" >"$LIVE"
ctl reload >/dev/null 2>&1
check "a reload back to strip is taken" eq $? 0
check "and logged: the data path drains" has "$TN_DIR/daemon.live.log" "no policy rewrites since the reload: the kernel data path"
ctl status >"$TN_DIR/status.drain" 2>&1
check "status follows: draining" grep -q "^offload  *draining: .* map entr" "$TN_DIR/status.drain"
tn_stop "$TN_DAEMON_PID"
in_ns "$TN_GW" "$TSNATD" -c "$OLCONF" --unload >"$TN_DIR/unload.live" 2>&1
cat "$TN_DIR/unload.live"
check "--unload counts them with the same words: $counted" has "$TN_DIR/unload.live" "it held $counted"

echo "# --unload"
in_ns "$TN_GW" "$TSNATD" -c "$OLCONF" --unload >"$TN_DIR/unload.out" 2>&1
check "tsnatd --unload exits 0" eq $? 0
set -- $(tc_filters lan1)
check "no program left on lan1" eq "$(( $1 + $2 ))" 0
check "no pin left" test ! -e "$BPFFS/tsnatd"
in_ns "$TN_GW" "$TSNATD" -c "$OLCONF" --unload >/dev/null 2>&1
check "a second --unload is harmless" eq $? 0

tn_summary offload
