"""Sharded training through mmengine's FlexibleRunner (#25): ``tools/dist_train.sh CONFIG 2
--strategy fsdp2`` (``FSDP2Strategy``, torch ``fully_shard`` per block on a CPU gloo mesh) and
``--strategy fsdp`` (``PathwayFSDPStrategy``, mmengine's FSDP1 with one unit per block) on the
tiny M2PT classifier. Their checkpoints hold the full state, their deploy twins are the merge of
them, λ is logged gathered, a resumed run is the uninterrupted one and the run equals a
single-process one within fp32 tolerance."""
import json
import os
import re
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
from m2pt_mm.engine.strategies import find_blocks, pathway_block_classes
from m2pt_mm.pathway import (
    CrossModalReparamLinear,
    collect_scales,
    format_scale_table,
    is_scale_param,
    merge_state_dict,
)
from m2pt_mm.testing.processes import kill_when
from tests.helpers import (
    ROOT,
    VENV_BIN,
    assert_deploy_is_merge,
    call_tool,
    free_port,
    run_dist,
    run_tool,
    state_dict_of,
    write_tiny_cls_config,
)

EPOCHS = 2  # 2 iterations each (16 images, 4 per rank); epoch 1 is also the best checkpoint


def _train_fsdp2(config: str, work: Path, *args: str) -> str:
    result = run_dist('dist_train.sh', config, '2', '--work-dir', work, '--strategy', 'fsdp2',
                      '--cfg-options', f'train_cfg.max_epochs={EPOCHS}', *args)
    return result.stdout + result.stderr


@pytest.fixture(scope='module')
def fsdp2_run(tmp_path_factory, tiny_cls_configs, aux64_file) -> Dict:
    """One 2-process FSDP2 run of the tiny M2PT classifier, each rank with its own log
    (≈ 15 s on 2 cores)."""
    work = tmp_path_factory.mktemp('fsdp2_run')
    config = write_tiny_cls_config(work.parent / f'{work.name}_m2pt.py',
                                   Path(tiny_cls_configs['data']), Path(aux64_file),
                                   extra=PER_RANK_LOGS)
    log = _train_fsdp2(config, work)
    return dict(work=work, log=log, **dict(tiny_cls_configs, m2pt=config))


def assert_layer_decay_groups(ckpt: dict) -> None:
    """λ without weight decay, W′ and λ at the lr scale of their block (0.65 per block from the
    top, 4 blocks), in a saved optimiser's parameter groups."""
    groups = {p: g for g in ckpt['optimizer']['param_groups'] for p in g['params']}
    lam0, lam3, aux0 = (groups[f'backbone.layers.{i}.attn.qkv.{name}'] for i, name in (
        (0, 'cross_modal_scale'), (3, 'cross_modal_scale'), (0, 'aux_weight')))
    assert lam0['weight_decay'] == lam3['weight_decay'] == 0 and aux0['weight_decay'] == 0.05
    assert lam0['lr_scale'] == aux0['lr_scale'] == pytest.approx(0.65 ** 4)
    assert lam3['lr_scale'] == pytest.approx(0.65)


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
    # the layer-decay constructor saw the sharded parameters by name
    assert_layer_decay_groups(ckpt)


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
    # the loss of each step (mean of the ranks' batches) and the λ every rank gathers
    single_losses = torch.tensor([line['loss'] for line in _scalars(tmp_path) if 'loss' in line],
                                 dtype=torch.float64)
    assert_close(_mean_rank_losses(fsdp2_run['work']), single_losses, rtol=1.3e-6, atol=1e-5)
    logs = _rank_logs(fsdp2_run['work'])
    tables = [_lambda_tables(logs[rank]) for rank in (0, 1)]
    assert sorted(tables[0]) == list(range(1, EPOCHS + 1)) and tables[0] == tables[1]
    assert tables[0][EPOCHS] == format_scale_table(collect_scales(sharded))
    assert_close({k: v for k, v in sharded.items() if is_scale_param(k)},
                 {k: v for k, v in single.items() if is_scale_param(k)})
    worst = max((sharded[k] - single[k]).abs().max().item() for k in single)
    assert_close(state_dict_of(fsdp2_run['work'] / f'epoch_{EPOCHS}_deploy.pth'),
                 state_dict_of(tmp_path / f'epoch_{EPOCHS}_deploy.pth'))
    print(f'FSDP2 (2 processes) vs 1 process after {2 * EPOCHS} steps: max |Δ| = {worst:.2e}')


