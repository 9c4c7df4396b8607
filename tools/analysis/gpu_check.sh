#!/usr/bin/env bash
# GPU readiness check of m2pt_mm, prepared to run unattended in one call on a bare GPU machine
# (Python 3.12 and torch 2.11 preinstalled, no network, no OpenMMLab packages).
#
#   1. environment: Python, torch, CUDA, GPU, installed distributions -> environment.json
#   2. install: the wheels carried in .whl/ (tools/analysis/fetch_gpu_wheels.sh), except those
#      whose distribution is installed already, into $GPU_CHECK_SITE with pip --no-index --no-deps;
#      PYTHONPATH=$GPU_CHECK_SITE:<repository> for every later step
#   3. imports: mmengine, mmcv, mmpretrain and every m2pt_mm package the configs import
#   4. benchmark-fp32, benchmark-bf16: tools/analysis/benchmark.py on ViT-B/16 224², batch 64 and
#      128, settings all and aux-frozen, M2PT with and without recompute: train step, floor,
#      merged-vs-stock and unmerged-eval inference, peak memory (torch.cuda.max_memory_allocated)
#   4b. sharded-memory: tools/analysis/sharded_memory.py on an M2PT ViT-L/16 classifier at 224²,
#      batch 32: DDP vs FSDP1 vs FSDP2, recompute off and on (NPROC ranks, default 1)
#   5. train-data, train-amp: a tiny M2PT config (configs/demo, 4 × 64 ViT) trained through
#      tools/train.py --amp on random 32×32 images with a random aux checkpoint
#   6. test-unmerged, test-deploy: tools/test.py on the final checkpoint (M2PT config) and on its
#      merged deploy checkpoint (plain config): the two top-1 must agree
#
# Everything goes to OUT_DIR: gpu_check.log (this script's log), steps/<step>.log (each command's
# output), steps.jsonl (one line per step: rc, seconds), the benchmarks' benchmark.{json,md}, and
# gpu_check.{json,md}, a summary that is also printed at the end. A failing step is logged and
# the next one runs; every step has a time limit. The exit status is the number of failed steps.
#
# Usage (from the repository root):
#   bash tools/analysis/gpu_check.sh OUT_DIR                          # CUDA, full sizes
#   bash tools/analysis/gpu_check.sh OUT_DIR --device cpu --quick     # CPU rehearsal, minutes
#   bash tools/analysis/gpu_check.sh OUT_DIR --install-only           # steps 1 and 2 only
# Options: --device cuda|cpu (default cuda), --quick (tiny benchmark model, batch 2, fewer images),
# --install-only (environment and install; then stop).
# Environment: PYTHON (default python3); GPU_CHECK_WHEELS (default .whl) and GPU_CHECK_SITE
# (default /tmp/site), relative to the repository; BENCH_STEPS (3), BENCH_MIN_RUN_TIME (0.5 s per
# timed measurement), BATCH_SIZES ("64 128").
#
# Wheels over the device tool's carry limit (64 MiB; .whl/ is ~110 MiB, opencv alone 58 MiB) go in
# two calls on the same warm machine, the site inside the repository (ignored outputs stay there):
#   mkdir -p .whl-cv2 && mv .whl/opencv_python_headless-*.whl .whl-cv2/     # here, once
#   GPU_CHECK_WHEELS=.whl-cv2 GPU_CHECK_SITE=.whl-site bash tools/analysis/gpu_check.sh \
#     OUT_DIR/install-cv2 --install-only                                     # carry .whl-cv2
#   GPU_CHECK_SITE=.whl-site bash tools/analysis/gpu_check.sh OUT_DIR         # carry .whl
set -uo pipefail  # no -e: a failing step must not stop the others

usage() { echo "usage: $0 OUT_DIR [--device cuda|cpu] [--quick] [--install-only]" >&2; exit 2; }
[ $# -ge 1 ] || usage
OUT=$1
shift
DEVICE=cuda
QUICK=0
INSTALL_ONLY=0
while [ $# -gt 0 ]; do
  case $1 in
    --device) DEVICE=${2:-}; shift 2 || usage ;;
    --quick) QUICK=1; shift ;;
    --install-only) INSTALL_ONLY=1; shift ;;
    *) usage ;;
  esac
done
case $DEVICE in cuda|cpu) ;; *) echo "--device must be cuda or cpu, got '$DEVICE'" >&2; exit 2 ;; esac
# an empty or option-like OUT_DIR would write to / or to a folder named like the option
case $OUT in ''|-*) echo "OUT_DIR must be a folder name, got '$OUT'" >&2; usage ;; esac
if [ -e "$OUT" ] && [ ! -d "$OUT" ]; then
  echo "OUT_DIR '$OUT' exists and is not a folder" >&2; exit 2
