#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/guest.sh - the installed-package checks: the package under a
# real systemd, its rules in nftables, the traffic through it, its
# lifecycle (reload, kill and restart, stop, purge) and its sandbox. Root,
# on a machine of its own (it installs, enables and purges tsnatd, makes
# network namespaces; the machine is the gateway).
#  - make vmtest runs it inside its Debian 12 VM (vmtest.service, at boot):
#    the share vmtest (9p, /mnt/vmtest) holds the checkout's tests/, the
#    .deb (installed first, offline), the legacy emulator and test_shift;
#  - debian/tests/installed-package (autopkgtest) runs it on a testbed
#    where the package is installed already (VMTEST_SHARE: a directory
#    laid out like the share, without a .deb).
# It writes into VMTEST_RESULTS (default: the share's results/):
#   checks      one line a check: PASS|FAIL <TAB> name
#   guest.log, *.txt   what the checks saw
#   done        written last: the run got to its end
# The machine's own network namespace is the gateway (the daemon runs
# there, driven through its unit); c1, c2 and srv are namespaces of
# lib.sh's layout, MASQUERADE and every other rule in nftables.
# The file negative in the share (VMTEST_NEGATIVE=1 of make vmtest) is the
# negative control: no bpf file system for the unit; the offload checks
# must fail.
set -u
SHARE=${VMTEST_SHARE:-/mnt/vmtest}
RES=${VMTEST_RESULTS:-$SHARE/results}
mkdir -p "$RES"
: >"$RES/checks"
# the log, and the console (vmtest prints it when the guest does not finish)
exec > >(tee "$RES/guest.log") 2>&1
cd "$SHARE"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
awk '{ printf "booted %ds\n", $1 }' /proc/uptime >"$RES/boot"
NEGATIVE=""
[ -e "$SHARE/negative" ] && NEGATIVE=1

TSNATD_LEGACY=$SHARE/tsnatd-legacy
TSNATD=/usr/sbin/tsnatd
TN_ID=vm
. tests/e2e/lib.sh
tn_start "vmtest's guest needs root"
trap 'tn_cleanup; echo finished >"$RES/done"' EXIT
N=${VMTEST_REQUESTS:-6}

# One line a check in results/checks (lib.sh's check prints too).
vcheck() {
	local name=$1; shift
	if "$@"; then
		printf 'PASS\t%s\n' "$name" >>"$RES/checks"; echo "ok   - $name"
	else
		printf 'FAIL\t%s\n' "$name" >>"$RES/checks"; echo "FAIL - $name"
	fi
}
step() { echo; echo "## $* ($(date +%T), ${SECONDS}s)"; }

