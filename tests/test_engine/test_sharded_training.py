"""Sharded training through mmengine's FlexibleRunner (#25): ``tools/dist_train.sh CONFIG 2
--strategy fsdp2`` (``FSDP2Strategy``, torch ``fully_shard`` per block on a CPU gloo mesh) on the
tiny M2PT classifier. Its checkpoints hold the full state, its deploy twins are the merge of
them, λ is logged gathered, a resumed run is the uninterrupted one and the run equals a
single-process one within fp32 tolerance."""
import json
from pathlib import Path
from typing import Dict

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from torch.testing import assert_close

import m2pt_mm.models  # noqa: F401  registers the backbone
from m2pt_mm.engine.cli import load_config, merge_train_args, train_args
from m2pt_mm.engine.hooks.scale_logger_hook import scale_statistics
from m2pt_mm.engine.strategies import find_blocks
from m2pt_mm.pathway import (
    CrossModalReparamLinear,
    collect_scales,
    is_scale_param,
    merge_state_dict,
)
from tests.helpers import (
    assert_deploy_is_merge,
    call_tool,
    state_dict_of,
    write_tiny_cls_config,
)
from tests.test_det_seg.conftest import run_dist

EPOCHS = 2  # 2 iterations each (16 images, 4 per rank); epoch 1 is also the best checkpoint


def _train_fsdp2(config: str, work: Path, *args: str) -> str:
    result = run_dist('dist_train.sh', config, '2', '--work-dir', work, '--strategy', 'fsdp2',
                      '--cfg-options', f'train_cfg.max_epochs={EPOCHS}', *args)
    return result.stdout + result.stderr


@pytest.fixture(scope='module')
def fsdp2_run(tmp_path_factory, tiny_cls_configs) -> Dict:
    """One 2-process FSDP2 run of the tiny M2PT classifier (≈ 15 s on 2 cores)."""
    work = tmp_path_factory.mktemp('fsdp2_run')
    log = _train_fsdp2(tiny_cls_configs['m2pt'], work)
    return dict(work=work, log=log, **tiny_cls_configs)


def _scalars(work: Path) -> list:
    run_dir = next(p for p in work.iterdir() if (p / 'vis_data' / 'scalars.json').exists())
    return [json.loads(line) for line in
            (run_dir / 'vis_data' / 'scalars.json').read_text().splitlines()]


def _model_state(config: str) -> Dict[str, torch.Tensor]:
    return MODELS.build(Config.fromfile(config).model).state_dict()


def test_fsdp2_run_trains_and_saves_the_full_state(fsdp2_run):
    work, log = fsdp2_run['work'], fsdp2_run['log']
    assert 'FSDP2Strategy: 4 blocks sharded over 2 ranks on cpu, then the root' in log
    losses = [line['loss'] for line in _scalars(work) if 'loss' in line]
    assert len(losses) == 2 * EPOCHS and all(torch.isfinite(torch.tensor(losses)))
    ckpt = torch.load(work / f'epoch_{EPOCHS}.pth', map_location='cpu', weights_only=True)
    assert ckpt['meta']['epoch'] == EPOCHS and ckpt['meta']['iter'] == 2 * EPOCHS
    # full tensors of the model's own shapes, no shard, no DTensor
    model = _model_state(fsdp2_run['m2pt'])
    state = ckpt['state_dict']
    assert sorted(state) == sorted(model)
    for k, v in state.items():
        assert type(v) is torch.Tensor and v.shape == model[k].shape, k
    scales = {k: v for k, v in state.items() if is_scale_param(k)}
    assert len(scales) == 16 and all(v.shape == (1, ) and v.item() != 0 for v in scales.values())
    # the optimiser state is full too, keyed by parameter name
    optim = ckpt['optimizer']['state']
    for name in ('backbone.layers.3.attn.qkv.aux_weight', 'backbone.layers.0.ffn.layers.0.0.'
                 'cross_modal_scale'):
        assert optim[name]['exp_avg'].shape == model[name].shape, name
    # the layer-decay constructor saw the sharded parameters by name: λ without weight decay,
    # W′ and λ at the lr scale of their block
    groups = {p: g for g in ckpt['optimizer']['param_groups'] for p in g['params']}
    lam0, lam3, aux0 = (groups[f'backbone.layers.{i}.attn.qkv.{name}'] for i, name in (
        (0, 'cross_modal_scale'), (3, 'cross_modal_scale'), (0, 'aux_weight')))
    assert lam0['weight_decay'] == lam3['weight_decay'] == 0 and aux0['weight_decay'] == 0.05
    assert lam0['lr_scale'] == aux0['lr_scale'] == pytest.approx(0.65 ** 4)
    assert lam3['lr_scale'] == pytest.approx(0.65)


