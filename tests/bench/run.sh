#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/bench/run.sh - make bench (root). What tsnatd costs the traffic, side
# by side with the kernel alone, the kernel's TCPOPTSTRIP and the NFQUEUE
# example that ships with libnetfilter_queue, and rewrite through NFQUEUE
# alone against rewrite with its kernel data path (tc BPF, offload). Every
# configuration runs in the same invocation, alternating, BENCH_REPS times;
# tables show the median and min-max; JSON goes to build/bench/results.json.
# Bounded: each run lasts BENCH_SECONDS, the whole harness a few minutes.
# Namespaces (and the bpf file system offload pins in) are removed on exit.
# Traffic stays inside them (documentation addresses only).
set -u
cd "$(dirname "$0")/../.."
: "${BENCH_DIR:=$PWD/build/bench}"		# the programs
: "${BENCH_OUT:=$BENCH_DIR}"			# raw figures, JSON, profiles
mkdir -p "$BENCH_OUT"
REPS=${BENCH_REPS:-3}
SECS=${BENCH_SECONDS:-3}
# subsets, for looking into one thing: parts and configurations to run
PARTS=${BENCH_PARTS:-syn bulk instr mem}
SYN_CONFIGS=${BENCH_SYN_CONFIGS:-none kernel-strip nfq-example tsnatd-accept tsnatd-strip tsnatd-rewrite tsnatd-rewrite-offload}
BULK_CONFIGS=${BENCH_BULK_CONFIGS:-none nfq-example tsnatd-accept tsnatd-rewrite tsnatd-rewrite-offload tsnatd-observe}
CALLS=${BENCH_CALLS:-20000}	# packets replayed under callgrind
part() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }
. tests/e2e/lib.sh
tn_start "make bench needs root"
for b in replay syngen nf-queue; do
	[ -x "$BENCH_DIR/$b" ] || { echo "missing $BENCH_DIR/$b: run make bench"; exit 1; }
done
RAW=$BENCH_OUT/raw.tsv
: >"$RAW"
HZ=$(getconf CLK_TCK)

# tsnatd-rewrite-offload needs a bpf file system of the run's own, on the
# host: `ip netns exec` gives each command its own mount namespace and /sys,
# so /sys/fs/bpf there is no bpf fs (which is why the rewrite config alone
# cannot load its offload). Unmounted on exit, before TN_DIR goes.
BPFFS=""
case " $SYN_CONFIGS $BULK_CONFIGS " in
*" tsnatd-rewrite-offload "*)
	BPFFS=$TN_DIR/bpffs
	mkdir -p "$BPFFS"
	mount -t bpf bpf "$BPFFS" || { echo "cannot mount a bpf file system on $BPFFS"; exit 1; }
	trap 'umount "$BPFFS" 2>/dev/null; tn_cleanup' EXIT ;;
esac

tn_setup
for i in 3 4 5 6 7 8 9; do in_ns "$TN_C1" ip addr add 192.0.2.$i/26 dev eth0; done
# the sink counts SYNs (tn_count_setup) and drops them: no replies to pace
in_ns "$TN_SRV" iptables -t raw -A PREROUTING -p tcp --syn -d "$SRV_IP" --dport 80 -j DROP
STRIPCONF=$TN_DIR/strip.conf RWCONF=$TN_DIR/rewrite.conf
# separate state: a strip daemon must not restore the rewrite runs' flows
sed "s|^state_dir = .*|state_dir = \"$TN_DIR/state-strip\";|" conf/tsnatd.conf >"$STRIPCONF"
tn_rewrite_conf "$RWCONF"
sed -i 's/^flows = .*/flows = { max = 1048576; idle_timeout = 600; on_full = "strip"; };/' "$RWCONF"
# A queue that absorbs a consumer stall of ~100 ms at this rate: with the
# shipped 8192, a vCPU stall of ~13 ms makes the kernel fail open and SYNs
# pass with their timestamp (seen here). Operators size it the same way.
sed -i 's/maxlen = 8192;/maxlen = 65536;/' "$STRIPCONF" "$RWCONF"
# BENCH_QUEUES=N: rewrite with N queues and workers (--queue-balance)
sed -i "s/count = 1;/count = ${BENCH_QUEUES:-1};/" "$RWCONF"
# The same rewrite config twice: with its kernel data path in our bpf fs
# (tsnatd-rewrite-offload), and explicitly without (tsnatd-rewrite: every
# packet of a rewritten flow through NFQUEUE). Each loads its own
# --print-rules: the offload rules keep marked packets and their
# connections' replies out of the queue.
OLCONF=$TN_DIR/offload.conf
{ cat "$RWCONF"; echo "offload_dir = \"$TN_DIR/bpffs/tsnatd\";"; } >"$OLCONF"
echo "offload = false;" >>"$RWCONF"
for f in "$STRIPCONF" "$RWCONF" "$OLCONF"; do
	"$TSNATD" -t -c "$f" >/dev/null 2>&1 || { echo "bad bench config $f:"; "$TSNATD" -t -c "$f"; exit 1; }
