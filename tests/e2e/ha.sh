#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/ha.sh - an HA pair of SNAT gateways loses its primary mid-transfer
# (root). The pair is built from the recipe in conf/ha/, used line for line
# (only the instance's own values are changed, and the test checks that):
#
#   cl 192.0.2.10 ---[br-lan]--- lan0 gw1 .2 | gw2 .3   LAN VIP 192.0.2.1
#                                 sync0 203.0.113.1 --- 203.0.113.2 (conntrackd)
#   srv 198.51.100.10 -[br-wan]- wan0 gw1 .2 | gw2 .3   WAN VIP 198.51.100.1
#
# (the bridges live in a namespace "sw" of their own). keepalived (unicast
# VRRP, a sync group of the two VIPs' instances) and conntrackd (FTFW, UDP
# over sync0) run in both gateways, SNAT goes --to-source the WAN VIP, tcp
# loose is off and INVALID dropped. The server runs a real HTTP/1.0 server
# and iperf3 behind the legacy emulator (tsnatd-legacy, 4.x: tw_recycle's
# PAWSPassive and per-connection PAWSEstab, port 80).
#
# Each variant builds fresh gateways, starts HA_DOWNLOADS paced downloads
# and an iperf3 transfer through gw1, then kills gw1 abruptly (SIGSTOP to
# everything in it, its links down, SIGKILL: no priority-0 advert), waits
# for gw2 to hold the VIPs, lets the transfers finish through gw2 and makes
# HA_CONNECTS new connects through it. Variants: no tsnatd, strip, rewrite
# through NFQUEUE, rewrite with the kernel data path, rewrite with gw2's
# clock 50 ms behind, the negative control (ha_labels = false: must break
# something) and auto after gw1 classified the server. A table of the
# figures closes the run.
#
# It creates network namespaces; on a shared machine hold the lock:
#   flock /run/tsnatd-netns.lock bash tests/e2e/ha.sh
# HA_VARIANTS picks variants (default: all, "none strip nfq offload skew
# nolabels auto"). Bounded: every transfer and connect has a timeout, every
# wait a count. Everything it creates is removed on exit.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
tn_start "HA tests need root"
: "${TSNATCTL:=$PWD/build/tsnatctl}"

[ -x "$TSNATD" ] && [ -x "$TSNATD_LEGACY" ] && [ -x "$TSNATCTL" ] || { echo "build first: make"; exit 1; }
for tool in keepalived conntrackd conntrack iperf3 python3; do
	command -v "$tool" >/dev/null || { echo "ha.sh needs $tool"; exit 1; }
done
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)

HA_VARIANTS=${HA_VARIANTS:-none strip nfq offload skew nolabels auto}
HA_DOWNLOADS=${HA_DOWNLOADS:-4}
HA_CONNECTS=${HA_CONNECTS:-20}
HA_SIZE_KIB=${HA_SIZE_KIB:-2048}	# each download; at 4 KiB / 10 ms, 5 s
HA_IPERF_S=${HA_IPERF_S:-12}

GW1=tsn-gw1-$TN_ID
GW2=tsn-gw2-$TN_ID
SW=tsn-sw-$TN_ID
CL=$TN_C1		# the client; lib.sh removes it (and the server) on exit
CL_IP=192.0.2.10
LAN_VIP=192.0.2.1
WAN_VIP=198.51.100.1
SHIPPED=conf/ha

# Instance values: gw1 is the shipped files' own gateway, gw2 the other.
gw_ns() { [ "$1" = 1 ] && echo "$GW1" || echo "$GW2"; }
gw_lan() { echo "192.0.2.$(( $1 + 1 ))"; }
gw_wan() { echo "198.51.100.$(( $1 + 1 ))"; }
gw_sync() { echo "203.0.113.$1"; }
gw_dir() { echo "$TN_DIR/gw$1"; }

# A bpf file system of the test's own for the kernel data path's pins (as
# offload.sh: inside `ip netns exec`, /sys/fs/bpf is not one).
BPFFS=$TN_DIR/bpffs
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS" || { echo "cannot mount a bpf file system"; exit 1; }

# Everything still running in a gateway, by PID (ip netns pids), then the
# namespaces; lib.sh's cleanup does the rest.
ha_gw_down() { # N
	local ns pids
	ns=$(gw_ns "$1")
	ip netns list 2>/dev/null | grep -q "^$ns\b" || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null)
	[ -z "$pids" ] || kill -TERM $pids 2>/dev/null
	for _ in $(seq 20); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -z "$pids" ] && break
		sleep 0.1
	done
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
	# The links first: a namespace's deletion takes its veths away
	# later (the kernel's cleanup runs deferred), and the next variant's
	# ports of the same names would collide with them.
	in_ns "$SW" ip link del "g$1lan" 2>/dev/null
	in_ns "$SW" ip link del "g$1wan" 2>/dev/null
	in_ns "$ns" ip link del sync0 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	true
}
ha_cleanup() {
	ha_gw_down 1
	ha_gw_down 2
	ip netns del "$SW" 2>/dev/null
	umount "$BPFFS" 2>/dev/null
	tn_cleanup
}
trap ha_cleanup EXIT

