# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/lib.sh - network namespaces for tsnatd tests (sourced).
#
#   c1 192.0.2.2/26 --\                       /-- srv 198.51.100.10 (in the policy)
#                      gw (MASQUERADE) 198.51.100.1
#   c2 192.0.2.66/26 -/                       \-- srv 203.0.113.10 (no policy)
#
# The default config (conf/tsnatd.conf: strip 198.51.100.0/24 for clients in
# 192.0.2.0/24) fits this layout as it is.
#
# TN_FAMILY=6, set before sourcing, is the same layout in IPv6 (tn_setup6;
# the helpers below then use ip6tables and these addresses):
#
#   c1 2001:db8:c:1::2/64 --\                    /-- srv 2001:db8:1::10 (policy)
#                            gw (MASQUERADE) 2001:db8:1::1
#   c2 2001:db8:c:2::2/64 --/                    \-- srv 2001:db8:2::10 (none)
#
# Only documentation ranges. Everything created here is removed by
# tn_cleanup, which callers install as an EXIT trap.

# The common start of every script here: strict mode is the caller's; this
# fills in the binaries, loads the helpers and installs the cleanup.
# tn_start "WHAT needs root" (call it right after sourcing this file)
tn_start() {
	: "${TSNATD:=$PWD/build/tsnatd}"
	: "${TSNATD_LEGACY:=$PWD/build/tsnatd-legacy}"
	. tests/e2e/load.sh
	trap tn_cleanup EXIT
	trap 'exit 130' INT TERM
	[ "$(id -u)" = 0 ] || { echo "$1 (network namespaces)"; exit 1; }
}

# Checks, counted: check DESCRIPTION COMMAND..., then tn_summary NAME at the
# end (prints "NAME: N passed, N failed", fails if any failed).
PASS=0 FAIL=0
check() {
	local desc=$1; shift
	if "$@"; then
		PASS=$((PASS + 1)); echo "ok   - $desc"
	else
		FAIL=$((FAIL + 1)); echo "FAIL - $desc"
	fi
}
eq() { [ "$1" -eq "$2" ]; }
gt() { [ "$1" -gt "$2" ]; }
ge() { [ "$1" -ge "$2" ]; }
has() { grep -q -- "$2" "$1"; }
tn_summary() {
	echo
	echo "$1: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

# The legacy emulator's counters now: tn_legacy_now LOG NAME
tn_legacy_now() {
	kill -USR1 "$TN_LEGACY_PID" 2>/dev/null
	sleep 0.3
	grep "^legacy variant" "$1" | tail -1 | sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}

TN_ID=${TN_ID:-$$}
TN_C1=tsn-c1-$TN_ID
TN_C2=tsn-c2-$TN_ID
TN_GW=tsn-gw-$TN_ID
TN_SRV=tsn-srv-$TN_ID
TN_DIR=$(mktemp -d /tmp/tsnatd-e2e.XXXXXX)
# readable by all: tsnatd -t run as root checks that the service user could
# read the test configs, where a tsnatd user exists (an installed package)
chmod 755 "$TN_DIR"
TN_PIDS=""
TN_FAMILY=${TN_FAMILY:-4}
if [ "$TN_FAMILY" = 6 ]; then
	TN_IPT=ip6tables
	SRV_IP=2001:db8:1::10
	SRV_IP_UNMATCHED=2001:db8:2::10
	GW_WAN=2001:db8:1::1
	SRV_URL="http://[$SRV_IP]/"
else
	TN_IPT=iptables
	SRV_IP=198.51.100.10
	SRV_IP_UNMATCHED=203.0.113.10
	GW_WAN=198.51.100.1
	SRV_URL="http://$SRV_IP/"
fi

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Remember a background PID so that cleanup stops it (by PID, never by name).
tn_track() { TN_PIDS="$TN_PIDS $1"; }

tn_cleanup() {
	local pid ns
	for pid in $TN_PIDS; do kill -TERM "$pid" 2>/dev/null; done
	sleep 0.3
	for pid in $TN_PIDS; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	TN_PIDS=""
	for ns in $TN_C1 $TN_C2 $TN_GW $TN_SRV; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "${TN_KEEP:-}" ] || rm -rf "$TN_DIR"
}

tn_link() { # ns1 if1 ns2 if2
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	in_ns "$1" ip link set "$2" up
	in_ns "$3" ip link set "$4" up
}