# --- the layout: the VM is the gateway ------------------------------------
# lib.sh's helpers with the gateway namespace as the VM's own, and nft for
# what they do with iptables.
TN_GW=root
in_ns() {
	local ns=$1; shift
	if [ "$ns" = root ]; then "$@"; else ip netns exec "$ns" "$@"; fi
}
tn_count_setup() { :; }
tn_link() { # NS1 IF1 NS2 IF2 (NS root: the VM's own)
	local n1=() n3=()
	[ "$1" = root ] || n1=(netns "$1")
	[ "$3" = root ] || n3=(netns "$3")
	ip link add "$2" "${n1[@]}" type veth peer name "$4" "${n3[@]}"
	in_ns "$1" ip link set "$2" up
	in_ns "$3" ip link set "$4" up
}
tn_legacy() { # VARIANT LOG
	in_ns "$TN_SRV" nft -f - <<-'NFT' || return 1
	table inet legacy {
		chain in {
			type filter hook input priority 0; policy accept;
			tcp dport 80 queue num 7 bypass
		}
		chain out {
			type filter hook output priority 0; policy accept;
			tcp sport 80 queue num 7 bypass
		}
	}
	NFT
	ip netns exec "$TN_SRV" "$TSNATD_LEGACY" --variant "$1" --queue 7 >"$2" 2>&1 </dev/null &
	TN_LEGACY_PID=$!
	tn_track $TN_LEGACY_PID
	local i
	for i in $(seq 100); do
		grep -q "ready" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "legacy emulator did not start" >&2
	cat "$2" >&2
	return 1
}
tn_legacy_stop() { # LOG
	tn_stop "$TN_LEGACY_PID"
	in_ns "$TN_SRV" nft delete table inet legacy
	grep "^legacy variant" "$1" | tail -1
}
vm_setup() {
	local ns
	for ns in $TN_C1 $TN_C2 $TN_SRV; do
		ip netns add "$ns"
		in_ns "$ns" ip link set lo up
	done
	tn_link "$TN_C1" eth0 root lan1
	tn_link "$TN_C2" eth0 root lan2
	tn_link root wan "$TN_SRV" eth0
	in_ns "$TN_C1" ip addr add 192.0.2.2/26 dev eth0
	in_ns "$TN_C1" ip route add default via 192.0.2.1
	in_ns "$TN_C2" ip addr add 192.0.2.66/26 dev eth0
	in_ns "$TN_C2" ip route add default via 192.0.2.65
	ip addr add 192.0.2.1/26 dev lan1
	ip addr add 192.0.2.65/26 dev lan2
	ip addr add "$GW_WAN/24" dev wan
	in_ns "$TN_SRV" ip addr add "$SRV_IP/24" dev eth0
	in_ns "$TN_SRV" ip addr add "$SRV_IP_UNMATCHED/24" dev eth0
	ip route add 203.0.113.0/24 dev wan
	sysctl -qw net.ipv4.ip_forward=1
	nft -f - <<-'NFT'
	table ip vmtest-nat {
		chain postrouting {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "wan" masquerade
		}
	}
	NFT
	for ns in $TN_C1 $TN_C2 $TN_SRV; do
		in_ns "$ns" sysctl -qw net.ipv4.tcp_timestamps=1
	done
}
# a clean emulator for each scenario: the gateway was not seen for a minute
scenario_ok() { eq "$((SC_PASSIVE + SC_ESTAB + SC_FAILED))" 0; }

CONF=/etc/tsnatd/tsnatd.conf
ctl_user() { runuser -u vmtester -- tsnatctl "$@"; }
unit_pid() { systemctl show -p MainPID --value tsnatd; }
journal_since() { journalctl -u tsnatd --no-pager -o cat --since "@$1"; }
set_mode() { sed -i "s/^\(    mode = \)\"[a-z]*\";/\1\"$1\";/" "$CONF"; grep -q "^    mode = \"$1\";" "$CONF"; }
metric() { tsnatctl metrics | awk -v m="$1" '$1 == m { print $2; exit }'; }
# a per-queue family summed over the queues: metric_sum tsnatd_offload_dnat_total
metric_sum() { tsnatctl metrics | awk -v m="$1" 'index($1, m "{") == 1 { s += $2 } END { print s + 0 }'; }
shifted() { metric 'tsnatd_offload_shifted_packets_total{direction="ingress"}'; }
wait_active() { # up to 20 s
	local i
	for i in $(seq 100); do
		[ "$(systemctl is-active tsnatd)" = active ] && [ -S /run/tsnatd/control ] && return 0
		sleep 0.2
	done
	return 1
}
bpf_progs() { bpftool prog show 2>/dev/null | grep -c "name shift_"; }
tc_ours() { # IF: filters of ours on IF
	echo $(( $(tc filter show dev "$1" ingress 2>/dev/null | grep -c shift_) +
		 $(tc filter show dev "$1" egress 2>/dev/null | grep -c shift_) ))
}

# vmtest gives a .deb to install; autopkgtest has installed the package.
deb=$(ls "$SHARE"/tsnatd_*.deb 2>/dev/null | head -1)

step "the machine"
uname -a
if [ -n "$deb" ]; then
	vcheck "kernel is Debian 12's 6.1 ($(uname -r))" eval '[[ "$(uname -r)" == 6.1.* ]]'
	vcheck "no iptables in the image" eval '! command -v iptables >/dev/null'
