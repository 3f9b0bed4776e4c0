#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/rules.sh - tsnatd --apply-rules and --remove-rules against the
# real iptables, ip6tables and nft, in a network namespace of its own
# (root; removed on exit, also on failure or interruption):
#  - the operator's own rules (a mark rule in mangle FORWARD, a chain, the
#    SNAT rule) stay as they were through apply and remove, and the jump
#    is appended after theirs;
#  - applying twice leaves one FORWARD jump and the policy rules, each with
#    --queue-bypass, for iptables and for ip6tables;
#  - each load of --print-rules output adds a jump; apply leaves one;
#  - a changed configuration replaces the rules, and drops the ip6tables
#    chain once it has no IPv6 rules;
#  - removing twice succeeds and leaves no TSNATD chain or jump;
#  - rules = "none" changes nothing, whatever is there;
#  - a failing tool makes tsnatd exit 1 with the tool's exit status;
#  - the same with iptables-legacy, where it can run;
#  - nft: the generated file through nft -c -f, and apply/remove with the
#    nft back end; reported as skipped where the kernel refuses the queue
#    statement (no CONFIG_NFT_QUEUE). tsnatd's removal of table inet tsnatd
#    runs either way. Where it is refused, apply says what is missing
#    (nft_queue, CONFIG_NFT_QUEUE) and what works instead;
#  - with iptables missing from PATH, --remove-rules removes iptables-nft's
#    rules with nft, and with neither tool fails saying what it could not
#    check.
# Other namespace tests must not run at the same time: run it under
# flock /run/tsnatd-netns.lock, as the rest of make e2e.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
tn_start "rules tests need root"

[ -x "$TSNATD" ] || { echo "build first: make"; exit 1; }
command -v iptables >/dev/null && command -v ip6tables >/dev/null ||
	{ echo "rules tests need iptables and ip6tables"; exit 1; }

NS=$TN_GW
ip netns add "$NS" || exit 1
gw() { ip netns exec "$NS" "$@"; }
OUT=$TN_DIR/out
mkdir "$OUT"
SKIPPED=0
skip() { SKIPPED=$((SKIPPED + 1)); echo "SKIP - $*"; }

# conf NAME RULES POLICIES: a configuration file, $TN_DIR/NAME.conf
conf() {
	printf 'rules = "%s";\nstate_dir = "%s/state";\npolicies = (\n%s\n);\n' \
		"$2" "$TN_DIR" "$3" >"$TN_DIR/$1.conf"
}
conf both iptables '  { name = "web"; mode = "strip";
    destinations = [ "198.51.100.0/24", "2001:db8:1::/64" ]; },
  { name = "api"; mode = "rewrite"; destinations = [ "203.0.113.7", "2001:db8:2::7" ]; }'
conf changed auto '  { name = "web2"; mode = "strip"; destinations = "198.51.100.128/25";
    sources = "192.0.2.0/24"; }'
conf none none '  { name = "web"; mode = "strip"; destinations = "198.51.100.0/24"; }'
conf nft nft '  { name = "web"; mode = "strip";
    destinations = [ "198.51.100.0/24", "2001:db8:1::/64" ]; }'

apply() { gw "$TSNATD" --apply-rules -c "$TN_DIR/$1.conf" >"$OUT/$2.out" 2>"$OUT/$2.err"; }
remove() { gw "$TSNATD" --remove-rules -c "$TN_DIR/$1.conf" >"$OUT/$2.out" 2>"$OUT/$2.err"; }
# show TOOL FILE: what the tool lists of table mangle
show() { gw "$1" -t mangle -S >"$2"; }
lines() { grep -c -x -- "$2" "$1"; }
# the queue rules of chain TSNATD in a listing, and how many lack the bypass
chain_rules() { grep -- '^-A TSNATD ' "$1" | grep -c -- '-j NFQUEUE'; }
no_bypass() { grep -- '^-A TSNATD .*-j NFQUEUE' "$1" | grep -vc -- '--queue-bypass$'; }
# the kernel data path's lines (a rewrite policy, offload on): how many,
# and whether they all come before the first queue rule
offload_lines() { grep -c -- '^-A TSNATD .*--comment offload' "$1"; }
offload_first() {
	awk '/^-A TSNATD .*-j NFQUEUE/ { q = q ? q : NR } /--comment offload/ { o = NR }
	     END { exit !(o && q && o < q) }' "$1"
}
nothing_of_tsnatd() { ! grep -q TSNATD "$1"; }
lacks() { ! grep -q -- "$2" "$1"; }

