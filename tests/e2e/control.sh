#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/control.sh - the control socket and tsnatctl against a running
# daemon (root):
#  - every command answers, as a table and as JSON (python3 -m json.tool);
#  - servers --json has exactly the documented keys;
#  - reload takes a good file and refuses a bad one (the running one kept),
#    SIGHUP keeps the socket, stopping removes it;
#  - a client that sends garbage gets an error line, one that sends
#    nothing is closed after the deadline, too many at once get "busy",
#    and SYNs keep flowing meanwhile (no failed connection);
#  - a user outside the daemon's group (nobody) is refused;
#  - the metrics textfile is written and passes promtool (if installed);
#  - status says whether the conntrack glue is on (and the log, once);
#  - status shows the firewall rules: present with the daemon's queues,
#    missing once flushed, naming other queues once loaded for two; the
#    log warns when they drift (rate-limited) and says when they are back;
#    and an auto policy's action.
# Everything created is removed on exit.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
tn_start "control tests need root"
: "${TSNATCTL:=$(dirname "$TSNATD")/tsnatctl}"


[ -x "$TSNATD" ] && [ -x "$TSNATCTL" ] || { echo "build first: make"; exit 1; }
# nobody must reach the socket to be refused by the daemon itself
chmod 0711 "$TN_DIR"
CTL=$TN_DIR/ctl
mkdir -m 0755 "$CTL"
SOCK=$CTL/control
cp "$TSNATCTL" "$CTL/tsnatctl"
ctl() { "$CTL/tsnatctl" -s "$SOCK" "$@"; }
OUT=$TN_DIR/out
mkdir "$OUT"

tn_setup
tn_http_server
CONF=$TN_DIR/control.conf
tn_rewrite_conf "$CONF"
sed -i -e "s|^control_socket = .*|control_socket = \"$SOCK\";|" \
	-e "s|^metrics = .*|metrics = { file = \"$CTL/tsnatd.prom\"; interval = 1; };|" "$CONF"
# an auto policy beside the shipped one, for its action in status
sed -i 's|^);$|  , { name = "found"; mode = "auto"; action = "strip"; destinations = "203.0.113.0/24"; }\n);|' "$CONF"
grep -q "^control_socket = \"$SOCK\";" "$CONF" && grep -q "tsnatd.prom" "$CONF" &&
	grep -q 'name = "found"; mode = "auto"' "$CONF" ||
	{ echo "control.conf: keys not set"; exit 1; }
tn_load_rules "$CONF"
LOG=$TN_DIR/daemon.log
tn_daemon "$CONF" "$LOG"
check "tsnatd starts with a control socket" eq $? 0
check "the socket is there, mode 0660" [ "$(stat -c %a "$SOCK" 2>/dev/null)" = 660 ]
set -- $(tn_load 5 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
check "ten connections through the rewrite policy ($3 failed)" eq "$(($1 == 10 ? $3 : -1))" 0

echo "# every command, as a table and as JSON"
for cmd in status stats "flows --limit 5" domains servers metrics; do
	name=${cmd%% *}
	ctl $cmd >"$OUT/$name.txt" 2>"$OUT/$name.err"
	check "tsnatctl $cmd answers (exit $?)" eq $? 0
	check "tsnatctl $cmd says something" [ -s "$OUT/$name.txt" ]
	ctl $cmd --json >"$OUT/$name.json" 2>>"$OUT/$name.err"
	check "tsnatctl $cmd --json answers" eq $? 0
	python3 -m json.tool "$OUT/$name.json" >/dev/null 2>&1
	check "tsnatctl $cmd --json is one JSON document" eq $? 0
	echo "## $cmd"; head -20 "$OUT/$name.txt"
	echo "## $cmd --json"; head -c 600 "$OUT/$name.json"; echo
done
check "status names the policy and its mode" has "$OUT/status.txt" "legacy-web  *rewrite"
# The conntrack glue: absent from this project's test kernel (6.18), on in
# vmtest's 6.1; either way status and the log (once, at start) say which.
glue=$(sed -n 's/^conntrack glue  *//p' "$OUT/status.txt")
if [ "$glue" = on ]; then
	check "status: conntrack glue on; the log said so once" \
		eval '[ "$(grep -c "conntrack glue: on" "$LOG")" = 1 ]'
else
	check "status: conntrack glue off, and why ($glue)" \
		test "$glue" = "off (kernel lacks NETLINK_GLUE_CT)"
	check "the log said once at start that the glue is off" \
		eval '[ "$(grep -c "conntrack glue: off on 1 of 1 queues (kernel lacks NETLINK_GLUE_CT)" "$LOG")" = 1 ]'
fi
check "stats has every counter (send_errors last)" has "$OUT/stats.txt" "^send_errors "
check "flows shows a rewritten flow to the server" has "$OUT/flows.txt" "$SRV_IP:80"
check "domains shows the translated source with a mark" has "$OUT/domains.txt" "^$GW_WAN "
check "servers ends with a policy suggestion" has "$OUT/servers.txt" "^# "
python3 - "$OUT/servers.json" <<'PY'
import json, sys
keys = {"server", "translated_source", "syns", "predicted_drops_310", "predicted_drops_4x",
        "confirmed_drops", "contrary", "verdict"}
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list)
for r in rows:
    assert set(r) == keys, r
    assert r["verdict"] in ("legacy", "not-legacy", "unknown")