tn_setup() {
	local ns
	for ns in $TN_C1 $TN_C2 $TN_GW $TN_SRV; do
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
	done
	tn_link "$TN_C1" eth0 "$TN_GW" lan1
	tn_link "$TN_C2" eth0 "$TN_GW" lan2
	tn_link "$TN_GW" wan "$TN_SRV" eth0
	in_ns "$TN_C1" ip addr add 192.0.2.2/26 dev eth0
	in_ns "$TN_C1" ip route add default via 192.0.2.1
	in_ns "$TN_C2" ip addr add 192.0.2.66/26 dev eth0
	in_ns "$TN_C2" ip route add default via 192.0.2.65
	in_ns "$TN_GW" ip addr add 192.0.2.1/26 dev lan1
	in_ns "$TN_GW" ip addr add 192.0.2.65/26 dev lan2
	in_ns "$TN_GW" ip addr add $GW_WAN/24 dev wan
	in_ns "$TN_SRV" ip addr add $SRV_IP/24 dev eth0
	in_ns "$TN_SRV" ip addr add $SRV_IP_UNMATCHED/24 dev eth0
	in_ns "$TN_GW" ip route add 203.0.113.0/24 dev wan
	in_ns "$TN_GW" sysctl -qw net.ipv4.ip_forward=1
	in_ns "$TN_GW" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE
	for ns in $TN_C1 $TN_C2 $TN_SRV; do
		in_ns "$ns" sysctl -qw net.ipv4.tcp_timestamps=1
	done
	tn_count_setup
}

# The same in IPv6 (TN_FAMILY=6). Addresses are usable at once: no
# duplicate address detection (accept_dad=0 before the links exist, and
# nodad), so nothing is tentative when MASQUERADE or tsnatd's "auto"
# domain picks the gateway's address.
tn_setup6() {
	local ns
	for ns in $TN_C1 $TN_C2 $TN_GW $TN_SRV; do
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0
	done
	tn_link "$TN_C1" eth0 "$TN_GW" lan1
	tn_link "$TN_C2" eth0 "$TN_GW" lan2
	tn_link "$TN_GW" wan "$TN_SRV" eth0
	in_ns "$TN_C1" ip -6 addr add 2001:db8:c:1::2/64 dev eth0 nodad
	in_ns "$TN_C1" ip -6 route add default via 2001:db8:c:1::1
	in_ns "$TN_C2" ip -6 addr add 2001:db8:c:2::2/64 dev eth0 nodad
	in_ns "$TN_C2" ip -6 route add default via 2001:db8:c:2::1
	in_ns "$TN_GW" ip -6 addr add 2001:db8:c:1::1/64 dev lan1 nodad
	in_ns "$TN_GW" ip -6 addr add 2001:db8:c:2::1/64 dev lan2 nodad
	in_ns "$TN_GW" ip -6 addr add $GW_WAN/64 dev wan nodad
	in_ns "$TN_SRV" ip -6 addr add $SRV_IP/64 dev eth0 nodad
	in_ns "$TN_SRV" ip -6 addr add $SRV_IP_UNMATCHED/64 dev eth0 nodad
	in_ns "$TN_GW" ip -6 route add 2001:db8:2::/64 dev wan
	in_ns "$TN_GW" sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ns "$TN_GW" ip6tables -t nat -A POSTROUTING -o wan -j MASQUERADE
	for ns in $TN_C1 $TN_C2 $TN_SRV; do
		# (the ipv4 name, but it governs TCP over IPv6 too)
		in_ns "$ns" sysctl -qw net.ipv4.tcp_timestamps=1
	done
	tn_count_setup
}

# A real HTTP/1.0 server (the server closes every connection first):
# tn_http_server [ADDRESS [PROBE]]: listens on ADDRESS (default: every IPv4
# address; "::" every IPv6 one), ready once PROBE (default: ADDRESS, or
# 127.0.0.1) answers.
tn_http_server() {
	local bind=${1:-0.0.0.0} probe=${2:-${1:-127.0.0.1}}
	mkdir -p "$TN_DIR/www"
	head -c 2000 /dev/zero | tr '\0' x > "$TN_DIR/www/index.html"
	# ip netns exec execs the program: $! is the server's own PID.
	ip netns exec "$TN_SRV" python3 -m http.server 80 --bind "$bind" \
		--directory "$TN_DIR/www" >"$TN_DIR/http.log" 2>&1 </dev/null &
	tn_track $!
	local i
	for i in $(seq 50); do
		in_ns "$TN_SRV" bash -c "exec 3<>/dev/tcp/$probe/80" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "HTTP server did not start" >&2
	return 1
}

