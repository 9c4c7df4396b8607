"""OmniVec through the tools (in-process): the tiny chain (masked pretraining → task-grouped
training → fine-tuning, each from the previous checkpoint) with tools/train.py, Omni embeddings
with tools/test.py --dump, and every configs/omnivec/ config builds its model."""
import contextlib
import json
import pickle
from collections import Counter
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

pytest.importorskip('m2pt_mm.models.omnivec')  # the model engineer's OmniVec
pytest.importorskip('tokenizers')  # the text modality's vocabulary

from mmpretrain.registry import MODELS  # noqa: E402

import m2pt_mm.datasets  # noqa: E402,F401
import m2pt_mm.engine  # noqa: E402,F401  safe-globals allow-list for reading checkpoints
import m2pt_mm.evaluation  # noqa: E402,F401
import m2pt_mm.models  # noqa: E402,F401
from tests.helpers import ROOT, call_tool  # noqa: E402

CONFIGS = ROOT / 'configs' / 'omnivec'
PRETRAIN = CONFIGS / 'omnivec-mae_vit-tiny-p8_1xb10-2e_tiny-multimodal.py'
GROUPED = CONFIGS / 'omnivec-4_vit-tiny-p8_omnivec-mae-pre_1xb10-tg-4e_tiny-multimodal.py'
FINETUNE = CONFIGS / 'omnivec_vit-tiny-p8_omnivec-4-pre_1xb16-2e_digits-32x32.py'
# a few iterations per run: 2 batches per epoch
SHORT = ['train_dataloader.sampler.batches_per_epoch=2', 'default_hooks.logger.interval=1']


def tool(cwd: Path, name: str, *args: str):
    """Run ``tools/<name>.py`` in ``cwd`` (where the configs' relative data paths point)."""
    with contextlib.chdir(cwd):
        return call_tool(name, *args)


