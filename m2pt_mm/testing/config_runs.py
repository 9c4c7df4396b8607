"""Run a shipped config on a CPU in seconds, changed in one documented way (:func:`shrink_config`),
on tiny data in each dataset's real on-disk format (:func:`write_run_data`): what the config run
test (``tests/test_config_runs.py``) does to every config of ``configs/``.

What :func:`shrink_config` changes, and nothing else:

* **width**: the ViT keeps its depth and layer names (``out_indices``, window/global blocks and
  layer decay stay valid) at :data:`TINY_WIDTH`; every other ``768`` of the model config (necks,
  heads and decoders reading the ViT's width, ``2 × 768`` and ``3072`` likewise; 1024, 2048,
  4096 for a ViT-L, 1280, ... for a ViT-H) becomes 64;
* **data**: each dataset's location (``data_root``, ``ann_file``, ``data_prefix``, ``split``, …)
  points at the fixture of its type, and so do an evaluator's ``ann_file`` and a text
  pipeline's ``vocab_file``; training batches of 2; no worker processes;
* **length**: one epoch of at most two batches (or two iterations), validated at its end; a
  parameter scheduler without ``end`` keeps the configured length as its end, as the Runner would
  have set it (OmniVec's ``ModalityMixingSampler`` gets its own ``batches_per_epoch``: it refuses
  mmengine's ``num_batch_per_epoch`` wrapper);
* **AMP on a machine without CUDA**: mmengine's ``AmpOptimWrapper`` asserts a GPU, so the wrapper
  becomes ``OptimWrapper`` with the config's own optimiser, constructor, ``paramwise_cfg`` and
  gradient clipping.
* **sharding** (a config with ``runner_type='FlexibleRunner'`` and a ``strategy``): one process
  cannot shard, so the run uses the plain Runner, as the config's DDP sibling does
  (tests/test_engine/test_sharded_training.py runs the strategies in several processes).
"""
import copy
import json
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

PathLike = Union[str, Path]

#: The ViT width a config is run at (depth as configured).
TINY_WIDTH = dict(embed_dims=64, num_heads=4, feedforward_channels=128)
#: The widths of the full-size (ViT-B) configs, and what each becomes.
WIDTHS = {768: TINY_WIDTH['embed_dims'], 2 * 768: 2 * TINY_WIDTH['embed_dims'],
          3072: TINY_WIDTH['feedforward_channels']}
#: mmpretrain's ViT arch names the full-size configs use: (depth, width).
ARCHS = {'b': (12, 768), 'base': (12, 768), 'l': (24, 1024), 'large': (24, 1024),
         'h': (32, 1280), 'huge': (32, 1280)}
#: (width key, head-count key) pairs: a head count goes with its shrunk width.
HEAD_KEYS = (('embed_dims', 'num_heads'), ('embed_dim', 'num_heads'),
             ('feedforward_channels', 'num_heads'), ('decoder_embed_dim', 'decoder_num_heads'))
#: Keys that say where a dataset's files are: replaced by the fixture's.
LOCATION_KEYS = ('data_root', 'ann_file', 'data_prefix', 'split', 'label_csv', 'label_file',
                 'category', 'level', 'classes', 'val_fold')
BATCH = 2


#: Sizes that are not widths (an MAE decoder predicts the pixels of a patch: 3·16² = 768).
NOT_WIDTHS = ('predict_feature_dim', 'num_classes')


def _shrink_widths(node: Any, widths: Dict[int, int]) -> Any:
    if isinstance(node, dict):
        shrunk = {k: v if k in NOT_WIDTHS else _shrink_widths(v, widths)
                  for k, v in node.items()}
        for width, heads in HEAD_KEYS:
            if heads in shrunk and node.get(width) != shrunk.get(width):
                shrunk[heads] = TINY_WIDTH['num_heads']  # a decoder of the ViT's width
        return shrunk
    if isinstance(node, (list, tuple)):
        return type(node)(_shrink_widths(v, widths) for v in node)
    if isinstance(node, int) and not isinstance(node, bool):
        return widths.get(node, node)
    return node


def _vits(model: dict):
    """The ViT configs of a model config: its backbone, OmniVec's trunk."""
    for key in ('backbone', 'trunk'):
        if isinstance(model.get(key), dict):
            yield model[key]


