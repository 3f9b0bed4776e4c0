#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/run.sh - make vmtest (root): the package on the system it is
# built for, a Debian 12 machine (kernel 6.1, systemd, nftables only),
# booted with qemu.
#  - the disk image: tests/vm/image.sh (mmdebstrap from this machine's apt
#    sources), cached in build/vm/image-KEY, KEY a hash of what makes it
#    (tests/vm/packages, image.sh, vmtest.service, the apt sources);
#  - the .deb: tests/package/build.sh, the build make package-test tests;
#  - the share (9p, read-write): the .deb, the legacy emulator and
#    test_shift (make's, built here: the VM's userspace is this
#    machine's Debian 12), tests/, and results/;
#  - qemu boots the image's own kernel (KVM where /dev/kvm works, TCG
#    otherwise), vmtest.service runs tests/vm/guest.sh as root under the
#    VM's systemd, then powers the VM off; the disk is a snapshot, the
#    cached image stays as built;
#  - a table, one line a check; exit 1 if any failed or the guest did not
#    get to its end (the console log is printed then).
# VMTEST_NEGATIVE=1: the negative control (a unit without its bpf file
# system mount): the offload checks must fail, and so must this.
# VMTEST_TIMEOUT: seconds the VM may run (default 2400).
set -u
cd "$(dirname "$0")/../.."
VM=build/vm
TIMEOUT=${VMTEST_TIMEOUT:-2400}
die() { echo "vmtest: FAIL - $*"; exit 1; }
now() { date +%s; }
T_START=$(now)

[ "$(id -u)" = 0 ] || die "vmtest needs root (mmdebstrap --mode=root, the package build's copy)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: apt-get install qemu-system-x86 (.ci/install-deps)"
for f in build/tsnatd-legacy build/bpf/test_shift; do
	[ -x "$f" ] || die "$f missing: make all build/bpf/test_shift first (make vmtest does)"
done
mkdir -p "$VM"

# --- the image ---------------------------------------------------------
SOURCES=${VMTEST_SOURCES:-/etc/apt/sources.list.d/debian.sources}
KEY=$(cat tests/vm/packages tests/vm/image.sh tests/vm/vmtest.service "$SOURCES" 2>/dev/null |
	sha256sum | cut -c1-16)
IMG=$VM/image-$KEY
T_IMAGE=0
if [ -f "$IMG/disk.img" ] && [ -f "$IMG/vmlinuz" ] && [ -f "$IMG/initrd.img" ]; then
	echo "vmtest: image $IMG (cached)"
else
	echo "vmtest: building the image $IMG (mmdebstrap, a few minutes)"
	t=$(now)
	VMTEST_SOURCES=$SOURCES tests/vm/image.sh "$IMG" || die "could not build the image (above)"
	T_IMAGE=$(( $(now) - t ))
	echo "vmtest: image built in ${T_IMAGE}s ($(du -sh --apparent-size "$IMG/disk.img" | cut -f1) disk, $(du -sh "$IMG/disk.img" | cut -f1) used)"
	# older images: keep the new one only
	for old in "$VM"/image-*; do
		[ "$old" = "$IMG" ] || rm -rf "$old"
	done
fi

# --- the share: the package, the emulator, the tests ---------------------
SHARE=$VM/share
rm -rf "$SHARE" "$VM/pkg"
mkdir -p "$SHARE/results" "$VM/pkg"
t=$(now)
DEB=$(tests/package/build.sh "$PWD/$VM/pkg") || die "building the package (tests/package/build.sh)"
T_DEB=$(( $(now) - t ))
cp "$DEB" "$SHARE/" || die "copying the package"
cp -L build/tsnatd-legacy build/bpf/test_shift "$SHARE/"
mkdir -p "$SHARE/tests"
cp -r tests/e2e tests/vm "$SHARE/tests/"
[ -n "${VMTEST_NEGATIVE:-}" ] && touch "$SHARE/negative"

