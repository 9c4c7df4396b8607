"""Training through tools/train.py with the real mmengine Runner: merge hook, safe resume
(also after SIGKILL), tools/test.py on deploy checkpoints, merge_pathway.py, λ logging."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from torch.testing import assert_close

import m2pt_mm.engine  # noqa: F401  safe-globals allow-list for reading training checkpoints
from tests.conftest import ROOT


def run(*args, check=True, timeout=300):
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f'{args} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}')
    return result


def state(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def accuracy_of(config, ckpt, tmp_path, name):
    out = tmp_path / f'{name}.json'
    run('tools/test.py', config, str(ckpt), '--work-dir', str(tmp_path / name), '--metrics-out',
        str(out))
    return json.loads(out.read_text())['accuracy/top1']


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """One uninterrupted 3-epoch run shared by the tests of this module."""
    from tests.conftest import TINY_CLS_CONFIG, timm_state_dict, write_image_folder
    tmp = tmp_path_factory.mktemp('train')
    data = write_image_folder(tmp / 'data')
    torch.save(timm_state_dict(seed=1, dims=64), tmp / 'aux.pth')
    configs = {}
    for name, pathway in (('m2pt', f"dict(aux_checkpoint='{tmp / 'aux.pth'}')"), ('plain', 'None')):
        path = tmp / f'{name}.py'
        path.write_text(TINY_CLS_CONFIG.format(root=ROOT, data=data, pathway=pathway))
        configs[name] = str(path)
    work = tmp / 'work'
    run('tools/train.py', configs['m2pt'], '--work-dir', str(work))
    return dict(tmp=tmp, work=work, **configs)


def test_train_writes_training_and_deploy_checkpoints(trained):
    work = trained['work']
    for epoch in (1, 2, 3):
        train_sd, deploy_sd = state(work / f'epoch_{epoch}.pth'), state(work / f'epoch_{epoch}_deploy.pth')
        assert any(k.endswith('aux_weight') for k in train_sd)
        assert not any('aux_weight' in k or 'cross_modal_scale' in k for k in deploy_sd)
        key = 'backbone.layers.2.ffn.layers.0.0'
        expected = (train_sd[f'{key}.weight'] +
                    train_sd[f'{key}.cross_modal_scale'] * train_sd[f'{key}.aux_weight'])
        assert_close(deploy_sd[f'{key}.weight'], expected)
    # the training checkpoint keeps everything resume needs
    full = torch.load(work / 'epoch_3.pth', weights_only=True)
    assert {'optimizer', 'param_schedulers', 'message_hub', 'meta'} <= set(full)
    # save_best checkpoints get their deploy file too
    best = list(work.glob('best_accuracy_top1_epoch_*.pth'))
    assert any(p.name.endswith('_deploy.pth') for p in best) and len(best) == 2
    # λ actually trained
    scales = [v.item() for k, v in state(work / 'epoch_3.pth').items() if k.endswith('cross_modal_scale')]
    assert len(scales) == 16 and any(abs(s) > 0 for s in scales)


def test_deploy_checkpoint_with_plain_config_gives_same_accuracy(trained, tmp_path):
    work = trained['work']
    acc_train = accuracy_of(trained['m2pt'], work / 'epoch_3.pth', tmp_path, 'train')
    acc_deploy = accuracy_of(trained['plain'], work / 'epoch_3_deploy.pth', tmp_path, 'deploy')
    assert acc_train == acc_deploy
    assert acc_train > 50.0  # stripes are learnable: better than chance in 3 epochs


def test_resume_from_epoch_1_reproduces_the_uninterrupted_run(trained, tmp_path):
    work = tmp_path / 'resumed'
    work.mkdir()
    src = trained['work']
    for name in ('epoch_1.pth', ):
        (work / name).write_bytes((src / name).read_bytes())
    run('tools/train.py', trained['m2pt'], '--work-dir', str(work), '--resume', str(work / 'epoch_1.pth'))
    a, b = state(src / 'epoch_3.pth'), state(work / 'epoch_3.pth')
    assert list(a) == list(b)
    for k in a:
        assert_close(b[k], a[k], rtol=0, atol=0, msg=k)


def test_sigkill_after_a_checkpoint_then_resume_ends_with_the_same_weights(trained, tmp_path):
    work = tmp_path / 'killed'
    proc = subprocess.Popen([sys.executable, 'tools/train.py', trained['m2pt'], '--work-dir', str(work)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    last = work / 'last_checkpoint'
    # kill once the runner points resume at epoch 1: the next save (epoch 2) may be under way
    while not (last.exists() and last.read_text().strip().endswith('epoch_1.pth')):
        assert proc.poll() is None and time.time() < deadline, 'training ended before epoch 1 was saved'
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    result = run('tools/train.py', trained['m2pt'], '--work-dir', str(work), '--resume')
    assert re.search(r'resumed epoch: [12]', result.stdout + result.stderr)
    a, b = state(trained['work'] / 'epoch_3.pth'), state(work / 'epoch_3.pth')
    for k in a:
        assert_close(b[k], a[k], rtol=0, atol=0, msg=k)


def test_scale_logger_writes_lambda_scalars_and_tensorboard_events(trained):
    run_dir = next(p for p in trained['work'].iterdir() if p.is_dir() and (p / 'vis_data').exists())
    lines = [json.loads(line) for line in (run_dir / 'vis_data' / 'scalars.json').read_text().splitlines()]
    logged = [line for line in lines if 'lambda/abs_mean' in line]
    assert logged and {'lambda/block0_mean', 'lambda/fc1_mean', 'lambda/block3_max'} <= set(logged[-1])
    last = state(trained['work'] / 'epoch_3.pth')
    block3 = [v.item() for k, v in last.items() if k.startswith('backbone.layers.3.') and k.endswith('scale')]
    assert logged[-1]['lambda/block3_max'] == pytest.approx(max(block3), abs=1e-6)
    assert list((run_dir / 'vis_data').rglob('events.out.tfevents.*'))


def test_merge_pathway_tool_output_loads_strictly_into_plain_config(trained, tmp_path):
    out = tmp_path / 'merged.pth'
    result = run('tools/merge_pathway.py', trained['m2pt'], str(trained['work'] / 'epoch_3.pth'),
                 '--out', str(out))
    assert 'merged 16 Cross-Modal Scales' in result.stdout
    plain_cfg = tmp_path / 'm2pt_deploy.py'
    assert plain_cfg.exists()
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(str(plain_cfg))
    assert cfg.model.backbone.pathway is None
    model = MODELS.build(cfg.model)
    model.load_state_dict(state(out), strict=True)
    for k, v in state(trained['work'] / 'epoch_3_deploy.pth').items():
        assert_close(state(out)[k], v, msg=k)


def test_scales_heatmap_tool(trained, tmp_path):
    png = tmp_path / 'scales.png'
    result = run('tools/analysis/print_scales.py', str(trained['work'] / 'epoch_3.pth'), '--out-png', str(png))
    assert result.stdout.splitlines()[0].split() == ['block', 'qkv', 'proj', 'fc1', 'fc2']
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b'\x89PNG'


# ---------------------------------------------------------------- bad input
def test_deploy_checkpoint_with_pathway_config_says_which_to_use(trained, tmp_path):
    result = run('tools/test.py', trained['m2pt'], str(trained['work'] / 'epoch_3_deploy.pth'),
                 '--work-dir', str(tmp_path), check=False)
    assert result.returncode != 0
    assert 'is a merged (deploy) checkpoint' in result.stderr and 'pathway=None' in result.stderr


def test_unmerged_checkpoint_with_plain_config_says_which_to_use(trained, tmp_path):
    result = run('tools/test.py', trained['plain'], str(trained['work'] / 'epoch_3.pth'),
                 '--work-dir', str(tmp_path), check=False)
    assert result.returncode != 0
    assert 'is an unmerged M2PT training checkpoint' in result.stderr
    assert 'tools/merge_pathway.py' in result.stderr


@pytest.mark.parametrize('kind', ['missing', 'truncated'])
def test_resume_from_missing_or_truncated_checkpoint(trained, tmp_path, kind):
    work = tmp_path / 'w'
    work.mkdir()
    ckpt = work / 'epoch_1.pth'
    if kind == 'truncated':
        data = (trained['work'] / 'epoch_1.pth').read_bytes()
        ckpt.write_bytes(data[:len(data) // 2])
    before = sorted(p.name for p in work.iterdir())
    result = run('tools/train.py', trained['m2pt'], '--work-dir', str(work), '--resume', str(ckpt),
                 check=False)
    assert result.returncode != 0
    message = 'checkpoint file not found' if kind == 'missing' else 'is truncated'
    assert message in result.stderr and 'epoch_1.pth' in result.stderr
    assert sorted(p.name for p in work.iterdir()) == before  # nothing created or overwritten


def test_merge_pathway_on_checkpoint_without_pathway(trained, tmp_path):
    result = run('tools/merge_pathway.py', trained['m2pt'], str(trained['work'] / 'epoch_3_deploy.pth'),
                 '--out', str(tmp_path / 'x.pth'), check=False)
    assert result.returncode != 0 and 'has no pathway parameters' in result.stderr
    assert not (tmp_path / 'x.pth').exists()