fi
vcheck "systemd is PID 1 ($(ps -o comm= -p 1))" test -d /run/systemd/system

step "the tc programs through this kernel's verifier (test_shift)"
if [ -x "$SHARE/test_shift" ]; then
	"$SHARE/test_shift" >"$RES/test_shift.txt" 2>&1
	rc=$?
	grep -E "verifier|PASSED|FAILED" "$RES/test_shift.txt"
	vcheck "make bpf's test_shift on 6.1: verifier and BPF_PROG_TEST_RUN pass" eq "$rc" 0
else
	vcheck "make bpf's test_shift on 6.1: in the share" false
fi

step "install the package offline"
vm_setup
useradd --system --no-create-home vmtester
if [ -n "$deb" ]; then
	cp "$deb" /tmp/
	(cd /tmp && apt-get install -y "./$(basename "$deb")") >"$RES/install.txt" 2>&1
	rc=$?
	tail -3 "$RES/install.txt"
	vcheck "apt-get install ./$(basename "$deb") (offline)" eq "$rc" 0
else
	vcheck "the package tsnatd is installed" eval \
		'[ "$(dpkg-query -W -f="\${db:Status-Status}" tsnatd)" = installed ]'
fi
dpkg -L tsnatd >/tmp/tsnatd.files 2>/dev/null
usermod -aG tsnatd vmtester

step "a legacy server with no tsnatd: the emulator drops SYNs (the scenario can fail)"
tn_http_server
tn_table_header
tn_scenario "none" 4x "$N" "$TN_C1" "$TN_C2"
vcheck "without tsnatd the emulator drops SYNs (PAWSPassive $SC_PASSIVE)" gt "$SC_PASSIVE" 0

step "the test bed itself: a transfer with no tsnatd, checksums in software"
# The PAWSEstab checks below count the drops a wrong shift causes; the
# test bed must cause none by itself (two vCPUs did: vmtest runs one).
tn_iperf_server
tn_csum_software
estab0=$(tn_counter "$TN_SRV" TcpExt PAWSEstab)
set -- $(tn_iperf "$TN_C1" 3)
estab=$(( $(tn_counter "$TN_SRV" TcpExt PAWSEstab) - estab0 ))
vcheck "without tsnatd an iperf3 transfer completes with 0 PAWSEstab at the server ($1 Gbit/s, rc $3, PAWSEstab $estab)" \
	eq "$(( $3 == 0 ? estab : -1 ))" 0
for ns_if in "$TN_C1 eth0" "root lan1" "root wan" "$TN_SRV eth0"; do
	set -- $ns_if
	in_ns "$1" ethtool -K "$2" tx on rx on >/dev/null 2>&1
done

step "configure, tsnatd -t, enable --now"
# The test server only, and the default strip mode.
sed -i 's|destinations = \[ "198.51.100.0/24", "2001:db8:1::/64" \];|destinations = [ "198.51.100.10/32" ];|' "$CONF"
vcheck "the config names the test server" grep -q '"198.51.100.10/32"' "$CONF"
# where iptables exists too (autopkgtest), the nft path all the same
if command -v iptables >/dev/null; then
	sed -i 's/^rules = "auto";/rules = "nft";/' "$CONF"
fi
if [ -n "$NEGATIVE" ]; then
	# negative control: no bpf file system for the unit
	systemctl mask run-tsnatd-bpf.mount
	echo "NEGATIVE CONTROL: run-tsnatd-bpf.mount masked; the offload checks must fail"
