"""AudioMAE, Point-MAE and VideoMAE checkpoints: written with the official key names and shapes
(those of the projects' released files, at tiny sizes), converted, loaded into the backbone, and
compared with a reference forward written here in plain torch from the same raw weights."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch.testing import assert_close

import m2pt_mm.models  # noqa: F401  registers the backbone and the tokenizers
from m2pt_mm.checkpoints import (
    CheckpointError,
    UnsupportedFormatError,
    detect_format,
    read_checkpoint,
)
from m2pt_mm.checkpoints.formats import convert_point_mae, convert_videomae
from m2pt_mm.pathway import MMPRETRAIN_LAYERS
from m2pt_mm.testing.checkpoint_layouts import (
    audiomae_finetuned,
    audiomae_pretrain,
    point_mae_finetuned,
    point_mae_pretrain,
    videomae_finetuned,
    videomae_pretrain,
)
from m2pt_mm.testing.tiny import set_scales

C, DEPTH, HEADS, MLP = 32, 4, 2, 64
ARCH = dict(embed_dims=C, num_layers=DEPTH, num_heads=HEADS, feedforward_channels=MLP)
TIMM_PATHS = {'qkv': 'attn.qkv', 'proj': 'attn.proj', 'fc1': 'mlp.fc1', 'fc2': 'mlp.fc2'}
# audio: 64 frames × 32 mel bins in 8×8 patches → an 8×4 (time-major) grid, 32 tokens
FRAMES, MELS, PATCH = 64, 32, 8
# video: 4 frames of 32² in 2×8×8 tubelets → 2×4×4 = 32 tokens
CLIP = (4, 32, 32)
# point: 128 points, 16 groups of 8
POINTS, GROUPS, GROUP_SIZE = 128, 16, 8


# ---------------------------------------------------------------- reference forwards
def ref_block(x, sd, p, eps, qkv_bias):
    """One pre-norm ViT block in plain torch (timm / Point-MAE / VideoMAE semantics)."""
    B, N, D = x.shape
    h = F.layer_norm(x, (D, ), sd[p + 'norm1.weight'], sd[p + 'norm1.bias'], eps)
    q, k, v = F.linear(h, sd[p + 'attn.qkv.weight'], qkv_bias).reshape(
        B, N, 3, HEADS, D // HEADS).permute(2, 0, 3, 1, 4)
    attn = ((q * (D // HEADS)**-0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
    x = x + F.linear((attn @ v).transpose(1, 2).reshape(B, N, D), sd[p + 'attn.proj.weight'],
                     sd[p + 'attn.proj.bias'])
    h = F.layer_norm(x, (D, ), sd[p + 'norm2.weight'], sd[p + 'norm2.bias'], eps)
    h = F.linear(F.gelu(F.linear(h, sd[p + 'mlp.fc1.weight'], sd[p + 'mlp.fc1.bias'])),
                 sd[p + 'mlp.fc2.weight'], sd[p + 'mlp.fc2.bias'])
    return x + h


def ref_fps(xyz, num):
    """Farthest point sampling from point 0, in NumPy float64."""
    chosen, dist = [0], np.full(len(xyz), np.inf)
    for _ in range(num - 1):
        dist = np.minimum(dist, ((xyz - xyz[chosen[-1]])**2).sum(1))
        chosen.append(int(dist.argmax()))
    return chosen


def ref_point_tokens(points, sd, prefix):
    """Point-MAE's Group + Encoder + pos_embed from raw weights: tokens, positions, centres."""
    groups, centers = [], []
    for cloud in points:
        xyz = cloud[:, :3]
        idx = ref_fps(xyz.double().numpy(), GROUPS)
        center = xyz[idx]
        dist = ((center[:, None] - xyz[None])**2).sum(-1)
        nearest = dist.argsort(dim=-1)[:, :GROUP_SIZE]
        groups.append(xyz[nearest] - center[:, None])
        centers.append(center)
    groups, centers = torch.stack(groups), torch.stack(centers)
    B, G, K, _ = groups.shape

    def conv_bn_relu_conv(x, name):
        w = lambda i, s: sd[f'{prefix}encoder.{name}.{i}.{s}']  # noqa: E731
        x = F.conv1d(x, w(0, 'weight'), w(0, 'bias'))
        x = F.batch_norm(x, w(1, 'running_mean'), w(1, 'running_var'), w(1, 'weight'), w(1, 'bias'),
                         training=False, eps=1e-5)
        return F.conv1d(F.relu(x), w(3, 'weight'), w(3, 'bias'))

    f = conv_bn_relu_conv(groups.reshape(B * G, K, 3).transpose(2, 1), 'first_conv')
    f = torch.cat([f.max(dim=2, keepdim=True)[0].expand(-1, -1, K), f], dim=1)
    tokens = conv_bn_relu_conv(f, 'second_conv').max(dim=2)[0].reshape(B, G, -1)
    pos = F.linear(F.gelu(F.linear(centers, sd[f'{prefix}pos_embed.0.weight'],
                                   sd[f'{prefix}pos_embed.0.bias'])),
                   sd[f'{prefix}pos_embed.2.weight'], sd[f'{prefix}pos_embed.2.bias'])
    return tokens, pos, centers