done
# the chain the rules live in; flushed between configurations
"$TSNATD" -c "$STRIPCONF" --print-rules iptables | grep -v '^-A TSNATD' |
	in_ns "$TN_GW" iptables-restore --noflush
CONSUMER_PID="" DAEMON_LOG="" UNLOAD=""

# CPU N's busy ticks (user+nice+system+irq+softirq) and steal ticks
cpu_stat() {
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat
}

cpu_ticks() { # PID -> utime+stime
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# configure NAME SELECTION: rules and consumer for one configuration.
# SELECTION: syn (client SYNs) or all (every packet, both directions).
configure() {
	local name=$1 sel=$2 conf=$STRIPCONF
	[ "$sel" = all ] && conf=$RWCONF
	[ -n "$CONSUMER_PID" ] && tn_stop "$CONSUMER_PID"
	CONSUMER_PID="" DAEMON_LOG=""
	# the offload daemon leaves its programs attached and pinned (a
	# restart adopts them): take them off, or later rows would run
	# through them
	if [ -n "$UNLOAD" ]; then
		in_ns "$TN_GW" "$TSNATD" -c "$OLCONF" --unload >/dev/null ||
			{ echo "FATAL: tsnatd --unload failed" >&2; exit 1; }
		if in_ns "$TN_GW" tc filter show dev lan1 ingress | grep -q shift_ ||
		   in_ns "$TN_GW" tc filter show dev lan1 egress | grep -q shift_ ||
		   [ -e "$BPFFS/tsnatd" ]; then
			echo "FATAL: the kernel data path is still there after --unload" >&2; exit 1
		fi
		UNLOAD=""
	fi
	in_ns "$TN_GW" iptables -t mangle -F TSNATD
	case $name in
	none) ;;
	kernel-strip)
		in_ns "$TN_GW" iptables -t mangle -A TSNATD -p tcp --syn -d "$SRV_IP" \
			-j TCPOPTSTRIP --strip-options timestamp ;;
	nfq-example)
		"$TSNATD" -c "$conf" --print-rules iptables | grep '^-A TSNATD' |
			sed 's/^/-t mangle /' | while read -r rule; do
				in_ns "$TN_GW" iptables $rule; done
		ip netns exec "$TN_GW" "$BENCH_DIR/nf-queue" 0 >/dev/null 2>&1 </dev/null &
		CONSUMER_PID=$!
		tn_track $CONSUMER_PID
		sleep 0.5
		taskset -a -p -c 1 "$CONSUMER_PID" >/dev/null ;;
	tsnatd-accept|tsnatd-strip|tsnatd-rewrite|tsnatd-rewrite-offload|tsnatd-observe)
		[ "$name" = tsnatd-rewrite ] && conf=$RWCONF
		[ "$name" = tsnatd-rewrite-offload ] && conf=$OLCONF
		if [ "$name" = tsnatd-observe ]; then
			# observe queues SYN, FIN and RST only: bulk data never
			# reaches it
			sed 's/mode = "[a-z]*"/mode = "observe"/' "$STRIPCONF" >"$TN_DIR/observe.conf"
			conf=$TN_DIR/observe.conf
		fi
		"$TSNATD" -c "$conf" --print-rules iptables | grep '^-A TSNATD' |
			sed 's/^/-t mangle /' | while read -r rule; do
				in_ns "$TN_GW" iptables $rule; done
		if [ "$name" = tsnatd-accept ]; then
			# the same packets queued, every policy in mode pass:
			# received, parsed, matched, accepted in batch. On bulk,
			# without the pause that only strip-like configs take.
			sed 's/mode = "[a-z]*"/mode = "pass"/' "$conf" >"$TN_DIR/accept.conf"
			conf=$TN_DIR/accept.conf
		fi
		if [ "$name" = tsnatd-accept ] && [ "$sel" = all ]; then
			TSNATD_COALESCE_US=0 tn_daemon "$conf" "$TN_DIR/daemon.$name.log" || exit 1
		else
			tn_daemon "$conf" "$TN_DIR/daemon.$name.log" || exit 1
		fi
		CONSUMER_PID=$TN_DAEMON_PID DAEMON_LOG=$TN_DIR/daemon.$name.log
		case $name in
		tsnatd-rewrite-offload)
			UNLOAD=1
			grep -q "offload: rewritten flows are shifted in the kernel" "$DAEMON_LOG" || {
				echo "FATAL: tsnatd-rewrite-offload runs without its kernel data path:"
				cat "$DAEMON_LOG"; exit 1; } >&2 ;;
		tsnatd-rewrite)
			grep -q "offload: NOT USED: offload = false" "$DAEMON_LOG" || {
				echo "FATAL: tsnatd-rewrite is meant to run through NFQUEUE alone:"
				cat "$DAEMON_LOG"; exit 1; } >&2 ;;
		esac
		taskset -a -p -c 1 "$CONSUMER_PID" >/dev/null ;;
	esac
}

