#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/ipv6.sh - the before/after table of run.sh over IPv6 (root).
# The same layout in 2001:db8::/32 only (lib.sh, TN_FAMILY=6): two clients
# behind an ip6tables MASQUERADE gateway; one server namespace running a
# real HTTP/1.0 server (python3 -m http.server on [::]) with two addresses,
# 2001:db8:1::10 in the policy and 2001:db8:2::10 outside it; tsnatd's
# rules from `tsnatd --print-rules ip6tables`; curl -6 as the clients. For
# the table the server sits behind the legacy tw_recycle emulator (Linux <
# 4.12 applied tw_recycle to IPv6 peers too: tcp_metrics entries are per
# address family). Bounded: E2E_V6_REQUESTS requests per client and row
# (default 12), each at most 5 s (2 s to connect); E2E_V6_VARIANTS picks
# the emulated kernels (default "310 4x").
#
# It creates network namespaces; on a shared machine hold the lock:
#   flock /run/tsnatd-netns.lock tests/e2e/ipv6.sh
# Everything it creates is removed on exit, also on failure or interruption.
set -u
cd "$(dirname "$0")/../.."
TN_FAMILY=6
. tests/e2e/lib.sh
tn_start "IPv6 e2e tests need root"
: "${TSNATCTL:=$PWD/build/tsnatctl}"

[ -x "$TSNATD" ] && [ -x "$TSNATD_LEGACY" ] && [ -x "$TSNATCTL" ] || { echo "build first: make"; exit 1; }
N=${E2E_V6_REQUESTS:-12}
CLIENT_NET=2001:db8:c::/48

# The shipped config with its policy's sources set to the IPv6 clients (its
# destinations already hold 2001:db8:1::/64), state and control socket in
# the test's directory, and rewrite through NFQUEUE alone (a row for the
# kernel data path needs offload_dir on a bpf file system of the test's
# own, as offload.sh does): v6_conf MODE OUT
v6_conf() {
	sed -e "s/mode = \"strip\";/mode = \"$1\";/" \
	    -e "s|sources = \[ \"192.0.2.0/24\" \];|sources = [ \"$CLIENT_NET\" ];|" \
	    -e "s|^state_dir = .*|state_dir = \"$TN_DIR/state\";|" \
	    -e "s|^control_socket = .*|control_socket = \"$TN_DIR/control\";|" \
	    conf/tsnatd.conf >"$2"
	echo "offload = false;" >>"$2"
	grep -q "mode = \"$1\";" "$2" && grep -q "sources = \[ \"$CLIENT_NET\" \];" "$2" &&
		grep -q "^control_socket = \"$TN_DIR/control\";" "$2"
}

# How each row of the table starts; mode_stop undoes it. MODE_LOG is the
# daemon's log ("" when no daemon runs).
mode_none() { tn_rules_off; MODE_LOG=""; }	# (LOG: unused)
mode_tsnatd() { # CONF LOG
	tn_rules_off
	tn_load_rules "$1"
	MODE_LOG=$2
	tn_daemon "$1" "$2"
}
mode_stop() { [ -z "$MODE_LOG" ] || tn_stop "$TN_DAEMON_PID"; MODE_LOG=""; }

STRIP_CONF=$TN_DIR/strip6.conf
RW_CONF=$TN_DIR/rewrite6.conf
OL_CONF=$TN_DIR/offload6.conf
# The kernel data path's pins: a bpf file system of the test's own on the
# host (inside `ip netns exec` /sys/fs/bpf is not one).
BPFFS=$TN_DIR/bpffs
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS" || { echo "cannot mount a bpf file system"; exit 1; }
trap 'umount "$BPFFS" 2>/dev/null; tn_cleanup' EXIT
# rewrite with the kernel data path: the daemon must say it uses it
mode_offload() { # CONF LOG
	mode_tsnatd "$@" && has "$2" "offload: rewritten flows are shifted in the kernel"
}

# The table's rows, in order: LABEL|START|EXPECT|SYN_TS
#   START   the command that starts the row; it is given the path of a
#           log for its daemon as one more argument
#   EXPECT  drops: the failure must show (PAWSPassive and slow or failed
#           connects); clean: nothing dropped, slow or failed
#   SYN_TS  the SYNs at the server: none (no timestamp), all (each has
#           one), - (not checked)
# Another data path is one more row here.
MODES=(
	"none|mode_none|drops|-"
	"tsnatd strip|mode_tsnatd $STRIP_CONF|clean|none"
	"tsnatd rewrite|mode_tsnatd $RW_CONF|clean|all"
	"tsnatd rewrite offload|mode_offload $OL_CONF|clean|all"
)
VARIANTS=${E2E_V6_VARIANTS:-310 4x}

