#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/package/run.sh - the Debian package from this checkout (root, no
# network namespaces): `make package-test`.
#  - builds it with tests/package/build.sh in a temporary copy of the
#    checkout (tracked files, with their uncommitted changes):
#    dpkg-buildpackage writes into the parent of the source tree, so
#    nothing lands outside the temporary directory;
#  - lintian on the .deb: any error (E:) fails;
#  - dpkg -i: the files, the conffile, the user, the unit (installed,
#    disabled, not started), tsnatd -t and tsnatctl --help from /usr/sbin;
#  - dpkg -i again over a changed conffile (kept), dpkg --remove (config
#    and user kept), dpkg --purge: nothing of it left, user, state
#    directories and the unit's bpf file system mount included;
#  - tsnatd-tools (the legacy-server emulator): lintian, installed alone,
#    tsnatd-legacy --help, purged without a trace.
# The package is purged and the temporary directory removed on any exit.
# DEB_BUILD_OPTIONS defaults to nocheck (make check runs the unit tests
# itself); DEB_BUILD_OPTIONS= runs them in the build too. PKGTEST_KEEP=1
# keeps the temporary directory.
set -u
cd "$(dirname "$0")/../.."

PASS=0 FAIL=0
check() {
	local desc=$1; shift
	if "$@"; then
		PASS=$((PASS + 1)); echo "PASS - $desc"
	else
		FAIL=$((FAIL + 1)); echo "FAIL - $desc"
	fi
}
die() { echo "FAIL - $*"; echo "package-test: FAIL"; exit 1; }

[ "$(id -u)" = 0 ] || die "package-test needs root (dpkg -i, dpkg --purge)"
for tool in dpkg-buildpackage dh lintian dpkg-parsechangelog; do
	command -v "$tool" >/dev/null ||
		die "$tool missing: apt-get install debhelper dpkg-dev lintian (.ci/install-deps)"
done

# Leave an existing installation alone: the purge below would take its
# configuration, its state and the user tsnatd with it.
if dpkg-query -W -f='${db:Status-Status}' tsnatd 2>/dev/null | grep -qv '^not-installed$'; then
	die "the package tsnatd is installed here already (dpkg --purge tsnatd first)"
fi
if dpkg-query -W -f='${db:Status-Status}' tsnatd-tools 2>/dev/null | grep -qv '^not-installed$'; then
	die "the package tsnatd-tools is installed here already (dpkg --purge tsnatd-tools first)"
fi
for path in /etc/tsnatd /usr/sbin/tsnatd /usr/sbin/tsnatctl /usr/sbin/tsnatd-legacy /var/lib/tsnatd /run/tsnatd; do
	[ ! -e "$path" ] || die "$path exists (from make install?): remove it first"
done
getent passwd tsnatd >/dev/null &&
	die "a user tsnatd exists (from make install?): purging the package would remove it"
getent group tsnatd >/dev/null &&
	die "a group tsnatd exists: purging the package would remove it"