PY
check "servers --json: an array of objects with exactly the documented keys" eq $? 0
python3 - "$OUT/stats.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["total"]["packets"] > 0 and d["total"]["rewritten"] > 0
PY
check "stats --json counts the rewritten packets" eq $? 0
ctl bogus >/dev/null 2>"$OUT/bogus.err"
check "an unknown command is a usage error (exit 2)" eq $? 2
ctl >/dev/null 2>&1
check "no command is a usage error (exit 2)" eq $? 2
ctl --json status >"$OUT/status-first.json" 2>&1
check "--json before the command is taken (exit $?)" eq $? 0
python3 -m json.tool "$OUT/status-first.json" >/dev/null 2>&1
check "tsnatctl --json status is one JSON document" eq $? 0

echo "# reload"
ctl reload >"$OUT/reload.txt" 2>&1
check "reload of a good file is accepted" eq $? 0
cp "$CONF" "$CONF.good"
echo "this is not a config" >>"$CONF"
ctl reload >"$OUT/reload-bad.txt" 2>&1
rc=$?
check "reload of a bad file is refused (exit $rc): $(cat "$OUT/reload-bad.txt")" eq $rc 1
check "the refusal gives the file's error, file:line and all" \
	has "$OUT/reload-bad.txt" "^$CONF:[0-9]*: "
ctl status >/dev/null 2>&1
check "the daemon still answers with its running config" eq $? 0
cp "$CONF.good" "$CONF"
kill -HUP "$TN_DAEMON_PID"; sleep 0.5
ctl status --json >/dev/null 2>&1
check "after SIGHUP the same socket answers" eq $? 0

echo "# misbehaving clients, while SYNs flow"
python3 - "$SOCK" >"$OUT/abuse.txt" 2>&1 <<'PY' &
import socket, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); return s
# garbage: 300 bytes, no newline
g = conn(); g.sendall(b"x" * 300); g.settimeout(3)
print("garbage:", g.recv(200).decode().strip())
# silence: nothing sent; closed by the daemon after its deadline
t = time.time(); q = conn(); q.settimeout(5)
data = q.recv(200)
print("silent: closed after %.1f s, got %r" % (time.time() - t, data))
# ten silent clients at once: the slots fill, the rest hear "busy"
many = [conn() for _ in range(10)]; busy = 0
for s in many:
    s.settimeout(3)
    try:
        if s.recv(200).startswith(b"error busy"): busy += 1
    except Exception:
        pass
print("busy:", busy)
PY
ABUSE=$!
set -- $(tn_load 10 "http://$SRV_IP/" "$TN_C1" "$TN_C2")
wait $ABUSE
cat "$OUT/abuse.txt"
check "20 connections during the abuse, none failed ($3 failed, $2 slow)" eq "$(($1 == 20 ? $3 : -1))" 0
check "garbage gets an error line" has "$OUT/abuse.txt" "garbage: error request too long"
check "a silent client is closed after about a second" \
	grep -Eq "silent: closed after (0\.9|1\.[0-9]) s, got b''" "$OUT/abuse.txt"