# tn_curl NS URL: prints "connect_seconds exit_code" for one request.
tn_curl() {
	local out rc
	out=$(in_ns "$1" curl -"$TN_FAMILY" -s -o /dev/null --connect-timeout 2 --max-time 5 \
		-w '%{time_connect}' "$2")
	rc=$?
	echo "${out:-0} $rc"
}

# Start tsnatd in the gateway: tn_daemon CONF LOG. Sets TN_DAEMON_PID.
tn_daemon() {
	ip netns exec "$TN_GW" "$TSNATD" -c "$1" >"$2" 2>&1 </dev/null &
	TN_DAEMON_PID=$!
	tn_track $TN_DAEMON_PID
	local i
	for i in $(seq 50); do
		grep -q "running" "$2" 2>/dev/null && return 0
		kill -0 $TN_DAEMON_PID 2>/dev/null || break
		sleep 0.1
	done
	echo "tsnatd did not start:" >&2
	cat "$2" >&2
	return 1
}

tn_load_rules() { # CONF
	"$TSNATD" -c "$1" --print-rules $TN_IPT | in_ns "$TN_GW" $TN_IPT-restore --noflush
}

# No tsnatd at all: empty its chain.
tn_rules_off() { in_ns "$TN_GW" $TN_IPT -t mangle -F TSNATD 2>/dev/null; true; }

# Counters from the daemon's last SIGUSR1 "total:" line: tn_daemon_counter LOG NAME
tn_daemon_counter() {
	kill -USR1 "$TN_DAEMON_PID" 2>/dev/null
	sleep 0.3
	grep "total:" "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# Capture SYNs arriving at the server: tn_capture FILE. Sets TN_CAP_PID.
tn_capture() {
	ip netns exec "$TN_SRV" tcpdump -i eth0 -nn -U -w "$1" \
		'tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0' \
		>/dev/null 2>&1 </dev/null &
	TN_CAP_PID=$!
	tn_track $TN_CAP_PID
	sleep 0.5
}

# Stop a tracked process by PID and wait for it.
tn_stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; true; }

# Stop a capture once the kernel has handed it everything: tcpdump exits on
# SIGTERM without draining its ring, so give it a moment first.
tn_capture_stop() { sleep 1; tn_stop "$TN_CAP_PID"; }

# SYN counters at the server, before anything else sees the packet (raw
# PREROUTING): per destination, all SYNs and SYNs with a timestamp option.
tn_count_setup() {
	local dst
	for dst in $SRV_IP $SRV_IP_UNMATCHED; do
		in_ns "$TN_SRV" $TN_IPT -t raw -A PREROUTING -p tcp --syn -d "$dst"
		in_ns "$TN_SRV" $TN_IPT -t raw -A PREROUTING -p tcp --syn -d "$dst" \
			-m tcp --tcp-option 8
	done
}
tn_count_zero() { in_ns "$TN_SRV" $TN_IPT -t raw -Z PREROUTING; }
# tn_count DST: "total with_timestamp"
tn_count() {
	in_ns "$TN_SRV" $TN_IPT -t raw -L PREROUTING -v -n -x | awk -v d="$1" '
		/flags:/ && $8 == d { if ($0 ~ /tcp option=8/) ts = $1; else n = $1 }
		END { printf "%d %d\n", n, ts }'
}

# SYNs in a capture to DST: "total with_timestamp"
tn_syn_counts() {
	tcpdump -r "$1" -nn -v "dst host $2" 2>/dev/null | awk '
		/Flags \[S\]/ { n++; if ($0 ~ /TS val/) ts++ }
		END { printf "%d %d\n", n, ts }'
}

# Counter from /proc/net/{snmp,netstat} inside a namespace: tn_counter NS Tcp InCsumErrors
tn_counter() {
	in_ns "$1" awk -v grp="$2:" -v key="$3" '
		$1 == grp && !hdr { for (i = 2; i <= NF; i++) col[$i] = i; hdr = 1; next }
		$1 == grp && hdr { if (key in col) print $(col[key]); exit }' /proc/net/snmp /proc/net/netstat
}