RUNTIME_HOOKS = """
custom_hooks = [dict(type='MergePathwayHook'), dict(type='ScaleLoggerHook', interval=1),
                dict(type='CheckpointCheckHook', strict=True), dict(type='ResumableRandomnessHook'),
                dict(type='FiniteLossHook', interval=1)]
"""


@pytest.mark.slow  # one 2-process run each (≈ 15-20 s)
@pytest.mark.parametrize('strategy', ['fsdp2', 'fsdp'])
@pytest.mark.parametrize('options, frozen', [
    # the paper's fix setting (only λ of the backbone trains), with the memory-lean merge
    ({'model.backbone.fix_weights': True, 'model.backbone.pathway.recompute': True},
     lambda k: k.startswith('backbone.') and not is_scale_param(k)),
    ({'model.backbone.pathway.aux_trainable': False}, lambda k: 'aux_weight' in k),
], ids=['fix-weights-recompute', 'frozen-aux'])
def test_frozen_variants_train_only_what_they_should(strategy, tiny_cls_configs, aux64_file,
                                                      tmp_path, options, frozen):
    config = write_tiny_cls_config(tmp_path / 'm2pt.py', Path(tiny_cls_configs['data']),
                                   Path(aux64_file), extra=RUNTIME_HOOKS)
    run_dist('dist_train.sh', config, '2', '--work-dir', tmp_path / 'work', '--strategy',
             strategy, '--cfg-options', f'train_cfg.max_epochs={EPOCHS}',
             *(f'{k}={v}' for k, v in options.items()))
    first, last = (state_dict_of(tmp_path / 'work' / f'epoch_{e}.pth') for e in (1, EPOCHS))
    fixed = [k for k in first if frozen(k) and first[k].is_floating_point()]
    assert fixed and all(torch.equal(first[k], last[k]) for k in fixed)
    assert all(not torch.equal(first[k], last[k]) for k in first if is_scale_param(k))
    assert_deploy_is_merge(tmp_path / 'work' / f'epoch_{EPOCHS}.pth',
                           tmp_path / 'work' / f'epoch_{EPOCHS}_deploy.pth')


# ---------------------------------------------------------------- FSDP1: --strategy fsdp
# 10 steps: 5 epochs of 2 iterations (16 images, 2 ranks × 4). Each rank writes its own log
# (log_kwargs distributed) with the loss of its own batch in full digits (window 1), and the λ
# table ScaleLoggerHook logs after each epoch from the parameters gathered on that rank.
FSDP1_EPOCHS = 5
PER_RANK_LOGS = """
strategy = dict(log_kwargs=dict(distributed=True))
log_processor = dict(window_size=1, num_digits=9)
"""
_LOSS = re.compile(r'Epoch\(train\) +\[(\d+)\]\[(\d+)/\d+\].* loss: ([-\d.]+)')
_TABLE = re.compile(r'Cross-Modal Scales λ after epoch (\d+):\n((?:(?!\d+/\d\d/\d\d ).*\n)+)')


@pytest.fixture(scope='module')
def fsdp1_config(tmp_path_factory, tiny_cls_configs, aux64_file) -> str:
    return write_tiny_cls_config(tmp_path_factory.mktemp('fsdp1') / 'm2pt.py',
                                 Path(tiny_cls_configs['data']), Path(aux64_file),
                                 extra=PER_RANK_LOGS)


def _train_fsdp1(config: str, work: Path, *args: str) -> str:
    result = run_dist('dist_train.sh', config, '2', '--work-dir', work, '--strategy', 'fsdp',
                      '--cfg-options', f'train_cfg.max_epochs={FSDP1_EPOCHS}', *args)
    return result.stdout + result.stderr


@pytest.fixture(scope='module')
def fsdp1_run(tmp_path_factory, fsdp1_config) -> Dict:
    """One 2-process ``--strategy fsdp`` run of 10 steps (≈ 20 s on 2 cores)."""
    work = tmp_path_factory.mktemp('fsdp1_run')
    return dict(work=work, log=_train_fsdp1(fsdp1_config, work), config=fsdp1_config)


