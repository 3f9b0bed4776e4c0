#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/unit/service_user.sh - tsnatd -t run as root answers for the user
# tsnatd.service runs the daemon as (User=tsnatd): a file that user cannot
# read, or whose directory it cannot enter, fails -t with "the service user
# tsnatd cannot read FILE"; the ownership and group messages name that
# user's uid and gid, not root's. The user exists only in a user database
# of this script's own, bind-mounted over /etc/passwd and /etc/group in a
# private mount namespace (unshare -m): nothing on the host changes. Needs
# root (skipped without it); make unit runs it.
# Usage: TSNATD=build/cc/tsnatd tests/unit/service_user.sh
set -u
cd "$(dirname "$0")/../.."
: "${TSNATD:=build/tsnatd}"
[ -x "$TSNATD" ] || { echo "build first: make"; exit 1; }
TSNATD=$(realpath "$TSNATD")
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "service_user.sh: skipped (needs root and unshare -m)"
	exit 0
fi

DIR=$(mktemp -d /tmp/tsnatd-svcuser.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
chmod 0755 "$DIR"
UID_SVC=990
grep -v '^tsnatd:' /etc/passwd >"$DIR/passwd"
echo "tsnatd:x:$UID_SVC:$UID_SVC:tsnatd:/nonexistent:/usr/sbin/nologin" >>"$DIR/passwd"
grep -v '^tsnatd:' /etc/group >"$DIR/group"
echo "tsnatd:x:$UID_SVC:" >>"$DIR/group"
mkdir -m 0755 "$DIR/etc"
CONF=$DIR/etc/tsnatd.conf

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

# -t on CONF with OWNER (numeric: the user exists inside only), MODE and
# the directory's DIRMODE, as root, with the private user database; output
# in $DIR/out, exit status in $DIR/rc.
t_as_root() {
	cp conf/tsnatd.conf "$CONF"
	chown "$1" "$CONF"
	chmod "$2" "$CONF"
	chmod "$3" "$DIR/etc"
	unshare -m sh -c '
		mount --bind "$1/passwd" /etc/passwd && mount --bind "$1/group" /etc/group || exit 99
		"$2" -t -c "$3" >"$1/out" 2>&1
		echo $? >"$1/rc"' sh "$DIR" "$TSNATD" "$CONF"
	chmod 0755 "$DIR/etc"
}
rc() { cat "$DIR/rc"; }

t_as_root 0:0 0600 0755
check "0600 root:root: -t fails (exit $(rc))" [ "$(rc)" = 1 ]
check "0600 root:root: the service user tsnatd cannot read it" \
	has "$DIR/out" "the service user tsnatd cannot read $CONF (mode 0600, uid 0, gid 0; tsnatd is uid $UID_SVC"
check "0600 root:root: not 'configuration OK'" eval '! has "$DIR/out" "configuration OK"'
sed 's/^/    /' "$DIR/out"

t_as_root 0:$UID_SVC 0640 0755
check "0640 root:tsnatd: -t passes (exit $(rc))" eval '[ "$(rc)" = 0 ] && has "$DIR/out" "configuration OK"'

t_as_root 0:0 0644 0755
check "0644 root:root: -t passes (exit $(rc))" eval '[ "$(rc)" = 0 ] && has "$DIR/out" "configuration OK"'

t_as_root 0:0 0644 0700
check "a directory it cannot enter: -t fails (exit $(rc))" [ "$(rc)" = 1 ]
check "a directory it cannot enter: named" \
	has "$DIR/out" "the service user tsnatd cannot read $CONF: it may not enter $DIR/etc (mode 0700"
sed 's/^/    /' "$DIR/out"

t_as_root $UID_SVC:0 0644 0755
check "owned by tsnatd, as root: refused (exit $(rc))" [ "$(rc)" = 1 ]
check "owned by tsnatd, as root: the message names uid $UID_SVC" \
	has "$DIR/out" "owned by uid $UID_SVC: run as root, tsnatd trusts only a file root owns (the service user tsnatd, uid $UID_SVC"
check "owned by tsnatd, as root: no '(uid 0)'" eval '! has "$DIR/out" "(uid 0)"'
sed 's/^/    /' "$DIR/out"

t_as_root 0:$UID_SVC 0664 0755
check "writable by group tsnatd, as root: refused (exit $(rc))" [ "$(rc)" = 1 ]
check "writable by group tsnatd, as root: the message names gid $UID_SVC" \
	has "$DIR/out" "writable by group $UID_SVC (mode 0664): run as root, tsnatd trusts only root's group to write it (the service user's group, gid $UID_SVC"
check "writable by group tsnatd, as root: no '(gid 0)'" eval '! has "$DIR/out" "(gid 0)"'
sed 's/^/    /' "$DIR/out"

echo
echo "service_user.sh: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