check "too many at once hear busy" grep -Eq "busy: [1-9]" "$OUT/abuse.txt"
ctl status >/dev/null 2>&1
check "afterwards tsnatctl is served again" eq $? 0

echo "# permissions"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$CTL/tsnatctl" -s "$SOCK" status \
	>"$OUT/nobody.txt" 2>&1
check "nobody is refused (exit $?)" eq $? 1
check "with a clear message: $(cat "$OUT/nobody.txt")" has "$OUT/nobody.txt" "permission denied"

echo "# metrics textfile"
sleep 1.5
check "the textfile is written" [ -s "$CTL/tsnatd.prom" ]
check "mode 0644 for node_exporter" [ "$(stat -c %a "$CTL/tsnatd.prom")" = 644 ]
if command -v promtool >/dev/null; then
	promtool check metrics <"$CTL/tsnatd.prom" >"$OUT/promtool.txt" 2>&1
	rc=$?
	check "promtool check metrics on the textfile (exit $rc) $(tr '\n' ' ' <"$OUT/promtool.txt")" eq $rc 0
	promtool check metrics <"$OUT/metrics.txt" >"$OUT/promtool2.txt" 2>&1
	rc=$?
	check "promtool check metrics on tsnatctl metrics (exit $rc) $(tr '\n' ' ' <"$OUT/promtool2.txt")" eq $rc 0
else
	echo "skip - promtool not installed"
fi

echo "# the firewall rules in status and in the log"
# wait_status PATTERN: up to 8 s (the rules are looked at every 5 s)
wait_status() {
	local i
	for i in $(seq 16); do
		ctl status >"$OUT/rules-status.txt" 2>&1
		grep -q -- "$1" "$OUT/rules-status.txt" && return 0
		sleep 0.5
	done
	cat "$OUT/rules-status.txt"
	return 1
}
check "status shows an auto policy's action" grep -q "^found  *auto  *strip  " "$OUT/status.txt"
check "status: the rules are there, on the daemon's queue" \
	grep -q "^rules  *iptables: present, queues 0\.\.0, as the daemon's" "$OUT/status.txt"
python3 - "$OUT/status.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["rules"]["state"] == "match" and d["rules"]["tools"] == "iptables", d["rules"]
assert [p.get("action") for p in d["policies"]] == [None, "strip"], d["policies"]
PY
check "status --json: rules match, the auto policy's action" eq $? 0
tn_rules_off
wait_status "^rules  *MISSING (iptables: "
check "rules flushed: status says MISSING: $(grep ^rules "$OUT/rules-status.txt")" eq $? 0
check "and the log warns" grep -q "warning: firewall rules: MISSING (iptables: " "$LOG"
"$TSNATD" -c "$CONF" --print-rules iptables | sed 's/--queue-num 0/--queue-balance 0:1/' |
	in_ns "$TN_GW" iptables-restore --noflush
wait_status "^rules  *iptables: queues 0\.\.1, but the daemon listens on 0\.\.0"
check "rules for two queues: status says so: $(grep ^rules "$OUT/rules-status.txt")" eq $? 0
check "and the log warns" grep -q "warning: firewall rules: iptables: queues 0\.\.1, but the daemon" "$LOG"
ctl metrics >"$OUT/metrics-drift.txt" 2>&1
check "the metrics say the rules drift" grep -q "^tsnatd_rules_drift 1$" "$OUT/metrics-drift.txt"
sleep 11
n=$(grep -c "rules_drift went up by" "$LOG")
check "while they drift, a reminder, rate-limited ($n in 11 s)" test "$n" -ge 1 -a "$n" -le 2
tn_rules_off
tn_load_rules "$CONF"
wait_status "^rules  *iptables: present, queues 0\.\.0"
check "rules back: status says present again" eq $? 0
check "and the log says so" grep -q "info: firewall rules: iptables: present" "$LOG"

tn_stop "$TN_DAEMON_PID"
check "stopping removes the socket" [ ! -e "$SOCK" ]
ctl status >/dev/null 2>"$OUT/gone.err"
check "then tsnatctl says why: $(cat "$OUT/gone.err")" has "$OUT/gone.err" "no such socket"

tn_summary control
