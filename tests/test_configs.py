"""Every config under configs/ parses, and every config with a model builds it under its own
default scope: the tiny ones as they are, the full-size ones as they are in the `slow` set (at a
tiny width, with their whole runner, by tests/test_config_runs.py). The configs without a model
are an explicit list, so a new config cannot slip through unbuilt. Names tell the truth (aux
modality, amp, tiny); other projects inherit our configs as ``m2pt_mm::<path>``."""
import argparse
import copy
import functools
import inspect
import re
from pathlib import Path
from typing import List

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

import m2pt_mm.models  # noqa: F401
import m2pt_mm.utils
from m2pt_mm.engine.cli import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG_ROOT = ROOT / 'configs'
CONFIGS = sorted(CONFIG_ROOT.rglob('*.py'))

#: The pure `_base_` fragments: runtime mixins and the named tiny-CPU settings. Every other config
#: defines a model, which the tests below build.
NO_MODEL = ['_base_/m2pt_hooks.py', '_base_/m2pt_runtime.py', '_base_/mmpretrain_runtime.py',
            '_base_/tiny_cpu_run.py']
#: Bases whose model their children complete (OmniVec's stages each set the task heads): they must
#: refuse to build alone, naming what is missing.
INCOMPLETE_MODEL = ['omnivec/_base_/omnivec_vit-base-p16_multimodal.py',
                    'omnivec/_base_/omnivec_vit-tiny-p8_tiny-multimodal.py']

#: Auxiliary modalities, named as the last words of the module field (CONTRIBUTING.md).
AUX = ('image', 'point', 'audio', 'video', 'spectrogram')


def rel(path: Path) -> str:
    return path.relative_to(CONFIG_ROOT).as_posix()


MODEL_CONFIGS = [p for p in CONFIGS if rel(p) not in NO_MODEL + INCOMPLETE_MODEL]
TINY = [p for p in MODEL_CONFIGS if 'tiny' in p.stem]
FULL = [p for p in MODEL_CONFIGS if 'tiny' not in p.stem]


@functools.lru_cache(maxsize=None)
def load(path: Path) -> Config:
    """The parsed config (cached: several tests read each one; callers do not modify it)."""
    return Config.fromfile(str(path))


def build(cfg: Config, model_cfg=None) -> torch.nn.Module:
    """Build the model as the runner would: under the config's own default scope."""
    model_cfg = copy.deepcopy(cfg.model if model_cfg is None else model_cfg)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        return MODELS.build(model_cfg)  # mmdet / mmseg / mmpretrain, as the config says


def vit(model):
    """The ViT of a model or model config: the backbone, or OmniVec's shared trunk."""
    return model['trunk'] if 'trunk' in model and 'backbone' not in model else model['backbone']


def num_pathways(backbone_cfg) -> int:
    pathway = backbone_cfg.get('pathway')
    return 0 if pathway is None else 1 if isinstance(pathway, dict) else len(pathway)


def check_pathways(model: torch.nn.Module, cfg: Config) -> None:
    backbone = model.trunk if hasattr(model, 'trunk') else model.backbone
    pathways = getattr(backbone, 'pathway_cfgs', [])
    assert len(pathways) == num_pathways(vit(cfg.model))
    scales = [n for n, _ in model.named_parameters() if 'cross_modal_scale' in n]
    assert len(scales) == sum(backbone.num_layers * len(p['layers']) for p in pathways)


def ids(paths: List[Path]) -> List[str]:
    return [rel(p) for p in paths]


def test_the_configs_without_a_model_are_the_listed_fragments(capsys):
    without = sorted(rel(p) for p in CONFIGS if 'model' not in load(p))
    with capsys.disabled():
        print(f'\nconfigs without a model ({len(without)}, pure _base_ fragments):',
              *without, sep='\n  ')
    assert without == sorted(NO_MODEL)
    assert len(TINY) + len(FULL) + len(NO_MODEL) + len(INCOMPLETE_MODEL) == len(CONFIGS)


@pytest.mark.parametrize('path', INCOMPLETE_MODEL)
def test_a_base_with_an_incomplete_model_refuses_to_build_alone(path):
    cfg = load(CONFIG_ROOT / path)
    with pytest.raises(ValueError, match='needs at least one task head'):
        build(cfg)