fi
tsnatd -t -c "$CONF" >"$RES/t.txt" 2>&1
vcheck "tsnatd -t -c $CONF" eq $? 0
T0=$(date +%s)
systemctl enable --now tsnatd >"$RES/enable.txt" 2>&1
vcheck "systemctl enable --now tsnatd" eq $? 0
wait_active
vcheck "the unit is active (Type=notify: it said READY)" test "$(systemctl is-active tsnatd)" = active
vcheck "the unit is enabled" test "$(systemctl is-enabled tsnatd)" = enabled
ctl_user status >"$RES/status.strip.txt" 2>&1
vcheck "tsnatctl status as a member of group tsnatd" eval 'grep -q "^legacy-web *strip" "$RES/status.strip.txt"'
cat "$RES/status.strip.txt"
journal_since "$T0" >"$RES/journal.start.txt"
journalctl -u tsnatd -p err --no-pager -o cat --since "@$T0" >"$RES/journal.errors.txt"
vcheck "journalctl -u tsnatd: no error" test ! -s "$RES/journal.errors.txt"

step "the conntrack glue (NFQA_CT): 6.1 has it"
grep "^conntrack glue" "$RES/status.strip.txt"
vcheck "tsnatctl status: conntrack glue on" grep -Eq "^conntrack glue +on$" "$RES/status.strip.txt"
vcheck "the daemon said so once at start" \
	eval '[ "$(grep -c "conntrack glue: on" "$RES/journal.start.txt")" = 1 ]'

step "the rules: nft"
nft list ruleset >"$RES/ruleset.strip.txt" 2>&1
vcheck "rules = $(sed -n 's/^rules = "\(.*\)";/\1/p' "$CONF") loaded table inet tsnatd with nft" grep -q "table inet tsnatd" "$RES/ruleset.strip.txt"
# nft 1.0.6 lists "queue num 0 bypass" as "queue flags bypass to 0"
vcheck "the queue rules use bypass" grep -Eq "queue (flags bypass to 0|num 0 bypass)" "$RES/ruleset.strip.txt"
grep -A20 "table inet tsnatd" "$RES/ruleset.strip.txt"

step "strip through the unit"
tn_scenario "strip" 4x "$N" "$TN_C1" "$TN_C2"
vcheck "strip: 0 failed connects, 0 PAWS drops ($SC_ATTEMPTS attempts, $SC_FAILED failed, PAWSPassive $SC_PASSIVE, PAWSEstab $SC_ESTAB)" scenario_ok

step "reload: strip -> rewrite"
set_mode rewrite
T1=$(date +%s)
systemctl reload tsnatd >"$RES/reload.txt" 2>&1
vcheck "systemctl reload after an edit: exit 0" eq $? 0
sleep 1
ctl_user status >"$RES/status.reloaded.txt" 2>&1
vcheck "the reload changed the policy (status: rewrite)" grep -q "^legacy-web *rewrite" "$RES/status.reloaded.txt"
nft list ruleset >"$RES/ruleset.rewrite.txt" 2>&1
vcheck "ExecReload replaced the rules: the offload lines are in nft list ruleset" \
	eval '[ "$(grep -c "comment \"offload\"" "$RES/ruleset.rewrite.txt")" -ge 3 ]'
vcheck "and the queue rules for both directions, with bypass" \
	eval '[ "$(grep -Ec "queue (flags bypass to 0|num 0 bypass)" "$RES/ruleset.rewrite.txt")" -ge 2 ]'

step "rewrite with offload (a restart loads the kernel data path)"
systemctl restart tsnatd
wait_active
ctl_user status >"$RES/status.rewrite.txt" 2>&1
cat "$RES/status.rewrite.txt"
vcheck "tsnatctl status: offload active" grep -q "^offload *active" "$RES/status.rewrite.txt"
tn_scenario "rewrite" 4x "$N" "$TN_C1" "$TN_C2"
vcheck "rewrite: 0 failed connects, 0 PAWS drops ($SC_ATTEMPTS attempts, $SC_FAILED failed, PAWSPassive $SC_PASSIVE, PAWSEstab $SC_ESTAB)" scenario_ok
sh=$(shifted)
vcheck "offload: the kernel shifted the flows' packets (${sh:-none})" gt "${sh:-0}" 0
vcheck "offload: the programs sit on lan1 ($(tc_ours lan1) filters)" eq "$(tc_ours lan1)" 2
bpftool prog show >"$RES/bpftool-prog.txt" 2>&1
grep -A3 "name shift_" "$RES/bpftool-prog.txt"

