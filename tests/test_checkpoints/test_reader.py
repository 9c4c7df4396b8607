import os
from collections import OrderedDict

import pytest
import torch
from torch.testing import assert_close

from m2pt_mm.checkpoints import (
    CheckpointError,
    check_architecture,
    convert_timm,
    detect_format,
    read_checkpoint,
)
from m2pt_mm.pathway import MMPRETRAIN_LAYERS, attach_pathway
from m2pt_mm.testing.tiny import mae_checkpoint, timm_state_dict, timm_vit

TIMM_PATHS = {'qkv': 'attn.qkv', 'proj': 'attn.proj', 'fc1': 'mlp.fc1', 'fc2': 'mlp.fc2'}


def assert_blocks_equal_source(ckpt, source, depth=4):
    blocks = ckpt.block_linears()
    assert len(blocks) == depth
    for i, block in enumerate(blocks):
        for alias, path in TIMM_PATHS.items():
            assert_close(block[f'{alias}.weight'], source[f'blocks.{i}.{path}.weight'])
            assert_close(block[f'{alias}.bias'], source[f'blocks.{i}.{path}.bias'])


def test_timm_file_block_by_block(aux_timm_file):
    path, sd = aux_timm_file
    ckpt = read_checkpoint(path)
    assert ckpt.format == 'timm/timm'
    assert (ckpt.depth, ckpt.embed_dims) == (4, 32)
    assert_blocks_equal_source(ckpt, sd)
    assert ckpt.dropped == ['head.weight', 'head.bias']


def test_mae_file_block_by_block(target_mae_file):
    path, encoder = target_mae_file
    ckpt = read_checkpoint(path)
    assert ckpt.format == 'timm/timm-mae-pretrain-with-decoder'
    assert_blocks_equal_source(ckpt, encoder)
    assert 'mask_token' in ckpt.dropped and 'decoder_pred.weight' in ckpt.dropped
    assert "state dict found under ['model']" in ckpt.notes
    # tokenizer and norms are renamed to the backbone's names, not lost
    assert_close(ckpt.state_dict['patch_embed.projection.weight'],
                 encoder['patch_embed.proj.weight'])
    assert_close(ckpt.state_dict['ln1.weight'], encoder['norm.weight'])
    assert ckpt.source_keys['layers.1.ffn.layers.0.0.weight'] == 'blocks.1.mlp.fc1.weight'


def test_mae_pretrain_without_decoder_detected():
    sd = mae_checkpoint(seed=0)['model']
    assert detect_format(sd).detect(sd) == 'mae-pretrain'


@pytest.mark.parametrize('container', ['state_dict', 'model', 'module', 'base_model'])
def test_containers_and_wrapper_prefixes_are_unwrapped(tmp_path, container):
    sd = timm_state_dict(seed=3)
    wrapped = {container: OrderedDict((f'module.{k}', v) for k, v in sd.items()), 'epoch': 7}
    torch.save(wrapped, tmp_path / 'c.pth')
    ckpt = read_checkpoint(tmp_path / 'c.pth')
    assert_blocks_equal_source(ckpt, sd)


def test_m2pt_zoo_checkpoint_is_merged_before_use(tmp_path):
    """An M2PT-trained timm model (aux_weight / cross_modal_scale keys) counts as W + λW′."""
    model, aux = timm_vit(seed=4), timm_vit(seed=5)
    attach_pathway(model, aux, layers=list(TIMM_PATHS.values()))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('cross_modal_scale'):
                p.fill_(0.5)
    torch.save(model.state_dict(), tmp_path / 'm2pt.pth')
    ckpt = read_checkpoint(tmp_path / 'm2pt.pth')
    assert ckpt.format == 'timm/m2pt-timm'
    expected = model.blocks[1].mlp.fc2.weight + 0.5 * aux.blocks[1].mlp.fc2.weight
    assert_close(ckpt.block_linears()[1]['fc2.weight'], expected.detach())


def test_mmpretrain_classifier_checkpoint_takes_backbone(tmp_path):
    from mmpretrain.models import VisionTransformer
    vit = VisionTransformer(arch=dict(embed_dims=32, num_layers=4, num_heads=2,
                                      feedforward_channels=64), img_size=32, patch_size=8)
    sd = {f'backbone.{k}': v for k, v in vit.state_dict().items()}
    sd['head.layers.head.weight'] = torch.zeros(10, 32)
    torch.save({'state_dict': sd, 'meta': {'epoch': 1}}, tmp_path / 'cls.pth')
    ckpt = read_checkpoint(tmp_path / 'cls.pth')
    assert ckpt.format == 'mmpretrain/classifier'
    assert ckpt.dropped == ['head.layers.head.weight']
    for alias, path in MMPRETRAIN_LAYERS.items():
        assert_close(ckpt.block_linears()[3][f'{alias}.weight'],
                     vit.state_dict()[f'layers.3.{path}.weight'])


