#!/usr/bin/env bash
# Build mmcv 2.1.0 with compiled ops once per machine and cache the wheel outside the repository.
#
# Why a build: the package registry has no Linux wheel for mmcv 2.x, only the sdist, and mmdet 3.3.0 /
# mmsegmentation 1.2.2 refuse mmcv >= 2.2.0. No source patch is needed against torch 2.11
# (torch >= 2.14 headers would need -std=c++20). mmcv's setup.py imports pkg_resources and torch,
# hence --no-build-isolation in a venv that has torch and setuptools < 81.
#
# Usage: build_mmcv.sh PYTHON     prints the path of the cached wheel on its last line.
set -euo pipefail
PY=${1:?usage: build_mmcv.sh PYTHON}
MMCV_VERSION=2.1.0
TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')
PY_TAG=$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
CACHE_ROOT=${M2PT_MM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/m2pt_mm}
WHEEL_DIR="$CACHE_ROOT/wheels/mmcv-${MMCV_VERSION}_torch-${TORCH_VERSION}_${PY_TAG}"
mkdir -p "$WHEEL_DIR"
wheel=$(ls "$WHEEL_DIR"/mmcv-${MMCV_VERSION}-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "[build_mmcv] no cached wheel in $WHEEL_DIR: building mmcv ${MMCV_VERSION} with ops" \
       "(about 15 min on 2 cores, once per machine)" >&2
  "$PY" -m pip install --quiet 'setuptools>=77,<81' wheel ninja
  tmp=$(mktemp -d "$WHEEL_DIR/.build.XXXXXX")
  # --no-cache-dir: pip's own wheel cache is not keyed on the torch version, so it could hand back
  # an mmcv built against another torch (ABI mismatch); our cache directory name carries it.
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    "$PY" -m pip wheel --no-cache-dir --no-build-isolation --no-deps --no-binary mmcv \
    -w "$tmp" "mmcv==${MMCV_VERSION}" >&2
  # rename into place only once complete, so an interrupted build never looks cached
  mv "$tmp"/mmcv-*.whl "$WHEEL_DIR"/
  rm -rf "$tmp"
  wheel=$(ls "$WHEEL_DIR"/mmcv-${MMCV_VERSION}-*.whl | head -n 1)
fi
echo "$wheel"
