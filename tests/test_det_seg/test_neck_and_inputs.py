"""ViTPyramidNeck and the bad inputs of detection/segmentation: odd image sizes, out_indices,
channel mismatch, a classifier checkpoint given to a detector, broken COCO files."""
import json
import shutil

import pytest
import torch
from mmpretrain.registry import MODELS

import m2pt_mm.models  # noqa: F401
from m2pt_mm.datasets.checks import check_coco_files, check_dataset_files
from m2pt_mm.engine.hooks.checkpoint_check_hook import (
    CheckpointMismatchError,
    check_state_dict_fits,
)
from m2pt_mm.testing.tiny import tiny_backbone_cfg
from tests.helpers import DET, tiny_config


def _neck(**kwargs):
    cfg = dict(type='ViTPyramidNeck', in_channels=32, out_channels=16, rescales=(4, 2, 1, 0.5),
               num_outs=5, norm_cfg=dict(type='BN'))
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('num_maps', [1, 4], ids=['simple-pyramid', 'multi-level'])
def test_neck_pyramid_shapes(num_maps):
    neck = _neck().eval()
    maps = [torch.randn(2, 32, 8, 6) for _ in range(num_maps)]
    outs = neck(maps)
    assert [tuple(o.shape) for o in outs] == [(2, 16, 32, 24), (2, 16, 16, 12), (2, 16, 8, 6),
                                              (2, 16, 4, 3), (2, 16, 2, 2)]


def test_neck_simple_pyramid_uses_the_one_map_at_every_level():
    neck = _neck().eval()
    x = torch.randn(1, 32, 8, 8)
    assert all(torch.equal(a, b) for a, b in zip(neck([x]), neck([x] * 4)))


def test_neck_channel_mismatch_is_named():
    with pytest.raises(ValueError, match=r"in_channels is 32 but feature map 0 has shape "
                                         r"\(1, 64, 8, 8\).*backbone's embed_dims"):
        _neck()([torch.randn(1, 64, 8, 8)])


def test_neck_wrong_number_of_maps_and_rescales():
    with pytest.raises(ValueError, match=r'got 2 feature maps; expected 1 .* or 4'):
        _neck()([torch.randn(1, 32, 8, 8)] * 2)
    with pytest.raises(ValueError, match=r'rescales must be one of'):
        _neck(rescales=(8, 4, 2, 1))


def test_backbone_featmap_of_sizes_not_divisible_by_the_patch():
    backbone = MODELS.build(tiny_backbone_cfg(type='mmpretrain.M2PTVisionTransformer',
                                              out_type='featmap', out_indices=(1, 3)))
    outs = backbone(torch.randn(1, 3, 100, 76))  # 8×8 patches, corner-padded to 104 × 80
    assert [tuple(o.shape) for o in outs] == [(1, 32, 13, 10)] * 2


def test_backbone_out_indices_out_of_range():
    with pytest.raises(ValueError, match=r'out_indices \[4\] out of range for 4 blocks'):
        MODELS.build(tiny_backbone_cfg(type='mmpretrain.M2PTVisionTransformer', out_indices=(4, )))


def test_classifier_checkpoint_given_to_a_detector_names_the_missing_parts():
    detector_keys = ['backbone.cls_token', 'backbone.layers.0.attn.qkv.weight', 'neck.fpn.x',
                     'rpn_head.rpn_cls.weight', 'roi_head.bbox_head.fc_cls.weight']
    classifier_keys = ['backbone.cls_token', 'backbone.layers.0.attn.qkv.weight',
                       'head.layers.head.weight']
    with pytest.raises(CheckpointMismatchError,
                       match=r"cls\.pth does not fit the model: it has no \['neck\.', "
                             r"'roi_head\.', 'rpn_head\.'\] keys at all and \['head\.'\] keys the "
                             r"model does not have .*init_cfg"):
        check_state_dict_fits(detector_keys, classifier_keys, 'cls.pth')


def test_coco_missing_image_and_empty_annotations(scenes, tmp_path):
    root = tmp_path / 'coco'
    shutil.copytree(scenes / 'coco', root)
    ann = root / 'annotations' / 'instances_val.json'
    assert check_coco_files(str(ann), str(root / 'val')) == 4
    (root / 'val' / '000002.jpg').unlink()
    with pytest.raises(FileNotFoundError, match=r"lists 1 image\(s\) that cannot be read under "
                                                r".*val, e.g. \['.*val/000002.jpg \(missing\)'\]"):
        check_coco_files(str(ann), str(root / 'val'))
    coco = json.loads(ann.read_text())
    coco['annotations'] = []
    ann.write_text(json.dumps(coco))
    cfg = tiny_config(DET, tmp_path)
    with pytest.raises(ValueError, match=r"instances_val.json: 'annotations' is empty"):
        check_dataset_files(cfg)
