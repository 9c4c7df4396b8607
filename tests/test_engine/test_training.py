"""Training through tools/train.py with the real mmengine Runner: merge hook, safe resume (also
after SIGKILL), tools/test.py on deploy checkpoints, merge_pathway.py, λ logging.

The tools run in-process (``call_tool``) on one shared 3-epoch run; the command line itself is
exercised once end to end: a killed ``tools/train.py`` process, its ``--resume``, then
``tools/merge_pathway.py`` and ``tools/test.py`` as processes on the result."""
import json
import re
import sys

import pytest
import torch
from torch.testing import assert_close

from m2pt_mm.checkpoints import CheckpointError
from m2pt_mm.engine.hooks import CheckpointMismatchError
from m2pt_mm.testing.processes import kill_when
from tests.helpers import ROOT, assert_deploy_is_merge, call_tool, run_tool, state_dict_of


def accuracy_of(config, ckpt, tmp_path, name):
    metrics = call_tool('test', config, ckpt, '--work-dir', tmp_path / name)
    return metrics['accuracy/top1']


def test_train_writes_training_and_deploy_checkpoints(trained_classifier):
    work = trained_classifier['work']
    for epoch in (1, 2, 3):
        assert_deploy_is_merge(work / f'epoch_{epoch}.pth', work / f'epoch_{epoch}_deploy.pth')
    # the training checkpoint keeps everything resume needs
    full = torch.load(work / 'epoch_3.pth', weights_only=True)
    assert {'optimizer', 'param_schedulers', 'message_hub', 'meta'} <= set(full)
    # save_best checkpoints get their deploy file too
    best = list(work.glob('best_accuracy_top1_epoch_*.pth'))
    assert any(p.name.endswith('_deploy.pth') for p in best) and len(best) == 2
    # λ actually trained
    scales = [v.item() for k, v in state_dict_of(work / 'epoch_3.pth').items()
              if k.endswith('cross_modal_scale')]
    assert len(scales) == 16 and any(abs(s) > 0 for s in scales)


def test_deploy_checkpoint_with_plain_config_gives_same_accuracy(trained_classifier, tmp_path):
    work = trained_classifier['work']
    acc_train = accuracy_of(trained_classifier['m2pt'], work / 'epoch_3.pth', tmp_path, 'train')
    acc_deploy = accuracy_of(trained_classifier['plain'], work / 'epoch_3_deploy.pth', tmp_path,
                             'deploy')
    assert acc_train == acc_deploy
    assert acc_train > 50.0  # stripes are learnable: better than chance in 3 epochs


def test_resume_from_epoch_1_reproduces_the_uninterrupted_run(trained_classifier, tmp_path):
    work = tmp_path / 'resumed'
    work.mkdir()
    src = trained_classifier['work']
    (work / 'epoch_1.pth').write_bytes((src / 'epoch_1.pth').read_bytes())
    call_tool('train', trained_classifier['m2pt'], '--work-dir', work, '--resume',
              work / 'epoch_1.pth')
    a, b = state_dict_of(src / 'epoch_3.pth'), state_dict_of(work / 'epoch_3.pth')
    assert list(a) == list(b)
    for k in a:
        assert_close(b[k], a[k], rtol=0, atol=0, msg=k)


def test_command_line_sigkill_resume_merge_and_test(trained_classifier, tmp_path):
    """The tools as processes: train, SIGKILL after a checkpoint, ``--resume`` (same weights as
    the uninterrupted run), ``merge_pathway.py``, ``test.py`` on the merged file with the plain
    config it wrote (same accuracy as the unmerged checkpoint)."""
    work = tmp_path / 'killed'
    last = work / 'last_checkpoint'
    # kill once the runner points resume at epoch 1: the next save (epoch 2) may be under way
    kill_when([sys.executable, 'tools/train.py', trained_classifier['m2pt'], '--work-dir', work],
              lambda: last.exists() and last.read_text().strip().endswith('epoch_1.pth'),
              what='epoch 1 was saved', timeout=240, cwd=ROOT)
    result = run_tool('train.py', trained_classifier['m2pt'], '--work-dir', work, '--resume')
    assert re.search(r'resumed epoch: [12]', result.stdout + result.stderr)
    a, b = (state_dict_of(trained_classifier['work'] / 'epoch_3.pth'),
            state_dict_of(work / 'epoch_3.pth'))
    for k in a:
        assert_close(b[k], a[k], rtol=0, atol=0, msg=k)

    merged = tmp_path / 'merged.pth'
    result = run_tool('merge_pathway.py', trained_classifier['m2pt'], work / 'epoch_3.pth',
                      '--out', merged)
    assert 'merged 16 Cross-Modal Scales' in result.stdout
    plain_cfg = tmp_path / 'm2pt_deploy.py'  # written beside the output
    metrics = tmp_path / 'metrics.json'
    run_tool('test.py', plain_cfg, merged, '--work-dir', tmp_path / 'test', '--metrics-out',
             metrics)
    expected = accuracy_of(trained_classifier['m2pt'], work / 'epoch_3.pth', tmp_path, 'unmerged')
    assert json.loads(metrics.read_text())['accuracy/top1'] == expected