step "DNAT: a service address the gateway DNATs to the legacy server, offload on"
# The tc programs see a DNATed flow's tuple before DNAT (the service
# address), the daemon the one after it (the server): an entry would match
# none of its packets and the SYN-ACKs would reach the clients with TSecr
# unshifted (PAWSActive: failed connects). With the conntrack glue the
# daemon sees IPS_DST_NAT and keeps such flows in NFQUEUE.
nft -f - <<-'NFT'
table ip vmtest-dnat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 203.0.113.80 tcp dport 8080 dnat to 198.51.100.10:80
	}
}
NFT
vcheck "the gateway DNATs 203.0.113.80:8080 to the server's port 80" \
	eval 'nft list table ip vmtest-dnat | grep -q "dnat to 198.51.100.10:80"'
dnat0=$(metric_sum tsnatd_offload_dnat_total)
offl0=$(metric_sum tsnatd_flows_offloaded_total)
sh0=$(shifted)
url0=$SRV_URL
SRV_URL=http://203.0.113.80:8080/
tn_scenario "rewrite, DNAT" 4x "$N" "$TN_C1" "$TN_C2"
SRV_URL=$url0
conntrack -L -p tcp --orig-dst 203.0.113.80 >"$RES/conntrack.dnat.txt" 2>&1
dnat=$(( $(metric_sum tsnatd_offload_dnat_total) - dnat0 ))
offl=$(( $(metric_sum tsnatd_flows_offloaded_total) - offl0 ))
vcheck "rewrite through DNAT with offload: 0 failed connects, 0 PAWS drops ($SC_ATTEMPTS attempts, $SC_FAILED failed, PAWSPassive $SC_PASSIVE, PAWSEstab $SC_ESTAB)" scenario_ok
vcheck "the DNATed flows stayed in NFQUEUE: offload_dnat +$dnat, flows_offloaded +$offl" \
	eval '[ "$dnat" -gt 0 ] && [ "$offl" = 0 ]'
vcheck "conntrack shows the DNAT ($(grep -c "dport=8080" "$RES/conntrack.dnat.txt") entries)" \
	grep -q "src=198.51.100.10 dst=.* sport=80 dport=" "$RES/conntrack.dnat.txt"
nft delete table ip vmtest-dnat
echo "offload_dnat +$dnat, flows_offloaded +$offl, shifted ingress $sh0 -> $(shifted)"

step "iperf3 through the kernel data path, checksums in software"
vcheck "checksums are computed in software on every link" tn_csum_software
csum_srv=$(tn_counter "$TN_SRV" Tcp InCsumErrors)
csum_c1=$(tn_counter "$TN_C1" Tcp InCsumErrors)
estab0=$(tn_counter "$TN_SRV" TcpExt PAWSEstab)
sh0=$(shifted)
set -- $(tn_iperf "$TN_C1" 3)
sh1=$(shifted)
echo "iperf3: $1 Gbit/s, $2 retransmits, rc $3; shifted ingress $sh0 -> $sh1"
vcheck "iperf3 through the kernel data path completes ($1 Gbit/s)" eq "$3" 0
vcheck "the kernel shifted its packets ($((sh1 - sh0)))" gt "$((sh1 - sh0))" 100
csum=$(( $(tn_counter "$TN_SRV" Tcp InCsumErrors) - csum_srv + $(tn_counter "$TN_C1" Tcp InCsumErrors) - csum_c1 ))
vcheck "and 0 checksum errors at the server and the client ($csum)" eq "$(( $3 == 0 ? csum : -1 ))" 0
estab=$(( $(tn_counter "$TN_SRV" TcpExt PAWSEstab) - estab0 ))
vcheck "and 0 PAWSEstab at the server ($estab)" eq "$(( $3 == 0 ? estab : -1 ))" 0

