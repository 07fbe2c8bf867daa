#!/usr/bin/env bash
# Sets kiln up on Debian 12: installs the Debian packages it needs (only those missing; as root
# or through sudo), then configures and builds it into build/. Safe to run again.
# Extra CMake arguments can be passed in KILN_CMAKE_ARGS (e.g. -DKILN_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build pkg-config          # toolchain
  libcli11-dev nlohmann-json3-dev           # command line, JSON
  zlib1g-dev libspng-dev                    # gzip (IDX files), PNG
  libjpeg62-turbo-dev libgif-dev           # JPEG, GIF
  libarchive-dev                            # archives (CIFAR's, Keras's .keras)
  libhdf5-dev python3-h5py                  # Keras's .h5 files; the tests write them with h5py
  libopenmpi-dev openmpi-bin                # data-parallel training over MPI (kiln::mpi), mpirun for its tests
  libcurl4-openssl-dev libssl-dev           # dataset download, SHA-256
  libcairo2-dev fonts-dejavu-core           # pictures (PNG, SVG, PDF) and their text
  libgraphviz-dev                           # the layout of a model's graph (plot::model)
  libboost-dev libsimdjson-dev              # kiln serve: HTTP (Boost.Beast), request bodies
  libgtest-dev curl                         # tests
  dpkg-dev file                             # cpack's Debian packages (dpkg-shlibdeps)
  clang libclang-rt-14-dev                  # the sanitized build and its libFuzzer harnesses
  chromium chromium-driver                  # the browser test of kiln serve's page
  python3                                   # the CLI test writes its PNG fixtures with it
  python3-onnx python3-opencv python3-numpy # ONNX export checked by onnx's checker and OpenCV
  dataset-fashion-mnist                     # the data, in /usr/share/datasets/fashion-mnist
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# shellcheck disable=SC2086
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${KILN_CMAKE_ARGS:-}
cmake --build build
