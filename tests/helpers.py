"""What many tests do: run a ``tools/`` script (in-process, or as a real process where the command
line itself is under test), write the tiny classifier config, check a deploy checkpoint, compare a
run's first training step before and after training."""
import contextlib
import copy
import importlib.util
import itertools
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterable, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.registry import HOOKS, DefaultScope
from torch import nn
from torch.testing import assert_close

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = str(Path(sys.executable).parent)
_TOOLS: Dict[str, ModuleType] = {}
_RUN_IDS = itertools.count()


def load_tool(name: str) -> ModuleType:
    """``tools/<name>.py`` as a module (``'train'``, ``'analysis/print_scales'``, ...)."""
    if name not in _TOOLS:
        path = ROOT / 'tools' / f'{name}.py'
        spec = importlib.util.spec_from_file_location(f'tools_{name.replace("/", "_")}', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOLS[name] = module
    return _TOOLS[name]


@contextlib.contextmanager
def _isolated_torch_state():
    """A run's ``randomness=dict(deterministic=True)`` switches deterministic algorithms on for
    the whole process; put it back so that later tests see the default."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)


def call_tool(name: str, *args: Any) -> Any:
    """Run ``tools/<name>.py``'s ``main(argv)`` in this process and return what it returns (the
    runner for ``train``, the metrics for ``test``): the same code path as the command line,
    without a new interpreter importing the OpenMMLab stack (≈ 8 s each on 2 cores).

    Runs of ``train``/``test`` get a unique ``experiment_name``: mmengine names its logger,
    visualiser and message hub after it, and two runners started in the same second from the
    same config would otherwise share them.
    """
    argv = [str(a) for a in args]
    if name in ('train', 'test'):
        argv += ['--cfg-options', f'experiment_name=pytest_{os.getpid()}_{next(_RUN_IDS)}']
    with _isolated_torch_state():
        return load_tool(name).main(argv)


def run_tool(script: str, *args: Any, check: bool = True, timeout: float = 600,
             env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """Run ``tools/<script>`` as a real process (``.py`` with this interpreter, ``.sh`` with bash
    and this venv's ``torchrun`` on the PATH), for tests of the command line itself."""
    full_env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get('PATH', ''))
    full_env.update(env or {})
    path = f'tools/{script}'
    cmd = ['bash', path] if script.endswith('.sh') else [sys.executable, path]
    result = subprocess.run(cmd + [str(a) for a in args], cwd=ROOT, capture_output=True,
                            text=True, timeout=timeout, env=full_env)
    if check and result.returncode != 0:
        raise AssertionError(f'{script} {args} failed ({result.returncode}):\n'
                             f'{result.stdout[-3000:]}\n{result.stderr[-5000:]}')
    return result


def cfg_options(options: Dict[str, Any]) -> list:
    """``--cfg-options k=v ...`` for a tool's argv."""
    return ['--cfg-options'] + [f'{k}={v}' for k, v in options.items()] if options else []


def state_dict_of(path: Any) -> Dict[str, torch.Tensor]:
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def assert_deploy_is_merge(train_ckpt: Any, deploy_ckpt: Any,
                           keys: Optional[Iterable[str]] = None) -> None:
    """The deploy checkpoint holds ``W + λW′`` for every pathway layer (or ``keys``) of the
    training checkpoint and no pathway parameter; the other tensors are copied unchanged."""
    train, deploy = state_dict_of(train_ckpt), state_dict_of(deploy_ckpt)
    assert not any('aux_weight' in k or 'cross_modal_scale' in k for k in deploy)
    layers = list(keys) if keys is not None else [
        k[:-len('.cross_modal_scale')] for k in train if k.endswith('.cross_modal_scale')]
    assert layers, 'the training checkpoint has no pathway'
    for layer in layers:
        expected = train[f'{layer}.weight'] + train[f'{layer}.cross_modal_scale'] * train[
            f'{layer}.aux_weight']
        assert_close(deploy[f'{layer}.weight'], expected, msg=layer)
    plain = [k for k in train if 'aux_weight' not in k and 'cross_modal_scale' not in k
             and not any(k == f'{layer}.weight' for layer in layers)]
    assert sorted(deploy) == sorted(plain + [f'{layer}.weight' for layer in layers])
    for k in plain:
        assert torch.equal(deploy[k], train[k]), k


TINY_CLS_CONFIG = """
_base_ = ['{root}/configs/_base_/models/m2pt_vit-tiny-p8.py',
          '{root}/configs/_base_/mmpretrain_runtime.py']
model = dict(backbone=dict(pathway={pathway}), head=dict(num_classes=2))
data_preprocessor = dict(num_classes=2, mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True)
pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(type='CustomDataset', data_root='{data}', data_prefix='train',
                                     pipeline=pipeline))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(type='CustomDataset', data_root='{data}', data_prefix='val',
                                   pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
                     constructor='PathwayLayerDecayOptimWrapperConstructor',
                     paramwise_cfg=dict(layer_decay_rate=0.65,
                                        custom_keys={{'.cls_token': dict(decay_mult=0.0)}}))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=3,
                        convert_to_iter_based=True)]
train_cfg = dict(by_epoch=True, max_epochs=3, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(save_best='accuracy/top1'))
custom_hooks = [dict(type='MergePathwayHook'), dict(type='ScaleLoggerHook', interval=1),
                dict(type='CheckpointCheckHook', strict=True)]
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
randomness = dict(seed=0, deterministic=True)
"""