# --- boot ----------------------------------------------------------------
# KVM when it works here, TCG otherwise (-cpu qemu64: 10-25% faster than
# max under TCG, and the guest loads no kvm module). /dev/kvm can open and
# still fail at the first vCPU run (nested, MSRs): qemu then aborts before
# the guest is up, and the boot is done again with TCG.
# One vCPU: with two, veth's per-CPU backlogs under TCG reorder a
# transfer's segments by milliseconds, and the server counts PAWSEstab
# (an older TSval behind a newer one) with no tsnatd at all (180-670 in a
# 3 s iperf3 with checksums in software), which would hide the drops a
# wrong shift causes. A second vCPU made the boot no faster either.
CONSOLE=$VM/console.log
boot() { # ACCEL...
	timeout "$TIMEOUT" qemu-system-x86_64 -machine q35 "$@" -m 2048 -smp 1 \
		-display none -monitor none -no-reboot -nic none \
		-kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
		-append "console=ttyS0 root=/dev/vda rw quiet vmtest=1 panic=-1" \
		-drive "file=$IMG/disk.img,if=virtio,format=raw,snapshot=on" \
		-virtfs "local,path=$PWD/$SHARE,mount_tag=vmtest,security_model=none,id=vmtest" \
		-serial "file:$CONSOLE"
}
echo "vmtest: booting $(basename "$(readlink -f "$IMG/vmlinuz")") of the image, at most ${TIMEOUT}s"
t=$(now)
rc=1
if [ -c /dev/kvm ]; then
	boot -accel kvm -cpu host 2>"$VM/qemu-kvm.err"
	rc=$?
	if [ "$rc" != 0 ] && [ ! -f "$SHARE/results/boot" ]; then
		echo "vmtest: KVM does not work here (qemu: $(grep -m1 error "$VM/qemu-kvm.err")): TCG"
		rc=1
	else
		ACCEL=kvm
	fi
fi
if [ "${ACCEL:-}" != kvm ]; then
	ACCEL=tcg
	t=$(now)
	boot -accel tcg -cpu qemu64
	rc=$?
fi
T_VM=$(( $(now) - t ))
RES=$SHARE/results
cp "$CONSOLE" "$RES/" 2>/dev/null

# --- the table -----------------------------------------------------------
echo
PASS=0 FAIL=0
if [ -s "$RES/checks" ]; then
	while IFS=$'\t' read -r verdict name; do
		printf '%-4s  %s\n' "$verdict" "$name"
		if [ "$verdict" = PASS ]; then PASS=$((PASS + 1)); else FAIL=$((FAIL + 1)); fi
	done <"$RES/checks"
fi
if [ "$rc" = 124 ]; then
	printf 'FAIL  %s\n' "the VM ran past ${TIMEOUT}s: stopped"; FAIL=$((FAIL + 1))
elif [ "$rc" != 0 ]; then
	printf 'FAIL  %s\n' "qemu exited $rc"; FAIL=$((FAIL + 1))
fi
if [ ! -f "$RES/done" ]; then
	printf 'FAIL  %s\n' "the guest did not get to its end (console: $RES/console.log)"
	FAIL=$((FAIL + 1))
	echo "--- console (last 40 lines)"; tail -40 "$CONSOLE"
	echo "--- guest log (last 40 lines)"; tail -40 "$RES/guest.log" 2>/dev/null
fi
[ "$PASS" -gt 0 ] || { printf 'FAIL  %s\n' "no check ran"; FAIL=$((FAIL + 1)); }
grep -h "^verifier" "$RES/test_shift.txt" 2>/dev/null | sed 's/^/6.1 /'
echo
echo "vmtest: image ${T_IMAGE}s (0: cached), package ${T_DEB}s, VM ${T_VM}s with $ACCEL (boot $(sed -n 's/^booted \([0-9]*\)s$/\1/p' "$RES/boot" 2>/dev/null)s), whole run $(( $(now) - T_START ))s; logs in $RES"
if [ "$FAIL" -eq 0 ]; then
	echo "vmtest: PASS ($PASS checks)"
else
	echo "vmtest: FAIL ($FAIL of $((PASS + FAIL)) checks failed)"
	exit 1
fi