@pytest.mark.parametrize('path', TINY, ids=ids(TINY))
def test_tiny_config_builds(path):
    cfg = load(path)
    arch = vit(cfg.model).arch
    assert isinstance(arch, dict) and arch.embed_dims <= 64, 'a "tiny" config is tiny'
    model = build(cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
    check_pathways(model, cfg)


@pytest.mark.slow
@pytest.mark.parametrize('path', FULL, ids=ids(FULL))
def test_full_size_config_builds(path):
    cfg = load(path)
    model = build(cfg)
    backbone = model.trunk if hasattr(model, 'trunk') else model.backbone
    # ViT-B/16, except the ViT-L/16 and ViT-H/14 configs (and their aux pretraining) that say so
    size = re.search(r'(?:^|[_-])vit-(large|huge)-', path.stem)
    expected = {'large': (1024, 24), 'huge': (1280, 32)}[size[1]] if size else (768, 12)
    assert (backbone.embed_dims, backbone.num_layers) == expected
    check_pathways(model, cfg)


def module_field(path: Path) -> str:
    """The `{module}` field: the first that names the ViT (`{algorithm}_` may precede it)."""
    return next(f for f in path.stem.split('_') if f.startswith(('vit-', 'm2pt-vit-')))


@pytest.mark.parametrize('path', MODEL_CONFIGS, ids=ids(MODEL_CONFIGS))
def test_the_aux_modality_is_named_in_the_module_field_only(path):
    # one pathway per aux word at the end of the module field, and none without one
    named = [w for w in module_field(path).split('-') if w in AUX]
    assert len(named) == num_pathways(vit(load(path).model)), named


@pytest.mark.parametrize('path', CONFIGS, ids=ids(CONFIGS))
def test_a_config_whose_name_says_amp_enables_amp(path):
    # mmseg's own `...-amp-...` MAE config sets only the mmcv-1.x key `fp16`, which mmengine ignores
    cfg = load(path)
    wrapper = cfg.get('optim_wrapper', {}).get('type', 'OptimWrapper')
    assert ('amp' in path.stem.split('_')[-2].split('-')) == (wrapper == 'AmpOptimWrapper'), wrapper


#: Configs that run (the model bases under `_base_/models/` have no runtime of their own).
RUN_CONFIGS = [p for p in MODEL_CONFIGS if not rel(p).startswith('_base_/models/')]


@pytest.mark.parametrize('path', RUN_CONFIGS, ids=ids(RUN_CONFIGS))
def test_every_run_saves_checkpoints_crash_safely(path):
    # mmengine's own CheckpointHook deletes the old checkpoint before the new one is written
    checkpoint = load(path).default_hooks.checkpoint
    assert checkpoint.type == 'CrashSafeCheckpointHook', checkpoint.type
    assert checkpoint.backend_args == dict(backend='atomic_local')


#: What a dataset word of the `{data}` field promises: the dataset types the run reads (any level
#: of dataset wrappers).
DATASET_WORDS = {
    'in1k': {'ImageNet'}, 'coco': {'CocoDataset'}, 'ade20k': {'ADE20KDataset'},
    'ade': {'BaseSegDataset'}, 'k400': {'KineticsDataset'}, 'k700': {'KineticsDataset'},
    'shapenetpart': {'ShapeNetPartDataset'}, 'shapenet55': {'ShapeNet55Dataset'},
    'modelnet40': {'ModelNetDataset'}, 'partnet': {'PartNetDataset'},
    'audioset': {'AudioSetDataset'}, 'esc50': {'ESC50Dataset'},
    'digits': {'CustomDataset', 'CocoDataset', 'BaseSegDataset'},
    'spectrogram': {'CustomDataset'}, 'multitask': {'MultiSourceDataset'},
    'multimodal': {'MultiSourceDataset'}, 'sunrgbd': {'DepthImageDataset'},
}


def dataset_types(dataset) -> List[str]:
    """The type of a dataset config and of every dataset it wraps."""
    inner = [dataset['dataset']] if 'dataset' in dataset else list(dataset.get('datasets', []))
    inner += [source['dataset'] for source in dataset.get('sources', {}).values()]  # OmniVec's
    return [dataset['type']] + [t for d in inner for t in dataset_types(d)]


def epochs_of_data(cfg: Config) -> int:
    """Epochs over the data: `max_epochs` times every RepeatDataset's `times` (mmdet's LSJ
    recipe runs 25 epochs of a 4× repeated COCO = 100 epochs)."""
    epochs, dataset = cfg.train_cfg.max_epochs, cfg.train_dataloader.dataset
    while 'dataset' in dataset:
        epochs *= dataset.get('times', 1)
        dataset = dataset.dataset
    return epochs


def sizes_in(node, out: set) -> set:
    """Every int and int pair/triple of a data config (pipelines, dataset options)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in ('type', 'data_root', 'ann_file', 'data_prefix', 'metainfo'):
                sizes_in(value, out)
    elif isinstance(node, (list, tuple)):
        if all(isinstance(x, int) and not isinstance(x, bool) for x in node) and node:
            out.add(tuple(node))
        for value in node:
            sizes_in(value, out)
    elif isinstance(node, int) and not isinstance(node, bool):
        out.add(node)
    return out


def model_input_sizes(node, out: set) -> set:
    """The input sizes a model config fixes (its tokenizers' `img_size`, frames, mel bins)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ('img_size', 'num_frames', 'num_mel_bins'):
                sizes_in(value, out)
            else:
                model_input_sizes(value, out)
    elif isinstance(node, (list, tuple)):
        for value in node:
            model_input_sizes(value, out)
    return out


@pytest.mark.parametrize('path', RUN_CONFIGS, ids=ids(RUN_CONFIGS))
def test_the_name_fields_say_what_the_config_does(path):
    # `{training}`: `NxbM` (M samples per GPU; N×M the recipe's batch, when auto_scale_lr says
    # it), `Ne` epochs of data / `Nk` / `Ni` iterations, `coslr`; `{data}`: the dataset and its
    # resolution (`HxW` image or crop, `T×τ` clip, `N` points)
    cfg = load(path)
    training, data = path.stem.split('_')[-2:]
    words = training.split('-')
    gpus, batch = map(int, re.fullmatch(r'(\d+)xb(\d+)', words[0]).groups())
    assert cfg.train_dataloader.batch_size == batch
    base = cfg.get('auto_scale_lr', {}).get('base_batch_size')
    if 'tiny' not in path.stem and base is not None:
        assert base == gpus * batch, f'auto_scale_lr.base_batch_size {base} != {gpus}x{batch}'
    length = re.fullmatch(r'(\d+)([eki])', words[-1])
    assert length, f'the {{training}} field ends with the schedule (Ne/Nk/Ni): {training}'
    count, unit = int(length[1]), length[2]
    if unit == 'e':
        assert epochs_of_data(cfg) == count
    else:
        assert cfg.train_cfg.max_iters == count * (1000 if unit == 'k' else 1)
    if 'coslr' in words:
        schedulers = cfg.param_scheduler
        schedulers = [schedulers] if isinstance(schedulers, dict) else schedulers
        assert any(s.type.startswith('Cosine') for s in schedulers)

    types = set(dataset_types(cfg.train_dataloader.dataset))
    named = [w for w in data.split('-') if w in DATASET_WORDS]
    assert named, f'no dataset word in {{data}} = {data!r} (known: {sorted(DATASET_WORDS)})'
    for word in named:
        assert DATASET_WORDS[word] & types, (word, types)
    resolution = re.search(r'-(\d+(?:x\d+)*)$', data)
    if resolution and not re.search(r'-(2k|2m|fold\d)$', data):
        dims = tuple(int(d) for d in resolution[1].split('x'))
        found = sizes_in(cfg.train_dataloader.dataset, set())
        found |= sizes_in(cfg.get('test_dataloader', {}).get('dataset', {}), set())
        found |= model_input_sizes(cfg.model, set())
        if len(dims) == 1:  # points
            wanted = [[dims[0]]]
        elif len(dims) == 2 and dims[0] == dims[1]:  # a square image or crop: its side
            wanted = [[dims[0]]]
        elif len(dims) == 2:  # an H×W pair, or a clip's frames × frame interval
            wanted = [[dims], list(dims)]
        else:  # frames × H × W
            wanted = [[dims[0], dims[1]] if dims[1] == dims[2] else [dims[0], dims[1:]]]
        assert any(all(w in found for w in option) for option in wanted), \
            (dims, sorted(map(str, found)))


@pytest.mark.parametrize('path', RUN_CONFIGS, ids=ids(RUN_CONFIGS))
def test_every_run_resumes_exactly_and_stops_on_a_nan_loss(path):
    # mmengine seeds once per process; the runtime bases add the hooks (tests/test_engine/
    # test_exact_resume.py tests what they do)
    types = [hook['type'] for hook in load(path).get('custom_hooks', [])]
    assert {'ResumableRandomnessHook', 'FiniteLossHook'} <= set(types), types


def test_no_config_sets_a_pathway_to_none_or_deletes_one():
    # bases are plain (no `pathway` key), so an M2PT child adds one without `_delete_`
    for base in ('_base_/models/m2pt_vit-base-p16.py', '_base_/models/m2pt_vit-tiny-p8.py',
                 '_base_/models/mask-rcnn_m2pt-vit-base-p16.py'):
        assert 'pathway' not in load(CONFIG_ROOT / base).model.backbone, base
    for path in CONFIGS:
        code = re.sub(r'#.*', '', path.read_text())
        assert not re.search(r'pathway\s*=\s*(None|dict\(\s*_delete_)', code), rel(path)


def test_a_config_of_another_project_inherits_ours_by_scope(tmp_path, monkeypatch):
    demo = 'demo/m2pt_vit-tiny-p8-spectrogram_scratch_1xb64-coslr-20e_digits-32x32.py'
    downstream = tmp_path / 'my_project' / 'configs' / 'my_m2pt_digits.py'
    downstream.parent.mkdir(parents=True)
    downstream.write_text(f"_base_ = ['m2pt_mm::{demo}']\n"
                          "model = dict(backbone=dict(pathway=dict(aux_checkpoint='my_aux.pth')))\n"
                          "train_cfg = dict(max_epochs=3)\n")
    ours = load(CONFIG_ROOT / demo).to_dict()
    # mmengine as it ships, whatever an earlier test registered (monkeypatch restores it after)
    mmengine_get_cfg_path = inspect.unwrap(Config._get_cfg_path)
    monkeypatch.setattr(Config, '_get_cfg_path', staticmethod(mmengine_get_cfg_path))
    with pytest.raises(AssertionError, match='does not support to load m2pt_mm config'):
        Config.fromfile(str(downstream))

    tools = load_config(str(downstream), argparse.Namespace(cfg_options=None, launcher='none',
                                                            work_dir=str(tmp_path / 'work')))
    monkeypatch.setattr(Config, '_get_cfg_path', staticmethod(mmengine_get_cfg_path))
    m2pt_mm.utils.register_config_scope()  # the documented call for downstream tools
    m2pt_mm.utils.register_config_scope()  # idempotent
    assert inspect.unwrap(Config._get_cfg_path) is mmengine_get_cfg_path
    plain = Config.fromfile(str(downstream))

    for cfg in (tools, plain):
        got = cfg.to_dict()
        assert got['model']['backbone']['pathway'] == dict(aux_checkpoint='my_aux.pth')
        assert got['train_cfg']['max_epochs'] == 3
        got['model']['backbone']['pathway'] = ours['model']['backbone']['pathway']
        got['train_cfg']['max_epochs'] = ours['train_cfg']['max_epochs']
        for key in ('work_dir', 'launcher'):  # set by load_config
            got.pop(key, None)
        # read exactly as the file itself: no `_scope_` tagged on, its own default scope
        assert got == ours
    model = build(plain)
    assert len(model.backbone.pathway_cfgs) == 1 and model.backbone.embed_dims == 64

    missing = tmp_path / 'missing.py'
    missing.write_text("_base_ = ['m2pt_mm::demo/no_such_config.py']\n")
    with pytest.raises(FileNotFoundError, match='no_such_config.py'):
        Config.fromfile(str(missing))


@pytest.mark.slow
def test_vit_base_classifier_one_training_step(tmp_path):
    from mmpretrain.models import VisionTransformer
    aux = tmp_path / 'aux_vit-base-p16.pth'  # a full-size aux file in mmpretrain layout
    torch.save({'state_dict': VisionTransformer(arch='base').state_dict()}, aux)
    cfg = Config.fromfile(str(ROOT / 'configs/_base_/models/m2pt_vit-base-p16.py'))
    cfg.model.backbone.pathway = dict(aux_checkpoint=str(aux))  # the one-line M2PT delta
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    inputs = torch.randn(1, 3, 224, 224)
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(3)]
    scale = model.backbone.layers[0].attn.qkv.cross_modal_scale
    # two steps: VisionTransformerClsHead starts at zero, so the first step moves only the head
    for _ in range(2):
        optim.zero_grad()
        loss = sum(model(inputs, samples, mode='loss').values())
        loss.backward()
        optim.step()
    assert torch.isfinite(loss) and scale.item() != 0.0