def test_fsdp2_deploy_twin_is_the_merge_of_its_checkpoint(fsdp2_run):
    work = fsdp2_run['work']
    for name in (f'epoch_{EPOCHS}', 'best_accuracy_top1_epoch_1'):
        assert_deploy_is_merge(work / f'{name}.pth', work / f'{name}_deploy.pth')
        # bit-identical to what a single process writes from these weights (one merge)
        expected = merge_state_dict(state_dict_of(work / f'{name}.pth'))
        deploy = state_dict_of(work / f'{name}_deploy.pth')
        assert sorted(deploy) == sorted(expected)
        for k, v in expected.items():
            assert torch.equal(deploy[k], v), (name, k)
    plain = Config.fromfile(fsdp2_run['plain'])
    MODELS.build(plain.model).load_state_dict(state_dict_of(work / f'epoch_{EPOCHS}_deploy.pth'),
                                              strict=True)


def test_fsdp2_logs_the_gathered_lambda_of_its_checkpoint(fsdp2_run):
    work = fsdp2_run['work']
    logged = {line['step']: line for line in _scalars(work) if 'lambda/abs_mean' in line}
    for epoch in range(1, EPOCHS + 1):
        state = state_dict_of(work / f'epoch_{epoch}.pth')
        expected = scale_statistics(collect_scales(state))
        got = logged[2 * epoch]  # the step of that checkpoint
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-9), (epoch, key)
    assert logged[2 * EPOCHS]['lambda/abs_mean'] > 0  # λ moved from its init 0


def test_fsdp2_checkpoints_test_without_the_strategy(fsdp2_run, tmp_path):
    # full state dicts: tools/test.py (one process, plain Runner) reads the training checkpoint
    # under the M2PT config and its deploy twin under the plain one, with the same result
    work = fsdp2_run['work']
    unmerged = call_tool('test', fsdp2_run['m2pt'], work / f'epoch_{EPOCHS}.pth', '--work-dir',
                         tmp_path / 'unmerged')
    merged = call_tool('test', fsdp2_run['plain'], work / f'epoch_{EPOCHS}_deploy.pth',
                       '--work-dir', tmp_path / 'merged')
    assert unmerged['accuracy/top1'] == merged['accuracy/top1'] > 50


@pytest.mark.slow  # one more 2-process run (≈ 15 s)
def test_fsdp2_resume_is_the_uninterrupted_run(fsdp2_run, tmp_path):
    # epoch_1.pth is saved again after its validation made it the best: the re-save must record
    # epoch 1 (FlexibleRunner wrote epoch 2, and the resumed run skipped an epoch)
    first = torch.load(fsdp2_run['work'] / 'epoch_1.pth', map_location='cpu', weights_only=True)
    assert first['meta']['epoch'] == 1 and first['message_hub']['runtime_info']['best_ckpt']
    log = _train_fsdp2(fsdp2_run['m2pt'], tmp_path, '--resume',
                       str(fsdp2_run['work'] / 'epoch_1.pth'))
    assert 'resumed epoch: 1, iter: 2' in log
    resumed = torch.load(tmp_path / f'epoch_{EPOCHS}.pth', map_location='cpu', weights_only=True)
    uninterrupted = torch.load(fsdp2_run['work'] / f'epoch_{EPOCHS}.pth', map_location='cpu',
                               weights_only=True)
    assert_close(resumed['state_dict'], uninterrupted['state_dict'], rtol=0, atol=0)
    assert_close(resumed['optimizer']['state'], uninterrupted['optimizer']['state'], rtol=0,
                 atol=0)
    print(f'FSDP2 resume from epoch 1 to {EPOCHS}: {len(resumed["state_dict"])} tensors equal '
          'the uninterrupted run (atol=0)')