def _vit_width(model: dict) -> int:
    """The width of the model's ViT (768 for ViT-B, 1024 for ViT-L, 1280 for ViT-H)."""
    for vit in _vits(model):
        arch = vit.get('arch', 'base')
        if isinstance(arch, str):
            if arch not in ARCHS:
                raise ValueError(f'shrink_model knows ViT archs {sorted(ARCHS)}, got {arch!r}')
            return ARCHS[arch][1]
        return arch.get('embed_dims', 768)
    return 768


def shrink_model(model: dict) -> dict:
    """The model config at :data:`TINY_WIDTH`, depth and layer names unchanged. The widths that
    shrink are those of the model's ViT (:data:`WIDTHS` for ViT-B; 1024, 2048 and 4096 for
    ViT-L, ...), so that other sizes (1024 audio frames) stay."""
    width = _vit_width(model)
    widths = {width * k: v for k, v in zip((1, 2, 4), WIDTHS.values())}
    model = _shrink_widths(copy.deepcopy(model), widths)
    for vit in _vits(model):
        arch = vit.get('arch', 'base')
        if isinstance(arch, str):
            arch = dict(num_layers=ARCHS[arch][0])
        vit['arch'] = dict(arch, **TINY_WIDTH)
    return model


def _datasets(node: Any):
    """Every dataset config below ``node`` (wrappers, ConcatDataset lists, OmniVec sources)."""
    if isinstance(node, dict):
        if 'type' in node and ('pipeline' in node or 'data_root' in node):
            yield node
        for key in ('dataset', 'datasets', 'sources'):
            inner = node.get(key)
            if isinstance(inner, dict) and key == 'sources':
                for source in inner.values():
                    yield from _datasets(source)
            elif inner is not None:
                yield from _datasets(inner)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _datasets(item)


def redirect_dataset(dataset: dict, fixtures: Dict[str, Dict[str, dict]], split: str) -> None:
    """Point one dataset config at the fixture of its type (``fixtures[type][split]``)."""
    kind = dataset['type'].split('.')[-1]
    if kind not in fixtures:
        raise KeyError(f'no tiny data for dataset type {kind!r} (known: {sorted(fixtures)}); '
                       'add a writer to m2pt_mm.testing.config_runs.write_run_data')
    for key in LOCATION_KEYS:
        dataset.pop(key, None)
    # the class count stays the config's (its head's width); the tiny data use the first classes
    dataset.update({k: copy.deepcopy(v) for k, v in fixtures[kind][split].items()
                    if k != 'num_classes'})


def shrink_config(cfg, fixtures: Dict[str, Dict[str, dict]], cuda: Optional[bool] = None):
    """A copy of a parsed config changed as the module docstring says (see there)."""
    import torch
    cfg = copy.deepcopy(cfg)
    cfg.model = shrink_model(cfg.model.to_dict())
    for name, split in (('train_dataloader', 'train'), ('val_dataloader', 'val'),
                        ('test_dataloader', 'val')):
        loader = cfg.get(name)
        if not loader:
            continue
        if name == 'train_dataloader':  # tests keep their batch (mmseg tests one image each)
            loader.batch_size = BATCH
        loader.num_workers = 0
        loader.persistent_workers = False
        if loader.get('sampler', {}).get('type') == 'ModalityMixingSampler':
            # OmniVec's sampler draws the batches itself, and refuses mmengine's
            # num_batch_per_epoch wrapper: its own length option instead
            loader.sampler.batch_size = BATCH
            if name == 'train_dataloader':
                loader.sampler.batches_per_epoch = 2
        for dataset in _datasets(loader.dataset):
            redirect_dataset(dataset, fixtures, split)
            for transform in dataset.get('pipeline', []):
                if 'vocab_file' in transform:  # the text vocabulary built from the corpus
                    transform.vocab_file = fixtures['TextClsDataset']['vocab_file']
        if name == 'train_dataloader' and \
                loader.get('sampler', {}).get('type') != 'ModalityMixingSampler':
            loader.num_batch_per_epoch = 2
    for name in ('val_evaluator', 'test_evaluator'):
        evaluators = cfg.get(name)
        for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
            if isinstance(evaluator, dict) and 'ann_file' in evaluator:
                coco = fixtures['CocoDataset']['val']
                evaluator.ann_file = str(Path(coco['data_root']) / coco['ann_file'])
    by_epoch = 'max_epochs' in cfg.train_cfg
    length = cfg.train_cfg.max_epochs if by_epoch else cfg.train_cfg.max_iters
    schedulers = cfg.get('param_scheduler') or []
    for scheduler in [schedulers] if isinstance(schedulers, dict) else schedulers:
        if 'end' not in scheduler and scheduler.get('by_epoch', True) == by_epoch:
            scheduler.end = length
    if by_epoch:
        cfg.train_cfg.update(max_epochs=1, val_interval=1)
        cfg.train_cfg.pop('val_begin', None)
    else:
        cfg.train_cfg.update(max_iters=2, val_interval=2)
    if cuda is None:
        cuda = torch.cuda.is_available()
    wrapper = cfg.optim_wrapper
    if wrapper.get('type') == 'AmpOptimWrapper' and not cuda:
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            wrapper.pop(key, None)
        wrapper.type = 'OptimWrapper'
    if cfg.get('strategy') is not None:
        # a run in one process cannot shard: the plain Runner, as the DDP sibling config runs
        cfg.pop('strategy')
        cfg.pop('runner_type', None)
    return cfg