# --- the recipe, made instance-specific -------------------------------------

# The notify script as shipped, in a root-only directory (keepalived's
# enable_script_security refuses a script any other user could replace).
NOTIFY=$TN_DIR/sbin/tsnatd-ha-notify
mkdir -p "$TN_DIR/sbin"
install -m 0755 "$SHIPPED/tsnatd-ha-notify" "$NOTIFY"

# keepalived.conf for gateway N: notify path; for gw2 also router_id,
# state, priority, and its own address and its peer's swapped.
ha_keepalived_conf() { # N OUT
	local n=$1 own_l own_w peer_l peer_w
	own_l=$(gw_lan "$n") own_w=$(gw_wan "$n")
	peer_l=$(gw_lan $((3 - n))) peer_w=$(gw_wan $((3 - n)))
	sed -e "s|\"/usr/local/sbin/tsnatd-ha-notify |\"$NOTIFY |" \
	    -e "s/^\( *router_id\) tsnatd-gw1$/\1 tsnatd-gw$n/" \
	    -e "s/^\( *unicast_src_ip\) 192\.0\.2\.2$/\1 $own_l/" \
	    -e "s/^\( *unicast_src_ip\) 198\.51\.100\.2$/\1 $own_w/" \
	    -e "s/^\( *\)192\.0\.2\.3$/\1$peer_l/" \
	    -e "s/^\( *\)198\.51\.100\.3$/\1$peer_w/" \
	    "$SHIPPED/keepalived.conf" >"$2"
	[ "$n" = 1 ] || sed -i -e "s/^\( *state\) MASTER$/\1 BACKUP/" \
		-e "s/^\( *priority\) 150$/\1 100/" "$2"
}

# conntrackd.conf for gateway N: its paths; for gw2 the UDP addresses
# swapped (in the UDP block only: the Ignore list names both gateways).
ha_conntrackd_conf() { # N OUT
	local n=$1 d
	d=$(gw_dir "$n")
	sed -e "/^\tUDP {/,/^\t}/ s/^\(\t*IPv4_address\) 203\.0\.113\.1$/\1 $(gw_sync "$n")/" \
	    -e "/^\tUDP {/,/^\t}/ s/^\(\t*IPv4_Destination_Address\) 203\.0\.113\.2$/\1 $(gw_sync $((3 - n)))/" \
	    -e "s|^\(\t*LockFile\) /var/lock/conntrack.lock$|\1 $d/conntrack.lock|" \
	    -e "s|^\(\t*Path\) /var/run/conntrackd.ctl$|\1 $d/conntrackd.ctl|" \
	    -e "s|^\(\t*LogFile\) /var/log/conntrackd.log$|\1 $d/conntrackd.log|" \
	    "$SHIPPED/conntrackd.conf" >"$2"
}

# Does OUT differ from SHIPPED only in lines that start with one of the
# keys (an extended regex), each keeping its key? Same number of lines.
differs_only_in() { # SHIPPED OUT KEYS
	python3 - "$@" <<'PY'
import re, sys
a = open(sys.argv[1]).read().split("\n")
b = open(sys.argv[2]).read().split("\n")
keys = re.compile(r"^\s*(" + sys.argv[3] + r")(\s|$)")
if len(a) != len(b):
    sys.exit("%s: %d lines, %s: %d" % (sys.argv[1], len(a), sys.argv[2], len(b)))
addr = re.compile(r"[0-9.]+$")


def same_key(x, y):
    mx, my = keys.match(x), keys.match(y)
    if not (mx and my):
        return False
    kx, ky = mx.group(1), my.group(1)
    return kx == ky or bool(addr.match(kx) and addr.match(ky))


bad = [(x, y) for x, y in zip(a, b) if x != y and not same_key(x, y)]
for x, y in bad:
    print("  shipped: %r\n  test:    %r" % (x, y))
sys.exit(1 if bad else 0)
PY
}

