#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/unit/tsnatctl.sh - tsnatctl's conventions, no root and no network
# (make unit runs it): usage errors exit 2 before any daemon is asked;
# options stand before or after the command and go out in the order every
# daemon reads; an error answer (a refused reload with its file:line
# errors) is printed whole and exits 1; tsnatctl(8) sets each command on
# one line. A stand-in daemon (python3, a Unix socket in a temporary
# directory) records the request lines and answers as tsnatd would.
# Usage: TSNATCTL=build/cc/tsnatctl tests/unit/tsnatctl.sh
set -u
cd "$(dirname "$0")/../.."
: "${TSNATCTL:=build/tsnatctl}"
[ -x "$TSNATCTL" ] || { echo "build first: make"; exit 1; }
command -v python3 >/dev/null || { echo "tsnatctl.sh: skipped (needs python3)"; exit 0; }

DIR=$(mktemp -d /tmp/tsnatctl-test.XXXXXX)
FAKE=
cleanup() {
	[ -n "$FAKE" ] && kill "$FAKE" 2>/dev/null && wait "$FAKE" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT
SOCK=$DIR/control
REQ=$DIR/requests

PASS=0 FAIL=0
check() {
	local desc=$1; shift
	if "$@"; then
		PASS=$((PASS + 1)); echo "ok   - $desc"
	else
		FAIL=$((FAIL + 1)); echo "FAIL - $desc"
	fi
}
has() { grep -q -- "$2" "$1"; }

# The stand-in daemon: one request line per connection, recorded; reload
# is refused with two file:line errors, a request the daemon would not
# parse gets its error answer, anything else "ok".
python3 - "$SOCK" "$REQ" <<'PY' &
import os, re, socket, sys
path, log = sys.argv[1], sys.argv[2]
valid = re.compile(rb"^((status|stats|domains|servers|reload|metrics)( --json)?|"
                   rb"flows( --json| --limit [1-9][0-9]{0,3})*)\n$")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path + ".tmp"); os.rename(path + ".tmp", path); s.listen(8)
while True:
    c, _ = s.accept()
    line = b""
    while not line.endswith(b"\n"):
        got = c.recv(512)
        if not got:
            break
        line += got
    with open(log, "ab") as f:
        f.write(line)
    if not valid.match(line):
        c.sendall(b"error unknown command or option\n")
    elif line.startswith(b"reload"):
        c.sendall(b"error reload failed: the running configuration is kept; the file's errors:\n"
                  b"/etc/tsnatd/tsnatd.conf:7: 'queue.count' = 0 is out of range 1..64\n"
                  b"/etc/tsnatd/tsnatd.conf:9: unknown key 'polcies' in the file\n")
    else:
        c.sendall(b"ok\nanswer to " + line)
    c.close()
PY
FAKE=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { echo "the stand-in daemon did not start"; exit 1; }
ctl() { "$TSNATCTL" "$@" >"$DIR/out" 2>"$DIR/err"; }

echo "# usage errors: exit 2, no daemon asked"
for args in "foo" "status --JSON" "flows --limit 0" "flows --limit" "status --limit 3" \
	"status stats" "" "-s"; do
	ctl -s "$SOCK" $args
	rc=$?
	check "tsnatctl $args: exit 2 (got $rc): $(head -1 "$DIR/err")" [ "$rc" = 2 ]
	check "tsnatctl $args: says what is wrong, then the usage" \
		eval 'has "$DIR/err" "^tsnatctl: " && has "$DIR/err" "^usage: tsnatctl"'
done
check "no usage error reached the daemon" [ ! -s "$REQ" ]
ctl --help
check "tsnatctl --help: exit 0, usage on stdout" eval '[ $? = 0 ] && has "$DIR/out" "^usage: tsnatctl"'

echo "# options before or after the command"
for args in "--json status" "status --json" "-s $SOCK --json status" "--json -s $SOCK status"; do
	: >"$REQ"
	case $args in -s*|*" -s "*) ctl $args ;; *) ctl -s "$SOCK" $args ;; esac
	rc=$?
	check "tsnatctl $args: exit 0 (got $rc)" [ "$rc" = 0 ]
	check "tsnatctl $args: sent as 'status --json'" [ "$(cat "$REQ")" = "status --json" ]
	check "tsnatctl $args: the answer's body on stdout" has "$DIR/out" "^answer to status --json$"
done
: >"$REQ"
ctl --limit 20 flows -s "$SOCK" --json
check "tsnatctl --limit 20 flows -s PATH --json: sent as 'flows --json --limit 20'" \
	eval '[ $? = 0 ] && [ "$(cat "$REQ")" = "flows --json --limit 20" ]'

echo "# an error answer: exit 1, every line of it on stderr"
ctl -s "$SOCK" reload
rc=$?
check "tsnatctl reload refused: exit 1 (got $rc)" [ "$rc" = 1 ]
check "the first line says the running configuration is kept" \
	has "$DIR/err" "^tsnatctl: reload failed: the running configuration is kept"
check "the file's errors follow, file:line and all" \
	eval 'has "$DIR/err" "^/etc/tsnatd/tsnatd.conf:7: .queue.count. = 0" &&
	      has "$DIR/err" "^/etc/tsnatd/tsnatd.conf:9: unknown key"'
check "nothing on stdout" [ ! -s "$DIR/out" ]
ctl -s "$DIR/absent" status
check "no daemon: exit 1" [ $? = 1 ]

echo "# tsnatctl(8)"
if command -v man >/dev/null; then
	MANWIDTH=80 man -l doc/tsnatctl.8 2>/dev/null >"$DIR/man.txt"
	check "flows [--limit N] on one line" has "$DIR/man.txt" "^ *flows \[--limit N\] *$"
	check "the synopsis shows --json before the command" \
		has "$DIR/man.txt" "tsnatctl \[-s PATH\] \[--json\] COMMAND"
	check "exit status 2 on a usage error" has "$DIR/man.txt" "2 on a usage error"
else
	echo "skipped: no man"
fi

echo
echo "tsnatctl.sh: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
