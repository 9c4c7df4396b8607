"""One training step of a full-size config on CPU: the model, its synthetic batch and the
process's peak RSS.

The slow tests check that the ViT-B configs train (a finite loss, λ moves); their time and memory
are measured here, in a process of their own, so that the peak RSS is the step's and not a test
session's (CONTRIBUTING: speed and memory are measured by tools, never by timed tests).

The model is built as mmengine's Runner builds it (the config's default scope and data
preprocessor), with SyncBN reverted to BN (one process) and an AMP optim wrapper replaced by the
plain one (mmengine's AMP wrapper needs a GPU). No checkpoint is read: the modules keep their
initialisation and every pathway gets stand-ins, W′ ~ N(0, 0.02²) and λ = 0.01, so that it takes
part in the step as after loading an aux model (time and memory do not depend on the values).
Inputs are random, of the size the model was configured for:

=========================  ==============================  ========================================
model                      input (per sample)              labels
=========================  ==============================  ========================================
mmdet detector             image ``3 × S × S``             2 boxes with masks (classes 3 and 17)
mmseg segmentor            image ``3 × S × S``             a random label map
image / audio / video ViT  the tokenizer's configured size  1 class (2 for a multi-label head)
point backbone             ``num_points × 3`` (config key)  1 class; per-point parts for part seg
=========================  ==============================  ========================================

``S`` is the backbone's ``img_size``; ``--input-shape`` overrides the per-sample shape.

``tools/analysis/full_size_step.py`` is its command line.
"""
import resource
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import MODELS, DefaultScope
from torch import nn

from m2pt_mm.testing.tiny import pathway_stand_ins


def cpu_config(cfg: Config) -> Config:
    """``cfg`` as one CPU process trains it: an ``AmpOptimWrapper`` (CUDA only in mmengine)
    becomes the plain ``OptimWrapper``; everything else stays."""
    wrapper = cfg.optim_wrapper
    if wrapper.get('type') == 'AmpOptimWrapper':
        wrapper.type = 'OptimWrapper'
        for key in ('loss_scale', 'dtype'):
            wrapper.pop(key, None)
    return cfg


def build_model(cfg: Config) -> nn.Module:
    """``cfg.model`` with the config's data preprocessor, in its default scope (as mmengine's
    Runner builds it), SyncBN reverted to BN (it needs a process group). Not initialised from
    checkpoints: call ``init_weights()`` for that."""
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        return revert_sync_batchnorm(MODELS.build(model_cfg))


# ---------------------------------------------------------------------------- synthetic inputs
def input_shape(cfg: Config, model: nn.Module) -> Tuple[int, ...]:
    """The per-sample input shape the model was configured for (see the module docstring): the
    tokenizer's configured size, or for a tokenizer that fixes none (point clouds) the config's
    top-level ``num_points``."""
    tokenizer = model.backbone.patch_embed
    shape = tokenizer.input_shape()
    if shape is None and cfg.get('num_points') is not None:
        shape = tokenizer.input_shape(cfg.num_points)
    if shape is None:
        raise KeyError(f'{cfg.filename}: {type(tokenizer).__name__} fixes no input size and the '
                       'config has no top-level num_points; pass --input-shape (e.g. N 3)')
    return shape


def _det_sample(size: Tuple[int, int], num_classes: int) -> Any:
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    h, w = size
    boxes = torch.tensor([[0.2 * w, 0.1 * h, 0.5 * w, 0.3 * h],
                          [0.1 * w, 0.6 * h, 0.25 * w, 0.9 * h]])
    masks = torch.zeros(len(boxes), h, w, dtype=torch.uint8)
    for mask, (x0, y0, x1, y1) in zip(masks, boxes.int().tolist()):
        mask[y0:y1, x0:x1] = 1
    sample = DetDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size,
                                         scale_factor=(1., 1.), batch_input_shape=size))
    sample.gt_instances = InstanceData(bboxes=boxes, labels=torch.tensor([3, 17]) % num_classes,
                                       masks=BitmapMasks(masks.numpy(), h, w))
    return sample


def _seg_sample(size: Tuple[int, int], num_classes: int) -> Any:
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size))
    sample.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, *size)))
    return sample


def _cls_sample(model: nn.Module, index: int, num_points: int) -> Any:
    from mmpretrain.models.heads import MultiLabelClsHead
    from mmpretrain.structures import DataSample
    head = model.head
    sample = DataSample()
    if hasattr(model.head, 'num_categories'):  # point part segmentation (PointPartSegmentor)
        if head.num_categories:
            sample.set_gt_label(index % head.num_categories)
        sample.set_field(torch.randint(0, head.num_classes, (num_points, )), 'gt_seg_label')
        return sample
    labels = [index % head.num_classes]
    if isinstance(head, MultiLabelClsHead):
        labels.append((index + 7) % head.num_classes)
    return sample.set_gt_label(labels)


def synthetic_batch(cfg: Config, model: nn.Module, batch_size: int,
                    shape: Optional[Sequence[int]] = None) -> Dict[str, List[Any]]:
    """``model.train_step`` data: ``batch_size`` random inputs of ``shape`` (default:
    :func:`input_shape`) and labels of the model's task (see the module docstring)."""
    shape = tuple(shape or input_shape(cfg, model))
    scope = cfg.get('default_scope', 'mmpretrain')
    gen = torch.Generator().manual_seed(0)
    if scope in ('mmdet', 'mmseg') or (len(shape) == 3 and shape[0] == 3):  # 8-bit images
        inputs = [torch.randint(0, 256, shape, dtype=torch.uint8, generator=gen)
                  for _ in range(batch_size)]
    elif len(shape) == 2:  # point clouds in [-1, 1]
        inputs = [torch.rand(shape, generator=gen) * 2 - 1 for _ in range(batch_size)]
    else:  # spectrograms, video clips: already normalised features
        inputs = [torch.randn(shape, generator=gen) for _ in range(batch_size)]
    if scope == 'mmdet':
        # the box head's classes: Mask R-CNN's roi_head.bbox_head, a one-stage bbox_head
        box_head = getattr(getattr(model, 'roi_head', model), 'bbox_head')
        samples = [_det_sample(shape[1:], box_head.num_classes) for _ in range(batch_size)]
    elif scope == 'mmseg':
        samples = [_seg_sample(shape[1:], model.decode_head.num_classes) for _ in range(batch_size)]
    elif scope == 'mmpretrain':
        samples = [_cls_sample(model, i, shape[0]) for i in range(batch_size)]
    else:
        raise ValueError(f'{cfg.filename}: default_scope must be mmpretrain, mmdet or mmseg, '
                         f'got {scope!r}')
    return dict(inputs=inputs, data_samples=samples)


# ---------------------------------------------------------------------------- the step
def prepare(cfg: Config) -> Tuple[nn.Module, OptimWrapper]:
    """The model (stand-ins in its pathways, train mode) and the optim wrapper of ``cfg`` on
    CPU."""
    cfg = cpu_config(cfg)
    model = build_model(cfg)
    pathway_stand_ins(model)
    model.train()
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    return model, optim_wrapper


def peak_rss_mib() -> float:
    """The peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
