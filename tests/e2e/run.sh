#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/run.sh - end-to-end tests of tsnatd across network namespaces
# (root). Real curl, a real HTTP/1.0 server, a MASQUERADE gateway, and the
# legacy tw_recycle emulator as the oracle. Everything it creates is removed
# on exit, also on failure or interruption.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
tn_start "e2e tests need root"


[ -x "$TSNATD" ] && [ -x "$TSNATD_LEGACY" ] || { echo "build first: make"; exit 1; }

CONF=$TN_DIR/tsnatd.conf
sed "s|^state_dir = .*|state_dir = \"$TN_DIR/state\";|" conf/tsnatd.conf >"$CONF"
N=${E2E_REQUESTS:-40}

echo "# configuration checks"
"$TSNATD" -t -c "$CONF" >"$TN_DIR/t.out" 2>&1
check "tsnatd -t accepts the shipped config" eq $? 0
check "tsnatd -t says configuration OK" has "$TN_DIR/t.out" "configuration OK"
printf 'enabled = true;\npolicies = ( { name = "x"; mode = "strip";\n destinations = [ "198.51.100.0/33" ]; } );\n' >"$TN_DIR/bad.conf"
"$TSNATD" -t -c "$TN_DIR/bad.conf" >"$TN_DIR/t.out" 2>&1
check "tsnatd -t rejects a bad config" eq $? 1
check "the error names file:line" has "$TN_DIR/t.out" "bad.conf:3: destinations"

echo "# strip mode through a MASQUERADE gateway (default config)"
tn_setup
tn_http_server
tn_load_rules "$CONF"
tn_daemon "$CONF" "$TN_DIR/daemon.log"
check "tsnatd starts with the shipped config" eq $? 0
tn_capture "$TN_DIR/strip.pcap"
tn_count_zero
set -- $(tn_load "$N" "http://$SRV_IP/" "$TN_C1" "$TN_C2")
m_attempts=$1 m_failed=$3
set -- $(tn_load 10 "http://$SRV_IP_UNMATCHED/" "$TN_C1" "$TN_C2")
u_attempts=$1 u_failed=$3
tn_capture_stop
set -- $(tn_count "$SRV_IP")
m_syns=$1 m_syns_ts=$2
set -- $(tn_count "$SRV_IP_UNMATCHED")
u_syns=$1 u_syns_ts=$2
set -- $(tn_syn_counts "$TN_DIR/strip.pcap" "$SRV_IP")
cap_syns=$1 cap_syns_ts=$2
stripped=$(tn_daemon_counter "$TN_DIR/daemon.log" stripped)
echo "  matched: $m_attempts requests, $m_failed failed; $m_syns SYNs at the server, $m_syns_ts with timestamp (capture: $cap_syns, $cap_syns_ts)"
echo "  unmatched: $u_attempts requests, $u_failed failed; $u_syns SYNs, $u_syns_ts with timestamp"
echo "  daemon: $(grep 'total:' "$TN_DIR/daemon.log" | tail -1 | sed 's/.*total: //')"
check "all $m_attempts requests to the legacy server succeed" eq "$m_failed" 0
check "SYNs reached the server" ge "$m_syns" "$((2 * N))"
check "no SYN to the legacy server carries a timestamp" eq "$m_syns_ts" 0
check "the capture saw every SYN the counters saw" eq "$cap_syns" "$m_syns"
check "and none of them carries a timestamp" eq "$cap_syns_ts" 0
check "every SYN the daemon saw was stripped ($stripped)" eq "$stripped" "$m_syns"
check "unmatched traffic succeeds" eq "$u_failed" 0
check "unmatched SYNs reached the server" ge "$u_syns" 20
check "unmatched SYNs keep their timestamps" eq "$u_syns_ts" "$u_syns"
check "server TcpInCsumErrors stays 0" eq "$(tn_counter "$TN_SRV" Tcp InCsumErrors)" 0
check "no verdict errors" eq "$(tn_daemon_counter "$TN_DIR/daemon.log" verdict_errors)" 0

echo "# a second instance on the same queue"
ip netns exec "$TN_GW" "$TSNATD" -c "$CONF" >"$TN_DIR/second.log" 2>&1 </dev/null
check "exits 1" eq $? 1
check "and says the queue is busy" has "$TN_DIR/second.log" "already bound"

