"""``tools/model_converters/publish_model.py`` on the session's tiny M2PT training run: the
training state is dropped, the hash suffix is the written file's sha256, and a published deploy
checkpoint under the name a downstream config reads loads strictly into the plain model."""
import hashlib
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from tests.helpers import call_tool, state_dict_of


def test_published_training_checkpoint_keeps_weights_and_drops_training_state(
        trained_classifier, tmp_path):
    src = trained_classifier['work'] / 'epoch_3.pth'
    out = Path(call_tool('model_converters/publish_model', src, tmp_path / 'published'))
    sha256 = hashlib.sha256(out.read_bytes()).hexdigest()
    assert out == tmp_path / 'published' / f'epoch_3-{sha256[:8]}.pth'
    original = torch.load(src, map_location='cpu', weights_only=True)
    assert {'optimizer', 'param_schedulers', 'message_hub'} <= set(original)
    published = torch.load(out, map_location='cpu', weights_only=True)
    assert set(published) == {'state_dict', 'meta'}
    assert published['meta'] == dict(epoch=3, iter=original['meta']['iter'],
                                     dataset_meta=original['meta']['dataset_meta'],
                                     published_from='epoch_3.pth')
    assert published['state_dict'].keys() == original['state_dict'].keys()
    for key, value in original['state_dict'].items():
        torch.testing.assert_close(published['state_dict'][key], value, rtol=0, atol=0, msg=key)


def test_published_deploy_checkpoint_loads_strict_under_the_downstream_name(
        trained_classifier, tmp_path):
    out = call_tool('model_converters/publish_model',
                    trained_classifier['work'] / 'epoch_3_deploy.pth', tmp_path,
                    '--out-name', 'm2pt_vit-tiny_stripes.pth')
    assert out == str(tmp_path / 'm2pt_vit-tiny_stripes.pth')
    published = torch.load(out, map_location='cpu', weights_only=True)
    assert published['meta']['deploy'] is True
    assert published['meta']['merged_from'] == 'epoch_3.pth'
    model = MODELS.build(Config.fromfile(trained_classifier['plain']).model)
    model.load_state_dict(state_dict_of(out), strict=True)


@pytest.mark.parametrize('name', ['sub/aux.pth', 'aux.pt'])
def test_an_out_name_that_is_not_a_pth_file_name_is_refused(trained_classifier, tmp_path, name):
    with pytest.raises(ValueError, match='--out-name must be a file name ending in .pth'):
        call_tool('model_converters/publish_model',
                  trained_classifier['work'] / 'epoch_3_deploy.pth', tmp_path, '--out-name', name)
    assert not list(tmp_path.iterdir())  # nothing written


def test_publishing_over_its_own_input_needs_force(trained_classifier, tmp_path):
    """A slip (OUT_DIR/--out-name naming the input) must not replace a training checkpoint by its
    weights: refused, the file untouched; with --force it is published in place."""
    src = tmp_path / 'epoch_3.pth'
    src.write_bytes((trained_classifier['work'] / 'epoch_3.pth').read_bytes())
    before = src.read_bytes()
    with pytest.raises(ValueError, match=r"is the checkpoint being published; refusing to "
                                         r"overwrite it .*or pass --force\)"):
        call_tool('model_converters/publish_model', src, tmp_path, '--out-name', 'epoch_3.pth')
    assert src.read_bytes() == before
    assert 'optimizer' in torch.load(src, map_location='cpu', weights_only=True)
    call_tool('model_converters/publish_model', src, tmp_path, '--out-name', 'epoch_3.pth',
              '--force')
    assert set(torch.load(src, map_location='cpu', weights_only=True)) == {'state_dict', 'meta'}