echo "# the operator's own rules stay as they are"
# a mark rule in mangle FORWARD ahead of tsnatd's jump, a chain of the
# operator's own, and the SNAT rule: apply and remove touch none of them
gw iptables -t mangle -A FORWARD -p tcp --dport 22 -j MARK --set-xmark 0x1/0x1
gw iptables -t mangle -N OPERATOR
gw iptables -t mangle -A OPERATOR -j RETURN
gw iptables -t nat -A POSTROUTING -o lo -j MASQUERADE
operator_rules() { { gw iptables -t mangle -S; gw iptables -t nat -S; } | grep -v TSNATD; }
operator_rules >"$OUT/operator-before"

echo "# apply twice"
apply both a1; rc1=$?
apply both a2; rc2=$?
operator_rules >"$OUT/operator-applied"
check "apply leaves the operator's own rules as they were" \
	cmp -s "$OUT/operator-before" "$OUT/operator-applied"
show iptables "$OUT/v4order"
check "its mark rule still comes before tsnatd's jump (appended)" \
	awk '/^-A FORWARD .*MARK/ { m = NR } /^-A FORWARD -j TSNATD$/ { j = NR }
	     END { exit !(m && j && m < j) }' "$OUT/v4order"
check "first --apply-rules exits 0 ($(cat "$OUT/a1.out" "$OUT/a1.err" | tr '\n' ' '))" eq $rc1 0
check "second --apply-rules exits 0 ($(cat "$OUT/a2.out" | tr '\n' ' '))" eq $rc2 0
show iptables "$OUT/v4"
show ip6tables "$OUT/v6"
cat "$OUT/v4" "$OUT/v6"
check "iptables: exactly one -A FORWARD -j TSNATD" eq "$(lines "$OUT/v4" '-A FORWARD -j TSNATD')" 1
check "ip6tables: exactly one -A FORWARD -j TSNATD" eq "$(lines "$OUT/v6" '-A FORWARD -j TSNATD')" 1
# strip: client SYNs to the /24; rewrite: both directions of the server
check "iptables: the three policy rules" eq "$(chain_rules "$OUT/v4")" 3
check "ip6tables: the three policy rules" eq "$(chain_rules "$OUT/v6")" 3
check "iptables: strip queues SYNs to 198.51.100.0/24, named web" \
	grep -q -- '-A TSNATD -d 198.51.100.0/24 -p tcp .*--comment web -j NFQUEUE' "$OUT/v4"
check "ip6tables: rewrite queues from 2001:db8:2::7, named api" \
	grep -q -- '-A TSNATD -s 2001:db8:2::7/128 -p tcp .*--comment api -j NFQUEUE' "$OUT/v6"
check "every rule keeps --queue-bypass" eq $(($(no_bypass "$OUT/v4") + $(no_bypass "$OUT/v6"))) 0
check "iptables: the kernel data path's three mark lines" eq "$(offload_lines "$OUT/v4")" 3
check "ip6tables: the same three" eq "$(offload_lines "$OUT/v6")" 3
check "they come before the queue rules" offload_first "$OUT/v4"

echo "# each load of --print-rules adds a jump; apply leaves one"
for i in 1 2; do
	"$TSNATD" --print-rules iptables -c "$TN_DIR/both.conf" | gw iptables-restore --noflush
done
show iptables "$OUT/v4twice"
check "two loads of --print-rules on top: three jumps" \
	eq "$(lines "$OUT/v4twice" '-A FORWARD -j TSNATD')" 3
