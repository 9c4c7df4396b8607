"""A tiny point part-segmentation run through tools/train.py (in-process) with an aux of another
modality (a timm image ViT of the same depth and width): ShapeNetPart mIoU evaluated, deploy
checkpoint written and loadable into the plain (pathway=None) model."""
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

import m2pt_mm.engine  # noqa: F401  safe-globals allow-list for reading training checkpoints
import m2pt_mm.models  # noqa: F401
from tests.helpers import ROOT, assert_deploy_is_merge, call_tool, cfg_options, state_dict_of

CONFIG = ROOT / 'configs/point/m2pt_vit-tiny-g16-spectrogram_scratch_1xb4-20e_tiny-shapenetpart-256.py'


def test_tiny_part_seg_trains_evaluates_and_writes_a_deploy_checkpoint(tmp_path, aux64_file):
    from m2pt_mm.testing.modalities import write_shapenetpart
    data = write_shapenetpart(tmp_path / 'shapenetpart')['train']['data_root']
    work = tmp_path / 'work'
    epochs = 3
    options = {'model.backbone.pathway.aux_checkpoint': aux64_file,  # an image ViT, 4 × 64
               'train_cfg.max_epochs': epochs, 'train_cfg.val_interval': epochs,
               'default_hooks.checkpoint.interval': epochs}
    options.update({f'{loader}.dataset.data_root': data
                    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')})
    runner = call_tool('train', CONFIG, '--work-dir', work, *cfg_options(options))
    scalars = runner.message_hub.log_scalars
    metrics = {k: scalars[f'val/part-seg/{k}'].current() for k in ('class_mIoU', 'instance_mIoU')}
    assert all(0 <= v <= 100 for v in metrics.values()), metrics

    train_sd = state_dict_of(work / f'epoch_{epochs}.pth')
    key = 'backbone.layers.1.attn.qkv'
    assert train_sd[f'{key}.cross_modal_scale'].abs().item() > 0  # λ trained
    # W′ came from the image checkpoint (aux_trainable: it moved, but only a little)
    image_qkv = torch.load(aux64_file, weights_only=True)['blocks.1.attn.qkv.weight']
    torch.testing.assert_close(train_sd[f'{key}.aux_weight'], image_qkv, atol=0.05, rtol=0)
    assert_deploy_is_merge(work / f'epoch_{epochs}.pth', work / f'epoch_{epochs}_deploy.pth')
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.backbone.pathway = None
    MODELS.build(cfg.model).load_state_dict(state_dict_of(work / f'epoch_{epochs}_deploy.pth'),
                                            strict=True)
