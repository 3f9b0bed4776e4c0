#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/demo.sh - the main job as a self-contained demo (root): a
# MASQUERADE gateway with two clients in front of an emulated legacy
# tcp_tw_recycle server, first without tsnatd, then with tsnatd running its
# default config. Prints a before/after table and removes everything it made.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
tn_start "the demo needs root"
N=${DEMO_REQUESTS:-12}

cat <<TXT
tsnatd demo: clients 192.0.2.2 and 192.0.2.66 behind a MASQUERADE gateway
(198.51.100.1) fetch http://$SRV_IP/ from a server that behaves like a
Linux < 4.12 server with net.ipv4.tcp_tw_recycle=1 (tsnatd-legacy, both
kernel variants). $N requests per client, in parallel; a connect is "slow"
when it took a SYN retransmission (> 0.9 s), "failed" after 2 s. tsnatd
runs its default config (strip), then the same with mode = "rewrite".

TXT
tn_setup
tn_http_server
tn_table_header
RWCONF=$TN_DIR/rewrite.conf
tn_rewrite_conf "$RWCONF" || { echo "cannot derive the rewrite config"; exit 1; }
for variant in 310 4x; do
	tn_rules_off
	tn_scenario none "$variant" "$N" "$TN_C1" "$TN_C2"
	for conf in conf/tsnatd.conf "$RWCONF"; do
		mode=strip; [ "$conf" = "$RWCONF" ] && mode=rewrite
		tn_rules_off
		tn_load_rules "$conf"
		tn_daemon "$conf" "$TN_DIR/daemon.$mode.$variant.log" || exit 1
		tn_scenario "tsnatd $mode" "$variant" "$N" "$TN_C1" "$TN_C2"
		tn_stop "$TN_DAEMON_PID"
	done
done
in_ns "$TN_C2" sysctl -qw net.ipv4.tcp_timestamps=0
tn_rules_off
tn_scenario "none, c2 no TS" 4x "$N" "$TN_C1" "$TN_C2"
tn_rules_off
tn_load_rules conf/tsnatd.conf
tn_daemon conf/tsnatd.conf "$TN_DIR/daemon.mixed.log"
tn_scenario "tsnatd strip, c2 no TS" 4x "$N" "$TN_C1" "$TN_C2"
kill -USR1 "$TN_DAEMON_PID"; sleep 0.3
echo
echo "tsnatd counters (last run): $(grep 'total:' "$TN_DIR/daemon.mixed.log" | tail -1 | sed 's/.*total: //')"
tn_stop "$TN_DAEMON_PID"
echo "namespaces and processes removed on exit."
