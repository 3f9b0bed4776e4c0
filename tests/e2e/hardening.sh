#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/hardening.sh - rewrite mode under attack and fault (root):
#  - poisoning: one client sends one hand-made packet whose TSval is its
#    SYN's + 2^31 - 1; nobody else may suffer;
#  - flood: one client sends 4 x flows.max SYNs it never completes; two
#    other clients connect meanwhile and must neither fail nor fall back;
#  - crash: kill -9 twice, restarts without saved state; the marks
#    checkpoint must keep every SYN above what the server recorded (and a
#    negative control without it shows the drops it prevents).
# Against the legacy tw_recycle emulator (variant 4x). Bounded: every load
# is a fixed number of requests, every flood a fixed number of packets.
# Everything created is removed on exit.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
tn_start "hardening tests need root"

RAWTCP="python3 tests/e2e/rawtcp.py"


[ -x "$TSNATD" ] && [ -x "$TSNATD_LEGACY" ] || { echo "build first: make"; exit 1; }
tn_setup
tn_http_server
RWCONF=$TN_DIR/rewrite.conf
tn_rewrite_conf "$RWCONF"
tn_load_rules "$RWCONF"

echo "# poisoning: one packet with TSval = its SYN's + 2^31 - 1"
LEG=$TN_DIR/legacy.poison.log
tn_legacy 4x "$LEG"
tn_daemon "$RWCONF" "$TN_DIR/daemon.poison.log"
check "tsnatd (rewrite) starts" eq $? 0
set -- $(tn_load 3 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
check "six ordinary connections go through" eq "$(($1 == 6 ? $3 : -1))" 0
out=$(ip netns exec "$TN_C1" $RAWTCP poison "$SRV_IP" 80)
check "the attack packet was sent ($out)" eq $? 0
set -- $(tn_load 8 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
check "after it, $3 of $1 connects from either client fail ($2 slow)" eq "$3" 0
passive=$(tn_legacy_now "$LEG" PAWSPassive)
check "the emulator dropped no SYN (PAWSPassive=$passive)" eq "$passive" 0
clamped=$(tn_daemon_counter "$TN_DIR/daemon.poison.log" ts_clamped)
check "the clamp counter shows the attack (ts_clamped=$clamped)" ge "$clamped" 1
check "the log names the client" has "$TN_DIR/daemon.poison.log" "client 192.0.2.2 sent TSvals"
tn_stop "$TN_DAEMON_PID"
tn_legacy_stop "$LEG" >/dev/null

echo "# flood: 4 x flows.max SYNs never completed, two other clients connect"
FLCONF=$TN_DIR/flood.conf
sed -e 's/^flows = .*/flows = { max = 1024; };/' \
    -e "s|^state_dir = .*|state_dir = \"$TN_DIR/state-flood\";|" "$RWCONF" >"$FLCONF"
in_ns "$TN_C1" ip addr add 192.0.2.3/26 dev eth0
# the server never answers the flood (port 81), so its flows stay half-open
in_ns "$TN_SRV" iptables -A INPUT -p tcp --dport 81 -j DROP
in_ns "$TN_SRV" iptables -t raw -A PREROUTING -p tcp --syn -d "$SRV_IP" --dport 80
in_ns "$TN_SRV" iptables -t raw -A PREROUTING -p tcp --syn -d "$SRV_IP" --dport 80 -m tcp --tcp-option 8
port80() { # "syns syns_with_timestamp" to port 80
	in_ns "$TN_SRV" iptables -t raw -L PREROUTING -v -n -x | awk '
		/dpt:80/ { if ($0 ~ /tcp option=8/) ts = $1; else n = $1 }
		END { printf "%d %d\n", n, ts }'
}
tn_daemon "$FLCONF" "$TN_DIR/daemon.flood.log"
check "tsnatd starts with flows.max = 1024" eq $? 0
tn_count_zero
ip netns exec "$TN_C1" $RAWTCP flood "$SRV_IP" 81 192.0.2.3 4096 4 >"$TN_DIR/flood.out" &
floodpid=$!
tn_track $floodpid
sleep 0.5
set -- $(tn_load 10 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
h_attempts=$1 h_failed=$3
wait "$floodpid"
check "the flood was sent ($(cat "$TN_DIR/flood.out"))" has "$TN_DIR/flood.out" "sent=4096"
check "none of the other clients' $h_attempts connects fails" eq "$h_failed" 0
set -- $(port80)
check "none of them fell back: all $1 SYNs to port 80 carry timestamps" eq "$(($1 >= 20 ? $2 : -1))" "$1"
check "the table never filled (flows_full=0)" eq "$(tn_daemon_counter "$TN_DIR/daemon.flood.log" flows_full)" 0
over=$(tn_daemon_counter "$TN_DIR/daemon.flood.log" flows_over_quota)
check "the flooding client hit its quota ($over SYNs stripped)" gt "$over" 4000
check "the log names it" has "$TN_DIR/daemon.flood.log" "client 192.0.2.3 holds"
sleep 7
check "its half-open flows expired" ge "$(tn_daemon_counter "$TN_DIR/daemon.flood.log" flows_expired)" 16
tn_stop "$TN_DAEMON_PID"

echo "# crash: kill -9 twice, restarts without saved state"
LEG=$TN_DIR/legacy.crash.log
tn_legacy 4x "$LEG"
rm -rf "$TN_DIR/state"
tn_daemon "$RWCONF" "$TN_DIR/daemon.crash1.log"
set -- $(tn_load 3 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
check "traffic before the first crash succeeds" eq "$3" 0
kill -KILL "$TN_DAEMON_PID"; wait "$TN_DAEMON_PID" 2>/dev/null
check "the daemon left a marks checkpoint" test -s "$TN_DIR/state/marks"
check "and no saved state" test ! -e "$TN_DIR/state/tsnatd.state"
tn_daemon "$RWCONF" "$TN_DIR/daemon.crash2.log"
check "the restarted daemon starts from the checkpoint" has "$TN_DIR/daemon.crash2.log" "no clean stop"
# SYNs now run up to 10 s ahead of the clock, and the server records them
set -- $(tn_load 3 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
check "traffic after the first restart succeeds" eq "$3" 0
kill -KILL "$TN_DAEMON_PID"; wait "$TN_DAEMON_PID" 2>/dev/null
tn_daemon "$RWCONF" "$TN_DIR/daemon.crash3.log"
set -- $(tn_load 10 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
check "after the second crash, $3 of $1 connects fail ($2 slow)" eq "$3" 0
check "and the emulator dropped no SYN" eq "$(tn_legacy_now "$LEG" PAWSPassive)" 0
# negative control: the same without the checkpoint
set -- $(tn_load 2 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
kill -KILL "$TN_DAEMON_PID"; wait "$TN_DAEMON_PID" 2>/dev/null
rm -f "$TN_DIR/state/marks"
tn_daemon "$RWCONF" "$TN_DIR/daemon.crash4.log"
before=$(tn_legacy_now "$LEG" PAWSPassive)
set -- $(tn_load 3 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
after=$(tn_legacy_now "$LEG" PAWSPassive)
echo "  control without the checkpoint: $((after - before)) SYNs dropped, $2 slow, $3 failed of $1"
check "control: without the checkpoint the emulator drops SYNs" gt "$((after - before))" 0
tn_stop "$TN_DAEMON_PID"
tn_legacy_stop "$LEG" >/dev/null

tn_summary hardening