apply both a3
check "apply says it deleted the extra jump" has "$OUT/a3.out" "extra jumps from FORWARD deleted"
show iptables "$OUT/v4once"
check "after apply: one jump again" eq "$(lines "$OUT/v4once" '-A FORWARD -j TSNATD')" 1

echo "# a changed configuration replaces the rules"
apply changed c1
check "apply of the changed config exits 0 ($(cat "$OUT/c1.out" "$OUT/c1.err" | tr '\n' ' '))" eq $? 0
show iptables "$OUT/v4c"
show ip6tables "$OUT/v6c"
cat "$OUT/v4c"
check "iptables: one rule now, the new one" eq "$(chain_rules "$OUT/v4c")" 1
check "iptables: it is the new policy's" \
	grep -q -- '-A TSNATD -s 192.0.2.0/24 -d 198.51.100.128/25 -p tcp .*--comment web2 .*--queue-bypass$' "$OUT/v4c"
check "iptables: the old policies' rules are gone" lacks "$OUT/v4c" '--comment \(web\|api\) '
check "iptables: still one jump" eq "$(lines "$OUT/v4c" '-A FORWARD -j TSNATD')" 1
check "ip6tables: no IPv6 rules left, no chain, no jump" nothing_of_tsnatd "$OUT/v6c"

echo "# remove twice"
remove changed r1; rc1=$?
remove changed r2; rc2=$?
check "first --remove-rules exits 0 ($(cat "$OUT/r1.out" "$OUT/r1.err" | tr '\n' ' '))" eq $rc1 0
check "second --remove-rules exits 0 ($(cat "$OUT/r2.out" "$OUT/r2.err" | tr '\n' ' '))" eq $rc2 0
show iptables "$OUT/v4r"
show ip6tables "$OUT/v6r"
check "iptables: no TSNATD chain or jump" nothing_of_tsnatd "$OUT/v4r"
check "ip6tables: no TSNATD chain or jump" nothing_of_tsnatd "$OUT/v6r"
operator_rules >"$OUT/operator-removed"
check "remove leaves the operator's own rules as they were" \
	cmp -s "$OUT/operator-before" "$OUT/operator-removed"

echo "# rules = \"none\" changes nothing"
"$TSNATD" --print-rules iptables -c "$TN_DIR/both.conf" | gw iptables-restore --noflush
show iptables "$OUT/before"
apply none n1; rc1=$?
remove none n2; rc2=$?
show iptables "$OUT/after"
check "apply and remove with none exit 0" eq $((rc1 + rc2)) 0
check "apply says it applied nothing" has "$OUT/n1.out" 'rules = "none": no rules applied'
check "remove says it removed nothing" has "$OUT/n2.out" 'rules = "none": no rules removed'
check "the operator's rules are as they were" cmp -s "$OUT/before" "$OUT/after"
remove both r3
show iptables "$OUT/v4r3"
check "then remove with another config clears them" nothing_of_tsnatd "$OUT/v4r3"

echo "# a failing tool: exit 1 with its status"
mkdir "$TN_DIR/bin"
printf '#!/bin/sh\necho "fake iptables-restore refuses" >&2\nexit 3\n' >"$TN_DIR/bin/iptables-restore"
chmod 0755 "$TN_DIR/bin/iptables-restore"
PATH=$TN_DIR/bin:$PATH apply changed f1
check "apply exits 1 when iptables-restore fails" eq $? 1
check "and says which tool, with its status" has "$OUT/f1.err" '`iptables-restore --noflush` exited with status 3'
check "the tool's own message comes first" has "$OUT/f1.err" "fake iptables-restore refuses"