@pytest.mark.slow  # one more single-process run (≈ 10 s)
def test_fsdp2_run_equals_the_single_process_run(fsdp2_run, tmp_path):
    # 2 ranks × 4 images take the same images per step as 1 process × 8 (DefaultSampler
    # interleaves the ranks), and FSDP averages the gradients: the same steps up to rounding
    call_tool('train', fsdp2_run['m2pt'], '--work-dir', tmp_path, '--cfg-options',
              f'train_cfg.max_epochs={EPOCHS}', 'train_dataloader.batch_size=8')
    single = state_dict_of(tmp_path / f'epoch_{EPOCHS}.pth')
    sharded = state_dict_of(fsdp2_run['work'] / f'epoch_{EPOCHS}.pth')
    assert_close(sharded, single)  # fp32 tolerance (rtol 1.3e-6, atol 1e-5)
    worst = max((sharded[k] - single[k]).abs().max().item() for k in single)
    assert_close(state_dict_of(fsdp2_run['work'] / f'epoch_{EPOCHS}_deploy.pth'),
                 state_dict_of(tmp_path / f'epoch_{EPOCHS}_deploy.pth'))
    print(f'FSDP2 (2 processes) vs 1 process after {2 * EPOCHS} steps: max |Δ| = {worst:.2e}')


RUNTIME_HOOKS = """
custom_hooks = [dict(type='MergePathwayHook'), dict(type='ScaleLoggerHook', interval=1),
                dict(type='CheckpointCheckHook', strict=True), dict(type='ResumableRandomnessHook'),
                dict(type='FiniteLossHook', interval=1)]
"""


@pytest.mark.slow  # one 2-process run each (≈ 15 s)
@pytest.mark.parametrize('options, frozen', [
    # the paper's fix setting (only λ of the backbone trains), with the memory-lean merge
    ({'model.backbone.fix_weights': True, 'model.backbone.pathway.recompute': True},
     lambda k: k.startswith('backbone.') and not is_scale_param(k)),
    ({'model.backbone.pathway.aux_trainable': False}, lambda k: 'aux_weight' in k),
], ids=['fix-weights-recompute', 'frozen-aux'])
def test_fsdp2_frozen_variants_train_only_what_they_should(tiny_cls_configs, aux64_file, tmp_path,
                                                           options, frozen):
    config = write_tiny_cls_config(tmp_path / 'm2pt.py', Path(tiny_cls_configs['data']),
                                   Path(aux64_file), extra=RUNTIME_HOOKS)
    _train_fsdp2(config, tmp_path / 'work', *(f'{k}={v}' for k, v in options.items()))
    first, last = (state_dict_of(tmp_path / 'work' / f'epoch_{e}.pth') for e in (1, EPOCHS))
    fixed = [k for k in first if frozen(k) and first[k].is_floating_point()]
    assert fixed and all(torch.equal(first[k], last[k]) for k in fixed)
    assert all(not torch.equal(first[k], last[k]) for k in first if is_scale_param(k))
    assert_deploy_is_merge(tmp_path / 'work' / f'epoch_{EPOCHS}.pth',
                           tmp_path / 'work' / f'epoch_{EPOCHS}_deploy.pth')


# mmengine's FSDPStrategy (FSDP1) in the config form. On CPU: device_id 'cpu' (mmengine's default
# is the CUDA ordinal LOCAL_RANK) and full state dicts without offload_to_cpu (with it, torch 2.11
# segfaults in FSDP's state_dict clone of a CPU model).
FSDP1 = """
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy', model_wrapper=dict(device_id='cpu'),
    state_dict_cfg=dict(state_dict_type='FULL_STATE_DICT',
                        state_dict_config=dict(type='FullStateDictConfig', rank0_only=True,
                                               offload_to_cpu=False),
                        optim_state_dict_config=dict(type='FullOptimStateDictConfig',
                                                     rank0_only=True, offload_to_cpu=False)))
custom_hooks = [dict(type='MergePathwayHook'), dict(type='ScaleLoggerHook', interval=1),
                dict(type='CheckpointCheckHook', strict=True)]
"""


