"""ViTDet's window attention and decomposed relative position bias as M2PT backbone options:
the blocks compute what the SAM/ViTDet blocks compute (padding included), the pathway merges
exactly with them on, and MAE checkpoints load with the new tables at zero."""
import pytest
import torch
from mmpretrain.models.backbones.vit_sam import TransformerEncoderLayer as SAMBlock
from torch.testing import assert_close

from m2pt_mm.models.backbones.m2pt_vit import M2PTVisionTransformer, WindowRelPosAttention
from m2pt_mm.testing.tiny import TINY, pathway_stand_ins

#: 2 blocks × 32 dims, 8×8 patches, built for 40×40 images (a 5×5 grid: the global tables);
#: 40×32 images give a 5×4 grid, which 3×3 windows must pad and the w table is interpolated to
ARCH = dict(TINY, num_layers=2)
VITDET = dict(window_size=3, global_attn_indexes=(1, ), use_rel_pos=True)


#: mmseg's MAE backbone options (configs/segmentation/*-layerscale-relpos_*): global attention,
#: relative positions next to a class token, layer scale
MMSEG_MAE = dict(with_cls_token=True, use_rel_pos=True, layer_scale_init_value=1.0)


def _backbone(**options) -> M2PTVisionTransformer:
    options = dict(dict(with_cls_token=False), **options)
    model = M2PTVisionTransformer(arch=dict(ARCH), img_size=40, patch_size=8, out_type='featmap',
                                  drop_path_rate=0., **options)
    model.init_weights()
    return model.eval()


def _randomise_rel_pos(model: torch.nn.Module) -> None:
    # zero tables (their start) would hide a wrong bias
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'rel_pos' in name:
                param.normal_(0, 0.5)