def _rank_logs(work: Path) -> Dict[int, str]:
    logs = {int(re.search(r'rank(\d+)\.log$', p.name).group(1)): p.read_text()
            for p in work.glob('*/*_rank*.log')}
    assert sorted(logs) == [0, 1], sorted(logs)
    return logs


def _mean_rank_losses(work: Path) -> torch.Tensor:
    """The loss of each step averaged over the ranks: the loss of the whole global batch."""
    per_rank = [[float(m.group(3)) for m in _LOSS.finditer(log)]
                for _, log in sorted(_rank_logs(work).items())]
    return torch.tensor(per_rank, dtype=torch.float64).mean(0)


def _lambda_tables(log: str) -> Dict[int, str]:
    return {int(m.group(1)): m.group(2).strip() for m in _TABLE.finditer(log)}


@pytest.mark.slow  # the fixture's run
def test_fsdp1_run_shards_per_block_and_saves_the_full_state(fsdp1_run):
    work, log = fsdp1_run['work'], fsdp1_run['log']
    assert ("PathwayFSDPStrategy: 4 blocks of ['TransformerEncoderLayer'] sharded over 2 ranks "
            'on cpu, then the root') in log
    ckpt = torch.load(work / f'epoch_{FSDP1_EPOCHS}.pth', map_location='cpu', weights_only=True)
    model = _model_state(fsdp1_run['config'])
    assert sorted(ckpt['state_dict']) == sorted(model)
    for k, v in ckpt['state_dict'].items():
        assert type(v) is torch.Tensor and v.shape == model[k].shape, k
    optim = ckpt['optimizer']['state']
    name = 'backbone.layers.3.attn.qkv.aux_weight'
    assert optim[name]['exp_avg'].shape == model[name].shape
    # layer decay's per-parameter groups of the wrapped model
    assert_layer_decay_groups(ckpt)


@pytest.mark.slow  # one single-process run and one 2-process DDP run (≈ 35 s)
def test_fsdp1_run_equals_the_single_process_and_the_ddp_runs(fsdp1_run, tiny_cls_configs,
                                                              tmp_path):
    work, config = fsdp1_run['work'], fsdp1_run['config']
    options = ['--cfg-options', f'train_cfg.max_epochs={FSDP1_EPOCHS}']
    call_tool('train', config, '--work-dir', tmp_path / 'single', *options,
              'train_dataloader.batch_size=8')
    # the loss of each of the 10 steps: mean of the two ranks' batches = the 8-image batch
    single = torch.tensor([line['loss'] for line in _scalars(tmp_path / 'single')
                           if 'loss' in line], dtype=torch.float64)
    sharded = _mean_rank_losses(work)
    assert len(single) == len(sharded) == 2 * FSDP1_EPOCHS
    assert_close(sharded, single, rtol=1.3e-6, atol=1e-5)  # fp32 tolerance
    assert sharded[-1] < sharded[0]
    # every rank gathers the same λ, those of the checkpoint, after every epoch
    logs = _rank_logs(work)
    tables = [_lambda_tables(logs[rank]) for rank in (0, 1)]
    assert sorted(tables[0]) == list(range(1, FSDP1_EPOCHS + 1)) and tables[0] == tables[1]
    final = state_dict_of(work / f'epoch_{FSDP1_EPOCHS}.pth')
    assert tables[0][FSDP1_EPOCHS] == format_scale_table(collect_scales(final))
    single_state = state_dict_of(tmp_path / 'single' / f'epoch_{FSDP1_EPOCHS}.pth')
    assert_close(final, single_state)
    lam = {k: v for k, v in final.items() if is_scale_param(k)}
    assert len(lam) == 16 and all(v.item() != 0 for v in lam.values())
    assert_close(lam, {k: single_state[k] for k in lam})
    # the deploy twin loads strictly into the plain config and equals the DDP run's
    deploy = state_dict_of(work / f'epoch_{FSDP1_EPOCHS}_deploy.pth')
    MODELS.build(Config.fromfile(tiny_cls_configs['plain']).model).load_state_dict(deploy,
                                                                                   strict=True)
    run_dist('dist_train.sh', config, '2', '--work-dir', tmp_path / 'ddp', *options)
    ddp = state_dict_of(tmp_path / 'ddp' / f'epoch_{FSDP1_EPOCHS}_deploy.pth')
    assert_close(deploy, ddp)
    worst = max((deploy[k] - ddp[k]).abs().max().item() for k in ddp)
    worst_loss = (sharded - single).abs().max().item()
    print(f'FSDP1 (2 processes) vs 1 process, {2 * FSDP1_EPOCHS} steps: max |Δ loss| = '
          f'{worst_loss:.2e}; deploy checkpoint vs DDP (2 processes): max |Δ| = {worst:.2e}')