step "systemctl kill -s KILL mid-transfer: restarted, adopts"
estab0=$(tn_counter "$TN_SRV" TcpExt PAWSEstab)
pid0=$(unit_pid)
(tn_iperf "$TN_C1" 8 >"$TN_DIR/kill.iperf") &
loadpid=$!
sleep 3
estab_kill=$(( $(tn_counter "$TN_SRV" TcpExt PAWSEstab) - estab0 ))
T2=$(date +%s)
systemctl kill -s KILL tsnatd
sleep 1
for i in $(seq 100); do
	p=$(unit_pid)
	[ "$p" != 0 ] && [ "$p" != "$pid0" ] && [ "$(systemctl is-active tsnatd)" = active ] && break
	sleep 0.2
done
pid1=$(unit_pid)
vcheck "systemd restarted it (PID $pid0 -> $pid1)" eval '[ "$pid1" != 0 ] && [ "$pid1" != "$pid0" ]'
wait_active
ctl_user status >"$RES/status.adopted.txt" 2>&1
vcheck "the next daemon adopted the offloaded flows" grep -q "^offload *active (adopted from" "$RES/status.adopted.txt"
wait "$loadpid"
set -- $(cat "$TN_DIR/kill.iperf")
vcheck "the transfer in flight survives ($1 Gbit/s, rc $3)" eq "$3" 0
estab=$(( $(tn_counter "$TN_SRV" TcpExt PAWSEstab) - estab0 ))
vcheck "with 0 PAWSEstab at the server ($estab; $estab_kill before the kill)" eq "$(( $3 == 0 ? estab : -1 ))" 0
journal_since "$T2" >"$RES/journal.kill.txt"

step "a broken file: reload fails, the old config stays"
cp "$CONF" /tmp/good.conf
echo "this is not libconfig" >>"$CONF"
systemctl reload tsnatd >"$RES/reload.broken.txt" 2>&1
vcheck "systemctl reload of a broken file fails" test $? != 0
vcheck "the unit stays active" test "$(systemctl is-active tsnatd)" = active
ctl_user status >"$RES/status.broken.txt" 2>&1
vcheck "the running config is the old one (rewrite)" grep -q "^legacy-web *rewrite" "$RES/status.broken.txt"
cp /tmp/good.conf "$CONF"

