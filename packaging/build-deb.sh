#!/bin/sh
# Builds the Debian package (make deb): BUILD/deb/outpost_<version>_<arch>.deb,
# version from CMakeLists.txt's project(), with debhelper (packaging/debian).
#
#   packaging/build-deb.sh [BUILD]     (default: build)
#
# debian/ lives in packaging/ rather than at the top of the tree, so the
# package is built from a staging folder, BUILD/deb/outpost-<version>/:
# debian/ (a fresh copy, with a changelog made here), src -> this tree and
# obj/ (the CMake build, kept: a rebuild only recompiles what changed).
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$src/build}")
jobs=${JOBS:-$(nproc)}

version=$(sed -n 's/^project(outpost VERSION \([0-9][0-9.]*\)[ )].*/\1/p' "$src/CMakeLists.txt")
if [ -z "$version" ]; then
    echo "build-deb: no 'project(outpost VERSION x.y.z' line in CMakeLists.txt" >&2
    exit 1
fi

stage=$build/deb/outpost-$version
mkdir -p "$stage"
rm -rf "$stage/debian"
cp -RL "$src/packaging/debian" "$stage/debian"
ln -sfn "$src" "$stage/src"

# A native package's changelog: the version and the revision it was built
# from, dated by that commit so rebuilds of one commit are identical.
revision=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
date=$(git -C "$src" log -1 --format=%aD 2>/dev/null || date -R)
cat >"$stage/debian/changelog" <<CHANGELOG
outpost ($version) unstable; urgency=medium

  * Built from revision $revision.

 -- outpost maintainers <outpost@example.org>  $date
CHANGELOG

# Earlier versions' artifacts would make "the" .deb ambiguous.
find "$build/deb" -maxdepth 1 -type f -name 'outpost*' ! -name "outpost*_${version}_*" -delete
rm -f "$build/deb/outpost_${version}"_*

cd "$stage"
# -nc: no `debian/rules clean`, so obj/ survives; debian/ is new each time,
# so every debhelper step runs again. The log is shown only on failure.
log=$build/deb/build.log
if ! dpkg-buildpackage -b -nc -us -uc -j"$jobs" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "build-deb: dpkg-buildpackage failed, whole log in $log" >&2
    exit 1
fi
echo "build-deb: $(ls "$build/deb/"outpost_"$version"_*.deb)"
