#!/usr/bin/env bash
# cpack -G DEB from a build folder: the kiln and libkiln-dev packages, their metadata (Depends
# on the Debian runtime packages kiln links) and their contents; the packaged tool runs from
# the unpacked package. Usage: package_test.sh PATH/TO/kiln BUILD_DIR
set -u
source "$(dirname "$0")/../check.sh"
build=$(realpath "$2")

out=$(cpack -G DEB --config "$build/CPackConfig.cmake" -B "$WORK/packages" 2>&1)
check "cpack -G DEB succeeds: $(tail -3 <<<"$out")" test $? -eq 0
tool=$(find "$WORK/packages" -maxdepth 1 -name 'kiln_*.deb')
dev=$(find "$WORK/packages" -maxdepth 1 -name 'libkiln-dev_*.deb')
check "cpack wrote kiln_*.deb ('$tool') and libkiln-dev_*.deb ('$dev')" test -s "$tool" -a -s "$dev"

version=$("$KILN" --version | head -1 | cut -d' ' -f2)
field() { dpkg-deb --field "$1" "$2"; }
check "kiln's version is $version" test "$(field "$tool" Version)" = "$version"
depends=$(field "$tool" Depends)
depends_on=$(tr ',|' '\n\n' <<<"$depends" | awk '{ print $1 }')
for p in libc6 libstdc++6 libspng0 libjpeg62-turbo libgif7 libarchive13 libhdf5-103-1 libcurl4 libssl3 libcairo2 libgvc6 zlib1g; do
  check "kiln depends on $p: $depends" grep -qxF "$p" <<<"$depends_on"
done
dev_depends=$(field "$dev" Depends)
check "libkiln-dev depends on kiln $version and nlohmann-json3-dev: $dev_depends" \
  matches "$dev_depends" "kiln \(= $version\).*nlohmann-json3-dev"

contents=$(dpkg --contents "$tool"; dpkg --contents "$dev")
for f in ./usr/bin/kiln ./usr/include/kiln/kiln.hpp ./usr/include/kiln/version.hpp kilnConfig.cmake \
  kilnConfigVersion.cmake kilnTargets.cmake pkgconfig/kiln.pc ./usr/share/bash-completion/completions/kiln \
  ./usr/share/doc/kiln/README.md; do
  check "the packages hold $f" contains "$contents" "$f"
done
check "kiln holds the shared library with its SONAME" matches "$(dpkg --contents "$tool")" 'libkiln\.so\.[0-9]+\.[0-9]+ -> libkiln\.so\.[0-9.]+$|libkiln\.so\.[0-9]+\.[0-9]+\.[0-9]+$'
check "the headers are in libkiln-dev, not kiln" test "$(dpkg --contents "$tool" | grep -c '/include/')" -eq 0

# The packaged tool, unpacked anywhere, finds the packaged libraries.
dpkg-deb -x "$tool" "$WORK/root"
out=$("$WORK/root/usr/bin/kiln" --version 2>&1)
check "the packaged kiln runs: $out" contains "$out" "kiln $version"
finish
