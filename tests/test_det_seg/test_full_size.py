"""The ViT-B Mask R-CNN and UperNet M2PT configs build and take one training step on CPU at their
real input sizes (1024² LSJ canvas, 512² crop), printing time and peak memory. Batch 1 for Mask
R-CNN; 2 for UperNet, whose pyramid-pooling BatchNorm (SyncBN reverted to BN on one CPU process)
needs more than one value per channel at pool scale 1."""
import resource
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, DefaultScope
from mmengine.structures import InstanceData, PixelData

import m2pt_mm.engine  # noqa: F401
import m2pt_mm.models  # noqa: F401
from tests.helpers import ROOT

DET = ROOT / 'configs/detection/mask-rcnn_m2pt-vit-base-p16-point_mae-pre_16xb4-amp-lsj-100e_coco.py'
SEG = ROOT / 'configs/segmentation/upernet_m2pt-vit-base-p16-point_mae-pre_8xb2-amp-160k_ade20k-512x512.py'


def _det_sample(size):
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    masks = torch.zeros(2, *size, dtype=torch.uint8)
    masks[0, 100:300, 200:500] = 1
    masks[1, 600:900, 100:250] = 1
    sample = DetDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size,
                                         scale_factor=(1., 1.), batch_input_shape=size))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[200., 100., 500., 300.], [100., 600., 250., 900.]]),
        labels=torch.tensor([3, 17]), masks=BitmapMasks(masks.numpy(), *size))
    return sample


def _seg_sample(size):
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size))
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 150, (1, *size)))
    return sample


@pytest.mark.slow
@pytest.mark.parametrize('path,size,batch', [(DET, (1024, 1024), 1), (SEG, (512, 512), 2)],
                         ids=['mask-rcnn-vit-b', 'upernet-vit-b'])
def test_vit_base_m2pt_config_one_training_step(path, size, batch, tmp_path, capsys):
    from mmpretrain.models import VisionTransformer
    aux = tmp_path / 'aux_vit-base-p16.pth'  # a full-size aux in mmpretrain layout
    torch.save({'state_dict': VisionTransformer(arch='base').state_dict()}, aux)
    cfg = Config.fromfile(str(path))
    cfg.model.backbone.pathway.aux_checkpoint = str(aux)
    cfg.model.backbone.init_cfg = None  # no MAE file here: W from scratch, the step is the same
    cfg.optim_wrapper.type = 'OptimWrapper'  # AMP needs a GPU
    cfg.optim_wrapper.pop('loss_scale')
    scope = cfg.default_scope
    with DefaultScope.overwrite_default_scope(scope):
        model = revert_sync_batchnorm(MODELS.build(cfg.model))  # SyncBN needs a process group
        model.init_weights()
        optim = build_optim_wrapper(model, cfg.optim_wrapper)
        sample = _det_sample(size) if scope == 'mmdet' else _seg_sample(size)
        data = dict(inputs=[torch.randint(0, 256, (3, *size), dtype=torch.uint8)] * batch,
                    data_samples=[sample] * batch)
        model.train()
        start = time.perf_counter()
        log = model.train_step(data, optim)
        seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert torch.isfinite(log['loss'])
    assert model.backbone.layers[0].attn.qkv.cross_modal_scale.item() != 0.  # λ left 0
    with capsys.disabled():
        print(f'\n{path.name}: one training step, batch {batch} at {size[0]}x{size[1]} on CPU: '
              f'{seconds:.1f} s, peak RSS of the test process {peak_mib:.0f} MiB, '
              f'loss {log["loss"].item():.3f}')
