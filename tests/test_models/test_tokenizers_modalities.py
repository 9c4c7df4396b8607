"""Audio, video and point-cloud tokenizers, and the backbone behaviour they need (tiny, CPU)."""
import copy
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch.testing import assert_close

import m2pt_mm.models  # noqa: F401  registers the backbone and the tokenizers
from m2pt_mm.models.tokenizers import AudioTokenizer, PointTokenizer, VideoTokenizer
from m2pt_mm.models.utils import PointCentres, sincos_position_table
from m2pt_mm.registry import TOKENIZERS

ARCH = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64)


def backbone(tokenizer, **kwargs):
    cfg = dict(type='M2PTVisionTransformer', arch=copy.deepcopy(ARCH), patch_size=8, img_size=32,
               tokenizer=tokenizer, drop_path_rate=0.)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def cloud(batch=2, points=128, seed=0):
    return torch.rand(batch, points, 3, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_registered():
    assert {'AudioTokenizer', 'VideoTokenizer', 'PointTokenizer'} <= set(TOKENIZERS.module_dict)


# ---------------------------------------------------------------- audio
def test_audio_paper_size_gives_512_tokens_on_a_64x8_grid():
    tokens, grid = AudioTokenizer(embed_dims=8)(torch.randn(1, 1, 1024, 128))
    assert tokens.shape == (1, 512, 8) and grid == (64, 8)


def test_audio_tokens_are_time_major_patches():
    """Token ``t·F/p + f`` is the patch at time ``t``, mel ``f`` (AudioMAE's order)."""
    tok = AudioTokenizer(embed_dims=1, num_frames=64, num_mel_bins=32, patch_size=8)
    with torch.no_grad():
        tok.projection.weight.fill_(1.)
        tok.projection.bias.zero_()
    x = torch.randn(2, 1, 64, 32)
    tokens, grid = tok(x)
    assert grid == (8, 4)
    patch_sums = x.reshape(2, 8, 8, 4, 8).sum(dim=(2, 4)).reshape(2, 32, 1)
    assert_close(tokens, patch_sums, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('shape', [(2, 3, 224, 224), (2, 1, 128, 1024), (2, 1024, 128)])
def test_audio_refuses_other_tensors(shape):
    tok = AudioTokenizer(embed_dims=8)
    with pytest.raises(ValueError, match=r'AudioTokenizer expects log-mel spectrograms of shape '
                                         rf'\(B, 1, T, 128\).*got {re.escape(str(shape))}'):
        tok(torch.randn(*shape))


def test_audio_backbone_featmap_and_shorter_clips():
    model = backbone(dict(type='AudioTokenizer', num_frames=64, num_mel_bins=32),
                     out_type='featmap')
    assert model.pos_embed.shape == (1, 8 * 4 + 1, 32)
    with torch.no_grad():
        assert model(torch.randn(2, 1, 64, 32))[0].shape == (2, 32, 8, 4)
        # 32 frames: the 8×4 table is resized to 4×4 on the fly, as for images
        assert model(torch.randn(2, 1, 32, 32))[0].shape == (2, 32, 4, 4)


# ---------------------------------------------------------------- video
def test_video_paper_size_gives_1568_tokens():
    tok = VideoTokenizer(embed_dims=8)
    tokens, grid = tok(torch.randn(1, 3, 16, 224, 224))
    assert tokens.shape == (1, 1568, 8) and grid == (8, 14, 14)
    assert tok.position_embedding(grid).shape == (1, 1568, 8)


def test_video_spatial_patch_size_is_configurable():
    tok = VideoTokenizer(embed_dims=8, patch_size=14)  # the paper text's S = 14
    assert tok(torch.randn(1, 3, 16, 224, 224))[1] == (8, 16, 16)


def test_video_sincos_is_videomae_table_and_not_saved():
    def videomae(n_position, d_hid):  # VideoMAE's get_sinusoid_encoding_table, verbatim
        def angles(pos):
            return [pos / np.power(10000, 2 * (j // 2) / d_hid) for j in range(d_hid)]
        table = np.array([angles(p) for p in range(n_position)])
        table[:, 0::2] = np.sin(table[:, 0::2])
        table[:, 1::2] = np.cos(table[:, 1::2])
        return torch.tensor(table, dtype=torch.float).unsqueeze(0)

    tok = VideoTokenizer(embed_dims=32, num_frames=4, img_size=32, patch_size=8)
    assert_close(tok.position_embedding((2, 4, 4)), videomae(32, 32))
    # the paper's 1568 positions, and ViT-B's 768 channels (each in a size the loop builds fast)
    assert_close(sincos_position_table((8, 14, 14), 16), videomae(1568, 16))
    assert_close(sincos_position_table((64, ), 768), videomae(64, 768))
    # a longer clip gets the table VideoMAE would build for it
    assert_close(tok.position_embedding((4, 4, 4)), videomae(64, 32))
    assert list(tok.state_dict()) == ['projection.weight', 'projection.bias']
    assert not any(p is tok.pos_embed for p in tok.parameters())


def test_video_learned_position_embedding():
    tok = VideoTokenizer(embed_dims=8, num_frames=4, img_size=32, patch_size=8, pos_embed='learned')
    assert tok.state_dict()['pos_embed'].shape == (1, 32, 8)
    assert tok.position_embedding((2, 4, 4)) is tok.pos_embed
    assert tok.position_embedding((4, 4, 4)).shape == (1, 64, 8)  # resized trilinearly
    model = backbone(dict(type='VideoTokenizer', num_frames=4, pos_embed='learned'),
                     with_cls_token=False, out_type='avg_featmap', final_norm=False)
    assert 'patch_embed.pos_embed' in model.state_dict() and model.pos_embed is None


@pytest.mark.parametrize('shape,message', [
    ((2, 3, 32, 32), r'expects video clips of shape \(B, 3, T, H, W\), got \(2, 3, 32, 32\)'),
    ((2, 1, 4, 32, 32), r'expects video clips of shape \(B, 3, T, H, W\), got \(2, 1, 4, 32, 32\)'),
    ((2, 3, 3, 32, 32), r'frames 3 is not a multiple of 2 \(tubelet 2×8×8'),
    ((2, 3, 4, 36, 32), r'height 36 is not a multiple of 8'),
])
def test_video_refuses_other_tensors(shape, message):
    tok = VideoTokenizer(embed_dims=8, num_frames=4, img_size=32, patch_size=8)
    with pytest.raises(ValueError, match=message):
        tok(torch.randn(*shape))


def test_video_backbone_has_no_table_and_no_class_token():
    model = backbone(dict(type='VideoTokenizer', num_frames=4), with_cls_token=False,
                     out_type='featmap', out_indices=[1, 3])
    assert model.pos_embed is None and model.cls_token is None and model.cls_pos is None
    assert not any(k in model.state_dict() for k in ('pos_embed', 'cls_token', 'cls_pos'))
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 4, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 32, 2, 4, 4)] * 2


# ---------------------------------------------------------------- point cloud
def test_point_paper_size_gives_64_groups():
    tok = PointTokenizer(embed_dims=8).eval()
    with torch.no_grad():
        tokens, positions = tok(cloud(points=1024))
    assert tokens.shape == (2, 64, 8)
    assert isinstance(positions, PointCentres) and positions.centres.shape == (2, 64, 3)
    assert tok.position_embedding(positions).shape == (2, 64, 8)
    assert_close(tok.position_embedding(positions), tok.pos_embed(positions.centres))
    with pytest.raises(TypeError, match='position_embedding expects the PointCentres its '
                                        'forward returned, got Tensor'):
        tok.position_embedding(positions.centres)


def test_point_groups_are_fps_centres_and_their_nearest_points():
    tok = PointTokenizer(embed_dims=8, num_groups=16, group_size=8)
    points = cloud()
    groups, centers = tok.group(points)
    assert groups.shape == (2, 16, 8, 3)
    for b in range(2):
        xyz = points[b].double().numpy()
        chosen, dist = [0], np.full(len(xyz), np.inf)  # farthest point sampling from point 0
        for _ in range(15):
            dist = np.minimum(dist, ((xyz - xyz[chosen[-1]])**2).sum(1))
            chosen.append(int(dist.argmax()))
        assert_close(centers[b], points[b, chosen])
        for g in range(16):
            nearest = ((points[b] - centers[b, g])**2).sum(-1).argsort()[:8]
            expected = points[b, nearest] - centers[b, g]
            got = groups[b, g]
            # the same set of points, in any order (the encoder max-pools over them)
            assert_close(got[got[:, 0].argsort()], expected[expected[:, 0].argsort()])


def test_point_normals_are_ignored():
    tok = PointTokenizer(embed_dims=8, num_groups=16, group_size=8).eval()
    points = cloud()
    with torch.no_grad():
        xyz_only = tok(points)
        with_normals = tok(torch.cat([points, torch.randn(2, 128, 3)], dim=-1))
    assert_close(with_normals[0], xyz_only[0])
    assert_close(with_normals[1].centres, xyz_only[1].centres)


def test_point_adjacency_variant():
    tok = PointTokenizer(embed_dims=8, num_groups=16, group_size=8, group_embed='adjacency')
    assert sorted(tok.encoder.state_dict()) == ['projection.bias', 'projection.weight']
    points = cloud()
    tokens, positions = tok(points)
    groups, centers = tok.group(points)
    assert_close(positions.centres, centers)
    centroids = (groups + centers.unsqueeze(2)).mean(dim=2)
    adjacency = (centroids[:, :, None] - centroids[:, None]).norm(dim=-1)  # [B, G, G]
    assert_close(tokens, F.linear(adjacency, tok.encoder.projection.weight,
                                  tok.encoder.projection.bias))
    with pytest.raises(ValueError, match=r"group_embed must be one of \('pointnet', 'adjacency'\)"):
        PointTokenizer(group_embed='graph')


def test_point_backbone_segmentation_outputs_and_centres():
    model = backbone(dict(type='PointTokenizer', num_groups=16, group_size=8), with_cls_token=False,
                     out_type='featmap', out_indices=[1, 3], norm_outs=True)
    points = cloud()
    with torch.no_grad():
        outs, positions = model.forward_with_grid(points)
        assert isinstance(positions, PointCentres)
        assert_close(positions.centres, model.patch_embed(points)[1].centres)
        assert [tuple(o.shape) for o in outs] == [(2, 32, 16)] * 2
        plain = backbone(dict(type='PointTokenizer', num_groups=16, group_size=8),
                         with_cls_token=False, out_type='featmap', out_indices=[1, 3])
        plain.load_state_dict(model.state_dict())
        ref = plain(points)
    # norm_outs passes the earlier output through ln1, the last one is normed either way
    assert_close(outs[1], ref[1])
    assert_close(outs[0], model.ln1(ref[0].transpose(1, 2)).transpose(1, 2))


def test_point_backbone_classification_feature_and_cls_pos():
    model = backbone(dict(type='PointTokenizer', num_groups=16, group_size=8), out_type='cls_max')
    assert model.cls_pos.shape == (1, 1, 32) and model.pos_embed is None
    assert model.get_layer_depth('backbone.cls_pos', 'backbone.') == (0, 6)
    with torch.no_grad():
        assert model(cloud())[0].shape == (2, 64)
    frozen = backbone(dict(type='PointTokenizer', num_groups=16, group_size=8), frozen_stages=1)
    assert not frozen.cls_pos.requires_grad and not frozen.cls_token.requires_grad


def test_point_position_embedding_every_block_or_once():
    every = backbone(dict(type='PointTokenizer', num_groups=16, group_size=8), out_type='cls_max')
    once = backbone(dict(type='PointTokenizer', num_groups=16, group_size=8, pos_every_block=False),
                    out_type='cls_max')
    once.load_state_dict(every.state_dict())
    with torch.no_grad():
        assert (every(cloud())[0] - once(cloud())[0]).abs().max() > 1e-3


@pytest.mark.parametrize('shape,message', [
    ((2, 3, 32, 32),
     r'expects point clouds of shape \(B, N, 3\) or \(B, N, 3 \+ c\).*got \(2, 3, 32, 32\)'),
    ((2, 128, 2), r'expects point clouds of shape.*got \(2, 128, 2\)'),
    ((2, 10, 3),
     r'a point cloud of 10 points is too small for 16 groups of 8 points \(needs at least 16'),
    ((2, 3, 128), r'a point cloud of 3 points is too small'),  # channels-first by mistake
])
def test_point_refuses_other_tensors(shape, message):
    tok = PointTokenizer(embed_dims=8, num_groups=16, group_size=8)
    with pytest.raises(ValueError, match=message):
        tok(torch.randn(*shape))


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_point_refuses_non_finite_coordinates(bad):
    points = cloud(batch=3)
    points[1, 17, 2] = bad
    with pytest.raises(ValueError,
                       match=r'point clouds \[1\] of the batch contain NaN or infinite'):
        PointTokenizer(embed_dims=8, num_groups=16, group_size=8)(points)


# ---------------------------------------------------------------- backbone arguments
def test_cls_max_needs_a_class_token():
    with pytest.raises(ValueError, match=r'out_type="cls_max" needs a class token'):
        backbone(dict(type='PointTokenizer', num_groups=16, group_size=8), with_cls_token=False,
                 out_type='cls_max')


def test_norm_outs_needs_the_final_norm():
    with pytest.raises(ValueError, match=r'norm_outs=True .* needs final_norm=True'):
        backbone(dict(type='ImageTokenizer'), final_norm=False, out_type='avg_featmap',
                 norm_outs=True)


@pytest.mark.parametrize('kwargs', [dict(out_type='cls_token'),
                                    dict(out_type='featmap', out_indices=[1, 3]),
                                    dict(out_type='avg_featmap', final_norm=False)])
def test_image_path_is_bitwise_stock_mmpretrain(kwargs):
    """The forward rewritten for the other modalities leaves images exactly as mmpretrain's."""
    from mmpretrain.models import VisionTransformer
    model = backbone(dict(type='ImageTokenizer'), **kwargs)
    stock = VisionTransformer(arch=copy.deepcopy(ARCH), img_size=32, patch_size=8, **kwargs)
    stock.load_state_dict(model.state_dict(), strict=True)
    stock.eval()
    for size in (32, 40):  # 40: padded patches and a resized position table
        x = torch.randn(2, 3, size, size)
        with torch.no_grad():
            for got, expected in zip(model(x), stock(x)):
                assert torch.equal(got, expected)
