#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/discovery.sh - legacy-server discovery and mode auto (root).
# Two servers behind the gateway: 198.51.100.10 behaves like a legacy
# tcp_tw_recycle server (the emulator, variant 4x), 203.0.113.10 is an
# ordinary Linux. Clients use per-connection random timestamp offsets (the
# kernel's default). Bounded: fixed numbers of requests, one 61 s wait.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
tn_start "discovery tests need root"
: "${TSNATCTL:=$PWD/build/tsnatctl}"

# servers_field SERVER KEY: from tsnatctl servers --json
servers_field() {
	"$TSNATCTL" -s "$TN_DIR/control" servers --json | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["server"] == sys.argv[1]:
        print(s[sys.argv[2]]); break
else:
    print("absent")' "$1" "$2"
}

[ -x "$TSNATD" ] && [ -x "$TSNATD_LEGACY" ] && [ -x "$TSNATCTL" ] || { echo "build first: make"; exit 1; }
tn_setup
tn_http_server
conf() { # MODE-TEXT OUT
	cat >"$2" <<EOF
state_dir = "$TN_DIR/state";
control_socket = "$TN_DIR/control";
policies = ( { name = "everything"; $1
    destinations = [ "198.51.100.0/24", "203.0.113.0/24" ]; sources = "192.0.2.0/24"; } );
EOF
}

echo "# observe: which server drops SYNs because of timestamps"
conf 'mode = "observe";' "$TN_DIR/observe.conf"
tn_load_rules "$TN_DIR/observe.conf"
LEG=$TN_DIR/legacy.observe.log
tn_legacy 4x "$LEG" "$SRV_IP"
tn_daemon "$TN_DIR/observe.conf" "$TN_DIR/daemon.observe.log"
check "tsnatd (observe) starts" eq $? 0
tn_count_zero
set -- $(tn_load 12 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
echo "  legacy server: $1 requests, $2 slow, $3 failed (observe changes nothing)"
set -- $(tn_load 12 "http://$SRV_IP_UNMATCHED/" "$TN_C1" "$TN_C2")
check "the ordinary server answers every request ($3 of $1 failed)" eq "$3" 0
set -- $(tn_count "$SRV_IP")
check "observe changed no SYN: all $1 to the legacy server keep timestamps" eq "$2" "$1"
passive=$(tn_legacy_now "$LEG" PAWSPassive)
"$TSNATCTL" -s "$TN_DIR/control" servers >"$TN_DIR/servers.txt"
sed 's/^/  /' "$TN_DIR/servers.txt"
check "the legacy server is classified legacy" eq "$([ "$(servers_field $SRV_IP verdict)" = legacy ] && echo 1 || echo 0)" 1
confirmed=$(servers_field $SRV_IP confirmed_drops)
check "with at least 3 confirmed drops ($confirmed)" ge "$confirmed" 3
check "the ordinary server is classified not-legacy" \
	eq "$([ "$(servers_field $SRV_IP_UNMATCHED verdict)" = not-legacy ] && echo 1 || echo 0)" 1
predicted=$(servers_field $SRV_IP predicted_drops_4x)
echo "  predicted drops (4x): $predicted; the emulator's PAWSPassive: $passive"
check "predicted drops match the emulator's PAWSPassive within 10%" \
	python3 -c "import sys; p, a = $predicted, $passive; sys.exit(0 if a > 0 and abs(p - a) <= 0.1 * a else 1)"
check "the snippet covers the legacy server" has "$TN_DIR/servers.txt" "\"$SRV_IP\""
check "the classification is logged" has "$TN_DIR/daemon.observe.log" "$SRV_IP (from translated source .*) classified legacy"
kill -TERM "$TN_DAEMON_PID"; wait "$TN_DAEMON_PID" 2>/dev/null
check "the table is saved on stop" has "$TN_DIR/daemon.observe.log" "saved [0-9]* observed servers"
tn_legacy_stop "$LEG" >/dev/null

echo "# auto (strip): it classifies by itself, then strips that server only"
conf 'mode = "auto"; action = "strip";' "$TN_DIR/auto.conf"
sed -i "s|^state_dir = .*|state_dir = \"$TN_DIR/state-auto\";|" "$TN_DIR/auto.conf"
tn_rules_off
tn_load_rules "$TN_DIR/auto.conf"
LEG=$TN_DIR/legacy.auto.log
tn_legacy 4x "$LEG" "$SRV_IP"
tn_daemon "$TN_DIR/auto.conf" "$TN_DIR/daemon.auto.log"
check "tsnatd (auto) starts with an empty table" test "$(servers_field $SRV_IP verdict)" = absent
set -- $(tn_load 12 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
echo "  while it learns: $1 requests, $2 slow, $3 failed"
check "the legacy server gets classified legacy" test "$(servers_field $SRV_IP verdict)" = legacy
check "the log says so" has "$TN_DIR/daemon.auto.log" "$SRV_IP (from translated source .*) classified legacy"
echo "  waiting out the transition minute a 4.x server needs (61 s)"
sleep 61
tn_count_zero
before=$(tn_legacy_now "$LEG" PAWSPassive)
set -- $(tn_load 12 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
check "after it, $3 of $1 connects to the legacy server fail ($2 slow)" eq "$3" 0
check "and the emulator drops none" eq "$(( $(tn_legacy_now "$LEG" PAWSPassive) - before ))" 0
set -- $(tn_count "$SRV_IP")
check "its SYNs are stripped ($2 of $1 with timestamp)" eq "$(($1 >= 24 ? $2 : -1))" 0
set -- $(tn_load 6 "http://$SRV_IP_UNMATCHED/" "$TN_C1" "$TN_C2")
check "connects to the ordinary server succeed ($3 of $1 failed)" eq "$3" 0
set -- $(tn_count "$SRV_IP_UNMATCHED")
check "and keep their timestamps ($2 of $1)" eq "$(($1 >= 12 ? $2 : -1))" "$1"
kill -TERM "$TN_DAEMON_PID"; wait "$TN_DAEMON_PID" 2>/dev/null
tn_daemon "$TN_DIR/auto.conf" "$TN_DIR/daemon.auto2.log"
check "a restarted daemon keeps what it learned" has "$TN_DIR/daemon.auto2.log" "restored [1-9][0-9]* observed servers"
check "the legacy server is still classified legacy" test "$(servers_field $SRV_IP verdict)" = legacy
tn_stop "$TN_DAEMON_PID"
tn_legacy_stop "$LEG" >/dev/null

tn_summary discovery