# ------------------------------------------------------------------------------ tiny data
def write_imagenet(root: PathLike, per_class: int = 2, num_classes: int = 2, size: int = 40,
                   seed: int = 0) -> dict:
    """mmpretrain's ``ImageNet`` layout: ``train/<wnid>/<wnid>_<n>.JPEG``, ``val/*.JPEG`` and the
    lists ``meta/{train,val}.txt`` (``<path> <label>``)."""
    from PIL import Image
    root = Path(root)
    rng = np.random.default_rng(seed)
    lines: Dict[str, list] = {'train': [], 'val': []}
    for label in range(num_classes):
        wnid = f'n{label:08d}'
        for split in ('train', 'val'):
            for n in range(per_class):
                rel = f'{wnid}/{wnid}_{n}.JPEG' if split == 'train' else \
                    f'ILSVRC2012_val_{label * per_class + n + 1:08d}.JPEG'
                path = root / split / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                stripes = (np.arange(size) // 4 % 2 * 200.)
                image = stripes[:, None] if label % 2 == 0 else stripes[None, :]
                image = np.broadcast_to(image, (size, size)) + rng.normal(0, 30, (size, size))
                image = np.clip(np.stack([image] * 3, -1), 0, 255).astype(np.uint8)
                Image.fromarray(image).save(path, format='JPEG')
                lines[split].append(f'{rel} {label}')
    (root / 'meta').mkdir(exist_ok=True)
    for split, rows in lines.items():
        (root / 'meta' / f'{split}.txt').write_text('\n'.join(rows) + '\n')
    return {split: dict(data_root=str(root), split=split) for split in ('train', 'val')}


def write_coco_and_ade(root: PathLike) -> Dict[str, Dict[str, dict]]:
    """Digit scenes as COCO (categories named as COCO's first ten, so that mmdet's
    ``CocoDataset`` keeps them) and as ADE20K folders."""
    from mmdet.datasets import CocoDataset

    from .digits import write_digit_scenes
    root = Path(root)
    write_digit_scenes(str(root), num_train=4, num_val=2, sizes=((96, 96), (80, 112)))
    names = CocoDataset.METAINFO['classes']
    for split in ('train', 'val'):
        path = root / 'coco' / 'annotations' / f'instances_{split}.json'
        data = json.loads(path.read_text())
        for category in data['categories']:
            category['name'] = names[category['id'] - 1]
        path.write_text(json.dumps(data))
    coco = {split: dict(data_root=str(root / 'coco'),
                        ann_file=f'annotations/instances_{split}.json',
                        data_prefix=dict(img=f'{split}/')) for split in ('train', 'val')}
    ade = {split: dict(data_root=str(root / 'ade'),
                       data_prefix=dict(img_path=f'images/{folder}',
                                        seg_map_path=f'annotations/{folder}'))
           for split, folder in (('train', 'training'), ('val', 'validation'))}
    return dict(CocoDataset=coco, ADE20KDataset=ade)


def write_audioset_527(root: PathLike) -> dict:
    """AudioMAE's AudioSet layout with the 527 rows of the real ``class_labels_indices.csv``
    (the first rows real, the others placeholders), so that labels have the width of the
    configs' heads."""
    from . import modalities
    info = modalities.write_audioset(root, seconds=1.0)
    rows = [f'{index},{mid},"{name}"' for index, mid, name in modalities.AUDIOSET_CLASSES]
    rows += [f'{k},/m/fixture{k},"class {k}"' for k in range(len(rows), 527)]
    (Path(root) / 'class_labels_indices.csv').write_text(
        'index,mid,display_name\n' + '\n'.join(rows) + '\n')
    return info


def write_run_data(root: PathLike) -> Dict[str, Dict[str, dict]]:
    """Tiny data of every dataset type the configs read, in their real on-disk formats, under
    ``root``; returns ``{dataset type: {'train': kwargs, 'val': kwargs}}`` for
    :func:`shrink_config`."""
    from . import modalities, omnivec
    root = Path(root)
    fixtures: Dict[str, Dict[str, dict]] = dict(ImageNet=write_imagenet(root / 'imagenet'))
    fixtures.update(write_coco_and_ade(root / 'scenes'))
    writers = dict(
        AudioSetDataset=write_audioset_527,
        ESC50Dataset=modalities.write_esc50,
        KineticsDataset=lambda p: modalities.write_kinetics(p, num_frames=70, size=(40, 48)),
        ModelNetDataset=lambda p: modalities.write_modelnet40(p, num_points=1536),
        DepthImageDataset=modalities.write_rgbd,
        TextClsDataset=modalities.write_text_cls,
        ShapeNetPartDataset=modalities.write_shapenetpart,
        PartNetDataset=modalities.write_partnet,
        ShapeNet55Dataset=modalities.write_shapenet55,
        # the category lists of the full sets: the configs' num_classes (default) checks them
        Places365Dataset=lambda p: omnivec.write_places365(p, size=40, num_categories=365),
        MomentsInTimeDataset=lambda p: omnivec.write_moments(p, num_frames=70, size=(40, 48),
                                                             num_categories=339),
        S3DISDataset=omnivec.write_s3dis)
    for kind, writer in writers.items():
        info = writer(root / kind)
        fixtures[kind] = dict(train=info['train'], val=info['val'])
        if kind == 'TextClsDataset':
            from m2pt_mm.text_vocab import build_text_vocab
            with open(info['corpus']) as corpus:
                fixtures[kind]['vocab_file'] = str(build_text_vocab(
                    corpus, 256, root / kind / 'vocab.json'))
    return fixtures


# ------------------------------------------------------------------------------ tiny checkpoints
def write_run_checkpoints(root: PathLike) -> Dict[str, str]:
    """The public checkpoints the configs read (:data:`m2pt_mm.engine.chain.SOURCES` with a
    public origin), in their projects' layouts at :data:`TINY_WIDTH` and their depth, at the
    relative paths the configs name, under ``root``. The files only a run of this repository
    makes are left to those runs (the config run test runs them)."""
    import torch

    from m2pt_mm.engine.chain import SOURCES

    from . import checkpoint_layouts as layouts
    from .tiny import mae_checkpoint, timm_state_dict
    dims, mlp = TINY_WIDTH['embed_dims'], TINY_WIDTH['feedforward_channels']
    vit_b = dict(depth=12, dims=dims, img_size=224, patch_size=16,
                 num_heads=TINY_WIDTH['num_heads'], mlp_ratio=mlp / dims)
    zoo = dict(seed=3, **vit_b)  # the M2PT zoo: bare timm state dicts
    written = {
        'checkpoints/mae_pretrain_vit_base.pth': mae_checkpoint(seed=2, **vit_b),
        'checkpoints/audiomae_pretrained.pth': layouts.audiomae_pretrain(
            seed=4, dims=dims, depth=12, mlp=mlp, frames=1024, mels=128, patch=16),
        'checkpoints/videomae_vit-base-p16_k400_pretrain.pth': layouts.videomae_pretrain(
            seed=5, dims=dims, depth=12, mlp=mlp, patch=16),
        'checkpoints/m2pt/point_vit-base-p16.pth': timm_state_dict(**zoo),
        'checkpoints/m2pt/video_vit-base-p16.pth': timm_state_dict(**dict(zoo, seed=6)),
        'checkpoints/m2pt/audio_vit-base-p16.pth': timm_state_dict(**dict(zoo, seed=7)),
        'checkpoints/mae_pretrain_vit_large.pth': mae_checkpoint(seed=8, **dict(vit_b, depth=24)),
        'checkpoints/mae_pretrain_vit_huge.pth': mae_checkpoint(
            seed=9, **dict(vit_b, depth=32, patch_size=14)),
    }
    public = {path for path, source in SOURCES.items() if source.public}
    if set(written) != public:
        raise RuntimeError(f'tiny checkpoints {sorted(written)} != the public sources '
                           f'{sorted(public)}')
    paths = {}
    for rel, checkpoint in written.items():
        path = Path(root) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(checkpoint, path)
        paths[rel] = str(path)
    return paths
