#!/usr/bin/env bash
# Create .venv (if missing) with the pinned OpenMMLab stack and m2pt_mm installed editable.
# Idempotent: `make` calls it only when a requirements file is newer than the stamp.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
step() { echo "[bootstrap $(date +%H:%M:%S)] $*"; }

if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --progress-bar off)
"${PIP[@]}" --quiet --upgrade 'pip>=24'
# setuptools < 81: mmengine 0.10.7 and mmcv's setup.py import pkg_resources, which 81 removes;
# wheel: the editable install of m2pt_mm (--no-build-isolation) builds a wheel
"${PIP[@]}" --quiet 'setuptools>=77,<81' wheel

step "torch stack (requirements/torch.txt)"
"${PIP[@]}" -r requirements/torch.txt

step "mmcv 2.1.0 with ops (cached wheel, built once per machine)"
MMCV_WHEEL=$(bash tools/install/build_mmcv.sh "$PY" | tail -n 1)
"${PIP[@]}" "$MMCV_WHEEL"

step "OpenMMLab stack, runtime and test requirements"
# The pins in mminstall.txt include mmcv==2.1.0, already satisfied by the wheel above, so pip never
# falls back to the sdist here.
"${PIP[@]}" -r requirements/mminstall.txt -r requirements/runtime.txt -r requirements/tests.txt \
  -c requirements/torch.txt
"${PIP[@]}" --no-deps --no-build-isolation -e .

step "checking the stack"
"$PY" - <<'PY'
import mmcv, mmdet, mmseg, mmpretrain, mmengine, torch, torchaudio
from mmcv.ops import RoIAlign, nms  # noqa: F401  compiled ops present
print(f"torch {torch.__version__}, torchaudio {torchaudio.__version__}, mmengine {mmengine.__version__}, "
      f"mmcv {mmcv.__version__} (ops), mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, "
      f"mmpretrain {mmpretrain.__version__}")
PY
touch "$VENV/.installed"