# The legacy tw_recycle server: tn_legacy VARIANT LOG [ADDRESS]. Sets
# TN_LEGACY_PID. With ADDRESS, only that server address is legacy.
TN_LEGACY_D="" TN_LEGACY_S=""
tn_legacy() {
	TN_LEGACY_D="" TN_LEGACY_S=""
	[ -n "${3:-}" ] && TN_LEGACY_D="-d $3" TN_LEGACY_S="-s $3"
	in_ns "$TN_SRV" $TN_IPT -A INPUT -p tcp $TN_LEGACY_D --dport 80 -j NFQUEUE --queue-num 7 --queue-bypass
	in_ns "$TN_SRV" $TN_IPT -A OUTPUT -p tcp $TN_LEGACY_S --sport 80 -j NFQUEUE --queue-num 7 --queue-bypass
	ip netns exec "$TN_SRV" "$TSNATD_LEGACY" --variant "$1" --queue 7 >"$2" 2>&1 </dev/null &
	TN_LEGACY_PID=$!
	tn_track $TN_LEGACY_PID
	local i
	for i in $(seq 50); do
		grep -q "ready" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "legacy emulator did not start" >&2
	cat "$2" >&2
	return 1
}

# Stop the emulator and its rules; print its final counter line.
tn_legacy_stop() {
	tn_stop "$TN_LEGACY_PID"
	in_ns "$TN_SRV" $TN_IPT -D INPUT -p tcp $TN_LEGACY_D --dport 80 -j NFQUEUE --queue-num 7 --queue-bypass
	in_ns "$TN_SRV" $TN_IPT -D OUTPUT -p tcp $TN_LEGACY_S --sport 80 -j NFQUEUE --queue-num 7 --queue-bypass
	grep "^legacy variant" "$1" | tail -1
}

# A rewrite-mode config derived from the shipped default one.
tn_rewrite_conf() { # OUT
	sed -e 's/mode = "strip";/mode = "rewrite";/' \
	    -e "s|^state_dir = .*|state_dir = \"$TN_DIR/state\";|" \
	    conf/tsnatd.conf >"$1"
	grep -q "^state_dir = \"$TN_DIR/state\";" "$1"
}

# Wall clock in milliseconds mod 2^32: what rewritten TSvals start from.
tn_now_ms() { echo $(( $(date +%s%3N) % 4294967296 )); }

# TSvals of the first packets to port 5201 seen by the server (capture of
# COUNT packets, at most 10 s): one per line.
tn_server_tsvals() { # COUNT OUTFILE
	timeout 10 ip netns exec "$TN_SRV" tcpdump -i eth0 -nn -c "$1" -v \
		'tcp dst port 5201 and tcp[tcpflags] & tcp-ack != 0' 2>/dev/null |
		sed -n 's/.*TS val \([0-9]*\).*/\1/p' >"$2"
}

# iperf3 from client NS to the server for SECONDS; prints "gbits retransmits
# exit_code". Bounded by iperf3's own -t and a hard timeout.
tn_iperf() { # NS SECONDS [STREAMS]
	local out=$TN_DIR/iperf.$RANDOM rc
	timeout $(( $2 + 20 )) ip netns exec "$1" iperf3 -c "$SRV_IP" -t "$2" \
		-P "${3:-1}" -J >"$out" 2>&1
	rc=$?
	python3 - "$out" "$rc" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    s = j["end"]["sum_sent"]
    print("%.2f %d %s" % (s["bits_per_second"] / 1e9, s.get("retransmits", 0), sys.argv[2]))
except Exception:
    print("0 0 %s" % (sys.argv[2] if sys.argv[2] != "0" else "1"))
PY
}

# Checksums computed in software on every link of the path (veth hands
# CHECKSUM_PARTIAL packets on unchecked): the receivers verify them.
tn_csum_software() {
	local ns_if
	for ns_if in "$TN_C1 eth0" "$TN_GW lan1" "$TN_GW wan" "$TN_SRV eth0"; do
		set -- $ns_if
		in_ns "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1 || return 1
	done
}

tn_iperf_server() {
	ip netns exec "$TN_SRV" iperf3 -s -p 5201 >"$TN_DIR/iperf-server.log" 2>&1 </dev/null &
	tn_track $!
	sleep 0.5
}

