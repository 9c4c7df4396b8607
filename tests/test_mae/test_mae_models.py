"""Masked-token pretraining per modality: masking, targets, losses, gradients, state-dict names."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

import m2pt_mm.models  # noqa: F401  registers
from m2pt_mm.models.selfsup import M2PTMAEViT, chamfer_distance_l2
from m2pt_mm.models.utils import PointCentres, sincos_position_table
from m2pt_mm.testing.tiny import TINY

ROOT = Path(__file__).resolve().parents[2]
TINY_ARCH = dict(TINY, num_layers=2)
MAE_CONFIGS = sorted((ROOT / 'configs' / 'mae').glob('*.py'))

#: modality → (tiny config, input shape, tokens, visible tokens including the class token);
#: visible counts by each base method's rounding: AudioMAE keeps int(32 · 0.2) = 6 (+ class
#: token); VideoMAE masks int(0.9 · 16) = 14 of 16 per time step, 2 steps; Point-MAE masks
#: int(0.6 · 16) = 9 of 16 groups.
TINY = {
    'audio': ('audiomae_m2pt-vit-tiny-p8_1xb2-4i_audioset-tiny.py', (2, 1, 64, 32), 32, 7),
    'video': ('videomae_m2pt-vit-tiny-p8_1xb2-4i_k400-tiny.py', (2, 3, 4, 32, 32), 32, 4),
    'point': ('pointmae_m2pt-vit-tiny-g16_1xb2-4i_shapenet55-tiny.py', (2, 256, 3), 16, 7),
}


def build_tiny(modality: str) -> torch.nn.Module:
    cfg = Config.fromfile(str(ROOT / 'configs' / 'mae' / TINY[modality][0]))
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


@pytest.mark.parametrize('modality', sorted(TINY))
def test_masked_forward_keeps_the_visible_tokens(modality):
    _, shape, num_tokens, visible = TINY[modality]
    model = build_tiny(modality)
    inputs = torch.randn(*shape)
    latent, mask, ids_restore = model.backbone(inputs)
    assert latent.shape == (2, visible, 32)
    assert mask.shape == (2, num_tokens)
    extra = model.backbone.num_extra_tokens
    assert mask.sum(1).tolist() == [num_tokens - visible + extra] * 2
    for row in ids_restore:  # a permutation of the token indices
        assert sorted(row.tolist()) == list(range(num_tokens))
    # the visible tokens come first in the shuffled order: ids_restore maps them back
    shuffled_mask = torch.gather(mask, 1, ids_restore.argsort(1))
    assert shuffled_mask[:, :visible - extra].sum() == 0
    assert shuffled_mask[:, visible - extra:].eq(1).all()


def test_tube_mask_is_shared_by_every_time_step():
    model = build_tiny('video')
    _, mask, _ = model.backbone(torch.randn(3, 3, 4, 32, 32))
    steps = mask.view(3, 2, 16)
    torch.testing.assert_close(steps[:, 0], steps[:, 1])
    assert not torch.equal(steps[0, 0], steps[1, 0]) or not torch.equal(steps[1, 0], steps[2, 0])


def test_visible_latent_matches_an_unmasked_run_of_the_same_tokens():
    # with mask ratio 0, the masked path must equal the plain backbone forward
    model = build_tiny('audio')
    model.backbone.mask_ratio = 0.
    model.eval()
    inputs = torch.randn(2, 1, 64, 32)
    latent, mask, ids_restore = model.backbone(inputs)
    assert mask.sum() == 0
    plain = model.backbone(inputs, mask=None)[0]  # out_type 'raw': [B, 1 + L, D]
    torch.testing.assert_close(latent, plain)


@pytest.mark.parametrize('modality', sorted(TINY))
def test_loss_is_finite_and_reaches_the_encoder(modality):
    model = build_tiny(modality)
    loss = model.loss(torch.randn(*TINY[modality][1]), [])['loss']
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    backbone = model.backbone
    for name in ('layers.0.attn.qkv.weight', 'layers.0.ffn.layers.1.weight'):
        grad = backbone.get_parameter(name).grad
        assert grad is not None and grad.abs().sum() > 0, name
    tokenizer_grads = [p.grad for p in backbone.patch_embed.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in tokenizer_grads)


@pytest.mark.parametrize('modality', sorted(TINY))
def test_backbone_keys_are_those_of_the_m2pt_vit(modality):
    model = build_tiny(modality)
    cfg = Config.fromfile(str(ROOT / 'configs' / 'mae' / TINY[modality][0])).model.backbone
    cfg.update(type='M2PTVisionTransformer', out_type='raw')
    for key in ('mask_ratio', 'mask_mode'):
        cfg.pop(key, None)
    plain = MODELS.build(cfg)
    assert list(model.backbone.state_dict()) == list(plain.state_dict())
    plain.load_state_dict(model.backbone.state_dict(), strict=True)


def test_image_uses_mmpretrain_mae_unchanged():
    model = MODELS.build(dict(
        type='MAE',
        backbone=dict(type='M2PTMAEViT', arch=TINY_ARCH, img_size=32, patch_size=8),
        neck=dict(type='MAEPretrainDecoder', num_patches=16, patch_size=8, embed_dim=32,
                  decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2),
        head=dict(type='MAEPretrainHead', norm_pix=True, patch_size=8,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2'))))
    model.init_weights()
    assert model.backbone.mask_ratio == 0.75
    latent, mask, _ = model.backbone(torch.randn(2, 3, 32, 32))
    assert latent.shape == (2, 1 + 4, 32) and mask.sum(1).tolist() == [12., 12.]
    loss = model.loss(torch.randn(2, 3, 32, 32), [])['loss']
    loss.backward()
    assert torch.isfinite(loss) and model.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0
    assert not model.backbone.pos_embed.requires_grad  # fixed sin-cos, as MAEViT


def test_fbank_target_is_time_major_patches_normalised_per_patch():
    head = MODELS.build(dict(type='M2PTMAEHead', norm_pix=True, patch_size=8, in_channels=1,
                             loss=dict(type='PixelReconstructionLoss', criterion='L2')))
    fbank = torch.randn(1, 1, 16, 24)  # 2 × 3 patches, time first
    target = head.construct_target(fbank)
    assert target.shape == (1, 6, 64)
    patch = fbank[0, 0, 8:16, 8:16].reshape(-1)  # time patch 1, mel patch 1 → token 1 · 3 + 1
    expected = (patch - patch.mean()) / (patch.var() + 1e-6).sqrt()
    torch.testing.assert_close(target[0, 4], expected)


def test_video_target_is_videomae_normalised_tubelets():
    head = MODELS.build(dict(type='M2PTMAEHead', norm_pix=True, patch_size=8, in_channels=3,
                             tubelet_size=2, loss=dict(type='PixelReconstructionLoss',
                                                       criterion='L2')))
    clip = torch.randn(1, 3, 4, 16, 8)  # 2 × 2 × 1 tubelets
    target = head.construct_target(clip)
    assert target.shape == (1, 4, 2 * 8 * 8 * 3)
    # token (t=1, h=1, w=0) = 1 · 2 + 1; VideoMAE: '(p0 p1 p2) c', normalised per channel
    tube = clip[0, :, 2:4, 8:16, 0:8].permute(1, 2, 3, 0).reshape(-1, 3)
    expected = (tube - tube.mean(0)) / (tube.var(0, unbiased=True).sqrt() + 1e-6)
    torch.testing.assert_close(target[0, 3], expected.reshape(-1))
    # a per-channel affine normalisation of the clip (the pipeline's) does not change it
    scaled = clip * torch.tensor([2., 3., 4.]).view(1, 3, 1, 1, 1) + 1
    torch.testing.assert_close(head.construct_target(scaled), target, atol=1e-4, rtol=1e-4)


def test_point_target_is_the_tokenizer_groups():
    model = build_tiny('point')
    points = torch.randn(2, 256, 3)
    groups, centers = model.backbone.patch_embed.group(points)
    torch.testing.assert_close(model.head.construct_target(points, centers), groups)


def test_chamfer_distance_l2_explicit_values():
    a = torch.tensor([[[0., 0, 0], [1, 0, 0]]])
    b = torch.tensor([[[0., 0, 0], [0, 2, 0], [1, 0, 1]]])
    # a → b: 0 and 1 (to (1,0,1)); b → a: 0, 4, 1
    torch.testing.assert_close(chamfer_distance_l2(a, b), torch.tensor(0.5 + 5 / 3))
    loss = MODELS.build(dict(type='ChamferDistanceL2'))
    torch.testing.assert_close(loss(b, a), chamfer_distance_l2(a, b))
    with pytest.raises(ValueError, match=r'\[B, N, 3\]'):
        loss(a[0], b)
    # the nearest neighbours come from knn: the same loss as the full pairwise matrix
    source, target = torch.rand(2, 50, 3), torch.rand(2, 70, 3)
    pairwise = (source.unsqueeze(2) - target.unsqueeze(1)).pow(2).sum(-1)
    torch.testing.assert_close(chamfer_distance_l2(source, target),
                               pairwise.min(dim=2)[0].mean() + pairwise.min(dim=1)[0].mean())


def test_decoders_and_head_tell_token_grids_from_point_centres():
    kw = dict(predict_feature_dim=48, embed_dim=32, decoder_embed_dim=32, decoder_depth=1,
              decoder_num_heads=2, num_extra_tokens=0)
    mlp = MODELS.build(dict(type='M2PTMAEDecoder', grid=(16, ), pos_embed='mlp', **kw))
    sincos = MODELS.build(dict(type='M2PTMAEDecoder', grid=(4, 4), **kw))
    latent, ids_restore = torch.randn(2, 7, 32), torch.arange(16).repeat(2, 1)
    centres = PointCentres(torch.randn(2, 16, 3))
    assert mlp(latent, ids_restore, centres).shape == (2, 16, 48)
    with pytest.raises(ValueError, match=r'needs the point centres \(PointCentres\) as grid, '
                                         r'got \(4, 4\)'):
        mlp(latent, ids_restore, (4, 4))
    with pytest.raises(ValueError, match=r'sin-cos decoder table needs a token grid, got '
                                         r'PointCentres\(centres \[2, 16, 3\]\)'):
        sincos(latent, ids_restore, centres)
    head = MODELS.build(dict(type='PointMAEHead', group_size=4))
    with pytest.raises(ValueError, match=r'PointMAEHead needs the group centres \(PointCentres'):
        head.loss(torch.randn(2, 16, 12), torch.randn(2, 64, 3), torch.ones(2, 16), (16, ))


def test_sincos_2d_non_square_grid_is_row_major():
    table = sincos_position_table((4, 2), 16)[0]  # 4 rows × 2 columns
    assert table.shape == (8, 16)
    # token 3 = row 1, column 1; token 4 = row 2, column 0: first half encodes the column
    torch.testing.assert_close(table[3, :8], table[1, :8])
    torch.testing.assert_close(table[4, 8:], table[5, 8:])
    assert not torch.allclose(table[3, 8:], table[4, 8:])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match='tube'):
        M2PTMAEViT(arch=TINY_ARCH, img_size=32, patch_size=8, mask_mode='tube')
    with pytest.raises(ValueError, match='mask_ratio'):
        M2PTMAEViT(arch=TINY_ARCH, img_size=32, patch_size=8, mask_ratio=1.0)
    with pytest.raises(ValueError, match='num_extra_tokens'):
        MODELS.build(dict(type='M2PTMAEDecoder', grid=(16, ), pos_embed='mlp', num_extra_tokens=1,
                          predict_feature_dim=48, embed_dim=32, decoder_embed_dim=32,
                          decoder_depth=1, decoder_num_heads=2))
    head = MODELS.build(dict(type='M2PTMAEHead', patch_size=8, in_channels=1,
                             loss=dict(type='PixelReconstructionLoss', criterion='L2')))
    with pytest.raises(ValueError, match='whole number'):
        head.construct_target(torch.randn(1, 1, 20, 16))


@pytest.mark.parametrize('path', [
    pytest.param(p, id=p.name, marks=[] if 'tiny' in p.name else [pytest.mark.slow])
    for p in MAE_CONFIGS])
def test_mae_config_builds(path):
    cfg = Config.fromfile(str(path))
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'M2PTMAEViT'
    depth = {'tiny': 2, 'vit-large': 24, 'vit-huge': 32}  # ViT-B's 12 otherwise
    assert model.backbone.num_layers == next(
        (d for k, d in depth.items() if f'_{k}-' in path.name or f'-{k}-' in path.name), 12)