echo "# reload"
cp "$CONF" "$CONF.good"
printf 'enabled = true;\npolicies = (\n' >"$CONF"
kill -HUP "$TN_DAEMON_PID"; sleep 0.5
check "a bad reload is reported with file:line" has "$TN_DIR/daemon.log" "tsnatd.conf:3:"
check "and the running config is kept" has "$TN_DIR/daemon.log" "keeping the running configuration"
tn_count_zero
set -- $(tn_load 5 "http://$SRV_IP/" "$TN_C1")
set -- $(tn_count "$SRV_IP")
check "after the bad reload SYNs are still stripped ($2 of $1 with timestamp)" eq "$(($1 >= 5 ? $2 : -1))" 0
sed 's/^enabled = true;/enabled = false;/' "$CONF.good" >"$CONF"
kill -HUP "$TN_DAEMON_PID"; sleep 0.5
check "enabled = false is loaded" has "$TN_DIR/daemon.log" "disabled (all new flows pass)"
tn_count_zero
set -- $(tn_load 5 "http://$SRV_IP/" "$TN_C1")
check "requests succeed while disabled" eq "$3" 0
set -- $(tn_count "$SRV_IP")
check "with enabled = false new SYNs keep their timestamps ($2 of $1)" eq "$(($1 >= 5 ? $2 : -1))" "$1"
cp "$CONF.good" "$CONF"
kill -HUP "$TN_DAEMON_PID"; sleep 0.5

echo "# SIGTERM drains and exits 0 under load"
(tn_load 20 "http://$SRV_IP/" "$TN_C1" "$TN_C2" >"$TN_DIR/term.load") &
loadpid=$!
sleep 0.5
kill -TERM "$TN_DAEMON_PID"
wait "$TN_DAEMON_PID"
check "tsnatd exits 0 on SIGTERM" eq $? 0
check "it logs that it stopped" has "$TN_DIR/daemon.log" "stopped"
wait "$loadpid"
set -- $(cat "$TN_DIR/term.load")
check "no request failed across the stop ($1 requests)" eq "$3" 0

echo "# kill -9 under load: the queue bypasses"
tn_daemon "$CONF" "$TN_DIR/daemon2.log"
(tn_load 20 "http://$SRV_IP/" "$TN_C1" "$TN_C2" >"$TN_DIR/kill.load") &
loadpid=$!
sleep 0.5
kill -KILL "$TN_DAEMON_PID"
wait "$TN_DAEMON_PID" 2>/dev/null
wait "$loadpid"
set -- $(cat "$TN_DIR/kill.load")
check "no request failed across kill -9 ($1 requests, $2 slow)" eq "$3" 0
set -- $(tn_load 5 "http://$SRV_IP/" "$TN_C1")
check "traffic flows with no daemon (bypass)" eq "$3" 0

echo "# the failure and its fix, against the legacy tw_recycle emulator"
RWCONF=$TN_DIR/rewrite.conf
check "a rewrite config is derived from the shipped one" tn_rewrite_conf "$RWCONF"
"$TSNATD" -t -c "$RWCONF" >"$TN_DIR/t.out" 2>&1
check "and it is valid" eq $? 0
paws_active() { echo $(( $(tn_counter "$TN_C1" TcpExt PAWSActive) + $(tn_counter "$TN_C2" TcpExt PAWSActive) )); }
tn_table_header
declare -A PASSIVE SLOWFAIL
for variant in 310 4x; do
	tn_rules_off
	tn_scenario none "$variant" 12 "$TN_C1" "$TN_C2"
	PASSIVE[none.$variant]=$SC_PASSIVE SLOWFAIL[none.$variant]=$((SC_SLOW + SC_FAILED))
	for mode in strip rewrite; do
		conf=$CONF; [ "$mode" = rewrite ] && conf=$RWCONF
		tn_rules_off
		tn_load_rules "$conf"
		tn_daemon "$conf" "$TN_DIR/daemon.$mode.$variant.log"
		check "tsnatd ($mode) starts" eq $? 0
		tn_count_zero
		pa_before=$(paws_active)
		tn_scenario "$mode" "$variant" 12 "$TN_C1" "$TN_C2"
		check "$mode, $variant: no SYN dropped, no estab drop, none slow or failed" \
			eq "$((SC_PASSIVE + SC_ESTAB + SC_SLOW + SC_FAILED))" 0
		set -- $(tn_count "$SRV_IP")
		if [ "$mode" = rewrite ]; then
			check "rewrite, $variant: every SYN at the server has a timestamp ($2 of $1)" \
				eq "$(($1 >= 24 ? $2 : -1))" "$1"
			check "rewrite, $variant: clients' PAWSActive stays 0" eq "$(paws_active)" "$pa_before"
		fi
		tn_stop "$TN_DAEMON_PID"
	done
done
for variant in 310 4x; do
	check "no tsnatd, $variant: the emulator drops SYNs (${PASSIVE[none.$variant]})" gt "${PASSIVE[none.$variant]}" 0
	check "no tsnatd, $variant: clients see slow or failed connects (${SLOWFAIL[none.$variant]})" gt "${SLOWFAIL[none.$variant]}" 0
done
in_ns "$TN_C2" sysctl -qw net.ipv4.tcp_timestamps=0
tn_rules_off
tn_scenario "none, c2 without TS" 4x 12 "$TN_C1" "$TN_C2"
check "mixed, no tsnatd, 4x: SYNs are dropped" gt "$SC_PASSIVE" 0
tn_load_rules "$CONF"
tn_daemon "$CONF" "$TN_DIR/daemon.mixed.log"
tn_scenario "strip, c2 without TS" 4x 12 "$TN_C1" "$TN_C2"
check "mixed, strip, 4x: nothing dropped, slow or failed" \
	eq "$((SC_PASSIVE + SC_ESTAB + SC_SLOW + SC_FAILED))" 0