def test_scale_logger_writes_lambda_scalars_and_tensorboard_events(trained_classifier):
    work = trained_classifier['work']
    run_dir = next(p for p in work.iterdir() if p.is_dir() and (p / 'vis_data').exists())
    lines = [json.loads(line)
             for line in (run_dir / 'vis_data' / 'scalars.json').read_text().splitlines()]
    logged = [line for line in lines if 'lambda/abs_mean' in line]
    assert logged and ({'lambda/block0_mean', 'lambda/fc1_mean', 'lambda/block3_max'}
                       <= set(logged[-1]))
    last = state_dict_of(work / 'epoch_3.pth')
    block3 = [v.item() for k, v in last.items()
              if k.startswith('backbone.layers.3.') and k.endswith('scale')]
    assert logged[-1]['lambda/block3_max'] == pytest.approx(max(block3), abs=1e-6)
    assert list((run_dir / 'vis_data').rglob('events.out.tfevents.*'))


def test_merge_pathway_tool_output_loads_strictly_into_plain_config(trained_classifier, tmp_path,
                                                                     capsys):
    out = tmp_path / 'merged.pth'
    call_tool('merge_pathway', trained_classifier['m2pt'],
              trained_classifier['work'] / 'epoch_3.pth', '--out', out)
    assert 'merged 16 Cross-Modal Scales' in capsys.readouterr().out
    plain_cfg = tmp_path / 'm2pt_deploy.py'
    assert plain_cfg.exists()
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(str(plain_cfg))
    assert cfg.model.backbone.pathway is None
    model = MODELS.build(cfg.model)
    model.load_state_dict(state_dict_of(out), strict=True)
    hook_output = state_dict_of(trained_classifier['work'] / 'epoch_3_deploy.pth')
    tool_output = state_dict_of(out)
    assert sorted(tool_output) == sorted(hook_output)
    for k, v in hook_output.items():
        assert torch.equal(tool_output[k], v), k  # one writer, one merge: bit-identical


def test_scales_heatmap_tool(trained_classifier, tmp_path, capsys):
    png = tmp_path / 'scales.png'
    call_tool('analysis/print_scales', trained_classifier['work'] / 'epoch_3.pth', '--out-png', png)
    assert capsys.readouterr().out.splitlines()[0].split() == ['block', 'qkv', 'proj', 'fc1', 'fc2']
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b'\x89PNG'


# ---------------------------------------------------------------- bad input
def test_deploy_checkpoint_with_pathway_config_says_which_to_use(trained_classifier, tmp_path):
    with pytest.raises(CheckpointMismatchError, match='is a merged \\(deploy\\) checkpoint') as err:
        call_tool('test', trained_classifier['m2pt'],
                  trained_classifier['work'] / 'epoch_3_deploy.pth', '--work-dir', tmp_path)
    assert 'pathway=None' in str(err.value)


def test_unmerged_checkpoint_with_plain_config_says_which_to_use(trained_classifier, tmp_path):
    with pytest.raises(CheckpointMismatchError,
                       match='is an unmerged M2PT training checkpoint') as err:
        call_tool('test', trained_classifier['plain'], trained_classifier['work'] / 'epoch_3.pth',
                  '--work-dir', tmp_path)
    assert 'tools/merge_pathway.py' in str(err.value)


@pytest.mark.parametrize('kind', ['missing', 'truncated'])
def test_resume_from_missing_or_truncated_checkpoint(trained_classifier, tmp_path, kind, capsys):
    work = tmp_path / 'w'
    work.mkdir()
    ckpt = work / 'epoch_1.pth'
    if kind == 'truncated':
        data = (trained_classifier['work'] / 'epoch_1.pth').read_bytes()
        ckpt.write_bytes(data[:len(data) // 2])
    before = sorted(p.name for p in work.iterdir())
    if kind == 'missing':  # answered by the argument check, before the stack is imported
        with pytest.raises(SystemExit):
            call_tool('train', trained_classifier['m2pt'], '--work-dir', work, '--resume', ckpt)
        assert f"--resume checkpoint '{ckpt}' does not exist" in capsys.readouterr().err
    else:
        with pytest.raises(CheckpointError, match=r'epoch_1\.pth.*is truncated'):
            call_tool('train', trained_classifier['m2pt'], '--work-dir', work, '--resume', ckpt)
    assert sorted(p.name for p in work.iterdir()) == before  # nothing created or overwritten


def test_merge_pathway_on_checkpoint_without_pathway(trained_classifier, tmp_path):
    with pytest.raises(CheckpointError, match='has no pathway parameters'):
        call_tool('merge_pathway', trained_classifier['m2pt'],
                  trained_classifier['work'] / 'epoch_3_deploy.pth', '--out', tmp_path / 'x.pth')
    assert not (tmp_path / 'x.pth').exists()