TMP=$(mktemp -d /tmp/tsnatd-pkg.XXXXXX)
INSTALLED="" TOUCHED="" BPFFS="" TOOLS_INSTALLED=""
cleanup() {
	local path
	if [ -n "$TOOLS_INSTALLED" ]; then
		dpkg --purge tsnatd-tools >"$TMP/cleanup-purge-tools.log" 2>&1 ||
			{ echo "cleanup: dpkg --purge tsnatd-tools failed:"; cat "$TMP/cleanup-purge-tools.log"; }
	fi
	if [ -n "$BPFFS" ] && mountpoint -q "$BPFFS"; then umount "$BPFFS"; fi
	if [ -n "$INSTALLED" ]; then
		dpkg --purge tsnatd >"$TMP/cleanup-purge.log" 2>&1 ||
			{ echo "cleanup: dpkg --purge tsnatd failed:"; cat "$TMP/cleanup-purge.log"; }
	fi
	# None of these existed before (checked above): what a failed purge
	# left goes too.
	if [ -n "$TOUCHED" ]; then
		for path in /etc/tsnatd /var/lib/tsnatd /run/tsnatd; do
			[ ! -e "$path" ] || { echo "cleanup: removing $path"; rm -rf "$path"; }
		done
		if getent passwd tsnatd >/dev/null; then
			echo "cleanup: removing the user tsnatd"; userdel tsnatd
		fi
		if getent group tsnatd >/dev/null; then
			echo "cleanup: removing the group tsnatd"; groupdel tsnatd
		fi
	fi
	if [ -n "${PKGTEST_KEEP:-}" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build ---------------------------------------------------------------
DEB=$(tests/package/build.sh "$TMP") || die "building the package (tests/package/build.sh)"
VERSION=$(dpkg-parsechangelog -l "$TMP/src/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
TOOLS_DEB=$TMP/tsnatd-tools_${VERSION}_${ARCH}.deb
check "dpkg-buildpackage -us -uc -b built $(basename "$DEB")" test -f "$DEB"

# --- lintian -------------------------------------------------------------
# As nobody: lintian advises against root.
chmod 0755 "$TMP"
runuser -u nobody -- env HOME="$TMP" lintian "$DEB" >"$TMP/lintian.txt" 2>&1
rc=$?
echo "lintian $(basename "$DEB") (exit $rc; 1: errors, 2: lintian failed):"
sed 's/^/    /' "$TMP/lintian.txt"
check "lintian: no errors" eval '[ $rc = 0 ] && ! grep -q "^E: " "$TMP/lintian.txt"'
check "dpkg-buildpackage built $(basename "$TOOLS_DEB")" test -f "$TOOLS_DEB"
runuser -u nobody -- env HOME="$TMP" lintian "$TOOLS_DEB" >"$TMP/lintian-tools.txt" 2>&1
rc=$?
echo "lintian $(basename "$TOOLS_DEB") (exit $rc):"
sed 's/^/    /' "$TMP/lintian-tools.txt"
check "lintian tsnatd-tools: no errors" eval '[ $rc = 0 ] && ! grep -q "^E: " "$TMP/lintian-tools.txt"'

# --- install -------------------------------------------------------------
INSTALLED=1 TOUCHED=1
if ! dpkg -i "$DEB" >"$TMP/install.log" 2>&1; then
	cat "$TMP/install.log"
	die "dpkg -i $(basename "$DEB") (log above)"
fi
check "dpkg -i: installed" eval \
	'[ "$(dpkg-query -W -f="\${db:Status-Status}" tsnatd)" = installed ]'

dpkg -L tsnatd >"$TMP/files.txt"
listed() { grep -qx -- "$1" "$TMP/files.txt"; }
# dh_compress gzips documents larger than 4 KiB: either name will do.
listed_doc() { listed "$1" || listed "$1.gz"; }
for f in /usr/sbin/tsnatd /usr/sbin/tsnatctl /etc/tsnatd/tsnatd.conf \
	 /lib/systemd/system/tsnatd.service /lib/systemd/system/run-tsnatd-bpf.mount \
	 /usr/lib/sysusers.d/tsnatd.conf \
	 /usr/share/man/man8/tsnatd.8.gz /usr/share/man/man8/tsnatctl.8.gz \
	 /usr/share/man/man5/tsnatd.conf.5.gz /usr/share/doc/tsnatd/copyright; do
	check "dpkg -L has $f" listed "$f"
done
for d in README.md ARCHITECTURE.md DESIGN.md; do
	# uncompressed: the man pages name /usr/share/doc/tsnatd/DESIGN.md
	check "dpkg -L has /usr/share/doc/tsnatd/$d" listed "/usr/share/doc/tsnatd/$d"
done
# the operator's guide, where the README's links expect it, and NEWS
for d in doc/install-and-upgrade.md doc/troubleshooting.md doc/rollback-and-removal.md \
	 doc/support.md doc/DESIGN.md; do
	check "dpkg -L has /usr/share/doc/tsnatd/$d" listed "/usr/share/doc/tsnatd/$d"
done
check "dpkg -L has /usr/share/doc/tsnatd/NEWS" listed_doc /usr/share/doc/tsnatd/NEWS
for f in tsnatd.conf tsnatd.rules.yml tsnatd-grafana.json; do
	check "dpkg -L has /usr/share/doc/tsnatd/examples/$f" \
		listed_doc /usr/share/doc/tsnatd/examples/$f
done
check "nothing from the test builds is installed (tsnatd-legacy)" \
	eval '! grep -q tsnatd-legacy "$TMP/files.txt"'
check "/etc/tsnatd/tsnatd.conf is a conffile" \
	eval 'dpkg-query -W -f="\${Conffiles}\n" tsnatd | grep -q "^ /etc/tsnatd/tsnatd.conf "'
check "/etc/tsnatd/tsnatd.conf is conf/tsnatd.conf" cmp -s /etc/tsnatd/tsnatd.conf "$TMP/src/conf/tsnatd.conf"

# The user the unit runs as, from the sysusers.d file.
IFS=: read -r _ _ uid _ _ _ shell < <(getent passwd tsnatd)
check "user tsnatd exists" test -n "${uid:-}"
check "user tsnatd is a system user (uid ${uid:-?} < 1000) without a login shell" \
	eval '[ "${uid:-1000}" -lt 1000 ] && [ "${shell:-}" = /usr/sbin/nologin ]'
check "group tsnatd exists" eval 'getent group tsnatd >/dev/null'

# The installed programs.
/usr/sbin/tsnatd -t -c /etc/tsnatd/tsnatd.conf >"$TMP/t.txt" 2>&1
rc=$?
sed 's/^/    /' "$TMP/t.txt"
check "/usr/sbin/tsnatd -t -c /etc/tsnatd/tsnatd.conf: exit 0, configuration OK" \
	eval '[ $rc = 0 ] && grep -q "configuration OK" "$TMP/t.txt"'
check "/usr/sbin/tsnatd --version is $VERSION" \
	eval '[ "$(/usr/sbin/tsnatd --version)" = "tsnatd $VERSION" ]'
/usr/sbin/tsnatctl --help >"$TMP/help.txt" 2>&1
rc=$?
check "/usr/sbin/tsnatctl --help: exit 0, usage" eval '[ $rc = 0 ] && grep -q "^usage: tsnatctl" "$TMP/help.txt"'

# The unit: the Makefile's substitutions done, and valid.
UNIT=/lib/systemd/system/tsnatd.service
check "unit runs /usr/sbin/tsnatd -c /etc/tsnatd/tsnatd.conf" \
	grep -qx "ExecStart=/usr/sbin/tsnatd -c /etc/tsnatd/tsnatd.conf" "$UNIT"
check "unit has no @VARIABLE@ left" eval '! grep -q "@[A-Z]*@" "$UNIT"'
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify --man=no "$UNIT" >"$TMP/verify.txt" 2>&1
	sed 's/^/    /' "$TMP/verify.txt"
	check "systemd-analyze verify $UNIT: clean" test ! -s "$TMP/verify.txt"
fi

# Installed disabled and not started (doc/install-and-upgrade.md).
check "systemctl is-enabled tsnatd: disabled" \
	eval '[ "$(systemctl is-enabled tsnatd.service 2>/dev/null)" = disabled ]'
check "no tsnatd.service link in /etc/systemd/system/*.wants" \
	eval '! ls /etc/systemd/system/*.wants/tsnatd.service >/dev/null 2>&1'
POSTINST=/var/lib/dpkg/info/tsnatd.postinst
check "postinst starts nothing (try-restart on upgrades only)" \
	eval '! grep -Eq "deb-systemd-invoke +(start|restart)|systemctl +(start|restart|enable)" "$POSTINST"'
if [ -d /run/systemd/system ]; then
	check "tsnatd.service is not active" \
		eval '[ "$(systemctl is-active tsnatd.service)" != active ]'
else
	echo "     (systemd is not running here: nothing could have started the unit)"
fi
check "no /usr/sbin/tsnatd process" eval '! pgrep -f "^/usr/sbin/tsnatd( |\$)" >/dev/null'

# --- reinstall over a changed conffile, remove ---------------------------
echo "# operator's change" >>/etc/tsnatd/tsnatd.conf
dpkg -i "$DEB" >"$TMP/reinstall.log" 2>&1
rc=$?
check "dpkg -i again: exit 0" eval '[ $rc = 0 ] || { cat "$TMP/reinstall.log"; false; }'
check "dpkg -i again: the changed conffile is kept" \
	eval 'tail -1 /etc/tsnatd/tsnatd.conf | grep -qx "# operator.s change"'
check "dpkg -i again: user tsnatd has the same uid" \
	eval '[ "$(id -u tsnatd 2>/dev/null)" = "${uid:-x}" ]'

# What the unit would have made while running: purge must take it, the
# bpf file system the unit mounts for the kernel data path included.
install -d -o tsnatd -g tsnatd -m 0700 /var/lib/tsnatd
install -d -o tsnatd -g tsnatd -m 0750 /run/tsnatd
touch /var/lib/tsnatd/marks /run/tsnatd/tsnatd.state
chown tsnatd:tsnatd /var/lib/tsnatd/marks /run/tsnatd/tsnatd.state
mkdir /run/tsnatd/bpf
if mount -t bpf -o mode=0700 tsnatd-bpf /run/tsnatd/bpf 2>/dev/null; then
	BPFFS=/run/tsnatd/bpf
else
	echo "     (cannot mount a bpf file system here: purge's unmount not exercised)"
fi

dpkg --remove tsnatd >"$TMP/remove.log" 2>&1
rc=$?
check "dpkg --remove: exit 0" eval '[ $rc = 0 ] || { cat "$TMP/remove.log"; false; }'
check "dpkg --remove: /usr/sbin/tsnatd and the unit are gone" \
	eval '[ ! -e /usr/sbin/tsnatd ] && [ ! -e "$UNIT" ]'
check "dpkg --remove: the configuration, the state and user tsnatd are kept" \
	eval '[ -f /etc/tsnatd/tsnatd.conf ] && [ -f /var/lib/tsnatd/marks ] && getent passwd tsnatd >/dev/null'

# --- purge ---------------------------------------------------------------
dpkg --purge tsnatd >"$TMP/purge.log" 2>&1
rc=$?
check "dpkg --purge: exit 0, nothing on stderr about the user" \
	eval '[ $rc = 0 ] && ! grep -q "could not remove" "$TMP/purge.log" || { cat "$TMP/purge.log"; false; }'
[ $rc = 0 ] && INSTALLED=""
check "dpkg --purge: package unknown to dpkg" \
	eval '! dpkg-query -W tsnatd >/dev/null 2>&1 ||
	      [ "$(dpkg-query -W -f="\${db:Status-Status}" tsnatd)" = not-installed ]'
left=""
while read -r f; do
	# directories the package shares with others (/usr/sbin, ...) stay
	if [ -e "$f" ] && [ ! -d "$f" ]; then left="$left $f"; fi
done <"$TMP/files.txt"
check "dpkg --purge: no file of dpkg -L left${left:+:$left}" test -z "$left"
if [ -n "$BPFFS" ]; then
	check "dpkg --purge: the bpf file system on /run/tsnatd/bpf is unmounted" \
		eval '! mountpoint -q /run/tsnatd/bpf' && BPFFS=""
fi
for d in /etc/tsnatd /usr/share/doc/tsnatd /var/lib/tsnatd /run/tsnatd; do
	check "dpkg --purge: no $d" test ! -e "$d"
done
check "dpkg --purge: no user tsnatd" eval '! getent passwd tsnatd >/dev/null'
check "dpkg --purge: no group tsnatd" eval '! getent group tsnatd >/dev/null'
check "dpkg --purge: no deb-systemd-helper state for tsnatd.service" \
	eval '! ls /var/lib/systemd/deb-systemd-helper-enabled/tsnatd.service.dsh-also \
		/var/lib/systemd/deb-systemd-helper-masked/tsnatd.service >/dev/null 2>&1'
check "dpkg --purge: no /var/lib/dpkg/info/tsnatd.*" \
	eval '! ls /var/lib/dpkg/info/tsnatd.* >/dev/null 2>&1'

# --- tsnatd-tools: the emulator, alone on a lab server ---------------------
TOOLS_INSTALLED=1
dpkg -i "$TOOLS_DEB" >"$TMP/install-tools.log" 2>&1
rc=$?
check "dpkg -i tsnatd-tools without tsnatd: exit 0" eval '[ $rc = 0 ] || { cat "$TMP/install-tools.log"; false; }'
dpkg -L tsnatd-tools >"$TMP/files-tools.txt" 2>/dev/null
for f in /usr/sbin/tsnatd-legacy /usr/share/man/man8/tsnatd-legacy.8.gz \
	 /usr/share/doc/tsnatd-tools/copyright; do
	check "dpkg -L tsnatd-tools has $f" grep -qx -- "$f" "$TMP/files-tools.txt"
done
/usr/sbin/tsnatd-legacy --help >"$TMP/legacy-help.txt" 2>&1
rc=$?
check "/usr/sbin/tsnatd-legacy --help: exit 0, names its man page" \
	eval '[ $rc = 0 ] && grep -q "tsnatd-legacy(8)" "$TMP/legacy-help.txt"'
dpkg --purge tsnatd-tools >"$TMP/purge-tools.log" 2>&1
rc=$?
check "dpkg --purge tsnatd-tools: exit 0" eval '[ $rc = 0 ] || { cat "$TMP/purge-tools.log"; false; }'
[ $rc = 0 ] && TOOLS_INSTALLED=""
left=""
while read -r f; do
	if [ -e "$f" ] && [ ! -d "$f" ]; then left="$left $f"; fi
done <"$TMP/files-tools.txt"
check "dpkg --purge tsnatd-tools: no file of dpkg -L left${left:+:$left}" test -z "$left"

echo
if [ "$FAIL" -eq 0 ]; then
	echo "package-test: PASS ($PASS checks, $(basename "$DEB"), $(basename "$TOOLS_DEB"))"
else
	echo "package-test: FAIL ($FAIL of $((PASS + FAIL)) checks failed)"
	exit 1
fi