echo "# iptables-legacy: the same commands, the other variant"
if command -v iptables-legacy >/dev/null && command -v ip6tables-legacy-restore >/dev/null &&
	gw iptables-legacy -t mangle -S >/dev/null 2>&1; then
	mkdir "$TN_DIR/legacy"
	for t in iptables ip6tables; do
		ln -s "$(command -v $t-legacy)" "$TN_DIR/legacy/$t"
		ln -s "$(command -v $t-legacy-restore)" "$TN_DIR/legacy/$t-restore"
	done
	LPATH=$TN_DIR/legacy:$PATH
	PATH=$LPATH apply both l1; rc1=$?
	PATH=$LPATH apply both l2; rc2=$?
	gw iptables-legacy -t mangle -S >"$OUT/l4"
	gw ip6tables-legacy -t mangle -S >"$OUT/l6"
	check "iptables-legacy: apply twice exits 0 twice" eq $((rc1 + rc2)) 0
	check "iptables-legacy: exactly one jump" eq "$(lines "$OUT/l4" '-A FORWARD -j TSNATD')" 1
	check "ip6tables-legacy: exactly one jump" eq "$(lines "$OUT/l6" '-A FORWARD -j TSNATD')" 1
	check "iptables-legacy: the three policy rules, with bypass" \
		[ "$(chain_rules "$OUT/l4"):$(no_bypass "$OUT/l4")" = 3:0 ]
	PATH=$LPATH remove both l3; rc1=$?
	PATH=$LPATH remove both l4; rc2=$?
	gw iptables-legacy -t mangle -S >"$OUT/l4r"
	gw ip6tables-legacy -t mangle -S >"$OUT/l6r"
	check "iptables-legacy: remove twice exits 0 twice" eq $((rc1 + rc2)) 0
	check "iptables-legacy: nothing of tsnatd left" nothing_of_tsnatd "$OUT/l4r"
	check "ip6tables-legacy: nothing of tsnatd left" nothing_of_tsnatd "$OUT/l6r"
else
	skip "iptables-legacy not installed or not usable here"
fi

echo "# nft"
if ! command -v nft >/dev/null; then
	skip "nft is not installed (Debian package nftables): nft back end not run"
else
	"$TSNATD" --print-rules nft -c "$TN_DIR/nft.conf" >"$OUT/rules.nft"
	gw nft -c -f "$OUT/rules.nft" >"$OUT/nftc.out" 2>&1
	nft_ok=$?
	# The same file with each queue statement replaced by accept: what the
	# kernel checks when it cannot check the queue statement itself.
	sed 's/ queue num [0-9-]* bypass / accept /' "$OUT/rules.nft" >"$OUT/noqueue.nft"
	gw nft -c -f "$OUT/noqueue.nft" >"$OUT/nftc2.out" 2>&1
	rest_ok=$?
	if [ $nft_ok = 0 ]; then
		check "nft -c -f accepts the generated rules" eq $nft_ok 0
		apply nft t1
		check "apply with rules = \"nft\" exits 0" eq $? 0
		gw nft list table inet tsnatd >"$OUT/nftlist"
		check "table inet tsnatd has the rules, with bypass" grep -q "queue .*bypass" "$OUT/nftlist"
		show iptables "$OUT/v4n"
		check "and iptables has nothing of tsnatd" nothing_of_tsnatd "$OUT/v4n"
		remove nft t2
		remove nft t3
		check "remove twice exits 0" eq $? 0
		gw nft list tables >"$OUT/nfttables"
		check "no table inet tsnatd left" lacks "$OUT/nfttables" "^table inet tsnatd$"
	elif grep -q "Could not process rule" "$OUT/nftc.out" && [ $rest_ok = 0 ]; then
		check "nft -c -f accepts the generated rules but for the queue statements" eq $rest_ok 0
		skip "the kernel refuses nft's queue statement (no CONFIG_NFT_QUEUE): $(grep -m1 Error "$OUT/nftc.out")"
		apply nft t1
		check "apply with rules = \"nft\" fails here, exit 1" eq $? 1
		check "naming nft and its status" has "$OUT/t1.err" '`nft -f -` exited with status'
		cat "$OUT/t1.err"
		check "saying what is missing: nft_queue, CONFIG_NFT_QUEUE" \
			grep -q "module nft_queue, kernel option CONFIG_NFT_QUEUE" "$OUT/t1.err"
		check "and what works instead: rules = \"iptables\"" \
			has "$OUT/t1.err" 'rules = "iptables" works instead'
	else
		cat "$OUT/nftc.out" "$OUT/nftc2.out"
		check "nft -c -f accepts the generated rules" eq $nft_ok 0
	fi
	# Removal of the table needs no queue support: a table inet tsnatd as
	# an nft back end would leave it, then a switch to iptables.
	printf 'table inet tsnatd {\n\tchain forward {\n\t\ttype filter hook forward priority mangle; policy accept;\n\t\tip daddr 198.51.100.0/24 counter\n\t}\n}\n' |
		gw nft -f -
	apply changed s1
	check "apply with iptables exits 0 with an nft table there" eq $? 0
	check "and says it removed table inet tsnatd" has "$OUT/s1.out" "nft: removed table inet tsnatd"
	gw nft list tables >"$OUT/nfttables2"
	check "no table inet tsnatd left after the switch" lacks "$OUT/nfttables2" "^table inet tsnatd$"
	gw nft add table inet tsnatd
	remove changed s2; rc1=$?
	remove changed s3; rc2=$?
	gw nft list tables >"$OUT/nfttables3"
	check "remove deletes table inet tsnatd too, twice with exit 0" eq $((rc1 + rc2)) 0
	check "no table inet tsnatd left" lacks "$OUT/nfttables3" "tsnatd"