# tsnatd.conf for gateway N from the shipped one: the mode (strip,
# rewrite, auto), state and socket in the gateway's directory, the WAN VIP
# as translated source; then the HA keys and the data path.
ha_tsnatd_conf() { # N MODE OFFLOAD(true|false) LABELS(true|false|"": unset) OUT
	local n=$1 mode=$2 d
	d=$(gw_dir "$n")
	case $mode in
	auto) mode='auto"; action = "rewrite' ;;
	esac
	sed -e "s/mode = \"strip\";/mode = \"$mode\";/" \
	    -e "s|^state_dir = .*|state_dir = \"$d/state\";|" \
	    -e "s|^control_socket = .*|control_socket = \"$d/control\";|" \
	    -e "s|translated_source = \"auto\";|translated_source = \"$WAN_VIP\";|" \
	    conf/tsnatd.conf >"$5"
	{
		[ -z "$4" ] || echo "ha_labels = $4;"
		echo "offload = $3;"
		echo "offload_dir = \"$BPFFS/$VARIANT-gw$n\";"
	} >>"$5"
	grep -q "^control_socket = \"$d/control\";" "$5" &&
		grep -q "translated_source = \"$WAN_VIP\";" "$5"
}

# --- the topology ----------------------------------------------------------

# The client, the server and the switch, once.
ha_setup() {
	local ns
	for ns in $SW $CL $TN_SRV; do
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
	done
	in_ns "$SW" ip link add br-lan type bridge
	in_ns "$SW" ip link add br-wan type bridge
	in_ns "$SW" ip link set br-lan up
	in_ns "$SW" ip link set br-wan up
	ha_port "$CL" eth0 cl br-lan
	ha_port "$TN_SRV" eth0 srv br-wan
	in_ns "$CL" ip addr add $CL_IP/24 dev eth0
	in_ns "$CL" ip route add default via $LAN_VIP
	in_ns "$TN_SRV" ip addr add $SRV_IP/24 dev eth0
	in_ns "$TN_SRV" ip route add default via $WAN_VIP
	for ns in $CL $TN_SRV; do
		in_ns "$ns" sysctl -qw net.ipv4.tcp_timestamps=1
	done
	tn_count_setup
}
# A veth from NS (named IF there) to a port of BRIDGE in the switch.
ha_port() { # NS IF PORT BRIDGE
	ip link add "$2" netns "$1" type veth peer name "$3" netns "$SW"
	in_ns "$SW" ip link set "$3" master "$4"
	in_ns "$SW" ip link set "$3" up
	in_ns "$1" ip link set "$2" up
}