def write_tiny_cls_config(path: Path, data: Path, aux: Optional[Path], extra: str = '') -> str:
    """The tiny 2-class stripes classifier (``m2pt_vit-tiny-p8`` model base) at ``path``; with an
    ``aux`` checkpoint the M2PT form, without it the plain one."""
    pathway = 'None' if aux is None else f"dict(aux_checkpoint='{aux}')"
    path.write_text(TINY_CLS_CONFIG.format(root=ROOT, data=data, pathway=pathway) + extra)
    return str(path)


def argv_of(*parts: Sequence[Any]) -> list:
    """Flatten argv pieces: ``argv_of([config, ckpt], cfg_options({...}))``."""
    return [str(a) for part in parts for a in part]


# ---------------------------------------------------------------- what a run learnt
@HOOKS.register_module()
class RecordStartOfTrainingHook(Hook):
    """Keeps what a run starts from: its initialised weights, with ``validate=True`` their
    metrics on the run's validation set (the untrained floor a run must beat), and the batch and
    random state of its first training step (so the same MAE masks). Added to a run by
    :func:`record_start_options`; read back with :func:`start_of_training`.

    Args:
        validate: Run the validation loop once before the first step.
    """

    def __init__(self, validate: bool = False) -> None:
        self.validate = validate
        self.initial_metrics: Optional[Dict[str, float]] = None

    def before_train(self, runner) -> None:
        # after init_weights and any loading: the weights the first step starts from
        self.initial_state = copy.deepcopy(_unwrap(runner.model).state_dict())
        if self.validate:
            if runner.val_loop is None:
                raise ValueError('RecordStartOfTrainingHook(validate=True) needs a validation '
                                 'loop: val_dataloader, val_evaluator and val_cfg (no '
                                 '--no-validate)')
            self.initial_metrics = dict(runner.val_loop.run())

    def before_train_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        if runner.iter == 0:
            self.batch = copy.deepcopy(data_batch)
            self.rng_state = torch.get_rng_state()


def record_start_options(validate: bool = False) -> Dict[str, Any]:
    """``--cfg-options`` entries that add :class:`RecordStartOfTrainingHook` to a run (default
    hooks are a dict, so a new name adds one without repeating the config's custom hooks)."""
    return {'default_hooks.record_start.type': 'RecordStartOfTrainingHook',
            'default_hooks.record_start.validate': validate}


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if is_model_wrapper(model) else model


def start_of_training(runner: Any) -> RecordStartOfTrainingHook:
    """The :class:`RecordStartOfTrainingHook` of a finished run."""
    hooks = [h for h in runner.hooks if isinstance(h, RecordStartOfTrainingHook)]
    if len(hooks) != 1:
        raise ValueError(f'the run has {len(hooks)} RecordStartOfTrainingHook; add one with '
                         'cfg_options(record_start_options())')
    return hooks[0]


def first_step_loss(runner: Any, state_dict: Optional[Dict[str, torch.Tensor]] = None) -> float:
    """The total loss of the run's first training step (its batch, its random state) computed
    again with ``state_dict`` (default: the weights the run ended with), in training mode and
    without changing the run's model."""
    record = start_of_training(runner)
    model = copy.deepcopy(_unwrap(runner.model))
    if state_dict is not None:
        model.load_state_dict(state_dict, strict=True)
    model.train()
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.set_rng_state(record.rng_state)
        data = model.data_preprocessor(copy.deepcopy(record.batch), True)
        loss, _ = model.parse_losses(model(**data, mode='loss'))
    return float(loss)


