"""Damaged, foreign and surprising checkpoint files are refused with a message naming the file and
what is wrong (issue 15 §3, §5), through our reader and through mmengine's loads alike."""
import re

import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint
from torch.testing import assert_close

import m2pt_mm.engine  # noqa: F401  routes mmengine's local loads through ours
from m2pt_mm.checkpoints import CheckpointError, load_checkpoint_file, read_checkpoint
from m2pt_mm.testing.bad_files import (
    flip_tensor_byte,
    write_code_carrying_checkpoint,
    write_mae_training_checkpoint,
)
from m2pt_mm.testing.tiny import mae_checkpoint, timm_state_dict


@pytest.fixture
def flipped(tmp_path):
    path = tmp_path / 'flipped.pth'
    torch.save(timm_state_dict(), path)
    return path, flip_tensor_byte(path, 'data/3')


def test_flipped_tensor_byte_is_refused_naming_the_record(flipped):
    path, record = flipped
    with pytest.raises(CheckpointError, match=rf"flipped\.pth.*record '{re.escape(record)}'"):
        read_checkpoint(path)


def test_mmengine_loads_check_crc_too(flipped):
    # load_from / --resume / tools/test.py read through mmengine's CheckpointLoader
    path, record = flipped
    with pytest.raises(CheckpointError, match=re.escape(record)):
        _load_checkpoint(str(path), map_location='cpu')


def test_a_zip_missing_its_middle_is_named_by_the_quick_check_and_the_load(tmp_path):
    # before: the quick check passed and the load said "negative seek value -N", naming nothing
    from m2pt_mm.checkpoints import check_checkpoint_file
    path = tmp_path / 'middle.pth'
    torch.save(timm_state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 3] + data[2 * len(data) // 3:])
    message = r"middle\.pth' is not a complete checkpoint \(bytes missing or moved inside it\)"
    with pytest.raises(CheckpointError, match=message):
        check_checkpoint_file(str(path))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint_file(str(path))


def test_intact_file_loads_the_same_through_mmengine(tmp_path):
    sd = timm_state_dict()
    torch.save({'state_dict': sd}, tmp_path / 'ok.pth')
    loaded = _load_checkpoint(str(tmp_path / 'ok.pth'), map_location='cpu')['state_dict']
    assert list(loaded) == list(sd)
    for k in sd:
        assert_close(loaded[k], sd[k], rtol=0, atol=0)


@pytest.mark.parametrize('value', [float('nan'), float('inf')])
def test_non_finite_weights_name_the_key(tmp_path, value):
    sd = timm_state_dict()
    sd['blocks.1.mlp.fc1.weight'][3, 5] = value
    torch.save({'model': sd}, tmp_path / 'aux.pth')
    with pytest.raises(CheckpointError, match=r"aux\.pth\['model'\]: key "
                       r"'blocks\.1\.mlp\.fc1\.weight' holds 1 non-finite"):
        read_checkpoint(tmp_path / 'aux.pth')


def test_mae_training_checkpoint_with_namespace_args_loads(tmp_path):
    path = write_mae_training_checkpoint(tmp_path / 'checkpoint-799.pth', seed=4)
    assert load_checkpoint_file(path)['args'].mask_ratio == 0.75
    ckpt = read_checkpoint(path)
    assert_close(ckpt.state_dict['layers.0.attn.qkv.weight'],
                 mae_checkpoint(seed=4)['model']['blocks.0.attn.qkv.weight'])


def test_refusal_names_the_global_and_the_file_without_ansi(tmp_path):
    marker = tmp_path / 'pwned'
    path = write_code_carrying_checkpoint(tmp_path / 'evil.pth', marker)
    with pytest.raises(CheckpointError) as err:
        _load_checkpoint(path, map_location='cpu')
    message = str(err.value)
    assert 'evil.pth' in message and 'posix.system' in message, message
    assert '\x1b' not in message
    assert not marker.exists()


@pytest.mark.parametrize('kind', ['text', 'image', 'directory'])
def test_a_file_that_is_no_checkpoint_is_named(tmp_path, kind):
    path = tmp_path / 'notes'
    if kind == 'directory':
        path.mkdir()
        expected = 'is a directory; expected a checkpoint file'
    else:
        png_header = b'\x89PNG\r\n\x1a\n' + bytes(64)
        path.write_bytes(b'hello, not weights\n' if kind == 'text' else png_header)
        expected = 'is not a torch checkpoint'
    with pytest.raises(CheckpointError, match=rf"'{re.escape(str(path))}' {expected}"):
        load_checkpoint_file(path)
