#!/usr/bin/env bash
# Installs everything associated-learning needs on a fresh Debian/Ubuntu machine, then builds it:
# system packages (a C++ toolchain, Python for node-gyp, oneDNN, clang-format for `npm run lint`, the Fashion-MNIST
# dataset, Chromium for the test that opens al report's page, NumPy for the test of .npy files) only where missing, then
# `npm install`, which compiles the native addon (node-gyp) and the TypeScript (tsc).
# Options: --with-torch also installs Debian's PyTorch, which `al bench` compares against, with
# OpenBLAS: without it Debian's PyTorch runs nn.Linear on the netlib reference BLAS (about
# 3 GFLOP/s here), which would make any comparison meaningless.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v g++ >/dev/null 2>&1 || packages+=(g++)
command -v make >/dev/null 2>&1 || packages+=(make)
command -v python3 >/dev/null 2>&1 || packages+=(python3)
dpkg -s libdnnl-dev >/dev/null 2>&1 || packages+=(libdnnl-dev)
# `npm run lint` (the first step of `npm test`) checks the C++ layout with clang-format (.clang-format).
command -v clang-format >/dev/null 2>&1 || packages+=(clang-format)
# Fashion-MNIST's four IDX files, in /usr/share/datasets/fashion-mnist (al train --data-dir overrides).
dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || packages+=(dataset-fashion-mnist)
# The test of `al report` opens the page in headless Chromium (it is skipped, saying so, without it).
dpkg -s chromium >/dev/null 2>&1 || packages+=(chromium)
# The test of --dataset npy and csv also trains on files written by NumPy (skipped, saying so, without it).
/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || packages+=(python3-numpy)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
if [[ "${1:-}" == "--with-torch" ]]; then
  /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || packages+=(python3-torch)
  dpkg -s libopenblas0-openmp >/dev/null 2>&1 || packages+=(libopenblas0-openmp)
fi

if (( ${#packages[@]} > 0 )); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "setup: installing ${packages[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}"
fi

major=$(node -p 'process.versions.node.split(".")[0]')
if (( major < 20 )); then
  echo "setup: Node.js 20 or newer is needed, found $(node --version)" >&2
  exit 1
fi

# node-gyp builds against the installed Node headers (.npmrc: nodedir=/usr); nothing is downloaded.
if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