# The load mode: a gateway is a loaded machine. One bounded busy loop per
# core beside a transfer: tn_hogs_start SECONDS, tn_hogs_stop.
TN_HOGS=""
tn_hogs_start() {
	local i
	for i in $(seq "$(nproc)"); do
		timeout "$1" sh -c 'while :; do :; done' &
		TN_HOGS="$TN_HOGS $!"
		tn_track $!
	done
}
tn_hogs_stop() {
	local pid
	for pid in $TN_HOGS; do tn_stop "$pid"; done
	TN_HOGS=""
}

# Did tsnatd add a step back to a flow's TSvals? The client segments to
# PORT are captured before the gateway (its interface IF, raw) and at the
# server (both ways, shifted); tsorder.py pairs them. The server's PAWS
# counters cannot tell: under load the gateway's CPUs reorder segments and
# the client retransmits, and the server PAWS-drops the late copies with or
# without tsnatd. tn_order_start IF PORT ... tn_order_stop, which sets
# TN_ORDER_RC (0: no step back added, no raw segment mid-flow) and
# TN_ORDER_LINE (tsorder.py's counts and the server's PAWSEstab since the
# start; a kernel since 4.12 has no PAWSPassive: the emulator counts that).
tn_order_start() {
	TN_ORDER_PORT=$2 TN_ORDER_PIDS=""
	TN_ORDER_E=$(tn_counter "$TN_SRV" TcpExt PAWSEstab)
	ip netns exec "$TN_GW" tcpdump -i "$1" -nn -s 128 -B 16384 -U -w "$TN_DIR/order.raw" \
		"tcp dst port $2" >/dev/null 2>&1 </dev/null &
	TN_ORDER_PIDS="$TN_ORDER_PIDS $!"
	ip netns exec "$TN_SRV" tcpdump -i eth0 -nn -s 128 -B 16384 -U -w "$TN_DIR/order.srv" \
		"tcp port $2" >/dev/null 2>&1 </dev/null &
	TN_ORDER_PIDS="$TN_ORDER_PIDS $!"
	tn_track "$TN_ORDER_PIDS"
	sleep 0.5
}
tn_order_stop() {
	local pid e
	sleep 1		# tcpdump exits on SIGTERM without draining its ring
	for pid in $TN_ORDER_PIDS; do tn_stop "$pid"; done
	e=$(tn_counter "$TN_SRV" TcpExt PAWSEstab)
	TN_ORDER_LINE=$(python3 tests/e2e/tsorder.py "$TN_DIR/order.raw" "$TN_DIR/order.srv" \
		"$TN_ORDER_PORT")
	TN_ORDER_RC=$?
	TN_ORDER_LINE="$TN_ORDER_LINE; the server's PAWSEstab +$((e - TN_ORDER_E))"
}

# E2E_LOAD_RUNS (default 2) transfers of 3 s from c1 under load through
# tsnatd started with CONF: tn_load_runs LABEL CONF (the iperf3 server runs).
tn_load_runs() {
	local label=$1 conf=$2 k sock clamped kclamped
	tn_rules_off
	tn_load_rules "$conf"
	tn_daemon "$conf" "$TN_DIR/daemon.load.log" || { check "$label: tsnatd starts" false; return; }
	for k in $(seq "${E2E_LOAD_RUNS:-2}"); do
		tn_order_start lan1 5201
		tn_hogs_start 40
		set -- $(tn_iperf "$TN_C1" 3)
		tn_hogs_stop
		tn_order_stop
		check "$label under load, run $k: iperf3 completes ($1 Gbit/s)" eq "$3" 0
		check "$label under load, run $k: tsnatd adds no step back ($TN_ORDER_LINE)" \
			eq "$TN_ORDER_RC" 0
	done
	# An honest client is compressed while its SYN's wait at the gateway
	# lasts, never counted as running ahead.
	sock=$(sed -n 's/^control_socket = "\(.*\)";$/\1/p' "$conf")
	clamped=$(tn_daemon_counter "$TN_DIR/daemon.load.log" ts_clamped)
	kclamped=$("${TSNATCTL:-$(dirname "$TSNATD")/tsnatctl}" -s "$sock" metrics 2>/dev/null |
		awk '$1 == "tsnatd_offload_clamped_total" { print $2 }')
	check "$label under load: the honest client is never counted clamped (ts_clamped ${clamped:-?}, in the kernel ${kclamped:-0})" \
		eq "$(( ${clamped:-1} + ${kclamped:-0} ))" 0
	tn_stop "$TN_DAEMON_PID"
}