class TinyRegressor(BaseModel):
    """The smallest model mmengine's runner trains: one linear layer, a squared loss."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=(self.linear(inputs) - 1).pow(2).mean())


# --- det/seg: the tiny Mask R-CNN / UperNet configs on the digit scenes (tests/test_det_seg)
DEMO = ROOT / 'configs' / 'demo'
DET = DEMO / 'mask-rcnn_vit-tiny-p8_scratch_1xb4-6e_digits-coco.py'
DET_M2PT = DEMO / 'mask-rcnn_m2pt-vit-tiny-p8-spectrogram_scratch_1xb4-6e_digits-coco.py'
SEG = DEMO / 'upernet_vit-tiny-p8_scratch_1xb4-40i_digits-ade-96x96.py'
SEG_M2PT = DEMO / 'upernet_m2pt-vit-tiny-p8-spectrogram_scratch_1xb4-40i_digits-ade-96x96.py'

DET_METRICS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50')
#: Steps of the detector run: 4 scenes in batches of 4, one step per epoch
DET_STEPS = 16
#: What lets the from-scratch tiny Mask R-CNN learn in DET_STEPS steps: with the config's schedule
#: (warm-up, lr 4e-4, layer decay 0.7) its bbox mAP stays at chance, and longer runs at 1e-3
#: collapse. At layer decay 0.1 the ViT's blocks learn 10× (last block) to 10⁴× (first) slower than
#: the neck and heads, which learn at 1e-3 from the first step; the last 4 steps at a tenth let them
#: settle before they are evaluated.
DET_TRAINING = {
    'train_cfg.max_epochs': DET_STEPS,
    'optim_wrapper.optimizer.lr': 1e-3, 'optim_wrapper.paramwise_cfg.layer_decay_rate': 0.1,
    'param_scheduler.0.start_factor': 1.0,  # the LinearLR warm-up, made flat
    'param_scheduler.1.milestones': [DET_STEPS - 4], 'param_scheduler.1.end': DET_STEPS,
    # one digit per scene: fewer sampled anchors and RoIs (faster steps, as many positives)
    'model.train_cfg.rpn.sampler.num': 64, 'model.train_cfg.rcnn.sampler.num': 32,
    # the train pipeline's RandomResize without its scale jitter, which 16 steps cannot learn
    'train_dataloader.dataset.pipeline.2.ratio_range': (1.0, 1.0),
}


def data_options(kind: str, scenes: Path) -> dict:
    """``--cfg-options`` that point a tiny config at the ``scenes`` fixture."""
    if kind == 'det':
        root = f'{scenes}/coco/'
        ann = root + 'annotations/instances_val.json'
        return {'train_dataloader.dataset.data_root': root,
                'val_dataloader.dataset.data_root': root,
                'test_dataloader.dataset.data_root': root,
                'val_evaluator.ann_file': ann, 'test_evaluator.ann_file': ann}
    root = f'{scenes}/ade'
    return {f'{split}_dataloader.dataset.data_root': root for split in ('train', 'val', 'test')}


def tiny_config(path: Path, scenes: Path, aux: str = None) -> Config:
    kind = 'det' if 'mask-rcnn' in path.name else 'seg'
    cfg = Config.fromfile(str(path))
    cfg.merge_from_dict(data_options(kind, scenes))
    if aux is not None:
        cfg.merge_from_dict({'model.backbone.pathway.aux_checkpoint': aux})
    return cfg


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a torchrun rendezvous)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_dist(script: str, *args):
    """``tools/dist_*.sh`` with 2 processes of 1 thread each (the machine has 2 cores)."""
    return run_tool(script, *args, env=dict(PORT=str(free_port()), OMP_NUM_THREADS='1'))


def evaluate(config, ckpt, opts, out: Path) -> dict:
    """``tools/test.py`` in-process; the metrics as ``--metrics-out`` writes them."""
    call_tool('test', config, ckpt, '--work-dir', out.parent / out.stem, '--metrics-out', out,
              *cfg_options(opts))
    return json.loads(out.read_text())


def evaluate_two_processes(config, ckpt, opts, out: Path) -> dict:
    run_dist('dist_test.sh', config, ckpt, '2', '--work-dir', out.parent / out.stem,
             '--metrics-out', out, *cfg_options(opts))
    return json.loads(out.read_text())


def build_det_seg(cfg: Config, scope: str):
    """The model (weights initialised) and the train and val datasets of a det/seg config."""
    from mmengine.registry import DATASETS, MODELS
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
        model.init_weights()
        train = DATASETS.build(cfg.train_dataloader.dataset)
        val = DATASETS.build(cfg.val_dataloader.dataset)
    return model, train, val


def det_seg_scope(path: Path) -> str:
    return 'mmdet' if 'mask-rcnn' in path.name else 'mmseg'


def predict(model, samples, scope: str) -> list:
    # one image per batch, as the val dataloaders: mmseg batches need equal image sizes
    with DefaultScope.overwrite_default_scope(scope), torch.no_grad():
        return [out for s in samples for out in model.test_step(pseudo_collate([s]))]


def prediction_tensors(samples, scope: str) -> list:
    """The tensors a det/seg prediction consists of, for comparing two models' outputs."""
    if scope == 'mmseg':
        return [s.seg_logits.data for s in samples]
    out = []
    for s in samples:
        inst = s.pred_instances
        out += [inst.bboxes, inst.scores, inst.labels, inst.masks]
    return out


# --- the tiny audio and video configs (tests/test_audio_video)
TINY_AUDIO = ROOT / ('configs/audio/'
                     'm2pt_vit-tiny-p16-spectrogram_scratch_1xb4-20e_audioset-tiny-128x128.py')
TINY_VIDEO = ROOT / ('configs/video/'
                     'm2pt_vit-tiny-p8-spectrogram_scratch_1xb4-20e_k400-tiny-4x32x32.py')


def tiny_classifier(aux_file: Any) -> nn.Module:
    """The tiny M2PT image classifier of configs/_base_/models/m2pt_vit-tiny-p8.py, its pathway
    read from ``aux_file``, weights initialised."""
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(str(ROOT / 'configs/_base_/models/m2pt_vit-tiny-p8.py'))
    cfg.model.backbone.pathway = dict(aux_checkpoint=aux_file)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model