@pytest.mark.slow  # a killed and a resumed 2-process run (≈ 35 s)
def test_fsdp1_killed_and_resumed_run_is_the_uninterrupted_run(fsdp1_run, tmp_path):
    work = tmp_path / 'killed'
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get('PATH', ''),
               PORT=str(free_port()), OMP_NUM_THREADS='1')
    last = work / 'last_checkpoint'
    # the whole job is killed: bash, torchrun and its workers (each in a session of its own)
    kill_when(['bash', 'tools/dist_train.sh', fsdp1_run['config'], '2', '--work-dir', work,
               '--strategy', 'fsdp', '--cfg-options', f'train_cfg.max_epochs={FSDP1_EPOCHS}'],
              lambda: last.exists() and last.read_text().strip().endswith('epoch_2.pth'),
              what='epoch 2 was saved', timeout=240, cwd=ROOT, env=env, tree=True, poll=0.02)
    # without fix_fsdp_resume this run fails: TypeError: unhashable type: 'dict'
    log = _train_fsdp1(fsdp1_run['config'], work, '--resume')
    assert re.search(r'resumed epoch: [23], iter: [46]', log)
    resumed = torch.load(work / f'epoch_{FSDP1_EPOCHS}.pth', map_location='cpu',
                         weights_only=True)
    uninterrupted = torch.load(fsdp1_run['work'] / f'epoch_{FSDP1_EPOCHS}.pth',
                               map_location='cpu', weights_only=True)
    assert_close(resumed['state_dict'], uninterrupted['state_dict'], rtol=0, atol=0)
    assert_close(resumed['optimizer']['state'], uninterrupted['optimizer']['state'], rtol=0,
                 atol=0)
    print(f'FSDP1 killed after epoch 2, resumed to {FSDP1_EPOCHS}: '
          f'{len(resumed["state_dict"])} tensors equal the uninterrupted run (atol=0)')


@pytest.mark.slow  # one 2-process run (≈ 20 s)
def test_fsdp1_bf16_mixed_precision_trains_and_keeps_fp32_checkpoints(fsdp1_run, tmp_path):
    # FSDP casts W, W′ and λ to bf16 for forward and backward; the merge accumulates
    # W + λW′ in fp32 and casts once (merge_reparam); the fp32 parameters are what is saved
    precision = 'strategy.model_wrapper.mixed_precision'
    _train_fsdp1(fsdp1_run['config'], tmp_path, f'{precision}.param_dtype=bfloat16',
                 f'{precision}.reduce_dtype=float32')
    state = state_dict_of(tmp_path / f'epoch_{FSDP1_EPOCHS}.pth')
    assert {v.dtype for v in state.values() if v.is_floating_point()} == {torch.float32}
    assert_deploy_is_merge(tmp_path / f'epoch_{FSDP1_EPOCHS}.pth',
                           tmp_path / f'epoch_{FSDP1_EPOCHS}_deploy.pth')
    bf16, fp32 = _mean_rank_losses(tmp_path), _mean_rank_losses(fsdp1_run['work'])
    assert bf16[-1] < bf16[0]
    assert not torch.equal(bf16, fp32)  # it ran in bf16 ...
    assert_close(bf16, fp32, rtol=0, atol=2e-2)  # ... close to the fp32 run


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


def test_pathway_block_classes_group_each_pathway_with_its_block(tiny_cls_configs):
    model = MODELS.build(Config.fromfile(tiny_cls_configs['m2pt']).model)
    classes = pathway_block_classes(model)
    assert [m for m in model.modules() if isinstance(m, classes)] == list(model.backbone.layers)
    assert pathway_block_classes(model, ['TransformerEncoderLayer']) == classes