def videomae_sinusoid(n_position, d_hid):
    """VideoMAE's ``get_sinusoid_encoding_table``, verbatim in NumPy."""
    def angles(pos):
        return [pos / np.power(10000, 2 * (j // 2) / d_hid) for j in range(d_hid)]
    table = np.array([angles(p) for p in range(n_position)])
    table[:, 0::2] = np.sin(table[:, 0::2])
    table[:, 1::2] = np.cos(table[:, 1::2])
    return torch.tensor(table, dtype=torch.float).unsqueeze(0)


def build(tokenizer, init=None, **kwargs):
    cfg = dict(type='M2PTVisionTransformer', arch=copy.deepcopy(ARCH), patch_size=PATCH,
               img_size=CLIP[1], tokenizer=tokenizer, drop_path_rate=0.)
    cfg.update(kwargs)
    if init is not None:
        cfg['init_cfg'] = dict(type='Pretrained', checkpoint=str(init))
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


AUDIO = dict(type='AudioTokenizer', num_frames=FRAMES, num_mel_bins=MELS)
VIDEO = dict(type='VideoTokenizer', num_frames=CLIP[0])
POINT = dict(type='PointTokenizer', num_groups=GROUPS, group_size=GROUP_SIZE)
# Point-MAE: no qkv bias, LayerNorm eps 1e-5, no class token when pretrained
POINT_KW = dict(qkv_bias=False, norm_cfg=dict(type='LN', eps=1e-5))
# VideoMAE: no class token, mean pooling + fc_norm
VIDEO_KW = dict(with_cls_token=False, final_norm=False, out_type='avg_featmap')


def save(tmp_path, ckpt, name):
    path = tmp_path / name
    torch.save(ckpt, path)
    return path


# ---------------------------------------------------------------- AudioMAE (timm family)
def test_audiomae_pretrain_converts_and_matches_reference(tmp_path):
    ckpt = audiomae_pretrain()
    sd = ckpt['model']
    path = save(tmp_path, ckpt, 'pretrained.pth')
    converted = read_checkpoint(path)
    assert converted.format == 'timm/audiomae-pretrain-with-decoder'
    assert ({'mask_token', 'decoder_blocks.0.attn.tau', 'decoder_pred.weight'}
            <= set(converted.dropped))

    model = build(AUDIO, init=path, out_type='raw', out_indices=[0, 1, 2, 3])
    x = torch.randn(2, 1, FRAMES, MELS)
    tokens = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=PATCH)
    tokens = tokens.flatten(2).transpose(1, 2)  # time-major, as AudioMAE
    ref = torch.cat([(sd['cls_token'] + sd['pos_embed'][:, :1]).expand(2, -1, -1),
                     tokens + sd['pos_embed'][:, 1:]], dim=1)
    refs = []
    for i in range(DEPTH):
        ref = ref_block(ref, sd, f'blocks.{i}.', 1e-6, sd[f'blocks.{i}.attn.qkv.bias'])
        refs.append(ref)
    refs[-1] = F.layer_norm(refs[-1], (C, ), sd['norm.weight'], sd['norm.bias'], 1e-6)
    with torch.no_grad():
        got_tokens, grid = model.patch_embed(x)
        outs = model(x)
    assert grid == (FRAMES // PATCH, MELS // PATCH)
    assert_close(got_tokens, tokens)
    for out, expected in zip(outs, refs):
        assert_close(out, expected, rtol=1e-4, atol=1e-5)


def test_audiomae_finetuned_mean_pooling_with_fc_norm(tmp_path):
    ckpt = audiomae_finetuned()
    sd = ckpt['model']
    path = save(tmp_path, ckpt, 'finetuned.pth')
    assert read_checkpoint(path).format == 'timm/audiomae-finetuned'
    model = build(AUDIO, init=path, out_type='avg_featmap', final_norm=False)
    x = torch.randn(2, 1, FRAMES, MELS)
    tokens = F.conv2d(x, sd['patch_embed.proj.weight'], sd['patch_embed.proj.bias'], stride=PATCH)
    ref = torch.cat([(sd['cls_token'] + sd['pos_embed'][:, :1]).expand(2, -1, -1),
                     tokens.flatten(2).transpose(1, 2) + sd['pos_embed'][:, 1:]], dim=1)
    for i in range(DEPTH):
        ref = ref_block(ref, sd, f'blocks.{i}.', 1e-6, sd[f'blocks.{i}.attn.qkv.bias'])
    ref = F.layer_norm(ref[:, 1:].mean(dim=1), (C, ), sd['fc_norm.weight'], sd['fc_norm.bias'],
                       1e-6)
    with torch.no_grad():
        assert_close(model(x)[0], ref, rtol=1e-4, atol=1e-5)


def test_audiomae_position_table_resized_on_its_non_square_grid(tmp_path):
    """A 64-frame (8×4 grid) table into a 32-frame model (4×4): mmpretrain's square-grid guess
    (sqrt(32)) would fail; the audio tokenizer's fixed mel axis gives the right source grid."""
    ckpt = audiomae_pretrain()
    table = ckpt['model']['pos_embed']
    path = save(tmp_path, ckpt, 'pretrained.pth')
    model = build(dict(AUDIO, num_frames=FRAMES // 2), init=path)
    src = table[:, 1:].reshape(1, FRAMES // PATCH, MELS // PATCH, C).permute(0, 3, 1, 2)
    dst = F.interpolate(src, size=(FRAMES // 2 // PATCH, MELS // PATCH), mode='bicubic',
                        align_corners=False)
    expected = torch.cat([table[:, :1], dst.flatten(2).transpose(1, 2)], dim=1)
    assert_close(model.pos_embed.detach(), expected)


# ---------------------------------------------------------------- Point-MAE
def test_point_mae_pretrain_conversion_names_and_drops():
    sd = point_mae_pretrain()['base_model']
    out = convert_point_mae(sd)
    assert detect_format(sd).name == 'point-mae'
    assert len(out.state_dict) + len(out.dropped) == len(sd)  # nothing lost silently
    assert (out.source_keys['layers.2.attn.qkv.weight']
            == 'MAE_encoder.blocks.blocks.2.attn.qkv.weight')
    assert 'layers.2.attn.qkv.bias' not in out.state_dict
    assert out.source_keys['patch_embed.encoder.second_conv.1.running_var'] == \
        'MAE_encoder.encoder.second_conv.1.running_var'
    assert out.source_keys['patch_embed.pos_embed.2.weight'] == 'MAE_encoder.pos_embed.2.weight'
    assert out.source_keys['ln1.weight'] == 'MAE_encoder.norm.weight'
    assert {'mask_token', 'decoder_pos_embed.2.weight', 'MAE_decoder.blocks.0.attn.qkv.weight',
            'MAE_decoder.norm.weight', 'increase_dim.0.weight'} <= set(out.dropped)
    assert not any(k.startswith('MAE_encoder.') for k in out.dropped)


@pytest.mark.parametrize('data_parallel', [False, True])
def test_point_mae_pretrain_matches_reference_segmentation_features(tmp_path, data_parallel):
    """Pretrained Point-MAE as target of a point model without class token: features of
    blocks 1 and 3 through the final norm, per group, and the centres (part segmentation)."""
    ckpt = point_mae_pretrain(data_parallel=data_parallel)
    sd = OrderedDict((k.replace('module.', '', 1), v) for k, v in ckpt['base_model'].items())
    path = save(tmp_path, ckpt, 'pretrain.pth')
    assert read_checkpoint(path).format == 'point-mae/pretrain'
    model = build(POINT, init=path, with_cls_token=False, out_type='featmap', out_indices=[1, 3],
                  norm_outs=True, **POINT_KW)
    points = torch.rand(2, POINTS, 3) * 2 - 1
    tokens, pos, centers = ref_point_tokens(points, sd, 'MAE_encoder.')
    x, refs = tokens, []
    for i in range(DEPTH):
        x = ref_block(x + pos, sd, f'MAE_encoder.blocks.blocks.{i}.', 1e-5, None)
        refs.append(F.layer_norm(x, (C, ), sd['MAE_encoder.norm.weight'],
                                 sd['MAE_encoder.norm.bias'], 1e-5))
    with torch.no_grad():
        got_tokens, got_centers = model.patch_embed(points)
        outs, grid = model.forward_with_grid(points)
    assert_close(got_centers.centres, centers)
    assert_close(grid.centres, centers)
    assert_close(got_tokens, tokens, rtol=1e-4, atol=1e-5)
    assert [tuple(o.shape) for o in outs] == [(2, C, GROUPS)] * 2
    for out, expected in zip(outs, (refs[1], refs[3])):
        assert_close(out, expected.transpose(1, 2), rtol=1e-4, atol=1e-5)


def test_point_mae_finetuned_matches_reference_classification_feature(tmp_path):
    ckpt = point_mae_finetuned()
    sd = ckpt['base_model']
    path = save(tmp_path, ckpt, 'modelnet_1k.pth')
    converted = read_checkpoint(path)
    assert converted.format == 'point-mae/finetuned'
    assert converted.dropped[0] == 'cls_head_finetune.0.weight' and len(converted.dropped) == 16
    model = build(POINT, init=path, out_type='cls_max', **POINT_KW)
    # (B, N, 6) with normals: the tokenizer uses xyz only
    points = torch.cat([torch.rand(2, POINTS, 3) * 2 - 1, torch.randn(2, POINTS, 3)], dim=-1)
    tokens, pos, _ = ref_point_tokens(points, sd, '')
    x = torch.cat([sd['cls_token'].expand(2, -1, -1), tokens], dim=1)
    pos = torch.cat([sd['cls_pos'].expand(2, -1, -1), pos], dim=1)
    for i in range(DEPTH):
        x = ref_block(x + pos, sd, f'blocks.blocks.{i}.', 1e-5, None)
    x = F.layer_norm(x, (C, ), sd['norm.weight'], sd['norm.bias'], 1e-5)
    ref = torch.cat([x[:, 0], x[:, 1:].max(dim=1)[0]], dim=-1)
    with torch.no_grad():
        out = model(points)[0]
    assert out.shape == (2, 2 * C)
    assert_close(out, ref, rtol=1e-4, atol=1e-5)


def test_point_mae_pretrain_leaves_a_fresh_class_token(tmp_path):
    path = save(tmp_path, point_mae_pretrain(), 'pretrain.pth')
    model = build(POINT, init=path, out_type='cls_max', **POINT_KW)
    sd = point_mae_pretrain()['base_model']
    assert_close(model.layers[1].attn.qkv.weight.detach(),
                 sd['MAE_encoder.blocks.blocks.1.attn.qkv.weight'])
    assert model.cls_pos.abs().sum() > 0  # truncated-normal init, as Point-MAE's fine-tuning


# ---------------------------------------------------------------- VideoMAE
def test_videomae_conversion_fuses_q_and_v_bias():
    sd = videomae_finetuned()['module']
    out = convert_videomae(sd)
    for i in range(DEPTH):
        expected = torch.cat([sd[f'blocks.{i}.attn.q_bias'], torch.zeros(C),
                              sd[f'blocks.{i}.attn.v_bias']])
        assert_close(out.state_dict[f'layers.{i}.attn.qkv.bias'], expected)
    assert out.dropped == ['head.weight', 'head.bias']
    assert out.source_keys['ln2.weight'] == 'fc_norm.weight'
    assert any('q_bias' in n for n in out.notes)


@pytest.mark.parametrize('variant', ['finetuned', 'pretrain'])
def test_videomae_matches_reference(tmp_path, variant):
    ckpt = videomae_finetuned() if variant == 'finetuned' else videomae_pretrain()
    container = 'module' if variant == 'finetuned' else 'model'
    prefix = '' if variant == 'finetuned' else 'encoder.'
    sd = ckpt[container]
    path = save(tmp_path, ckpt, f'videomae_{variant}.pth')
    converted = read_checkpoint(path)
    assert converted.format == f'videomae/{variant}'
    if variant == 'pretrain':
        assert {'mask_token', 'encoder_to_decoder.weight', 'decoder.head.weight',
                'decoder.blocks.0.attn.q_bias'} <= set(converted.dropped)
        # pretraining: encoder.norm on all tokens
        kwargs = dict(with_cls_token=False, out_type='raw')
    else:
        kwargs = VIDEO_KW
    model = build(VIDEO, init=path, **kwargs)
    clip = torch.randn(2, 3, *CLIP)
    tokens = F.conv3d(clip, sd[f'{prefix}patch_embed.proj.weight'],
                      sd[f'{prefix}patch_embed.proj.bias'],
                      stride=(2, PATCH, PATCH)).flatten(2).transpose(1, 2)
    x = tokens + videomae_sinusoid(tokens.shape[1], C)
    for i in range(DEPTH):
        p = f'{prefix}blocks.{i}.'
        bias = torch.cat([sd[p + 'attn.q_bias'], torch.zeros(C), sd[p + 'attn.v_bias']])
        x = ref_block(x, sd, p, 1e-6, bias)
    if variant == 'finetuned':
        ref = F.layer_norm(x.mean(dim=1), (C, ), sd['fc_norm.weight'], sd['fc_norm.bias'], 1e-6)
    else:
        ref = F.layer_norm(x, (C, ), sd['encoder.norm.weight'], sd['encoder.norm.bias'], 1e-6)
    with torch.no_grad():
        got_tokens, grid = model.patch_embed(clip)
        out = model(clip)[0]
    assert grid == (2, 4, 4) and model.pos_embed is None
    assert_close(got_tokens, tokens, rtol=1e-4, atol=1e-5)
    assert_close(out, ref, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- as auxiliary models
AUX_CASES = {
    # target tokenizer, its kwargs, aux checkpoint of another modality, its block prefix
    'audio target, Point-MAE aux': (AUDIO, {}, point_mae_pretrain, 'MAE_encoder.blocks.blocks.'),
    'point target, VideoMAE aux': (POINT, POINT_KW, videomae_pretrain, 'encoder.blocks.'),
    'video target, AudioMAE aux': (VIDEO, VIDEO_KW, audiomae_pretrain, 'blocks.'),
}


@pytest.mark.parametrize('case', list(AUX_CASES))
def test_aux_of_another_modality_takes_block_weights_only(tmp_path, case):
    tokenizer, kwargs, make, prefix = AUX_CASES[case]
    ckpt = make(seed=3)
    raw = next(v for v in ckpt.values() if isinstance(v, dict) and v)
    path = save(tmp_path, ckpt, 'aux.pth')
    model = build(tokenizer, pathway=dict(aux_checkpoint=str(path), order='reversed'), **kwargs)
    for i in range(DEPTH):
        for alias, mm_path in MMPRETRAIN_LAYERS.items():
            layer = model.layers[i].get_submodule(mm_path)
            assert_close(layer.aux_weight.detach(),
                         raw[f'{prefix}{DEPTH - 1 - i}.{TIMM_PATHS[alias]}.weight'])


def test_modality_pathway_merges_into_a_plain_model(tmp_path):
    """Zero inference cost holds beyond images: a video target with a Point-MAE aux."""
    path = save(tmp_path, point_mae_pretrain(seed=4), 'aux.pth')
    model = build(VIDEO, pathway=dict(aux_checkpoint=str(path)), **VIDEO_KW)
    set_scales(model, 0.3)
    clip = torch.randn(2, 3, *CLIP)
    with torch.no_grad():
        before = model(clip)[0]
        model.switch_to_deploy()
        plain = build(VIDEO, **VIDEO_KW)
        plain.load_state_dict(model.state_dict(), strict=True)
        assert_close(plain(clip)[0], before, rtol=0, atol=1e-5)
    assert not any('aux_weight' in k for k in model.state_dict())


# ---------------------------------------------------------------- bad input
def test_wider_point_mae_is_a_target_of_its_width_but_not_an_aux_of_a_narrower_model(tmp_path):
    """The tiny analogue of a 384-wide Point-MAE checkpoint and a 768-wide M2PT point model."""
    wide = point_mae_pretrain(dims=48, mlp=96)
    path = save(tmp_path, wide, 'point_mae_48.pth')
    target = build(POINT, init=path, with_cls_token=False, out_type='featmap', **POINT_KW,
                   arch=dict(embed_dims=48, num_layers=DEPTH, num_heads=HEADS,
                             feedforward_channels=96))
    assert_close(target.layers[0].ffn.layers[1].weight.detach(),
                 wide['base_model']['MAE_encoder.blocks.blocks.0.mlp.fc2.weight'])
    with pytest.raises(CheckpointError, match=r'pathway\[0\] aux checkpoint .*point_mae_48\.pth '
                                              r'\(point-mae/pretrain\) has 4 blocks of width 48, '
                                              r'but the backbone has 4 blocks of width 32'):
        build(POINT, pathway=dict(aux_checkpoint=str(path)), **POINT_KW)


def test_aux_with_other_block_shapes_is_refused(tmp_path):
    path = save(tmp_path, point_mae_pretrain(mlp=96), 'point_mae_mlp96.pth')
    with pytest.raises(ValueError, match=r'shape mismatch: aux checkpoint .*point_mae_mlp96\.pth '
                                         r'block 0 fc1\.weight has shape \(96, 32\), but target '
                                         r'layers\.0\.ffn\.layers\.0\.0\.weight has \(64, 32\)'):
        build(AUDIO, pathway=dict(aux_checkpoint=str(path)))


def test_point_mae_target_into_an_image_tokenizer_is_named(tmp_path):
    path = save(tmp_path, point_mae_pretrain(), 'pretrain.pth')
    with pytest.raises(CheckpointError,
                       match=r"pretrain\.pth \(point-mae/pretrain\) does not fit.*"
                             r"missing \['pos_embed', 'patch_embed\.projection\.weight'"):
        build(dict(type='ImageTokenizer'), init=path, img_size=32, **POINT_KW)


def test_unknown_keys_are_not_dropped_silently():
    sd = point_mae_pretrain()['base_model']
    sd['MAE_encoder.blocks.blocks.0.attn.rel_pos.weight'] = torch.zeros(3)
    with pytest.raises(UnsupportedFormatError,
                       match=r"Point-MAE checkpoint has keys this converter does not know: "
                             r"\['MAE_encoder\.blocks\.blocks\.0\.attn\.rel_pos\.weight'\]"):
        convert_point_mae(sd)
    sd = videomae_finetuned()['module']
    sd['blocks.0.attn.k_bias'] = torch.zeros(C)
    with pytest.raises(UnsupportedFormatError,
                       match=r"VideoMAE checkpoint has keys .*'blocks\.0\.attn\.k_bias'"):
        convert_videomae(sd)


def test_videomae_half_of_the_qv_bias_is_an_error(tmp_path):
    sd = videomae_finetuned()['module']
    del sd['blocks.2.attn.v_bias']
    torch.save(sd, tmp_path / 'half.pth')
    with pytest.raises(CheckpointError, match=r"half\.pth: .*block 2 has \['q_bias'\] but needs "
                                              r"both attn\.q_bias and attn\.v_bias"):
        read_checkpoint(tmp_path / 'half.pth')