@pytest.mark.slow  # two 2-process runs (≈ 30 s)
def test_fsdp1_resumes_exactly_with_the_optim_state_shim(fsdp2_run, aux64_file, tmp_path):
    config = write_tiny_cls_config(tmp_path / 'm2pt_fsdp1.py', Path(fsdp2_run['data']),
                                   Path(aux64_file), extra=FSDP1)
    options = ['--cfg-options', f'train_cfg.max_epochs={EPOCHS}']
    run_dist('dist_train.sh', config, '2', '--work-dir', tmp_path / 'run', *options)
    # without fix_fsdp_resume this run fails: TypeError: unhashable type: 'dict'
    result = run_dist('dist_train.sh', config, '2', '--work-dir', tmp_path / 'resumed', '--resume',
                      tmp_path / 'run' / 'epoch_1.pth', *options)
    assert 'resumed epoch: 1, iter: 2' in result.stdout + result.stderr
    final = state_dict_of(tmp_path / 'run' / f'epoch_{EPOCHS}.pth')
    assert_close(state_dict_of(tmp_path / 'resumed' / f'epoch_{EPOCHS}.pth'), final, rtol=0, atol=0)
    # the same steps as FSDP2 up to rounding, λ logged gathered, the deploy twin the merge
    assert_close(final, state_dict_of(fsdp2_run['work'] / f'epoch_{EPOCHS}.pth'))
    logged = [line for line in _scalars(tmp_path / 'run') if 'lambda/abs_mean' in line]
    expected = scale_statistics(collect_scales(final))
    assert logged[-1]['step'] == 2 * EPOCHS
    assert logged[-1]['lambda/abs_mean'] == pytest.approx(expected['lambda/abs_mean'], rel=1e-6)
    assert_deploy_is_merge(tmp_path / 'run' / f'epoch_{EPOCHS}.pth',
                           tmp_path / 'run' / f'epoch_{EPOCHS}_deploy.pth')


def test_find_blocks_gives_one_unit_per_block_with_its_pathway(tiny_cls_configs):
    model = MODELS.build(Config.fromfile(tiny_cls_configs['m2pt']).model)
    blocks = find_blocks(model)
    assert blocks == list(model.backbone.layers)
    assert find_blocks(model, ['TransformerEncoderLayer']) == blocks
    for block in blocks:  # W, W′ and λ of each pathway layer sit in its block's unit
        layers = [m for m in block.modules() if isinstance(m, CrossModalReparamLinear)]
        assert len(layers) == 4 and all(
            {'weight', 'aux_weight', 'cross_modal_scale'} <= set(dict(m.named_parameters()))
            for m in layers)


# ---------------------------------------------------------------- bad input
def test_find_blocks_names_the_module_types_when_none_matches():
    with pytest.raises(ValueError, match=r"has no block of types \['Block'\] to shard; set "
                       r"strategy.block_types to some of its module types \['Linear', "
                       r"'Sequential'\]"):
        find_blocks(torch.nn.Sequential(torch.nn.Linear(2, 2)), ['Block'])
    with pytest.raises(ValueError, match='has no block in an nn.ModuleList'):
        find_blocks(torch.nn.Sequential(torch.nn.Linear(2, 2)))


def test_unknown_strategy_is_refused_by_the_command_line(tiny_cls_configs, capsys):
    with pytest.raises(SystemExit) as err:
        call_tool('train', tiny_cls_configs['m2pt'], '--strategy', 'fsdp9')
    assert err.value.code == 2
    assert "--strategy: invalid choice: 'fsdp9'" in capsys.readouterr().err


def test_strategy_without_a_distributed_launch_says_how_to_launch(tiny_cls_configs, tmp_path):
    args = train_args(tiny_cls_configs['m2pt'], str(tmp_path), strategy='fsdp2')
    with pytest.raises(ValueError, match='launch it with tools/dist_train.sh CONFIG N --strategy '
                       'fsdp2'):
        merge_train_args(load_config(args.config, args), args)


def test_strategy_flag_selects_the_flexible_runner(tiny_cls_configs, tmp_path):
    args = train_args(tiny_cls_configs['m2pt'], str(tmp_path), strategy='fsdp2',
                      cfg_options={'strategy.reshard_after_forward': False})
    cfg = load_config(args.config, args)
    cfg.launcher = 'pytorch'  # as dist_train.sh sets it (the process group is not needed here)
    cfg = merge_train_args(cfg, args)
    assert cfg.runner_type == 'FlexibleRunner'
    assert cfg.strategy == dict(type='FSDP2Strategy', reshard_after_forward=False)
