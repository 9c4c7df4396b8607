"""One block stack (``ViTBlockStack``) for the M2PT backbone and OmniVec's trunk: the same blocks,
names, pathways, layer depths and computation for the same options; the trunk is not a backbone
with its stem cut off; mmpretrain's layer-decay constructor reads the backbone's depths."""
import copy

import pytest
import torch
from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor
from mmpretrain.models import VisionTransformer
from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer
from mmpretrain.registry import MODELS
from torch.testing import assert_close

import m2pt_mm.models  # noqa: F401  registers
from m2pt_mm.models.backbones import M2PTVisionTransformer
from m2pt_mm.models.backbones.m2pt_vit import ViTBlockStack
from m2pt_mm.models.omnivec import OmniVecTrunk
from m2pt_mm.testing.tiny import pathway_stand_ins

ARCH = dict(embed_dims=32, num_layers=3, num_heads=2, feedforward_channels=64)
#: Block options both take, away from their defaults.
OPTIONS = dict(qkv_bias=False, norm_cfg=dict(type='LN', eps=1e-5), layer_scale_init_value=0.1,
               drop_path_rate=0.1, pathway=dict(allow_zero_aux=True, layers=['qkv', 'fc2']))
STEM = {'pos_embed', 'patch_embed.projection.weight', 'patch_embed.projection.bias'}


def pair():
    torch.manual_seed(0)
    trunk = OmniVecTrunk(arch=copy.deepcopy(ARCH), **copy.deepcopy(OPTIONS))
    vit = M2PTVisionTransformer(arch=copy.deepcopy(ARCH), img_size=16, patch_size=4,
                                **copy.deepcopy(OPTIONS))
    return trunk, vit


def test_both_are_the_block_stack_and_the_trunk_is_no_backbone():
    assert issubclass(M2PTVisionTransformer, ViTBlockStack)
    assert issubclass(OmniVecTrunk, ViTBlockStack)
    assert not issubclass(OmniVecTrunk, VisionTransformer)
    trunk, _ = pair()
    assert not hasattr(trunk, 'patch_embed') and not hasattr(trunk, 'pos_embed')
    assert all(type(layer) is TransformerEncoderLayer for layer in trunk.layers)


def test_same_options_give_the_same_state_dict_names_and_shapes():
    trunk, vit = pair()
    trunk_shapes = {k: v.shape for k, v in trunk.state_dict().items()}
    vit_shapes = {k: v.shape for k, v in vit.state_dict().items() if k not in STEM}
    assert trunk_shapes == vit_shapes
    assert len(trunk.pathway_cfgs) == len(vit.pathway_cfgs) == 1
    assert 'layers.0.attn.qkv.cross_modal_scale' in trunk_shapes
    assert 'layers.0.attn.proj.cross_modal_scale' not in trunk_shapes  # layers=['qkv', 'fc2']


def test_trunk_weights_in_the_backbone_compute_the_same_blocks():
    trunk, vit = pair()
    pathway_stand_ins(trunk, scale=0.1)
    vit.load_state_dict({**vit.state_dict(), **trunk.state_dict()}, strict=True)
    trunk.eval(), vit.eval()
    x = torch.randn(2, 5, ARCH['embed_dims'])
    with torch.no_grad():
        expected = [out for _, out in vit._blocks(x)]
        assert_close(trunk(x), expected, rtol=0, atol=0)
        trunk.switch_to_deploy(), vit.switch_to_deploy()
        assert_close(trunk(x)[-1], [out for _, out in vit._blocks(x)][-1], rtol=1e-5, atol=1e-5)
    assert not any('aux_weight' in k for k in trunk.state_dict())


def test_layer_depths_are_mmpretrains_for_both():
    trunk, vit = pair()
    plain = VisionTransformer(arch=copy.deepcopy(ARCH), img_size=16, patch_size=4)
    for name, _ in vit.named_parameters():
        expected = (0, ARCH['num_layers'] + 2) if name == 'cls_pos' else \
            VisionTransformer.get_layer_depth(plain, f'backbone.{name}', 'backbone.')
        assert vit.get_layer_depth(f'backbone.{name}', 'backbone.') == expected, name
    for name, _ in trunk.named_parameters():
        assert trunk.get_layer_depth(name) == vit.get_layer_depth(name), name
    assert trunk.get_layer_depth('head.fc.weight', 'trunk.') == (4, 5)


def test_mmpretrains_layer_decay_constructor_reads_the_backbone():
    model = MODELS.build(dict(
        type='ImageClassifier', head=dict(type='LinearClsHead', num_classes=3, in_channels=32),
        backbone=dict(type='M2PTVisionTransformer', arch=copy.deepcopy(ARCH), img_size=16,
                      patch_size=4, **copy.deepcopy(OPTIONS))))
    constructor = LearningRateDecayOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)),
        dict(layer_decay_rate=0.5))
    groups = {g['param_name']: g for g in constructor(model).optimizer.param_groups}
    depth = ARCH['num_layers'] + 2
    for i in range(ARCH['num_layers']):
        group = groups[f'backbone.layers.{i}.attn.qkv.cross_modal_scale']
        assert group['lr'] == pytest.approx(1e-3 * 0.5 ** (depth - (i + 1) - 1))
    assert groups['backbone.cls_token']['lr'] == pytest.approx(1e-3 * 0.5 ** (depth - 1))


def test_the_trunk_refuses_the_backbones_stem_and_output_options():
    for key, value in (('img_size', 224), ('tokenizer', dict(type='ImageTokenizer')),
                       ('out_indices', (1, )), ('window_size', 4)):
        with pytest.raises(ValueError, match=f"OmniVecTrunk takes no \\['{key}'\\]"):
            OmniVecTrunk(arch=copy.deepcopy(ARCH), **{key: value})


def test_trunk_builds_from_the_registry_and_freezes_all_but_the_scales():
    trunk = MODELS.build(dict(type='OmniVecTrunk', arch=copy.deepcopy(ARCH),
                              pathway=dict(allow_zero_aux=True), fix_weights=True))
    trainable = [n for n, p in trunk.named_parameters() if p.requires_grad]
    assert trainable and all(n.endswith('cross_modal_scale') for n in trainable)
    with pytest.raises(ValueError, match='fix_weights=True needs a pathway'):
        OmniVecTrunk(arch=copy.deepcopy(ARCH), fix_weights=True)