fi
OUT=$(realpath -m "$OUT")  # relative to where the script was called, not the repository

cd "$(dirname "$0")/../.."
ROOT=$PWD
mkdir -p "$OUT/steps"
OUT=$(cd "$OUT" && pwd)
PYTHON=${PYTHON:-python3}
SITE=${GPU_CHECK_SITE:-/tmp/site}
[[ $SITE = /* ]] || SITE=$ROOT/$SITE
WHEELS=${GPU_CHECK_WHEELS:-.whl}
[[ $WHEELS = /* ]] || WHEELS=$ROOT/$WHEELS
BATCH_SIZES=${BATCH_SIZES:-64 128}
BENCH_STEPS=${BENCH_STEPS:-3}
BENCH_MIN_RUN_TIME=${BENCH_MIN_RUN_TIME:-0.5}
: > "$OUT/steps.jsonl"
FAILED=0

log() { echo "[gpu_check $(date +%H:%M:%S)] $*" | tee -a "$OUT/gpu_check.log"; }

# step NAME LIMIT_S CMD...: run CMD with a time limit, its output in steps/NAME.log; log and
# record rc and seconds; on failure show the log's tail and go on
step() {
  local name=$1 limit=$2
  shift 2
  log "step $name: $*"
  local start rc seconds
  start=$(date +%s.%N)
  timeout --kill-after=30 "$limit" "$@" > "$OUT/steps/$name.log" 2>&1
  rc=$?
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  printf '{"step": "%s", "rc": %d, "seconds": %s, "limit_s": %d, "log": "steps/%s.log"}\n' \
    "$name" "$rc" "$seconds" "$limit" "$name" >> "$OUT/steps.jsonl"
  if [ "$rc" -eq 0 ]; then
    log "step $name: ok in ${seconds} s"
  else
    FAILED=$((FAILED + 1))
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      log "step $name: TIMED OUT after ${limit} s; last lines:"
    else
      log "step $name: FAILED (exit $rc) after ${seconds} s; last lines:"
    fi
    tail -n 25 "$OUT/steps/$name.log" | sed 's/^/    /' | tee -a "$OUT/gpu_check.log"
  fi
  return 0
}

log "m2pt_mm GPU check: device $DEVICE, quick $QUICK, python $(command -v "$PYTHON"), out $OUT"
log "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"

# ------------------------------------------------------------------------------------ 1. environment
step environment 120 "$PYTHON" - "$OUT/environment.json" <<'PY'
import importlib.metadata as md
import json
import platform
import subprocess
import sys

import torch

env = dict(python=sys.version, platform=platform.platform(), torch=torch.__version__,
           torch_cuda=torch.version.cuda, cuda_available=torch.cuda.is_available(),
           bf16_supported=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
           devices=[torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
           distributions=sorted(f'{d.metadata["Name"]}=={d.version}' for d in md.distributions()))
try:
    env['nvidia_smi'] = subprocess.run(['nvidia-smi'], capture_output=True, text=True,
                                       timeout=30).stdout
except (OSError, subprocess.SubprocessError) as e:
    env['nvidia_smi'] = f'not available: {e}'
with open(sys.argv[1], 'w') as f:
    json.dump(env, f, indent=2)
print(json.dumps({k: v for k, v in env.items() if k != 'distributions'}, indent=2))
print(f'{len(env["distributions"])} distributions installed:', ' '.join(env['distributions']))
PY

# ------------------------------------------------------------------------------------ 2. install
export PYTHONPATH="$SITE:$ROOT"
install_wheels() {
  # the carried wheels minus the distributions this Python has already (torch, perhaps numpy):
  # a second copy in $SITE would shadow the machine's own build
  local wheels
  wheels=$("$PYTHON" - "$WHEELS"/*.whl <<'PY'
import importlib.metadata as md
import importlib.util
import os
import sys

for path in sys.argv[1:]:
    name, version = os.path.basename(path).split('-')[:2]
    try:
        present = md.version(name)
    except md.PackageNotFoundError:
        print(path)
        continue
    if name == 'setuptools' and importlib.util.find_spec('pkg_resources') is None:
        # mmengine 0.10.7 imports pkg_resources (configs with mmpretrain:: bases), which
        # setuptools >= 81 no longer ships: ours goes first on PYTHONPATH
        print(f'setuptools {present} has no pkg_resources: installing {version}', file=sys.stderr)
        print(path)
        continue
    print(f'present: {name} {present} (carried: {version})', file=sys.stderr)
PY
)
  if [ -z "$wheels" ]; then
    echo "every carried distribution is installed already"
    return 0
  fi
  # shellcheck disable=SC2086  # one path per line, no spaces in wheel names
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" $wheels
}
if compgen -G "$WHEELS/*.whl" > /dev/null; then
  export -f install_wheels
  export PYTHON WHEELS SITE
  step install 300 bash -c install_wheels
else
  log "step install: no $WHEELS/*.whl, the Python environment is used as it is"
fi

if [ "$INSTALL_ONLY" -eq 1 ]; then
  log "done (--install-only): $FAILED failed step(s)"
  exit "$FAILED"
fi

# ------------------------------------------------------------------------------------ 3. imports
step imports 300 "$PYTHON" -c '
import mmcv, mmengine, mmpretrain, torch
import m2pt_mm.datasets, m2pt_mm.engine, m2pt_mm.evaluation, m2pt_mm.models
print(f"torch {torch.__version__}, mmengine {mmengine.__version__}, mmcv {mmcv.__version__}, "
      f"mmpretrain {mmpretrain.__version__}, m2pt_mm from {m2pt_mm.__file__}")'

# ------------------------------------------------------------------------------------ 4. benchmarks
# shellcheck disable=SC2206  # a list of numbers
BENCH=(tools/analysis/benchmark.py --device "$DEVICE" --settings all aux-frozen
       --batch-sizes $BATCH_SIZES --steps "$BENCH_STEPS" --min-run-time "$BENCH_MIN_RUN_TIME")
if [ "$QUICK" -eq 1 ]; then
  BENCH+=(--quick)
else
  BENCH+=(--mem-batch-size "${BATCH_SIZES##* }")  # the largest: recompute matters most there
fi
for amp in fp32 bf16; do
  step "benchmark-$amp" 600 "$PYTHON" "${BENCH[@]}" --amp "$amp" --out-dir "$OUT/benchmark-$amp"
done

# ------------------------------------------------------------------------------- 4b. sharded memory
# DDP vs FSDP1 vs FSDP2, recompute off and on: peak memory per rank and step time of an M2PT
# ViT-L/16 classifier at 224² (tools/analysis/sharded_memory.py), one rank per visible GPU
# (NPROC, default 1: FSDP on one GPU does not shard, it measures the wrapping's own cost)
SHARDED=(tools/analysis/sharded_memory.py --device "$DEVICE" --nproc "${NPROC:-1}"
         --out "$OUT/sharded-memory.json")
if [ "$QUICK" -eq 1 ]; then
  SHARDED+=(--steps 2 --warmup 1)  # the tiny ViT
else
  SHARDED+=(--arch large --img-size 224 --patch-size 16 --batch-size 32 --steps 5 --warmup 2)
fi
step sharded-memory 900 "$PYTHON" "${SHARDED[@]}"

# ------------------------------------------------------------------------------------ 5. training
M2PT_CFG=configs/demo/m2pt_vit-tiny-p8-spectrogram_scratch_1xb64-coslr-20e_digits-32x32.py
PLAIN_CFG=configs/demo/vit-tiny-p8_scratch_1xb64-coslr-20e_digits-32x32.py
DATA=$OUT/train-data
[ "$QUICK" -eq 1 ] && NUM_IMAGES=128 || NUM_IMAGES=640
# random 32×32 RGB images in ImageNet folder format (the digits need scikit-learn, which is not
# carried) and an aux checkpoint of the same tiny ViT with random weights; then a config over
# the demo's M2PT config that points at them and logs locally (TensorBoard is not carried)
step train-data 300 "$PYTHON" - "$DATA" "$NUM_IMAGES" "$ROOT/$PLAIN_CFG" "$ROOT/$M2PT_CFG" <<'PY'
import os
import sys

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS
from PIL import Image

out, num, plain_cfg, m2pt_cfg = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rng = np.random.default_rng(0)
os.makedirs(os.path.join(out, 'meta'), exist_ok=True)
for split, n in (('train', num), ('val', num // 4)):
    lines = []
    for i in range(n):
        label = i % 10
        rel = f'{label}/{i:05d}.png'
        os.makedirs(os.path.join(out, split, str(label)), exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(
            os.path.join(out, split, rel))
        lines.append(f'{rel} {label}\n')
    with open(os.path.join(out, 'meta', f'{split}.txt'), 'w') as f:
        f.writelines(lines)
with DefaultScope.overwrite_default_scope('mmpretrain'):
    aux = MODELS.build(Config.fromfile(plain_cfg).model)
torch.save({'state_dict': aux.state_dict()}, os.path.join(out, 'aux.pth'))
with open(os.path.join(out, 'config.py'), 'w') as f:
    f.write(f"""_base_ = [{m2pt_cfg!r}]
data_root = {out!r}
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
model = dict(backbone=dict(pathway=dict(aux_checkpoint={os.path.join(out, 'aux.pth')!r})))
visualizer = dict(vis_backends=[dict(type='LocalVisBackend')])
""")
print(f'wrote {num} train / {num // 4} val images, aux.pth and config.py to {out}')
PY

# --force: a rerun into the same OUT_DIR replaces the rehearsal's own earlier checkpoints
TRAIN=(tools/train.py "$DATA/config.py" --work-dir "$OUT/train" --force)
if [ "$DEVICE" = cuda ]; then
  TRAIN+=(--amp)  # AmpOptimWrapper: fp16 autocast with dynamic loss scaling
else
  log "train-amp: mmengine's AmpOptimWrapper needs a GPU; the CPU rehearsal trains in fp32"
fi
step train-amp 600 "$PYTHON" "${TRAIN[@]}"

# ------------------------------------------------------------------------------------ 6. evaluation
if [ -f "$OUT/train/last_checkpoint" ]; then
  CKPT=$(cat "$OUT/train/last_checkpoint")
  DEPLOY=${CKPT%.pth}_deploy.pth
  step test-unmerged 300 "$PYTHON" tools/test.py "$DATA/config.py" "$CKPT" \
    --work-dir "$OUT/test-unmerged" --metrics-out "$OUT/test-unmerged.json"
  step test-deploy 300 "$PYTHON" tools/test.py "$DATA/config.py" "$DEPLOY" \
    --work-dir "$OUT/test-deploy" --metrics-out "$OUT/test-deploy.json" \
    --cfg-options model.backbone.pathway=None
else
  log "test-unmerged, test-deploy: skipped, training wrote no checkpoint"
fi

# ------------------------------------------------------------------------------------ summary
"$PYTHON" - "$OUT" "$DEVICE" "$QUICK" <<'PY' | tee -a "$OUT/gpu_check.log"
import json
import os
import sys

out, device, quick = sys.argv[1], sys.argv[2], sys.argv[3] == '1'


def read(name, parse=json.load):
    path = os.path.join(out, name)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return parse(f)


steps = [json.loads(line) for line in open(os.path.join(out, 'steps.jsonl')) if line.strip()]
env = read('environment.json') or {}
summary = dict(device=device, quick=quick, steps=steps, environment={
    k: env.get(k) for k in ('python', 'torch', 'torch_cuda', 'cuda_available', 'bf16_supported',
                            'devices')})
md = [f'# m2pt_mm GPU check ({device}{", --quick" if quick else ""})', '',
      f'Python {env.get("python", "?").split()[0]}, torch {env.get("torch")} (CUDA '
      f'{env.get("torch_cuda")}), devices: {", ".join(env.get("devices") or []) or "none"}', '',
      '| step | result | seconds | log |', '|---|---|---|---|']
for s in steps:
    result = ('ok' if s['rc'] == 0 else
              'TIMED OUT' if s['rc'] in (124, 137) else f'FAILED ({s["rc"]})')
    md.append(f'| {s["step"]} | {result} | {s["seconds"]} | {s["log"]} |')
tests = {name: read(f'test-{name}.json') for name in ('unmerged', 'deploy')}
if all(tests.values()):
    top1 = {name: m.get('accuracy/top1') for name, m in tests.items()}
    summary['train'] = dict(top1=top1, deploy_equals_unmerged=top1['unmerged'] == top1['deploy'])
    md += ['', f'Tiny M2PT run (random images, so top-1 is chance level): val top-1 unmerged '
           f'{top1["unmerged"]}, deploy (merged, plain config) {top1["deploy"]}: '
           f'{"equal" if top1["unmerged"] == top1["deploy"] else "DIFFERENT"}.']
for amp in ('fp32', 'bf16'):
    report = read(f'benchmark-{amp}/benchmark.json')
    if report is not None:
        summary[f'benchmark_{amp}'] = dict(targets=report.get('targets'),
                                          json=f'benchmark-{amp}/benchmark.json')
        md += ['', '---', '', read(f'benchmark-{amp}/benchmark.md', lambda f: f.read())]
sharded = read('sharded-memory.json')
if sharded is not None:
    summary['sharded_memory'] = dict(json='sharded-memory.json')
    md += ['', '---', '', '| strategy | recompute | params / rank (MB) | AdamW state / rank (MB) '
           '| peak / rank (MB) | step (s) |', '|---|---|---|---|---|---|']
    md += [f"| {r['strategy']} | {'on' if r['recompute'] else 'off'} | {r['params_mb']:.1f} | "
           f"{r['optim_mb']:.1f} | {r['peak_mb']:.0f} | {r['step_s']:.3f} |" for r in sharded]
with open(os.path.join(out, 'gpu_check.json'), 'w') as f:
    json.dump(summary, f, indent=2)
with open(os.path.join(out, 'gpu_check.md'), 'w') as f:
    f.write('\n'.join(md) + '\n')
print('\n'.join(md))
PY
log "done: $FAILED failed step(s); summary in $OUT/gpu_check.md and gpu_check.json"
exit "$FAILED"