echo "# IPv6 configuration and rules"
check "a strip config for the IPv6 clients is derived from the shipped one" v6_conf strip "$STRIP_CONF"
check "and a rewrite config" v6_conf rewrite "$RW_CONF"
sed "s|^offload = false;|offload_dir = \"$BPFFS/tsnatd\";|" "$RW_CONF" >"$OL_CONF"
check "and one for rewrite with the kernel data path" has "$OL_CONF" "^offload_dir = \"$BPFFS/tsnatd\";"
for conf in "$STRIP_CONF" "$RW_CONF" "$OL_CONF"; do
	"$TSNATD" -t -c "$conf" >"$TN_DIR/t.out" 2>&1
	check "tsnatd -t accepts $(basename "$conf")" eq $? 0
done
"$TSNATD" -c "$STRIP_CONF" --print-rules ip6tables >"$TN_DIR/rules6.strip"
"$TSNATD" -c "$RW_CONF" --print-rules ip6tables >"$TN_DIR/rules6.rewrite"
"$TSNATD" -c "$STRIP_CONF" --print-rules iptables >"$TN_DIR/rules4.strip"
sed -n 's/^-A TSNATD /  /p' "$TN_DIR/rules6.strip" "$TN_DIR/rules6.rewrite"
check "ip6tables rules queue the clients' SYNs to the server's network" \
	has "$TN_DIR/rules6.strip" "^-A TSNATD -p tcp -s $CLIENT_NET -d 2001:db8:1::/64 --syn .*-j NFQUEUE"
check "every ip6tables NFQUEUE rule has --queue-bypass" \
	eq "$(grep -c -- '-j NFQUEUE' "$TN_DIR/rules6.strip" "$TN_DIR/rules6.rewrite" | awk -F: '{ n += $2 } END { print n }')" \
	"$(grep -c -- '-j NFQUEUE.*--queue-bypass' "$TN_DIR/rules6.strip" "$TN_DIR/rules6.rewrite" | awk -F: '{ n += $2 } END { print n }')"
check "rewrite queues both directions" eq "$(grep -c -- '-j NFQUEUE' "$TN_DIR/rules6.rewrite")" 2
check "the IPv6-only policy gives iptables nothing to queue" eq "$(grep -c -- '-j NFQUEUE' "$TN_DIR/rules4.strip")" 0

echo "# the namespaces: IPv6 only, MASQUERADE at the gateway"
tn_setup6
check "the gateway masquerades IPv6" \
	has <(in_ns "$TN_GW" ip6tables -t nat -S POSTROUTING) "-o wan -j MASQUERADE"
check "no address is tentative (no DAD)" \
	eq "$(for ns in $TN_C1 $TN_C2 $TN_GW $TN_SRV; do in_ns "$ns" ip -6 addr show tentative; done | grep -c inet6)" 0
tn_http_server :: "$SRV_IP"
check "the HTTP server listens on [::]:80" eq $? 0
set -- $(tn_load 2 "$SRV_URL" "$TN_C1" "$TN_C2")
check "both clients reach the server over IPv6, no tsnatd ($3 of $1 failed)" eq "$(($1 == 4 ? $3 : -1))" 0
check "the server sees the gateway's address (MASQUERADE)" has "$TN_DIR/http.log" "^$GW_WAN "
check "and never a client's own" eq "$(grep -c '^2001:db8:c:' "$TN_DIR/http.log")" 0

echo "# strip over IPv6: matched SYNs lose their timestamp, others keep it"
mode_tsnatd "$STRIP_CONF" "$TN_DIR/daemon.strip6.log"
check "tsnatd (strip) starts" eq $? 0
tn_count_zero
set -- $(tn_load 5 "$SRV_URL" "$TN_C1" "$TN_C2")
check "requests to the legacy server succeed ($3 of $1 failed)" eq "$3" 0
set -- $(tn_load 5 "http://[$SRV_IP_UNMATCHED]/" "$TN_C1" "$TN_C2")
check "requests to the server outside the policy succeed ($3 of $1 failed)" eq "$3" 0
set -- $(tn_count "$SRV_IP")
check "no SYN to the legacy server carries a timestamp ($2 of $1)" eq "$(($1 >= 10 ? $2 : -1))" 0
set -- $(tn_count "$SRV_IP_UNMATCHED")
check "SYNs outside the policy keep theirs ($2 of $1)" eq "$(($1 >= 10 ? $2 : -1))" "$1"
stripped=$(tn_daemon_counter "$MODE_LOG" stripped)
check "the daemon stripped IPv6 SYNs ($stripped)" ge "$stripped" 10
check "and saw none malformed" eq "$(tn_daemon_counter "$MODE_LOG" malformed)" 0
mode_stop