step "observe: the emulator is classified legacy"
set_mode observe
systemctl reload tsnatd
sleep 1
LEG=$TN_DIR/legacy.observe.log
tn_legacy 4x "$LEG"
set -- $(tn_load 12 "$SRV_URL" "$TN_C1" "$TN_C2")
echo "observe: $1 requests, $2 slow, $3 failed (it changes nothing)"
tn_legacy_stop "$LEG"
tsnatctl servers >"$RES/servers.observe.txt" 2>&1
cat "$RES/servers.observe.txt"
verdict=$(tsnatctl servers --json | python3 -c '
import json, sys
print(next((s["verdict"] for s in json.load(sys.stdin) if s["server"] == "198.51.100.10"), "absent"))')
vcheck "observe classifies the emulator legacy ($verdict)" test "$verdict" = legacy

step "auto: after its transition, 0 failed"
sed -i 's/^\(    mode = \)"observe";/\1"auto"; action = "strip";/' "$CONF"
systemctl reload tsnatd
sleep 1
ctl_user status >"$RES/status.auto.txt" 2>&1
vcheck "reload to auto" grep -q "^legacy-web *auto" "$RES/status.auto.txt"
LEG=$TN_DIR/legacy.auto.log
tn_legacy 4x "$LEG"
set -- $(tn_load 12 "$SRV_URL" "$TN_C1" "$TN_C2")
echo "auto, while it learns (if observe's verdict did not carry over): $1 requests, $3 failed"
verdict=$(tsnatctl servers --json | python3 -c '
import json, sys
print(next((s["verdict"] for s in json.load(sys.stdin) if s["server"] == "198.51.100.10"), "absent"))')
vcheck "auto holds the emulator legacy ($verdict)" test "$verdict" = legacy
echo "waiting out the transition minute a 4.x server needs (61 s)"
sleep 61
p0=$(tn_legacy_now "$LEG" PAWSPassive)
set -- $(tn_load "$N" "$SRV_URL" "$TN_C1" "$TN_C2")
p1=$(tn_legacy_now "$LEG" PAWSPassive)
tn_legacy_stop "$LEG"
vcheck "auto: 0 of $1 connects fail, the emulator drops $((p1 - p0))" eq "$(( $3 + p1 - p0 ))" 0

step "security: the unit's sandbox under a real systemd"
systemd-analyze security tsnatd >"$RES/security.txt" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for tsnatd.service: \([0-9.]*\).*/\1/p' "$RES/security.txt")
vcheck "systemd-analyze security tsnatd: ${exposure:-?} <= 2.0" \
	python3 -c "import sys; sys.exit(0 if '$exposure' and float('$exposure') <= 2.0 else 1)"
pid=$(unit_pid)
cat "/proc/$pid/status" >"$RES/proc-status.txt" 2>/dev/null
uid=$(id -u tsnatd 2>/dev/null || echo none)
vcheck "the daemon (PID $pid) runs as user tsnatd ($uid)" eval \
	'[ "$pid" != 0 ] && awk -v u="$uid" "/^Uid:/ { exit !(\$2 == u && \$3 == u && \$4 == u && \$5 == u) }" "$RES/proc-status.txt"'
# CAP_NET_ADMIN (12), CAP_PERFMON (38), CAP_BPF (39)
want=000000c000001000
caps=$(awk '/^Cap(Prm|Eff|Bnd|Amb):/ { printf "%s=%s ", $1, $2 }' "$RES/proc-status.txt")
vcheck "with only the unit's capabilities ($caps)" eval \
	'[ "$caps" = "CapPrm:=$want CapEff:=$want CapBnd:=$want CapAmb:=$want " ]'

step "systemctl stop: rules removed, programs unloaded"
journal_since "$T0" >"$RES/journal.txt"
was=$(systemctl is-active tsnatd)
systemctl stop tsnatd
vcheck "systemctl stop: $was -> $(systemctl is-active tsnatd)" \
	test "$was $(systemctl is-active tsnatd)" = "active inactive"
vcheck "no table inet tsnatd left" eval '! nft list table inet tsnatd >/dev/null 2>&1'
vcheck "no program of ours on lan1" eq "$(tc_ours lan1)" 0
vcheck "no shift_ program in the kernel ($(bpf_progs))" eq "$(bpf_progs)" 0
vcheck "no pin left in /run/tsnatd/bpf" eval '[ -z "$(ls -A /run/tsnatd/bpf 2>/dev/null)" ]'

step "apt-get purge"
apt-get purge -y tsnatd >"$RES/purge.txt" 2>&1
vcheck "apt-get purge -y tsnatd" eq $? 0
left=""
while read -r f; do
	if [ -e "$f" ] && [ ! -d "$f" ]; then left="$left $f"; fi
done </tmp/tsnatd.files
vcheck "no file of the package left${left:+:$left}" test -z "$left"
vcheck "no /etc/tsnatd, /var/lib/tsnatd, /run/tsnatd" \
	eval '[ ! -e /etc/tsnatd ] && [ ! -e /var/lib/tsnatd ] && [ ! -e /run/tsnatd ]'
vcheck "no bpf file system on /run/tsnatd/bpf" eval '! grep -q " /run/tsnatd/bpf " /proc/mounts'
vcheck "no user or group tsnatd" eval '! getent passwd tsnatd && ! getent group tsnatd'
vcheck "dpkg knows tsnatd no more" eval \
	'[ "$(dpkg-query -W -f="\${db:Status-Status}" tsnatd 2>/dev/null || echo not-installed)" = not-installed ]'
step "end"