tn_stop "$TN_DAEMON_PID"
tn_rules_off
tn_load_rules "$RWCONF"
tn_daemon "$RWCONF" "$TN_DIR/daemon.mixed-rw.log"
tn_scenario "rewrite, c2 without TS" 4x 12 "$TN_C1" "$TN_C2"
check "mixed, rewrite, 4x: the daemon warns that rewrite cannot protect c2" \
	has "$TN_DIR/daemon.mixed-rw.log" "SYNs without timestamp"
tn_stop "$TN_DAEMON_PID"
in_ns "$TN_C2" sysctl -qw net.ipv4.tcp_timestamps=1
check "server TcpInCsumErrors still 0" eq "$(tn_counter "$TN_SRV" Tcp InCsumErrors)" 0

echo "# rewrite mode with a bulk transfer (iperf3)"
tn_rules_off
tn_iperf_server
set -- $(tn_iperf "$TN_C1" 3)
none_gbps=$1 none_retr=$2
check "iperf3 without tsnatd completes" eq "$3" 0
tn_load_rules "$RWCONF"
tn_daemon "$RWCONF" "$TN_DIR/daemon.iperf.log"
check "tsnatd (rewrite) starts" eq $? 0
estab_before=$(tn_counter "$TN_SRV" TcpExt PAWSEstab)
tn_server_tsvals 40 "$TN_DIR/tsvals" &
capture=$!
set -- $(tn_iperf "$TN_C1" 3)
rw_gbps=$1 rw_retr=$2
check "iperf3 through tsnatd rewrite completes" eq "$3" 0
wait "$capture"
now=$(tn_now_ms)
near=$(awk -v now="$now" '{ d = now - $1; if (d < 0) d = -d; if (d < 60000) n++ } END { print n + 0 }' "$TN_DIR/tsvals")
check "the server sees rewritten TSvals (near the gateway clock): $near of $(wc -l <"$TN_DIR/tsvals")" \
	eq "$(($(wc -l <"$TN_DIR/tsvals") >= 20 ? near : -1))" "$(wc -l <"$TN_DIR/tsvals")"
check "no PAWS drop at the server during the transfer" eq "$(tn_counter "$TN_SRV" TcpExt PAWSEstab)" "$estab_before"
echo "  iperf3 1 stream: without tsnatd $none_gbps Gbit/s ($none_retr retransmits), rewrite $rw_gbps Gbit/s ($rw_retr retransmits)"
echo "  daemon: $(tn_daemon_counter "$TN_DIR/daemon.iperf.log" rewritten) packets rewritten"

echo "# rewrite: switching tsnatd off during a transfer"
(tn_iperf "$TN_C1" 4 >"$TN_DIR/toggle.iperf") &
loadpid=$!
sleep 1.5
sed 's/^enabled = true;/enabled = false;/' "$RWCONF" >"$RWCONF.off"
cp "$RWCONF" "$RWCONF.on"; cp "$RWCONF.off" "$RWCONF"
kill -HUP "$TN_DAEMON_PID"
sleep 0.5
rw_at_toggle=$(tn_daemon_counter "$TN_DIR/daemon.iperf.log" rewritten)
wait "$loadpid"
set -- $(cat "$TN_DIR/toggle.iperf")
check "the transfer completes after enabled = false ($1 Gbit/s)" eq "$3" 0
check "its flow kept being rewritten after the toggle" \
	gt "$(tn_daemon_counter "$TN_DIR/daemon.iperf.log" rewritten)" "$((rw_at_toggle + 1000))"
cp "$RWCONF.on" "$RWCONF"
kill -HUP "$TN_DAEMON_PID"; sleep 0.3

echo "# rewrite: restarting tsnatd during a transfer"
(tn_iperf "$TN_C1" 5 >"$TN_DIR/restart.iperf") &
loadpid=$!
sleep 1.5
kill -TERM "$TN_DAEMON_PID"; wait "$TN_DAEMON_PID" 2>/dev/null
check "the stopping daemon saved its flows" has "$TN_DIR/daemon.iperf.log" "saved [1-9][0-9]* rewritten flows"
tn_daemon "$RWCONF" "$TN_DIR/daemon.restarted.log"
check "the new daemon restored them" has "$TN_DIR/daemon.restarted.log" "restored [1-9][0-9]* rewritten flows"
wait "$loadpid"
set -- $(cat "$TN_DIR/restart.iperf")
check "the transfer completes across the restart ($1 Gbit/s, $2 retransmits)" eq "$3" 0
echo "  daemon after restart: $(tn_daemon_counter "$TN_DIR/daemon.restarted.log" rewritten) rewritten, $(tn_daemon_counter "$TN_DIR/daemon.restarted.log" flows_resynced) resynced"
tn_stop "$TN_DAEMON_PID"

tn_summary e2e