def test_convert_timm_is_pure_and_complete():
    sd = timm_state_dict(seed=0)
    before = {k: v.clone() for k, v in sd.items()}
    out = convert_timm(sd)
    assert set(sd) == set(before)  # input untouched
    assert len(out.state_dict) + len(out.dropped) == len(sd)
    assert 'layers.3.ffn.layers.1.bias' in out.state_dict


# ---------------------------------------------------------------- bad input
def test_missing_file():
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        read_checkpoint('/tmp/definitely/nowhere.pth')


@pytest.mark.parametrize('content', [b'', b'not a zip file at all', 'truncated'])
def test_corrupt_or_truncated_file(tmp_path, content):
    path = tmp_path / 'bad.pth'
    if content == 'truncated':
        torch.save(timm_state_dict(), path)
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match='bad.pth'):
        read_checkpoint(path)


class _Payload:
    """Pickles to a call of os.system: what a malicious checkpoint would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_pickle_carrying_code_is_refused_and_not_run(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'model': timm_state_dict(), 'extra': _Payload(marker)}, path)
    with pytest.raises(CheckpointError, match=r'refused to load .*evil\.pth'):
        read_checkpoint(path)
    assert not marker.exists()


def test_non_tensor_values_are_refused(tmp_path):
    torch.save({'blocks.0.attn.qkv.weight': [1, 2, 3]}, tmp_path / 'x.pth')
    with pytest.raises(CheckpointError,
                       match=r"expected a dict of tensors.*'blocks\.0\.attn\.qkv\.weight'"):
        read_checkpoint(tmp_path / 'x.pth')


def test_unknown_format(tmp_path):
    torch.save({'conv1.weight': torch.zeros(3, 3), 'fc.weight': torch.zeros(2, 2)},
               tmp_path / 'r.pth')
    with pytest.raises(CheckpointError,
                       match=r"r\.pth: unknown checkpoint layout.*'conv1\.weight'"):
        read_checkpoint(tmp_path / 'r.pth')


def test_recognised_but_unsupported_format_is_named(tmp_path):
    sd = {'blocks.0.attn.rel_pos_h': torch.zeros(27, 16),
          'blocks.0.attn.qkv.weight': torch.zeros(96, 32)}
    torch.save({'model': sd}, tmp_path / 'vitdet.pth')
    with pytest.raises(CheckpointError, match=r'vitdet\.pth: recognised a mmdet ViTDet checkpoint'):
        read_checkpoint(tmp_path / 'vitdet.pth')


def test_missing_block_keys_are_named(tmp_path):
    sd = timm_state_dict()
    del sd['blocks.2.mlp.fc1.weight']
    torch.save(sd, tmp_path / 'holes.pth')
    ckpt = read_checkpoint(tmp_path / 'holes.pth')
    with pytest.raises(KeyError, match=r"holes\.pth.*block 2 has no 'fc1' weight.*'blocks\.0\."):
        ckpt.block_linears()


def test_missing_whole_block(tmp_path):
    sd = {k: v for k, v in timm_state_dict().items() if not k.startswith('blocks.1.')}
    torch.save(sd, tmp_path / 'gap.pth')
    with pytest.raises(CheckpointError, match=r'gap\.pth.*blocks \[1\] are missing'):
        read_checkpoint(tmp_path / 'gap.pth')


def test_unknown_keys_in_a_known_layout_are_not_dropped_silently(tmp_path):
    sd = timm_state_dict()
    sd['blocks.0.attn.extra_gate.weight'] = torch.zeros(3)
    torch.save(sd, tmp_path / 'odd.pth')
    with pytest.raises(CheckpointError, match=r'odd\.pth.*extra_gate'):
        read_checkpoint(tmp_path / 'odd.pth')


@pytest.mark.parametrize('depth,dims,message', [(2, 32, '2 blocks of width 32'),
                                                (4, 48, '4 blocks of width 48')])
def test_wrong_depth_or_width(tmp_path, depth, dims, message):
    torch.save(timm_state_dict(depth=depth, dims=dims), tmp_path / 'other.pth')
    ckpt = read_checkpoint(tmp_path / 'other.pth')
    with pytest.raises(CheckpointError, match=rf'aux checkpoint .*other\.pth.*{message}, but the '
                                              r'backbone has 4 blocks of width 32'):
        check_architecture(ckpt, 4, 32, 'aux')