syn_run() { # CONFIG REP
	local cfg=$1 rep=$2 c0=0 c1=0 out sent secs n ts s0 s1 e0 e1
	configure "$cfg" syn
	sleep 0.3
	tn_count_zero
	[ -n "$CONSUMER_PID" ] && c0=$(cpu_ticks "$CONSUMER_PID")
	s0=$(cpu_stat 0) s1=$(cpu_stat 1)
	# two cores: the generator (and the gateway's receive softirq it
	# triggers) on CPU 0, the queue consumer on CPU 1
	# BENCH_PERF=1: a system-wide profile of the middle of the run
	[ -n "${BENCH_PERF:-}" ] && { (sleep 0.5; perf record -a -g -o "$BENCH_OUT/perf.$cfg.$rep" \
		-- sleep 1 >/dev/null 2>&1) & }
	out=$(ip netns exec "$TN_C1" taskset -c 0 "$BENCH_DIR/syngen" "$SRV_IP" 192.0.2.2 8 "$SECS")
	e0=$(cpu_stat 0) e1=$(cpu_stat 1)
	sleep 0.5
	[ -n "$CONSUMER_PID" ] && c1=$(cpu_ticks "$CONSUMER_PID")
	sent=$(echo "$out" | sed -n 's/.*sent=\([0-9]*\).*/\1/p')
	secs=$(echo "$out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
	set -- $(tn_count "$SRV_IP")
	n=$1 ts=$2
	set -- $s0 $s1 $e0 $e1	# busy0 steal0 busy1 steal1, before then after
	printf "syn\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$cfg" "$rep" "$sent" "$secs" \
		"$n" "$ts" "$((c1 - c0))" "$(($5 - $1))" "$(($7 - $3))" "$(($6 - $2 + $8 - $4))" >>"$RAW"
}

bulk_run() { # CONFIG STREAMS REP
	local cfg=$1 streams=$2 rep=$3 c0=0 c1=0 queued=""
	configure "$cfg" all
	[ -n "$CONSUMER_PID" ] && taskset -a -p -c 0-1 "$CONSUMER_PID" >/dev/null
	sleep 0.3
	[ -n "$CONSUMER_PID" ] && c0=$(cpu_ticks "$CONSUMER_PID")
	[ -n "${BENCH_PERF:-}" ] && { (sleep 1; perf record -a -g -o "$BENCH_OUT/perf.bulk$streams.$cfg.$rep" \
		-- sleep 1 >/dev/null 2>&1) & }
	set -- $(tn_iperf "$TN_C1" "$SECS" "$streams")
	[ -n "$CONSUMER_PID" ] && c1=$(cpu_ticks "$CONSUMER_PID")
	# what tsnatd took from the queue in this run (its own counter: the
	# daemon is new each run)
	[ -n "$DAEMON_LOG" ] && queued=$(tn_daemon_counter "$DAEMON_LOG" packets)
	printf "bulk\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$cfg" "$streams" "$rep" "$1" "$2" \
		"$((c1 - c0))" "$queued" >>"$RAW"
}

if part syn; then
	echo "== SYN rate: syngen (raw socket, sendmmsg, 8 sources x 1024 ports, MSS/SACK/TS/WS) for ${SECS}s, $REPS reps"
	for rep in $(seq "$REPS"); do
		for cfg in $SYN_CONFIGS; do
			syn_run "$cfg" "$rep"
		done
	done
fi
if part bulk; then
	echo "== bulk: iperf3 through the gateway, ${SECS}s, $REPS reps"
	tn_iperf_server
	for streams in 1 4; do
		for rep in $(seq "$REPS"); do
			for cfg in $BULK_CONFIGS; do
				bulk_run "$cfg" "$streams" "$rep"
			done
		done
	done
fi
configure none syn

if part instr; then
	echo "== hot path instructions (callgrind over a replay of NFQUEUE messages)"
	for w in strip strip-veth rewrite untouched; do
		for fn in bench_loop process_packet; do
			valgrind --tool=callgrind --callgrind-out-file="$BENCH_OUT/callgrind.$w.$fn" \
				--collect-atstart=no --toggle-collect=$fn \
				"$BENCH_DIR/replay" calls "$w" "$CALLS" >/dev/null 2>&1
			ir=$(callgrind_annotate "$BENCH_OUT/callgrind.$w.$fn" 2>/dev/null |
				awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
			printf "instr\t%s\t%s\t%s\t%s\n" "$w" "$fn" "${ir:-0}" "$CALLS" >>"$RAW"
		done
	done
fi
if part mem; then
	echo "== memory"
	printf "mem\t%s\n" "$("$BENCH_DIR/replay" mem 1000000)" >>"$RAW"
fi

python3 tests/bench/report.py "$RAW" "$HZ" "$BENCH_OUT/results.json"