def test_blocks_match_vitdet_blocks_with_padding():
    model = _backbone(**VITDET)
    _randomise_rel_pos(model)
    x = torch.randn(2, 5 * 4, ARCH['embed_dims'])
    for i, layer in enumerate(model.layers):
        window = 0 if i == 1 else 3
        ref = SAMBlock(ARCH['embed_dims'], ARCH['num_heads'], ARCH['feedforward_channels'],
                       use_rel_pos=True, window_size=window, input_size=(5, 5),
                       norm_cfg=dict(type='LN', eps=1e-6)).eval()
        # the same parameter names: a ViTDet/SAM block's weights load as they are
        ref.load_state_dict(layer.state_dict(), strict=True)
        with torch.no_grad():
            ours = model._run_block(layer, x, (5, 4))
            expected = ref(x.view(2, 5, 4, -1)).view(2, 20, -1)
        assert_close(ours, expected)
    assert model.layers[0].attn.rel_pos_h.shape == (2 * 3 - 1, ARCH['embed_dims'] // 2)
    assert model.layers[1].attn.rel_pos_w.shape == (2 * 5 - 1, ARCH['embed_dims'] // 2)


@pytest.mark.parametrize('options', [VITDET, MMSEG_MAE], ids=['vitdet', 'mmseg-mae'])
def test_merged_equals_unmerged_and_loads_strictly_into_plain(options):
    model = _backbone(pathway=dict(allow_zero_aux=True), **options)
    pathway_stand_ins(model, aux_std=0.1, scale=0.5)
    _randomise_rel_pos(model)
    images = torch.randn(2, 3, 40, 32)
    with torch.no_grad():
        unmerged = model(images)[0]
        model.switch_to_deploy()
        merged = model(images)[0]
    assert unmerged.shape == (2, ARCH['embed_dims'], 5, 4)
    assert_close(merged, unmerged)
    plain = _backbone(**options)
    plain.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        assert_close(plain(images)[0], unmerged)


def test_rel_pos_with_class_token_leaves_it_unbiased():
    cls_options = dict(arch=dict(ARCH), img_size=32, patch_size=8, out_type='raw',
                       drop_path_rate=0.)
    plain = M2PTVisionTransformer(**cls_options).eval()
    rel = M2PTVisionTransformer(use_rel_pos=True, **cls_options).eval()
    rel.load_state_dict(plain.state_dict(), strict=False)
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert_close(rel(images)[0], plain(images)[0])  # zero tables: no bias at all
        _randomise_rel_pos(rel)
        # one global block: the class token's query sees no bias, the grid tokens' queries do
        layer = rel.layers[0]
        x = torch.randn(2, 17, ARCH['embed_dims'])
        ours = layer.attn(x, (4, 4), 1)
        assert_close(ours[:, 0], plain.layers[0].attn(x)[:, 0])
        assert not torch.allclose(ours[:, 1:], plain.layers[0].attn(x)[:, 1:])


def test_mae_checkpoint_loads_with_fresh_rel_pos_and_layer_scale(target_mae_file):
    path, encoder = target_mae_file
    model = M2PTVisionTransformer(arch=dict(TINY), img_size=32, patch_size=8, out_type='featmap',
                                  with_cls_token=False, window_size=2, global_attn_indexes=(3, ),
                                  use_rel_pos=True, layer_scale_init_value=1.0,
                                  init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    attn = model.layers[0].attn
    assert isinstance(attn, WindowRelPosAttention)
    assert_close(attn.qkv.weight, encoder['blocks.0.attn.qkv.weight'])
    assert_close(attn.rel_pos_h, torch.zeros_like(attn.rel_pos_h))  # as ViTDet reads MAE
    assert_close(attn.gamma1.weight, torch.ones(TINY['embed_dims']))  # as mmseg's MAE
    assert_close(model.layers[0].ffn.gamma2.weight, torch.ones(TINY['embed_dims']))
    # the pretraining's class token is dropped, and its position row with it
    assert model.pos_embed.shape == (1, 16, TINY['embed_dims'])
    assert_close(model.pos_embed, encoder['pos_embed'][:, 1:])


def test_mae_checkpoint_on_a_larger_grid_drops_the_class_row_then_resizes(target_mae_file):
    # ViTDet's 1024² input with MAE's 224² table (1 + 14²): mmpretrain drops the class token's
    # row only when the grids are equal, and then fails to read 1 + 4² rows as a square grid
    path, encoder = target_mae_file
    model = M2PTVisionTransformer(arch=dict(TINY), img_size=64, patch_size=8, out_type='featmap',
                                  with_cls_token=False, window_size=2, global_attn_indexes=(3, ),
                                  use_rel_pos=True,
                                  init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    table = encoder['pos_embed'][:, 1:].reshape(1, 4, 4, -1).permute(0, 3, 1, 2)
    expected = torch.nn.functional.interpolate(table, size=(8, 8), mode='bicubic',
                                               align_corners=False)
    assert_close(model.pos_embed, expected.flatten(2).transpose(1, 2))


@pytest.mark.parametrize('options, message', [
    (dict(window_size=2, with_cls_token=True, out_type='raw'), 'with_cls_token=False'),
    (dict(window_size=2, global_attn_indexes=(2, )), r'global_attn_indexes \[2\] out of range'),
    (dict(global_attn_indexes=(1, )), 'needs window_size > 0'),
    (dict(window_size=-1), 'window_size must be an int >= 0'),
])
def test_bad_window_options(options, message):
    kwargs = dict(arch=dict(ARCH), img_size=32, patch_size=8, out_type='featmap',
                  with_cls_token=False)
    kwargs.update(options)
    with pytest.raises(ValueError, match=message):
        M2PTVisionTransformer(**kwargs)


def test_block_called_without_its_grid_says_so():
    layer = _backbone(use_rel_pos=True).layers[0]
    with pytest.raises(ValueError, match='need the token grid'):
        layer(torch.randn(1, 25, ARCH['embed_dims']))  # how MAE pretraining calls its blocks
