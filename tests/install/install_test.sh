#!/usr/bin/env bash
# kiln installed as a user installs it: cmake --install into a temporary prefix, then this
# folder's outside project built against it with find_package(kiln) and with pkg-config, and
# again with CMake after the prefix has moved (the packages are relocatable). Each build loads
# a model that the installed kiln tool trained, and evaluates it as `kiln evaluate` does.
# Usage: install_test.sh PATH/TO/kiln BUILD_DIR [EXTRA_CXX_FLAGS]
set -u
source "$(dirname "$0")/../check.sh"
here=$(realpath "$(dirname "$0")")
build=$(realpath "$2")
flags=${3:-}
prefix=$WORK/prefix

out=$(cmake --install "$build" --prefix "$prefix" 2>&1)
check "cmake --install succeeds: $(tail -3 <<<"$out")" test $? -eq 0
for f in bin/kiln include/kiln/kiln.hpp include/kiln/version.hpp share/bash-completion/completions/kiln \
  share/doc/kiln/README.md; do
  check "installed $f" test -s "$prefix/$f"
done
cmake_dir=$(dirname "$(find "$prefix" -name kilnConfig.cmake)")
pc_dir=$(dirname "$(find "$prefix" -name kiln.pc)")
check "installed kilnConfig.cmake and kilnConfigVersion.cmake" test -s "$cmake_dir/kilnConfigVersion.cmake"
check "installed kiln.pc" test -s "$pc_dir/kiln.pc"
lib=$(find "$prefix" -name 'libkiln.so.*.*.*' -o -name libkiln.a | head -1)
check "installed the library (found '$lib')" test -n "$lib"
if [[ $lib == *.so.* ]]; then
  soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
  check "SONAME carries the ABI version (got '$soname')" matches "$soname" '^libkiln\.so\.[0-9]+\.[0-9]+$'
fi

# The installed tool runs from its prefix, and trains the model the programs load.
version=$("$prefix/bin/kiln" --version)
check "installed kiln --version names the version: $version" matches "$version" '^kiln [0-9]+\.[0-9]+\.[0-9]+$'
check "kiln --version names the instruction sets" matches "$version" '^instruction sets: [a-z0-9_]+ \(in use\)'
check "kiln --version names the libraries" matches "$version" '^libraries: zlib [0-9]'
"$prefix/bin/kiln" train --epochs 1 --validation-size 50000 --verbose 0 --seed 3 --output "$WORK/model" >/dev/null
check "installed kiln trains a model" test -s "$WORK/model/model.safetensors"
expected=$(printf '%.4f' "$("$prefix/bin/kiln" evaluate "$WORK/model" --json | sed -n 's/.*"accuracy":\([0-9.e-]*\).*/\1/p')")

# Builds the outside project against PREFIX with CMake, runs it, and checks its accuracy.
build_with_cmake() {
  local name=$1 at=$2
  cmake -S "$here" -B "$WORK/$name" -G Ninja -DCMAKE_PREFIX_PATH="$at" -DCMAKE_CXX_FLAGS="$flags" >"$WORK/$name.log" 2>&1 &&
    cmake --build "$WORK/$name" >>"$WORK/$name.log" 2>&1
  local rc=$?
  check "$name: the outside project configures and builds with find_package(kiln)" test $rc -eq 0
  ((rc == 0)) || tail -20 "$WORK/$name.log"
  run_app "$name" "$WORK/$name/app"
}
run_app() {
  local name=$1 out
  out=$("$2" "$WORK/model" 2>&1)
  check "$name: the program loads the model and predicts: $out" matches "$out" '^classes:( [0-9]){5}$'
  check "$name: its accuracy is kiln evaluate's ($expected)" contains "$out" "accuracy: $expected"
}

build_with_cmake cmake "$prefix"
# SameMinorVersion: a 0.x release is found only by a request for its own minor version.
wrong=$(cmake -S "$here" -B "$WORK/wrong" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DKILN_WANTED=0.1 2>&1)
check "find_package(kiln 0.1) refuses kiln ${version%%$'\n'*}" contains "$wrong" "considered but not accepted"

# pkg-config, as a Makefile would use it.
# A static kiln needs --static: the libraries kiln links come with it.
pc_args=(--cflags --libs)
[[ $lib == *.a ]] && pc_args+=(--static)
pc_flags=$(PKG_CONFIG_PATH=$pc_dir pkg-config "${pc_args[@]}" kiln kiln-serving)
check "pkg-config --cflags --libs kiln kiln-serving: $pc_flags" matches "$pc_flags" '-lkiln_serving.*-lkiln'
libdir=$(PKG_CONFIG_PATH=$pc_dir pkg-config --variable=libdir kiln)
# shellcheck disable=SC2086
g++ -std=c++20 $flags "$here/app.cpp" -o "$WORK/app_pc" $pc_flags -Wl,-rpath,"$libdir" >"$WORK/pc.log" 2>&1
rc=$?
check "the outside program builds with pkg-config" test $rc -eq 0
((rc == 0)) || tail -20 "$WORK/pc.log"
run_app pkg-config "$WORK/app_pc"

# The prefix moved elsewhere: the CMake package finds itself where it now is.
mv "$prefix" "$WORK/moved"
build_with_cmake relocated "$WORK/moved"
"$WORK/moved/bin/kiln" --version >/dev/null
check "the moved kiln tool still finds its libraries" test $? -eq 0
finish