fi

echo "# --remove-rules without iptables in PATH"
# What iptables-nft loaded lives in nf_tables: nft finds and removes it.
# With neither tool, removal says what it could not check and fails. A
# namespace of its own: the legacy section above left iptables-legacy
# tables, which only iptables-legacy could check.
if command -v nft >/dev/null && iptables -V 2>/dev/null | grep -q nf_tables; then
	mkdir "$TN_DIR/nftonly" "$TN_DIR/notools"
	ln -s "$(command -v nft)" "$TN_DIR/nftonly/nft"
	NS=$TN_C1
	ip netns add "$NS" || exit 1
	# remove_with PATH CONF NAME: --remove-rules with only PATH to find tools
	remove_with() {
		gw env PATH="$1" "$TSNATD" --remove-rules -c "$TN_DIR/$2.conf" >"$OUT/$3.out" 2>"$OUT/$3.err"
	}
	apply both m1
	check "apply with iptables (the nf_tables variant) exits 0" eq $? 0
	remove_with "$TN_DIR/notools" both m2
	rc=$?
	check "remove with neither iptables nor nft in PATH fails (exit $rc)" eq $rc 1
	check "saying what it could not check: $(head -1 "$OUT/m2.err")" \
		has "$OUT/m2.err" "neither iptables nor nft is in PATH"
	check "and not that there was nothing to remove" lacks "$OUT/m2.out" "no tsnatd rules to remove"
	remove_with "$TN_DIR/nftonly" both m3
	rc=$?
	cat "$OUT/m3.out" "$OUT/m3.err"
	check "remove with nft only in PATH exits 0 ($rc)" eq $rc 0
	check "saying it removed iptables' chain with nft" has "$OUT/m3.out" \
		"iptables: removed chain TSNATD .* with nft (iptables is not in PATH)"
	show iptables "$OUT/v4m"
	show ip6tables "$OUT/v6m"
	check "iptables: nothing of tsnatd left" nothing_of_tsnatd "$OUT/v4m"
	check "ip6tables: nothing of tsnatd left" nothing_of_tsnatd "$OUT/v6m"
	remove_with "$TN_DIR/nftonly" both m4
	check "removing again with nft only: exit 0, nothing to remove" \
		has "$OUT/m4.out" "no tsnatd rules to remove"
else
	skip "needs nft and the nf_tables variant of iptables"
fi

echo
echo "rules: $SKIPPED skipped"
tn_summary rules