echo "# the failure and its fix, against the legacy tw_recycle emulator on $SRV_IP"
paws_active() { echo $(( $(tn_counter "$TN_C1" TcpExt PAWSActive) + $(tn_counter "$TN_C2" TcpExt PAWSActive) )); }
# The kernel's TCP counters (TcpExt, Tcp) count both families.
srv_estab_before=$(tn_counter "$TN_SRV" TcpExt PAWSEstab)
declare -A PASSIVE ESTAB SLOW FAILED SYNS SYNS_TS STARTED ACTIVE DOMAIN OFFLOADED
tn_table_header
for variant in $VARIANTS; do
	for row in "${MODES[@]}"; do
		IFS='|' read -r label start expect syn_ts <<<"$row"
		key="$label.$variant"
		log=$TN_DIR/daemon.${label// /-}.$variant.log
		# shellcheck disable=SC2086 # START is a command and its arguments
		$start "$log"
		STARTED[$key]=$?
		tn_count_zero
		pa_before=$(paws_active)
		tn_scenario "$label" "$variant" "$N" "$TN_C1" "$TN_C2"
		PASSIVE[$key]=$SC_PASSIVE ESTAB[$key]=$SC_ESTAB SLOW[$key]=$SC_SLOW FAILED[$key]=$SC_FAILED
		set -- $(tn_count "$SRV_IP")
		SYNS[$key]=$1 SYNS_TS[$key]=$2
		ACTIVE[$key]=$(( $(paws_active) - pa_before ))
		DOMAIN[$key]=""
		# rewrite: the mark of the gateway's address as a clock domain
		[ -n "$MODE_LOG" ] && [ "$syn_ts" = all ] &&
			DOMAIN[$key]=$("$TSNATCTL" -s "$TN_DIR/control" domains 2>/dev/null |
				awk -v a="$GW_WAN" '$1 == a { print $2 }')
		OFFLOADED[$key]=0
		[ -n "$MODE_LOG" ] && OFFLOADED[$key]=$(tn_daemon_counter "$MODE_LOG" flows_offloaded)
		mode_stop
	done
done
echo
for variant in $VARIANTS; do
	for row in "${MODES[@]}"; do
		IFS='|' read -r label start expect syn_ts <<<"$row"
		key="$label.$variant" what="$label, $variant"
		check "$what: started" eq "${STARTED[$key]}" 0
		check "$what: SYNs reached the server (${SYNS[$key]})" ge "${SYNS[$key]}" "$((2 * N))"
		if [ "$expect" = drops ]; then
			check "$what: the emulator drops SYNs (PAWSPassive ${PASSIVE[$key]})" gt "${PASSIVE[$key]}" 0
			check "$what: clients see slow or failed connects ($((SLOW[$key] + FAILED[$key])))" \
				gt "$((SLOW[$key] + FAILED[$key]))" 0
		else
			check "$what: no SYN or segment dropped, none slow or failed" \
				eq "$((PASSIVE[$key] + ESTAB[$key] + SLOW[$key] + FAILED[$key]))" 0
			check "$what: the clients' PAWSActive stays (${ACTIVE[$key]})" eq "${ACTIVE[$key]}" 0
		fi
		case $syn_ts in
		none) check "$what: no SYN at the server has a timestamp (${SYNS_TS[$key]} of ${SYNS[$key]})" \
			eq "${SYNS_TS[$key]}" 0 ;;
		all) check "$what: every SYN at the server has one (${SYNS_TS[$key]} of ${SYNS[$key]})" \
			eq "${SYNS_TS[$key]}" "${SYNS[$key]}"
		     check "$what: $GW_WAN is a clock domain with a mark (${DOMAIN[$key]:-none})" \
			test -n "${DOMAIN[$key]}" -a "${DOMAIN[$key]}" != - ;;
		esac
		case $label in
		*offload) check "$what: every flow went to the kernel (${OFFLOADED[$key]})" \
			ge "${OFFLOADED[$key]}" "$((2 * N))" ;;
		*) check "$what: no flow went to the kernel" eq "${OFFLOADED[$key]}" 0 ;;
		esac
	done
done
check "the server kernel's own PAWSEstab stays across the emulated scenarios" \
	eq "$(tn_counter "$TN_SRV" TcpExt PAWSEstab)" "$srv_estab_before"

echo "# a bulk transfer over IPv6 with the kernel data path, checksums in software"
check "checksums are computed in software on every link" tn_csum_software
tn_iperf_server
mode_offload "$OL_CONF" "$TN_DIR/daemon.iperf6.log"
check "tsnatd (rewrite, offload) starts" eq $? 0
csum_before=$(tn_counter "$TN_SRV" Tcp InCsumErrors)
tn_order_start lan1 5201
set -- $(tn_iperf "$TN_C1" 3)
tn_order_stop
check "iperf3 over IPv6 completes ($1 Gbit/s)" eq "$3" 0
check "tsnatd adds no step back to the transfer's TSvals ($TN_ORDER_LINE)" eq "$TN_ORDER_RC" 0
check "no checksum error at the server" eq "$(tn_counter "$TN_SRV" Tcp InCsumErrors)" "$csum_before"
check "the kernel shifted it ($(tn_daemon_counter "$MODE_LOG" flows_offloaded) flows)" \
	ge "$(tn_daemon_counter "$MODE_LOG" flows_offloaded)" 1
mode_stop

echo "# under load: a busy loop per core beside the transfer, both data paths"
tn_load_runs "IPv6, rewrite offload" "$OL_CONF"
tn_load_runs "IPv6, rewrite NFQUEUE" "$RW_CONF"
check "server TcpInCsumErrors stays 0" eq "$(tn_counter "$TN_SRV" Tcp InCsumErrors)" 0

tn_summary ipv6