# ---------------------------------------------------------------- bad input
def test_fsdp_refuses_pathway_layers_outside_every_block(tiny_cls_configs):
    model = MODELS.build(Config.fromfile(tiny_cls_configs['m2pt']).model)
    # attention modules as units would leave fc1/fc2 (W, W′, λ) in the root's unit
    with pytest.raises(ValueError, match=r"FSDP: the pathway layers \['backbone.layers.0.ffn."
                       r"layers.0.0', 'backbone.layers.0.ffn.layers.1', .*\] ... \(8\) are in no "
                       r"block of types \['MultiheadAttention'\], so they cannot share a "
                       r'sharding unit with their block; set strategy.block_types to the block '
                       r"class among the module types that hold them \['FFN', "
                       r"'M2PTVisionTransformer', 'ModuleList', 'MultiheadAttention', "
                       r"'Sequential', 'TransformerEncoderLayer'\]"):
        pathway_block_classes(model, ['MultiheadAttention'])
    with pytest.raises(ValueError, match=r"has no block of types \['Block'\] to make a "
                       r'sharding unit of'):
        pathway_block_classes(model, ['Block'])
    with pytest.raises(ValueError, match='has no block of type TransformerEncoderLayer'):
        pathway_block_classes(torch.nn.Sequential(torch.nn.Linear(2, 2)))


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


def test_fsdp_with_units_apart_from_their_pathway_says_so_in_one_line(tiny_cls_configs,
                                                                      tmp_path):
    # the tool as a user runs it (torchrun, 1 process): one error line, nothing trained
    result = run_tool('dist_train.sh', tiny_cls_configs['m2pt'], '1', '--work-dir', tmp_path,
                      '--strategy', 'fsdp', '--cfg-options',
                      'strategy.block_types=[MultiheadAttention]', check=False,
                      env=dict(PORT=str(free_port()), OMP_NUM_THREADS='1'))
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith('train.py: error:')]
    assert errors == [
        "train.py: error: FSDP: the pathway layers ['backbone.layers.0.ffn.layers.0.0', "
        "'backbone.layers.0.ffn.layers.1', 'backbone.layers.1.ffn.layers.0.0', "
        "'backbone.layers.1.ffn.layers.1'] ... (8) are in no block of types "
        "['MultiheadAttention'], so they cannot share a sharding unit with their block; set "
        'strategy.block_types to the block class among the module types that hold them '
        "['FFN', 'M2PTVisionTransformer', 'ModuleList', 'MultiheadAttention', 'Sequential', "
        "'TransformerEncoderLayer']"]
    assert not list(tmp_path.glob('*.pth'))


@pytest.mark.slow  # one 2-process run (≈ 15 s)
def test_sharded_checkpoint_given_to_test_py_says_what_it_is(tiny_cls_configs, tmp_path, capsys):
    # mmengine's own default state dicts ('local'): a folder of per-rank shards (the merge hook,
    # which needs the full state dict, is left out)
    run_dist('dist_train.sh', tiny_cls_configs['m2pt'], '2', '--work-dir', tmp_path, '--strategy',
             'fsdp', '--cfg-options', 'train_cfg.max_epochs=1', 'strategy.state_dict_cfg=local',
             'custom_hooks=[]')
    shards = tmp_path / 'epoch_1.pth'
    assert sorted(p.name for p in shards.iterdir()) == ['rank0.pth', 'rank1.pth']
    with pytest.raises(SystemExit) as err:
        call_tool('test', tiny_cls_configs['m2pt'], shards)
    assert err.value.code == 2
    # (in-process argparse names the program __main__.py)
    assert capsys.readouterr().err.splitlines()[-1].split(': error: ')[1] == (
        f"checkpoint '{shards}' is a folder of per-rank FSDP shards (rank0.pth "
        "... rank1.pth, written with strategy.state_dict_cfg='local'); test.py reads one full "
        'checkpoint without a strategy: train with full state dicts (the default of --strategy '
        "fsdp and fsdp2, or strategy.state_dict_cfg='full')")


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
