"""tools/analysis/full_size_step.py builds a config's model as the Runner does, gives its pathways
stand-ins and takes training steps on inputs of the configured size, for every kind of model the
configs hold (tiny configs here; the full-size ones are what the tool is for)."""
import json

import pytest
import torch
from mmengine.config import Config

from m2pt_mm.analysis import full_size_step
from m2pt_mm.pathway import CrossModalReparamLinear
from tests.helpers import ROOT, call_tool

DEMO = 'configs/demo/'
CASES = [  # config, per-sample input shape
    (DEMO + 'm2pt_vit-tiny-p8-spectrogram_scratch_1xb64-coslr-20e_digits-32x32.py',
     [3, 32, 32]),
    (DEMO + 'mask-rcnn_m2pt-vit-tiny-p8-spectrogram_scratch_1xb4-6e_digits-coco.py',
     [3, 128, 128]),
    (DEMO + 'upernet_m2pt-vit-tiny-p8-spectrogram_scratch_1xb4-40i_digits-ade-96x96.py',
     [3, 96, 96]),
    ('configs/audio/m2pt_vit-tiny-p16-spectrogram_scratch_1xb4-20e_audioset-tiny-128x128.py',
     [1, 128, 128]),
    ('configs/video/m2pt_vit-tiny-p8-spectrogram_scratch_1xb4-20e_k400-tiny-4x32x32.py',
     [3, 4, 32, 32]),
    ('configs/point/m2pt_vit-tiny-g16-spectrogram_scratch_1xb4-20e_tiny-shapenetpart-256.py',
     [256, 3]),
]


@pytest.mark.parametrize('config, shape', CASES, ids=lambda c: str(c).split('/')[-1][:30])
def test_one_step_at_the_configured_input_size(config, shape, tmp_path, capsys):
    out = tmp_path / 'step.json'
    result = call_tool('analysis/full_size_step', config, '--batch-size', '2', '--steps', '2',
                       '--threads', '1', '--out', out)
    assert result['input_shape'] == shape
    assert len(result['step_s']) == len(result['loss']) == 2
    assert all(s > 0 for s in result['step_s'])
    assert all(torch.isfinite(torch.tensor(result['loss'])))
    assert result['peak_rss_mib'] >= result['peak_rss_after_build_mib'] > 0
    assert json.loads(out.read_text()) == result
    printed = capsys.readouterr().out
    assert 'step 2:' in printed and 'peak RSS' in printed


def test_stand_ins_and_cpu_config():
    cfg = Config.fromfile(str(ROOT / CASES[0][0]))
    cfg.optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic',
                             optimizer=cfg.optim_wrapper.optimizer)
    assert full_size_step.cpu_config(cfg).optim_wrapper.type == 'OptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
    model = full_size_step.build_model(cfg)
    assert full_size_step.pathway_stand_ins(model, aux_std=0.02, scale=0.25) == 16  # 4 blocks × 4
    layers = [m for m in model.modules() if isinstance(m, CrossModalReparamLinear)]
    for layer in layers:
        scale = layer.scale_at(0).detach()
        torch.testing.assert_close(scale, torch.full_like(scale, 0.25))
    aux = torch.cat([layer.aux_weight_at(0).detach().flatten() for layer in layers])
    assert abs(aux.std().item() - 0.02) < 0.002 and abs(aux.mean().item()) < 0.002


def test_input_shape_override_and_point_clouds_need_a_size():
    cfg = Config.fromfile(str(ROOT / CASES[-1][0]))
    model = full_size_step.build_model(cfg)
    data = full_size_step.synthetic_batch(cfg, model, 3, shape=(128, 3))
    assert [tuple(x.shape) for x in data['inputs']] == [(128, 3)] * 3
    assert [tuple(s.gt_seg_label.shape) for s in data['data_samples']] == [(128, )] * 3
    cfg.num_points = None
    with pytest.raises(KeyError, match='num_points'):
        full_size_step.input_shape(cfg, model)