def state(path: Path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


@pytest.fixture(scope='module')
def chain(tmp_path_factory):
    """The three stages, each from the previous checkpoint, in a folder holding the tiny data."""
    from m2pt_mm.testing.omnivec import write_omnivec_tiny
    cwd = tmp_path_factory.mktemp('omnivec_chain')
    write_omnivec_tiny(cwd / 'data' / 'omnivec-tiny')
    work = cwd / 'work_dirs'
    tool(cwd, 'train', str(PRETRAIN), '--work-dir', str(work / 'pretrain'),
         '--cfg-options', 'train_cfg.max_epochs=1', *SHORT)
    tool(cwd, 'train', str(GROUPED), '--work-dir', str(work / 'grouped'),
         '--no-validate', '--cfg-options', 'train_cfg.max_epochs=2',
         f'load_from={work / "pretrain" / "epoch_1.pth"}', *SHORT)
    tool(cwd, 'train', str(FINETUNE), '--work-dir', str(work / 'finetune'),
         '--no-validate', '--cfg-options', 'train_cfg.max_epochs=1',
         f'load_from={work / "grouped" / "epoch_2.pth"}', *SHORT)
    return dict(cwd=cwd, work=work)


def test_masked_pretraining_trains_every_modality_through_one_trunk(chain):
    log = next((chain['work'] / 'pretrain').rglob('vis_data/scalars.json')).read_text()
    first = json.loads(log.splitlines()[0])
    for task in ('image_mae', 'audio_mae', 'video_mae', 'point_mae', 'text_mlm'):
        assert f'{task}.loss' in first
    pretrained = state(chain['work'] / 'pretrain' / 'epoch_1.pth')
    assert {k.split('.')[1] for k in pretrained if k.startswith('encoders.')} == {
        'image', 'audio', 'video', 'point', 'text'}
    assert {int(k.split('.')[2]) for k in pretrained if k.startswith('trunk.layers.')} == {
        0, 1, 2, 3}  # one trunk for all


def test_task_grouped_stage_starts_from_the_pretrained_trunk_and_alternates(chain):
    work = chain['work'] / 'grouped'
    log = next(work.rglob('*.log')).read_text()
    assert "Epoch 1/2: task group 'simple'" in log and "Epoch 2/2: task group 'dense'" in log
    scalars = [json.loads(line) for line in next(work.rglob('vis_data/scalars.json')).read_text()
               .splitlines()]
    assert [s['task_group'] for s in scalars if 'task_group' in s] == [0, 0, 1, 1]
    # modality mixing in both groups (Table 7's): five modalities per simple batch, image,
    # video and points in every dense one
    assert [s['modalities'] for s in scalars if 'modalities' in s] == [5, 5, 3, 3]
    dense = [line for line in log.splitlines() if 'Epoch(train) [2]' in line]
    assert len(dense) == 2 and all('task_group: 1  modalities: 3' in line for line in dense)
    # a dense epoch's lines name its own tasks' losses only, not the simple group's last ones
    assert all('places365_cls.loss' in line and 'digits_cls.loss' not in line for line in dense)
    # load_from: the pretrained trunk, not a fresh one (the checkpoint check named the new heads)
    assert 'CheckpointCheckHook' in log and 'heads.digits_cls.fc.weight' in log


def test_fine_tuning_starts_from_the_grouped_network(chain):
    grouped = state(chain['work'] / 'grouped' / 'epoch_2.pth')
    tuned = state(chain['work'] / 'finetune' / 'epoch_1.pth')
    assert {k.split('.')[1] for k in tuned if k.startswith('encoders.')} == {'image'}
    # every fine-tuned parameter exists in the grouped checkpoint with the same shape
    assert all(k in grouped and grouped[k].shape == v.shape for k, v in tuned.items())
    # the loaded head kept training: close to, but not equal to, its grouped value
    key = 'heads.digits_cls.fc.weight'
    assert not torch.equal(grouped[key], tuned[key])
    assert (grouped[key] - tuned[key]).abs().max() < 0.1


def test_test_dump_writes_an_omni_embedding_per_sample_and_each_task_is_scored(chain):
    out, metrics = chain['cwd'] / 'embeddings.pkl', chain['cwd'] / 'metrics.json'
    tool(chain['cwd'], 'test', str(GROUPED),
         str(chain['work'] / 'grouped' / 'epoch_2.pth'), '--work-dir',
         str(chain['work'] / 'test'), '--dump', str(out), '--metrics-out', str(metrics),
         '--cfg-options', 'test_dataloader.dataset.sources.digits.dataset.indices=40')
    with open(out, 'rb') as f:
        dumped = pickle.load(f)
    counts = Counter((s['modality'], s['task']) for s in dumped)
    assert counts == {('image', 'digits_cls'): 40, ('audio', 'esc50_cls'): 3,
                      ('video', 'kinetics_cls'): 2, ('point', 'modelnet_cls'): 3,
                      ('text', 'text_cls'): 8, ('image', 'places365_cls'): 6,
                      ('video', 'mit_cls'): 2, ('point', 's3dis_seg'): 2}
    assert all(s['omni_embedding'].shape == (64, ) for s in dumped)
    assert all(torch.isfinite(s['omni_embedding']).all() for s in dumped)
    # different inputs, different embeddings
    assert not torch.allclose(dumped[0]['omni_embedding'], dumped[1]['omni_embedding'])
    scores = json.loads(metrics.read_text())
    assert {'digits_cls/accuracy/top1', 'esc50_cls/accuracy/top1', 'kinetics_cls/accuracy/top1',
            'modelnet_cls/accuracy/top1', 'text_cls/accuracy/top1',
            'places365_cls/accuracy/top1', 'mit_cls/accuracy/top1',
            's3dis_seg/s3dis/mIoU'} <= set(scores)


def test_test_refuses_another_stages_checkpoint_before_dumping(chain):
    """The configs load relaxed (each stage starts from another stage's heads), but evaluation is
    strict: the pretraining checkpoint has none of the grouped stage's heads, which would be
    scored with their random initial values."""
    from m2pt_mm.engine.hooks import CheckpointMismatchError
    out = chain['cwd'] / 'wrong_stage.pkl'
    with pytest.raises(CheckpointMismatchError, match=r'epoch_1.pth does not fit the model: it '
                       r"has no \['heads.'\] keys at all"):
        tool(chain['cwd'], 'test', str(GROUPED), str(chain['work'] / 'pretrain' / 'epoch_1.pth'),
             '--work-dir', str(chain['work'] / 'test_wrong'), '--dump', str(out))
    assert not out.exists()


@pytest.fixture
def damaged_copy(chain, tmp_path):
    """A copy of the chain's data folder (the configs read ``data/omnivec-tiny`` from the cwd)."""
    import shutil
    shutil.copytree(chain['cwd'] / 'data', tmp_path / 'data')
    return tmp_path


@pytest.mark.parametrize('damage, error, message', [
    ('digits/val/3/00023.png', FileNotFoundError,
     r'CustomDataset meta/val.txt: 1 of \d+ image\(s\) cannot be read, e.g. .*00023.png '
     r'\(missing\)'),
    ('modelnet40/modelnet40_test.txt', ValueError,
     r"val_dataloader source 'modelnet': ModelNetDataset lists no sample")])
def test_train_refuses_a_damaged_source_before_the_first_iteration(damaged_copy, damage, error,
                                                                   message):
    # before: the missing image failed at iteration ~140 of 150, the empty list with mmengine's
    # "need at least one array to concatenate"
    path = damaged_copy / 'data' / 'omnivec-tiny' / damage
    if path.suffix == '.txt':
        path.write_text('')
    else:
        path.unlink()
    with pytest.raises(error, match=message):
        tool(damaged_copy, 'train', str(GROUPED), '--work-dir', str(damaged_copy / 'work'))
    assert not (damaged_copy / 'work').exists() or not list((damaged_copy / 'work').rglob('*.pth'))


def test_train_refuses_a_source_whose_task_has_no_head(damaged_copy):
    # before: the first batch of that task failed, maybe hours in
    with pytest.raises(KeyError, match=r"train_dataloader: source\(s\) \['s3dis'\] have "
                       r"task\(s\) \['part_seg'\] without a head in model.heads"):
        tool(damaged_copy, 'train', str(GROUPED), '--work-dir', str(damaged_copy / 'work'),
             '--cfg-options', 'train_dataloader.dataset.sources.s3dis.task=part_seg')


@pytest.mark.parametrize('variant, grouping, mixing', [
    (1, False, False), (2, True, False), (3, False, True), (4, True, True)])
def test_table8_ablation_configs_switch_task_grouping_and_modality_mixing(variant, grouping,
                                                                          mixing):
    path, = CONFIGS.glob(f'omnivec-{variant}_vit-base-p16_*.py')
    cfg = Config.fromfile(str(path))
    assert (cfg.train_cfg.type == 'TaskGroupEpochBasedTrainLoop') == grouping
    assert (cfg.train_dataloader.sampler.get('mode', 'mixed') == 'mixed') == mixing
    assert cfg.train_cfg.max_epochs == 900  # paper §4: E = 900
    if grouping:
        assert cfg.train_cfg.epochs_per_group == (2, 2)  # paper §4: 2 and 2
    groups = {s['task_group'] for s in cfg.train_dataloader.dataset.sources.values()}
    assert groups == {'simple', 'dense'}


def _is_full_size(cfg: Config) -> bool:
    return cfg.model.trunk.get('arch') == 'base' or \
        cfg.model.trunk.get('arch', {}).get('embed_dims', 0) > 64


def config_params():
    params = []
    for path in sorted(CONFIGS.glob('*.py')):
        marks = [pytest.mark.slow] if _is_full_size(Config.fromfile(str(path))) else []
        params.append(pytest.param(path, marks=marks, id=path.name))
    return params


@pytest.mark.parametrize('path', config_params())
def test_every_omnivec_config_builds(path):
    cfg = Config.fromfile(str(path))
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        model = MODELS.build(cfg.model)
    assert sorted(model.heads) == sorted(cfg.model.heads)
    tasks = {s['task'] for s in cfg.train_dataloader.dataset.sources.values()}
    assert tasks <= set(model.heads), \
        f'sources name tasks without a head: {tasks - set(model.heads)}'
