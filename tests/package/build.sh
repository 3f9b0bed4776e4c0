#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/package/build.sh DIR - the Debian package from this checkout, the
# build make package-test and make vmtest test: a copy of the checkout
# (tracked files, with their uncommitted changes) in DIR/src, built there
# with dpkg-buildpackage -us -uc -b, which writes the .deb into DIR (the
# parent of the source tree): nothing lands outside DIR. Prints the path
# of tsnatd's .deb (the others, tsnatd-tools, are beside it); the build
# log is DIR/build.log. DEB_BUILD_OPTIONS defaults to
# nocheck (make check runs the unit tests itself).
set -u
cd "$(dirname "$0")/../.."
SRC=$PWD
DIR=$1
die() { echo "package build: $*" >&2; exit 1; }
for tool in dpkg-buildpackage dh dpkg-parsechangelog; do
	command -v "$tool" >/dev/null ||
		die "$tool missing: apt-get install debhelper dpkg-dev (.ci/install-deps)"
done
mkdir "$DIR/src" || die "cannot make $DIR/src"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
	# A commit of the working tree's tracked files (HEAD if unchanged);
	# git stash create touches neither the tree nor the stash list.
	rev=$(git -C "$SRC" stash create)
	what="HEAD $(git -C "$SRC" rev-parse --short HEAD)${rev:+ with uncommitted changes}"
	git -C "$SRC" archive "${rev:-HEAD}" | tar -x -C "$DIR/src" || die "git archive"
else
	what="$SRC (not a git checkout)"
	tar -C "$SRC" --exclude=./build --exclude=./debian/tsnatd --exclude=./debian/.debhelper \
		-cf - . | tar -x -C "$DIR/src" || die "copying $SRC"
fi
echo "building from $what in $DIR/src" >&2
VERSION=$(dpkg-parsechangelog -l "$DIR/src/debian/changelog" -S Version)
DEB=$DIR/tsnatd_${VERSION}_$(dpkg --print-architecture).deb
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck}
case " $DEB_BUILD_OPTIONS " in *" nocheck "*) export DEB_BUILD_PROFILES=nocheck ;; esac
if ! (cd "$DIR/src" && dpkg-buildpackage -us -uc -b) >"$DIR/build.log" 2>&1; then
	tail -40 "$DIR/build.log" >&2
	die "dpkg-buildpackage -us -uc -b (log above)"
fi
[ -f "$DEB" ] || die "dpkg-buildpackage made no $(basename "$DEB")"
echo "$DEB"