# Both gateways, fresh: links, addresses, the recipe's firewall rules and
# sysctls (as shipped), and the sync link between them.
ha_gateways() {
	local n ns
	for n in 1 2; do
		ns=$(gw_ns "$n")
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
		ha_port "$ns" lan0 "g${n}lan" br-lan
		ha_port "$ns" wan0 "g${n}wan" br-wan
		in_ns "$ns" ip addr add "$(gw_lan "$n")/24" dev lan0
		in_ns "$ns" ip addr add "$(gw_wan "$n")/24" dev wan0
		in_ns "$ns" iptables-restore --noflush <"$SHIPPED/iptables.rules" || return 1
		in_ns "$ns" sysctl -q -p "$SHIPPED/sysctl.conf" >/dev/null || return 1
		mkdir -p "$(gw_dir "$n")"
		rm -f "$(gw_dir "$n")"/*.log "$(gw_dir "$n")"/*.pid "$(gw_dir "$n")"/conntrack.lock
	done
	ip link add sync0 netns "$GW1" type veth peer name sync0 netns "$GW2"
	for n in 1 2; do
		in_ns "$(gw_ns "$n")" ip addr add "$(gw_sync "$n")/24" dev sync0
		in_ns "$(gw_ns "$n")" ip link set sync0 up
	done
}

# --- the daemons ---------------------------------------------------------

# tsnatd in gateway N with CONF; PREFIX (e.g. env LD_PRELOAD=...) execs it,
# so that $! is the daemon's own PID. Sets GW_PID[N].
declare -A GW_PID
ha_tsnatd() { # N CONF [PREFIX...]
	local n=$1 conf=$2 log ns
	shift 2
	ns=$(gw_ns "$n")
	log=$(gw_dir "$n")/tsnatd.log
	"$TSNATD" -c "$conf" --print-rules iptables | in_ns "$ns" iptables-restore --noflush
	ip netns exec "$ns" "$@" "$TSNATD" -c "$conf" >"$log" 2>&1 </dev/null &
	GW_PID[$n]=$!
	disown "${GW_PID[$n]}"	# (not tracked: ha_gw_down stops a gateway's processes)
	for _ in $(seq 50); do
		grep -q "running" "$log" 2>/dev/null && return 0
		kill -0 "${GW_PID[$n]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "  tsnatd in gw$n did not start:"; sed 's/^/    /' "$log"
	return 1
}

# conntrackd, then keepalived, in gateway N (the notify script's paths in
# keepalived's environment, which its scripts inherit).
ha_conntrackd() { # N
	local n=$1 d ns
	d=$(gw_dir "$n") ns=$(gw_ns "$n")
	ha_conntrackd_conf "$n" "$d/conntrackd.conf"
	ip netns exec "$ns" conntrackd -C "$d/conntrackd.conf" >"$d/conntrackd.out" 2>&1 </dev/null &
	disown $!	# (ha_gw_down stops a gateway's processes, and bash says nothing)
	for _ in $(seq 50); do
		[ -S "$d/conntrackd.ctl" ] && return 0
		sleep 0.1
	done
	echo "  conntrackd in gw$n did not start:"; sed 's/^/    /' "$d/conntrackd.out" "$d/conntrackd.log" 2>/dev/null
	return 1
}
ha_keepalived() { # N
	local n=$1 d ns
	d=$(gw_dir "$n") ns=$(gw_ns "$n")
	ha_keepalived_conf "$n" "$d/keepalived.conf"
	ip netns exec "$ns" env CONNTRACKD_CONFIG="$d/conntrackd.conf" \
		CONNTRACKD_LOCK="$d/conntrack.lock" TSNATCTL="$TSNATCTL" \
		TSNATD_SOCKET="$d/control" TSNATD_HA_LOG="$d/notify.log" \
		keepalived --dont-fork --log-console --log-detail --vrrp --dont-respawn \
		-f "$d/keepalived.conf" -p "$d/keepalived.pid" -r "$d/vrrp.pid" \
		>"$d/keepalived.log" 2>&1 </dev/null &
	disown $!
}

# keepalived's own check of gateway N's file, where its interfaces exist.
ka_config_test() { # N CONF
	in_ns "$(gw_ns "$1")" keepalived --config-test="$2" >"$2.log" 2>&1 ||
		{ sed 's/^/    /' "$2.log"; return 1; }
}

# Has gateway N both VIPs?
holds_vips() { # N
	local ns
	ns=$(gw_ns "$1")
	in_ns "$ns" ip -4 -o addr show dev lan0 | grep -q "inet $LAN_VIP/" &&
		in_ns "$ns" ip -4 -o addr show dev wan0 | grep -q "inet $WAN_VIP/"
}

# The pair up: conntrackd, keepalived, gw1 primary with both VIPs and gw2's
# notify script through its "backup" steps.
ha_pair_up() {
	ha_conntrackd 1 && ha_conntrackd 2 || return 1
	ha_keepalived 1
	ha_keepalived 2
	for _ in $(seq 100); do
		holds_vips 1 && grep -q "conntrackd -n done" "$(gw_dir 2)/notify.log" 2>/dev/null &&
			grep -q "conntrackd -B done" "$(gw_dir 1)/notify.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "  the pair did not come up:"
	sed 's/^/    /' "$(gw_dir 1)/keepalived.log" "$(gw_dir 1)/notify.log" \
		"$(gw_dir 2)/notify.log" 2>/dev/null | tail -30
	return 1
}

# A counter of gateway N's tsnatd (tsnatctl stats), "-" if it has none.
gw_stat() { # N NAME
	"$TSNATCTL" -s "$(gw_dir "$1")/control" stats --json 2>"$VDIR/stats.gw$1.err" | tee "$VDIR/stats.gw$1.json" | python3 -c '
import json, sys
try:
    print(json.load(sys.stdin)["total"].get(sys.argv[1], "-"))
except Exception:
    print("-")' "$2"
}

# --- load, failover, figures -------------------------------------------------

# A number, or -1 for anything else ("-": no such counter).
num() { [[ $1 =~ ^[0-9]+$ ]] && echo "$((10#$1))" || echo -1; }

mkdir -p "$TN_DIR/www"
head -c $((HA_SIZE_KIB * 1024)) /dev/zero >"$TN_DIR/www/big"

# Downloads and iperf3 in the background (their PIDs: LOAD_DL, LOAD_IPERF).
ha_load_start() {
	LOAD_T0=$(date +%s%3N)
	ip netns exec "$CL" python3 tests/e2e/hafetch.py get $CL_IP $SRV_IP /big \
		"$HA_DOWNLOADS" 4 10 >"$VDIR/downloads" 2>&1 </dev/null &
	LOAD_DL=$!
	tn_track $LOAD_DL
	timeout $((HA_IPERF_S + 8)) ip netns exec "$CL" iperf3 -c $SRV_IP -t "$HA_IPERF_S" \
		-b 20M --cport $((20000 + RANDOM % 30000)) -J --get-server-output >"$VDIR/iperf.json" 2>&1 </dev/null &
	LOAD_IPERF=$!
	tn_track $LOAD_IPERF
}
# iperf3's figures: "rc MBytes_after_takeover"; rc 0 and data the server
# received in the intervals that start after gw2 held the VIPs mean it
# continued through gw2 (its retransmission timer may have backed off to
# seconds by then).
ha_iperf_result() { # RC
	python3 - "$VDIR/iperf.json" "$1" "$(( FO_T0 - LOAD_T0 + FO_TAKEOVER ))" <<'PY'
import json, re, sys
try:
    j = json.load(open(sys.argv[1]))
    after = float(sys.argv[3]) / 1000
    # the server's intervals, as its text output: "[  5]   6.00-7.00   sec  2.38 MBytes ..."
    unit = {"Bytes": 1, "KBytes": 1024, "MBytes": 1024 ** 2, "GBytes": 1024 ** 3}
    late = 0
    for m in re.finditer(r"^\[ *\d+\] +([\d.]+)-([\d.]+) +sec +([\d.]+) (\w*Bytes) .*?(\w*)$",
                         j["server_output_text"], re.M):
        if m.group(5) in ("receiver", "sender") or float(m.group(1)) < after:
            continue
        late += float(m.group(3)) * unit.get(m.group(4), 1)
    print("%s %.1f" % (sys.argv[2], late / 1e6))
except Exception:
    print("%s 0" % (sys.argv[2] if sys.argv[2] != "0" else "1"))
PY
}

# Kill gw1 abruptly: SIGSTOP everything in it, its links down, SIGKILL.
# Then the takeover: FO_TAKEOVER ms until gw2 holds both VIPs, FO_COMMIT ms
# until its notify script had conntrackd commit (-1: not seen).
ha_failover() {
	local pids t0 ms i
	pids=$(ip netns pids "$GW1")
	t0=$(date +%s%3N)
	FO_T0=$t0
	kill -STOP $pids
	for i in lan0 wan0 sync0; do in_ns "$GW1" ip link set "$i" down; done
	kill -KILL $pids
	FO_KILLED=" $(echo $pids) "	# one line, space-separated
	FO_TAKEOVER=-1
	for _ in $(seq 300); do
		if holds_vips 2; then FO_TAKEOVER=$(( $(date +%s%3N) - t0 )); break; fi
		sleep 0.05
	done
	FO_COMMIT=-1
	for _ in $(seq 100); do
		ms=$(sed -n 's/^\([0-9]*\)\.\([0-9]*\) tsnatd-ha-notify: conntrackd -c done$/\1\2/p' \
			"$(gw_dir 2)/notify.log" 2>/dev/null | tail -1)
		if [ -n "$ms" ]; then FO_COMMIT=$((ms - t0)); break; fi
		sleep 0.05
	done
}

# Were all these PIDs among those ha_failover killed?
killed() { # PID...
	local pid
	[ $# -gt 0 ] || return 1
	for pid in "$@"; do
		[ -n "$pid" ] && [[ $FO_KILLED == *" $pid "* ]] || return 1
	done
}

# The figures of each variant, one row each, printed at the end.
ROWS=()
ha_row_header() {
	printf "%-22s %9s %7s %9s %11s %7s %9s %8s %9s %7s\n" variant downloads iperf \
		PAWSEstab PAWSPassive failed takeover commit adoptions labels
}

# One variant: ha_variant NAME DESCRIPTION START EXPECT
#   START   none | strip | rewrite-nfq | rewrite-offload | skew | nolabels | auto
#   EXPECT  clean: nothing may break; baseline: the pair alone (downloads
#           survive, new connects may fail); broken: at least one
#           transfer or SYN must fail
ha_variant() {
	local name=$1 desc=$2 start=$3 expect=$4
	local c1 c2 line estab passive dl iperf_rc adopted unadopted lw le takeover_s commit_s
	VARIANT=$name
	VDIR=$TN_DIR/$name
	mkdir -p "$VDIR"
	echo
	echo "# $name: $desc"
	ha_gw_down 1
	ha_gw_down 2
	ha_gateways || { check "$name: the gateways are built" false; return; }
	if [ -z "${KA_TESTED:-}" ]; then
		KA_TESTED=1
		for n in 1 2; do
			ha_keepalived_conf "$n" "$VDIR/keepalived-t.gw$n.conf"
			check "keepalived --config-test accepts gw$n's file, in gw$n" \
				ka_config_test "$n" "$VDIR/keepalived-t.gw$n.conf"
		done
	fi

	case $start in
	none) ;;
	strip)
		# (strip keeps no state: no ha_labels key)
		ha_tsnatd_conf 1 strip false "" "$VDIR/gw1.conf"
		ha_tsnatd_conf 2 strip false "" "$VDIR/gw2.conf"
		;;
	rewrite-nfq|skew)
		ha_tsnatd_conf 1 rewrite false true "$VDIR/gw1.conf"
		ha_tsnatd_conf 2 rewrite false true "$VDIR/gw2.conf"
		;;
	rewrite-offload)
		ha_tsnatd_conf 1 rewrite true true "$VDIR/gw1.conf"
		ha_tsnatd_conf 2 rewrite true true "$VDIR/gw2.conf"
		;;
	nolabels)
		ha_tsnatd_conf 1 rewrite false false "$VDIR/gw1.conf"
		ha_tsnatd_conf 2 rewrite false false "$VDIR/gw2.conf"
		;;
	auto)
		ha_tsnatd_conf 1 auto false true "$VDIR/gw1.conf"
		ha_tsnatd_conf 2 auto false true "$VDIR/gw2.conf"
		;;
	esac
	GW_PID=()
	if [ "$start" != none ]; then
		ha_tsnatd 1 "$VDIR/gw1.conf"
		check "$name: tsnatd starts in gw1" eq $? 0
		if [ "$start" = skew ]; then
			local fake=(env LD_PRELOAD="$FAKETIME_LIB" FAKETIME="-0.05" DONT_FAKE_MONOTONIC=1)
			local before after behind
			before=$(date +%s%3N)
			behind=$(ip netns exec "$GW2" "${fake[@]}" date +%s%3N)
			after=$(date +%s%3N)
			behind=$(( behind - (before + after) / 2 ))
			check "$name: gw2's daemon's clock (libfaketime) runs behind by 50 ms (a helper date there: ${behind} ms)" \
				test "$behind" -le -40 -a "$behind" -ge -80
			ha_tsnatd 2 "$VDIR/gw2.conf" "${fake[@]}"
			check "$name: tsnatd starts in gw2, 50 ms behind" eq $? 0
			check "$name: and the daemon runs with that libfaketime setting" \
				sh -c "tr '\\0' '\\n' </proc/${GW_PID[2]}/environ | grep -qx FAKETIME=-0.05"
		else
			ha_tsnatd 2 "$VDIR/gw2.conf"
			check "$name: tsnatd starts in gw2" eq $? 0
		fi
	fi
	if [ "$start" = none ]; then
		# conntrackd carries connlabels: bit 1 set on gw1 for every
		# forwarded TCP connection, counted on gw2 (where the match
		# also makes the kernel keep labels at all).
		in_ns "$GW1" iptables -t mangle -A FORWARD -p tcp -s 192.0.2.0/24 \
			-m connlabel --label 1 --set 2>/dev/null
		in_ns "$GW2" iptables -t mangle -A FORWARD -p tcp -m connlabel --label 1 \
			-m comment --comment label-probe 2>/dev/null
	fi
	case $start in
	rewrite-*|skew|auto)
		# tsnatd's records on gw2: its magic (0xb at label bits
		# 24..27, ha_label_first's default), counted per packet
		# (first in the chain: a queued packet's verdict ends it)
		in_ns "$GW2" iptables -t mangle -I FORWARD 1 -p tcp -m connlabel --label 24 \
			-m connlabel --label 25 -m connlabel ! --label 26 -m connlabel --label 27 \
			-m comment --comment label-probe 2>/dev/null
		;;
	esac
	ha_pair_up
	check "$name: the pair is up, gw1 primary" eq $? 0

	if [ "$start" = auto ]; then
		tn_legacy 4x "$VDIR/legacy.learn.log"
		set -- $(ip netns exec "$CL" python3 tests/e2e/hafetch.py connect $CL_IP $SRV_IP 18 6)
		"$TSNATCTL" -s "$(gw_dir 1)/control" servers >"$VDIR/servers.gw1" 2>&1
		check "$name: gw1 classified the server legacy ($3 of $1 connects failed while it learned)" \
			grep -q "$SRV_IP.*legacy" "$VDIR/servers.gw1"
		tn_legacy_stop "$VDIR/legacy.learn.log" >/dev/null
	fi

	# A fresh emulator: a legacy server that has not seen this NAT
	# address in the last minute.
	tn_legacy 4x "$VDIR/legacy.log"
	ha_load_start
	sleep 2.5
	c1=$(in_ns "$GW1" conntrack -C 2>/dev/null)
	lw=-
	[ "$start" = none ] || lw=$(gw_stat 1 labels_written)
	ha_failover
	c2=$(in_ns "$GW2" conntrack -C 2>/dev/null)
	takeover_s=$(awk -v m="$FO_TAKEOVER" 'BEGIN { printf "%.2f s", m / 1000 }')
	commit_s=$(awk -v m="$FO_COMMIT" 'BEGIN { printf "%.2f s", m / 1000 }')
	echo "  gw1 had $c1 conntrack entries; gw2 took over in $takeover_s, conntrackd committed at $commit_s ($c2 entries)"
	local ka kv left
	ka=$(cat "$(gw_dir 1)/keepalived.pid" 2>/dev/null) kv=$(cat "$(gw_dir 1)/vrrp.pid" 2>/dev/null)
	check "$name: the kill took keepalived ($ka, its VRRP child $kv) and tsnatd (${GW_PID[1]:-none}) by PID" \
		killed "$ka" "$kv" ${GW_PID[1]:-}
	left=$(ip netns pids "$GW1" 2>/dev/null | tr '\n' ' ')
	check "$name: nothing lives on in gw1 (${left:-no process})" test -z "$left"
	check "$name: gw2 holds both VIPs after the failover" ge "$FO_TAKEOVER" 0
	check "$name: a realistic takeover, no advert from the dead primary (${FO_TAKEOVER} ms >= 2000)" \
		ge "$FO_TAKEOVER" 2000
	check "$name: gw2's notify script committed conntrackd's cache" ge "$FO_COMMIT" 0

	wait "$LOAD_DL"
	wait "$LOAD_IPERF"
	set -- $(ha_iperf_result $?)
	iperf_rc=$1
	local iperf_late=$2
	dl=$(sed -n 's/^downloads=[0-9]* completed=\([0-9]*\)$/\1/p' "$VDIR/downloads")
	sed -n 's/^sport=/  download from port /p' "$VDIR/downloads"
	echo "  iperf3: exit $iperf_rc, ${iperf_late} MB sent after the takeover"

	set -- $(ip netns exec "$CL" python3 tests/e2e/hafetch.py connect $CL_IP $SRV_IP "$HA_CONNECTS" 10)
	local attempts=$1 slow=$2 failed=$3
	echo "  $attempts new connects through gw2: $failed failed, $slow slow"
	line=$(tn_legacy_stop "$VDIR/legacy.log")
	passive=$(echo "$line" | sed -n 's/.*PAWSPassive=\([0-9]*\).*/\1/p')
	estab=$(echo "$line" | sed -n 's/.*PAWSEstab=\([0-9]*\).*/\1/p')
	echo "  the server: $line"

	adopted=- unadopted=- le=-
	if [ "$start" != none ]; then
		adopted=$(gw_stat 2 flows_adopted)
		unadopted=$(gw_stat 2 flows_unadopted)
		le=$(gw_stat 2 label_errors)
		"$TSNATCTL" -s "$(gw_dir 2)/control" status >"$VDIR/status.gw2" 2>&1
		echo "  gw2's tsnatd: flows_adopted $adopted, flows_unadopted $unadopted, label_errors $le; $(grep '^ha' "$VDIR/status.gw2" || echo 'no ha: line in status')"
	fi
	sed -n 's/^[0-9.]* tsnatd-ha-notify: /  gw2 notify: /p' "$(gw_dir 2)/notify.log" | tail -6

	case $expect in
	clean|baseline)
		check "$name: every download completes (${dl:-0} of $HA_DOWNLOADS)" eq "${dl:-0}" "$HA_DOWNLOADS"
		check "$name: iperf3 continues through gw2 (exit $iperf_rc, ${iperf_late} MB after the takeover)" \
			test "$iperf_rc" = 0 -a "$(num "${iperf_late%.*}${iperf_late#*.}")" -gt 0
		check "$name: the server counts no PAWSEstab (${estab:-?})" eq "${estab:--1}" 0
		;;
	esac
	case $expect in
	clean)
		check "$name: the server counts no PAWSPassive (${passive:-?})" eq "${passive:--1}" 0
		check "$name: all $HA_CONNECTS new connects through gw2 succeed ($failed failed)" \
			eq "$((attempts == HA_CONNECTS ? failed : -1))" 0
		;;
	baseline)
		echo "  (without tsnatd new connects fail as they always do: not judged)"
		;;
	broken)
		check "$name: NEGATIVE CONTROL: without the labels something breaks ($dl of $HA_DOWNLOADS downloads, PAWSEstab $estab, PAWSPassive $passive, $failed connects failed)" \
			test "${dl:-0}" -lt "$HA_DOWNLOADS" -o "${estab:-0}" -gt 0 -o "${passive:-0}" -gt 0 -o "$failed" -gt 0
		;;
	esac
	local probe
	probe=$(in_ns "$GW2" iptables -t mangle -L FORWARD -v -n -x 2>/dev/null | awk '/label-probe/ { print $1 }')
	case $start in
	rewrite-nfq|rewrite-offload|skew|auto)
		check "$name: gw1's tsnatd wrote labels (labels_written $lw)" gt "$(num "$lw")" 0
		check "$name: conntrackd carried them: ${probe:-0} packets of connections with tsnatd's record on gw2" \
			gt "${probe:-0}" 0
		check "$name: gw2's tsnatd adopted the flows it did not start (flows_adopted $adopted)" \
			gt "$(num "$adopted")" 0
		check "$name: gw2 had no label error ($le)" eq "$(num "$le")" 0
		;;
	nolabels)
		check "$name: gw2's tsnatd adopted nothing (flows_adopted $adopted)" test "$adopted" = 0
		check "$name: and counted the flows it had no state for (flows_unadopted $unadopted)" \
			gt "$(num "$unadopted")" 0
		;;
	none)
		check "$name: conntrackd carried gw1's connlabels to gw2 ($probe packets of labelled connections there)" \
			gt "${probe:-0}" 0
		;;
	esac
	if [ "$start" = auto ]; then
		"$TSNATCTL" -s "$(gw_dir 2)/control" servers >"$VDIR/servers.gw2" 2>&1
		check "$name: gw2 treats the server as legacy too" grep -q "$SRV_IP.*legacy" "$VDIR/servers.gw2"
	fi
	ROWS+=("$(printf "%-22s %9s %7s %9s %11s %7s %9s %8s %9s %7s" "$name" \
		"${dl:-0}/$HA_DOWNLOADS" "$([ "$iperf_rc" = 0 ] && echo ok || echo FAIL)" \
		"${estab:-?}" "${passive:-?}" "$failed/$attempts" "$takeover_s" "$commit_s" \
		"$adopted" "$lw")")
	ha_row_header
	echo "${ROWS[-1]}"
	echo "  (${SECONDS} s since the start)"
}

