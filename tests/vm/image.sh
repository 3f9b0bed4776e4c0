#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/image.sh OUTDIR - the Debian 12 disk image vmtest boots (root):
# mmdebstrap from this machine's apt sources with tests/vm/packages,
# then an ext4 image of it. Writes OUTDIR/disk.img, OUTDIR/vmlinuz,
# OUTDIR/initrd.img and OUTDIR/packages.lock (the versions in it). Exits
# non-zero, saying why, when it cannot.
set -eu
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
SOURCES=${VMTEST_SOURCES:-/etc/apt/sources.list.d/debian.sources}
die() { echo "vmtest image: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap --mode=root)"
command -v mmdebstrap >/dev/null || die "mmdebstrap missing (.ci/install-deps)"
command -v mke2fs >/dev/null || die "mke2fs missing (e2fsprogs)"
[ -r "$SOURCES" ] || die "no apt sources at $SOURCES (set VMTEST_SOURCES)"

pkgs=$(sed 's/#.*//' "$HERE/packages" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"
ROOT=$OUT.tmp/root
# --variant=apt: Essential packages and apt; the rest named in packages.
# The customize hooks make a machine that runs vmtest's script and nothing
# else at boot: no getty on the serial line (under a test it hangs the
# line up), a root file system from /dev/vda, a unit that runs the
# script of the share "vmtest" (tests/vm/guest.sh sets it up).
mmdebstrap --mode=root --variant=apt --include="$pkgs" \
	--customize-hook='echo vmtest >"$1/etc/hostname"' \
	--customize-hook='echo "127.0.1.1 vmtest" >>"$1/etc/hosts"' \
	--customize-hook='printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\n" >"$1/etc/fstab"' \
	--customize-hook='chroot "$1" systemctl mask serial-getty@ttyS0.service getty@tty1.service \
		apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service >/dev/null' \
	--customize-hook="install -m 0644 $HERE/vmtest.service \"\$1/etc/systemd/system/vmtest.service\"" \
	--customize-hook='chroot "$1" systemctl enable vmtest.service >/dev/null 2>&1' \
	--customize-hook='chroot "$1" dpkg-query -W -f="\${Package} \${Version}\n" >"$1/../packages.lock"' \
	--customize-hook='cp -L "$1/vmlinuz" "$1/../vmlinuz" && cp -L "$1/initrd.img" "$1/../initrd.img"' \
	bookworm "$ROOT" "$SOURCES" >"$OUT.tmp/mmdebstrap.log" 2>&1 ||
	{ tail -30 "$OUT.tmp/mmdebstrap.log" >&2; die "mmdebstrap failed (log above)"; }
if chroot "$ROOT" dpkg-query -W iptables >/dev/null 2>&1; then
	die "iptables came into the image (a dependency?): it must hold nftables only"
fi
mke2fs -q -t ext4 -L vmroot -d "$ROOT" "$OUT.tmp/disk.img" 2G ||
	die "mke2fs -d failed"
rm -rf "$ROOT"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
