#!/usr/bin/env bash
# Download the wheels that tools/analysis/gpu_check.sh installs on a bare GPU machine (Python 3.12,
# torch 2.11 preinstalled, no network) into .whl/ (kept out of git by .gitignore).
#
# What is fetched: mmengine 0.10.7, mmpretrain 1.2.0, mmcv 2.1.0 without compiled ops, torchvision
# 0.26.0 (mmpretrain imports it; gpu_check.sh skips it where the machine has one) and their
# runtime dependencies, pinned to the versions this project's .venv runs. cp312 manylinux x86_64
# wheels, or pure-Python ones; opencv-python-headless stands in for opencv-python (same cv2
# module, no GUI libraries).
#
# mmcv 2.1.0: the registry has no Linux wheel of mmcv with ops, but its ops-free build is
# published as the wheel mmcv-lite 2.1.0 (py2.py3-none-any; import name mmcv). Classification with
# mmpretrain imports no mmcv.ops. MMCV_FROM_SDIST=1 builds that wheel here instead, from the mmcv
# 2.1.0 sdist with MMCV_WITH_OPS=0 (setup.py then names the distribution mmcv-lite).
#
# Usage (from the repository root):
#   bash tools/analysis/fetch_gpu_wheels.sh
#   PYTHON_VERSION=3.11 WHEEL_DIR=/tmp/whl311 bash tools/analysis/fetch_gpu_wheels.sh  # rehearsal
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
PYTHON_VERSION=${PYTHON_VERSION:-3.12}
DEST=${WHEEL_DIR:-.whl}
mkdir -p "$DEST"

WHEELS=(
  mmengine==0.10.7 mmpretrain==1.2.0 torchvision==0.26.0
  # mmengine
  addict==2.4.0 matplotlib==3.11.2 numpy==2.4.6 pyyaml==6.0.4 rich==15.0.0 termcolor==3.3.0
  yapf==0.43.0 opencv-python-headless==5.0.0.93
  # mmcv
  packaging==26.4 pillow==13.0.0
  # mmpretrain
  einops==0.8.2 importlib-metadata==10.2.0 mat4py==0.6.0 modelindex==0.0.2
  # theirs: rich, yapf, matplotlib, importlib-metadata, modelindex
  markdown-it-py==4.3.0 mdurl==0.1.2 pygments==2.21.0 platformdirs==4.14.8
  contourpy==1.3.3 cycler==0.12.1 fonttools==4.68.0 kiwisolver==1.5.1 pyparsing==3.3.3
  python-dateutil==4.0.0 six==1.17.0 zipp==4.1.2
  model-index==0.1.11 click==8.5.1 markdown==3.11.3 ordered-set==4.1.0
  # mmengine imports pkg_resources, gone from setuptools >= 81 (torch on Python 3.12 pulls one in)
  setuptools==80.10.2
)

download() {
  "$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PYTHON_VERSION" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$DEST" "$@"
}

echo "[fetch_gpu_wheels] ${#WHEELS[@]} wheels for CPython $PYTHON_VERSION into $DEST"
download "${WHEELS[@]}"

if [ "${MMCV_FROM_SDIST:-0}" = 1 ]; then
  # setup.py imports pkg_resources (setuptools < 81) and, without ops, needs no torch
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$PY" -m venv "$tmp/venv"
  "$tmp/venv/bin/python" -m pip install --quiet 'setuptools>=77,<81' wheel
  MMCV_WITH_OPS=0 "$tmp/venv/bin/python" -m pip wheel --quiet --no-cache-dir --no-deps \
    --no-build-isolation --no-binary mmcv -w "$tmp/wheel" mmcv==2.1.0
  mv "$tmp"/wheel/*.whl "$DEST"/
else
  download mmcv-lite==2.1.0
fi

ls -l "$DEST"/*.whl | awk '{ printf "%8.1f MiB  %s\n", $5 / 1048576, $9 }'
du -cb "$DEST"/*.whl | awk 'END { printf "total %.1f MiB in %s\n", $1 / 1048576, "'"$DEST"'" }'
echo "over the device tool's 64 MiB carry? see the two-call recipe in tools/analysis/gpu_check.sh"