echo "# the recipe in conf/ha: the test's copies differ only in the instance's values"
ha_keepalived_conf 1 "$TN_DIR/keepalived.gw1.conf"
ha_keepalived_conf 2 "$TN_DIR/keepalived.gw2.conf"
ha_conntrackd_conf 1 "$TN_DIR/conntrackd.gw1.conf"
ha_conntrackd_conf 2 "$TN_DIR/conntrackd.gw2.conf"
KA_KEYS='router_id|state|priority|unicast_src_ip|notify_master|notify_backup|notify_fault|[0-9.]+'
CT_KEYS='IPv4_address|IPv4_Destination_Address|LockFile|Path|LogFile'
for n in 1 2; do
	check "keepalived.conf of gw$n: only router_id, state, priority, addresses, the notify path" \
		differs_only_in "$SHIPPED/keepalived.conf" "$TN_DIR/keepalived.gw$n.conf" "$KA_KEYS"
	check "conntrackd.conf of gw$n: only the sync addresses and the paths" \
		differs_only_in "$SHIPPED/conntrackd.conf" "$TN_DIR/conntrackd.gw$n.conf" "$CT_KEYS"
done
check "gw2's keepalived.conf has the lower priority" has "$TN_DIR/keepalived.gw2.conf" "priority 100"
check "gw2's conntrackd.conf sends to gw1" has "$TN_DIR/conntrackd.gw2.conf" "IPv4_Destination_Address 203.0.113.1"
check "the notify script is the shipped one" cmp -s "$SHIPPED/tsnatd-ha-notify" "$NOTIFY"

ha_setup
tn_http_server 0.0.0.0 127.0.0.1
tn_iperf_server

for v in $HA_VARIANTS; do
	case $v in
	none) ha_variant none "no tsnatd: the pair alone" none baseline ;;
	strip) ha_variant strip "strip on both gateways" strip clean ;;
	nfq) ha_variant rewrite-nfq "rewrite through NFQUEUE (offload = false), labels" rewrite-nfq clean ;;
	offload) ha_variant rewrite-offload "rewrite with the kernel data path (tc BPF), labels" rewrite-offload clean ;;
	skew) ha_variant rewrite-skew "rewrite (NFQUEUE), gw2's daemon 50 ms behind" skew clean ;;
	nolabels) ha_variant nolabels "NEGATIVE CONTROL: rewrite with ha_labels = false" nolabels broken ;;
	auto) ha_variant auto "auto (action rewrite) after gw1 classified the server legacy" auto clean ;;
	*) echo "unknown variant $v"; FAIL=$((FAIL + 1)) ;;
	esac
done

echo
echo "# the figures (takeover: until gw2 held both VIPs; commit: until its conntrackd -c was done; labels: gw1's labels_written)"
ha_row_header
for r in "${ROWS[@]}"; do echo "$r"; done

tn_summary ha
