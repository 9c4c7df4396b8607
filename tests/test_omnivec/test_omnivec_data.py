"""OmniVec data: the multi-source dataset's tags, the modality-mixing sampler (proportions,
determinism, resume, ranks, one-source mode, task groups), the collate, the task-grouping loop
through a real mmengine Runner, and the text and RGB-D sets."""
import json
from collections import Counter

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS
from mmpretrain.structures import DataSample
from torch import nn
from torch.testing import assert_close

import m2pt_mm.engine  # noqa: F401  the loop
import m2pt_mm.evaluation  # noqa: F401  TaskMetric
from m2pt_mm.datasets import (
    ModalityMixingSampler,
    MultiSourceDataset,
    apportion,
    omnivec_collate,
)
from m2pt_mm.engine import group_schedule
from m2pt_mm.models import OmniVecDataPreprocessor
from m2pt_mm.testing.modalities import write_modelnet40, write_rgbd, write_shapenetpart
from m2pt_mm.testing.text import TEXT_CLASSES, write_text_cls
from m2pt_mm.testing.tiny import write_image_folder

IMAGE_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
POINT_PIPELINE = [dict(type='LoadPointCloud'), dict(type='PackInputs', input_key='points')]
SEG_PIPELINE = [dict(type='LoadPointCloud', with_seg_label=True),
                dict(type='PackInputs', input_key='points', algorithm_keys=('gt_seg_label', ))]


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    root = tmp_path_factory.mktemp('omnivec_data')
    return dict(stripes=write_image_folder(root / 'stripes'),  # 16 train images
                modelnet=write_modelnet40(root / 'modelnet40', per_class=(3, 1)),  # 9 train
                shapenet=write_shapenetpart(root / 'shapenetpart'),  # 9 trainval
                text=write_text_cls(root / 'text'))


def source_cfgs(roots):
    """Three real datasets: images and points (simple), part segmentation (dense)."""
    return dict(
        stripes=dict(dataset=dict(type='CustomDataset', data_root=str(roots['stripes']),
                                  data_prefix='train', pipeline=IMAGE_PIPELINE),
                     modality='image', task='stripes_cls', task_group='simple'),
        modelnet=dict(dataset=dict(type='ModelNetDataset', **roots['modelnet']['train'],
                                   pipeline=POINT_PIPELINE),
                      modality='point', task='modelnet_cls', task_group='simple'),
        shapenet=dict(dataset=dict(type='ShapeNetPartDataset', **roots['shapenet']['train'],
                                   pipeline=SEG_PIPELINE),
                      modality='point', task='shapenetpart_seg', task_group='dense'))


@pytest.fixture(scope='module')
def dataset(roots):
    return MultiSourceDataset(source_cfgs(roots))


def source_of(dataset, idx):
    return dataset.source_names[dataset.source_index(idx)]


def counts_per_batch(dataset, batches):
    return [Counter(source_of(dataset, i) for i in batch) for batch in batches]


def batches_of(sampler):
    """The index stream of one ``iter(sampler)`` cut into batches, as the DataLoader does."""
    flat = list(sampler)
    return [flat[i:i + sampler.batch_size] for i in range(0, len(flat), sampler.batch_size)]


# ------------------------------------------------------------------------------ dataset


def test_multi_source_dataset_tags_each_sample_and_keeps_the_source_sample(dataset, roots):
    assert dataset.source_names == ['stripes', 'modelnet', 'shapenet']
    assert dataset.source_sizes() == [16, 9, 9] and len(dataset) == 34
    plain = DATASETS.build(source_cfgs(roots)['modelnet']['dataset'])
    sample = dataset[16 + 4]  # the 5th ModelNet shape
    assert sample['data_samples'].metainfo['modality'] == 'point'
    assert sample['data_samples'].task == 'modelnet_cls'
    assert sample['data_samples'].task_group == 'simple'
    assert sample['data_samples'].source == 'modelnet'
    assert_close(sample['inputs'], plain[4]['inputs'])
    assert sample['data_samples'].gt_label.tolist() == plain[4]['data_samples'].gt_label.tolist()
    seg = dataset[len(dataset) - 1]['data_samples']
    assert (seg.modality, seg.task_group, seg.source) == ('point', 'dense', 'shapenet')
    assert 'gt_seg_label' in seg
    assert dataset.get_data_info(0)['modality'] == 'image'
    meta = dataset.metainfo['sources']
    assert meta['stripes']['task'] == 'stripes_cls'
    assert meta['stripes']['metainfo']['classes'] == ('horizontal', 'vertical')


def test_a_single_source_exposes_its_own_metainfo(roots):
    ds = MultiSourceDataset(dict(stripes=source_cfgs(roots)['stripes']))
    assert ds.metainfo['classes'] == ('horizontal', 'vertical')


@pytest.mark.parametrize('change, error, match', [
    (dict(modality=None), ValueError, "sources\\['stripes'\\] has no modality tag"),
    (dict(modality='smell'), ValueError, "unknown modality 'smell'"),
    (dict(task=''), ValueError, 'has no task name'),
    (dict(task_group='medium'), ValueError, "task_group must be one of .* got 'medium'"),
    (dict(heads='x'), KeyError, "unknown keys \\['heads'\\]"),
])
def test_multi_source_dataset_refuses_bad_tags(roots, change, error, match):
    cfgs = source_cfgs(roots)
    cfgs['stripes'] = {k: v for k, v in dict(cfgs['stripes'], **change).items() if v is not None}
    with pytest.raises(error, match=match):
        MultiSourceDataset(cfgs)


def test_a_source_whose_pipeline_does_not_pack_is_refused_by_name(roots):
    cfg = source_cfgs(roots)['stripes']
    cfg['dataset']['pipeline'] = [dict(type='LoadImageFromFile')]
    with pytest.raises(TypeError, match="source 'stripes', sample 0: expected the output of "
                                        'PackInputs'):
        MultiSourceDataset(dict(stripes=cfg))[0]


# ------------------------------------------------------------------------------ collate


def test_collate_groups_by_modality_in_sorted_order_keeping_draw_order(dataset):
    order = [20, 0, 30, 3, 17]  # point, image, point (seg), image, point
    batch = omnivec_collate([dataset[i] for i in order])
    assert list(batch) == ['inputs', 'data_samples']
    assert list(batch['inputs']) == ['image', 'point']
    assert [ds.source for ds in batch['data_samples']['point']] == ['modelnet', 'shapenet',
                                                                   'modelnet']
    assert [ds.sample_idx for ds in batch['data_samples']['image']] == [0, 3]
    assert [ds.sample_idx for ds in batch['data_samples']['point']] == [4, 5, 1]
    assert_close(batch['inputs']['image'][1], dataset[3]['inputs'])
    assert all(isinstance(t, torch.Tensor) for t in batch['inputs']['point'])


def test_collate_refuses_a_sample_without_modality():
    sample = dict(inputs=torch.zeros(3), data_samples=DataSample())
    with pytest.raises(ValueError, match='sample 0 of the batch has no modality'):
        omnivec_collate([sample])


def test_data_preprocessor_runs_each_group_through_its_own_preprocessor(dataset):
    batch = omnivec_collate([dataset[i] for i in (0, 20, 3, 17)])
    pre = OmniVecDataPreprocessor(preprocessors=dict(image=dict(
        type='ClsDataPreprocessor', mean=[100.] * 3, std=[50.] * 3)))
    out = pre(batch)
    assert list(out['inputs']) == ['image', 'point']
    images = torch.stack([dataset[i]['inputs'] for i in (0, 3)]).float()
    assert_close(out['inputs']['image'], (images - 100.) / 50.)
    # no preprocessor for points: stacked as they are
    assert_close(out['inputs']['point'], torch.stack([dataset[i]['inputs'] for i in (20, 17)]))
    assert [ds.sample_idx for ds in out['data_samples']['point']] == [4, 1]


def test_data_preprocessor_refuses_unstackable_groups_and_other_batches(dataset):
    batch = omnivec_collate([dataset[i] for i in (20, 30)])  # 300 and ~300 points
    batch['inputs']['point'][1] = batch['inputs']['point'][1][:10]
    with pytest.raises(ValueError, match='point inputs of different shapes'):
        OmniVecDataPreprocessor()(batch)
    with pytest.raises(TypeError, match=r'expects dict\(inputs=\{modality'):
        OmniVecDataPreprocessor()(dict(inputs=[torch.zeros(3)], data_samples=[DataSample()]))


# ------------------------------------------------------------------------------ sampler


def test_apportion_is_largest_remainder_with_carried_remainders():
    assert apportion([1, 3], 8, 3).tolist() == [[2, 6]] * 3
    assert apportion([1, 1, 1], 4, 3).tolist() == [[2, 1, 1], [1, 2, 1], [1, 1, 2]]
    # 5 sources, 4 places: no source is starved, each gets 4 places in 5 rounds
    counts = apportion([1] * 5, 4, 5)
    assert counts.sum(1).tolist() == [4] * 5 and counts.sum(0).tolist() == [4] * 5
    assert apportion([0.5, 0.25, 0.25], 1, 8).sum(0).tolist() == [4, 2, 2]


def test_sampler_mixes_exact_counts_per_batch_over_many_batches(dataset):
    sampler = ModalityMixingSampler(dataset, batch_size=8, seed=0, batches_per_epoch=100,
                                    proportions=dict(stripes=1, modelnet=3))
    batches = batches_of(sampler)
    assert len(batches) == 100 and len(sampler) == 800
    assert all(c == Counter(stripes=2, modelnet=6) for c in counts_per_batch(dataset, batches))
    # each source is read through its permutations: 200 stripes draws = 12 x 16 + 8
    per_image = Counter(i for b in batches for i in b if i < 16)
    assert sorted(set(per_image.values())) == [12, 13] and sum(per_image.values()) == 200


def test_sampler_with_equal_proportions_rotates_the_remainder(dataset):
    sampler = ModalityMixingSampler(dataset, batch_size=4, seed=0, batches_per_epoch=30)
    counts = counts_per_batch(dataset, batches_of(sampler))
    assert counts[:3] == [Counter(stripes=2, modelnet=1, shapenet=1),
                          Counter(stripes=1, modelnet=2, shapenet=1),
                          Counter(stripes=1, modelnet=1, shapenet=2)]
    assert sum(counts, Counter()) == Counter(stripes=40, modelnet=40, shapenet=40)


def test_sampler_default_epoch_covers_the_active_sources(dataset):
    sampler = ModalityMixingSampler(dataset, batch_size=4, seed=0)
    assert sampler.num_batches() == 9  # ceil(34 / 4)
    sampler.set_groups('dense')
    assert sampler.num_batches() == 3 and len(sampler) == 12  # ceil(9 / 4) batches
    assert {source_of(dataset, i) for i in sampler} == {'shapenet'}


def test_sampler_is_deterministic_per_seed_and_epoch(dataset):
    def draw(seed, epoch):
        sampler = ModalityMixingSampler(dataset, batch_size=4, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)
    assert draw(0, 3) == draw(0, 3)
    assert draw(0, 3) != draw(1, 3)
    assert draw(0, 3) != draw(0, 4)


def test_sampler_resumed_at_epoch_and_iteration_yields_the_rest_of_the_sequence(dataset):
    first = ModalityMixingSampler(dataset, batch_size=4, seed=7, proportions=dict(
        stripes=2, modelnet=1, shapenet=1))
    first.set_epoch(2)
    sequence = batches_of(first)
    resumed = ModalityMixingSampler(dataset, batch_size=4, seed=7, proportions=dict(
        stripes=2, modelnet=1, shapenet=1))
    resumed.set_epoch(2)
    resumed.set_start_iter(5)
    assert batches_of(resumed) == sequence[5:]
    assert batches_of(resumed) == sequence  # the offset applies to one iteration only
    with pytest.raises(ValueError, match='start_iter must be in'):
        resumed.set_start_iter(len(sequence) + 1)


def test_distributed_ranks_draw_different_disjoint_batches_with_the_same_counts(dataset):
    kwargs = dict(batch_size=4, seed=0, batches_per_epoch=2, proportions=dict(stripes=1,
                                                                             modelnet=1))
    ranks = [batches_of(ModalityMixingSampler(dataset, num_replicas=2, rank=r, **kwargs))
             for r in (0, 1)]
    assert ranks[0] != ranks[1]
    assert counts_per_batch(dataset, ranks[0]) == counts_per_batch(dataset, ranks[1])
    # 4 draws of 16 images per rank: disjoint, and together one world-size-1 stream interleaved
    images = [[i for b in batches for i in b if i < 16] for batches in ranks]
    assert not set(images[0]) & set(images[1])
    single = ModalityMixingSampler(dataset, batch_size=8, seed=0, batches_per_epoch=2,
                                   proportions=dict(stripes=1, modelnet=1))
    single_images = [i for b in batches_of(single) for i in b if i < 16]
    assert single_images == [i for pair in zip(*images) for i in pair]


def test_one_source_mode_draws_each_batch_from_one_source_by_proportion(dataset):
    def draw(rank):
        sampler = ModalityMixingSampler(dataset, batch_size=3, seed=0, mode='one_source',
                                        batches_per_epoch=8, num_replicas=2, rank=rank,
                                        proportions=dict(stripes=2, modelnet=1, shapenet=1))
        return batches_of(sampler)
    batches = draw(0)
    sources = [set(c) for c in counts_per_batch(dataset, batches)]
    assert all(len(s) == 1 for s in sources)
    assert Counter(s.pop() for s in sources) == Counter(stripes=4, modelnet=2, shapenet=2)
    # all ranks train one source per step (the global batch is single-source), on other samples
    other = draw(1)
    assert [c.keys() for c in counts_per_batch(dataset, other)] == \
        [c.keys() for c in counts_per_batch(dataset, batches)]
    assert other != batches


def test_groups_filter_the_sources(dataset):
    sampler = ModalityMixingSampler(dataset, batch_size=4, seed=0, groups=['simple'])
    assert {source_of(dataset, i) for i in sampler} == {'stripes', 'modelnet'}
    with pytest.raises(ValueError, match="subset of \\('simple', 'dense', 'pretrain'\\)"):
        sampler.set_groups(['simpel'])
    with pytest.raises(ValueError, match="no source with a positive proportion is in task "
                                         "group\\(s\\) \\['pretrain'\\]"):
        sampler.set_groups('pretrain')
    with pytest.raises(ValueError, match="task group\\(s\\) \\['dense'\\]"):
        ModalityMixingSampler(dataset, batch_size=4, groups='dense',
                              proportions=dict(stripes=1, modelnet=1))


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(proportions=dict(stripes=1, tones=2)), KeyError, "unknown source\\(s\\) \\['tones'\\]"),
    (dict(proportions=dict(stripes=0, modelnet=0)), ValueError, 'sum to a positive number'),
    (dict(proportions=dict(stripes=-1, modelnet=2)), ValueError, 'finite and >= 0'),
    (dict(mode='per_modality'), ValueError, "mode must be one of \\('mixed', 'one_source'\\)"),
    (dict(batch_size=0), ValueError, 'batch_size must be a positive int'),
])
def test_sampler_refuses_bad_arguments(dataset, kwargs, error, match):
    with pytest.raises(error, match=match):
        ModalityMixingSampler(dataset, **dict(dict(batch_size=4, seed=0), **kwargs))


def test_sampler_needs_a_multi_source_dataset(roots):
    plain = DATASETS.build(source_cfgs(roots)['stripes']['dataset'])
    with pytest.raises(TypeError, match='needs a MultiSourceDataset'):
        ModalityMixingSampler(plain, batch_size=4)


# ------------------------------------------------------------------------------ task grouping


def test_group_schedule_alternates_v1_simple_and_v2_dense_epochs():
    assert group_schedule(('simple', 'dense'), (2, 1), 7) == [
        'simple', 'simple', 'dense', 'simple', 'simple', 'dense', 'simple']
    assert group_schedule(('simple', 'dense'), (2, 2), 5) == [
        'simple', 'simple', 'dense', 'dense', 'simple']


class TinyMixedModel(BaseModel):
    """A real module that consumes the interface batch: a linear encoder per modality, one
    shared linear trunk; it records which samples each training batch held."""

    def __init__(self) -> None:
        super().__init__()
        self.encoders = nn.ModuleDict(dict(image=nn.Linear(3, 4), point=nn.Linear(3, 4)))
        self.trunk = nn.Linear(4, 4)
        self.seen = []

    def forward(self, inputs, data_samples, mode='loss'):
        self.seen.append([(ds.source, ds.task_group, ds.sample_idx)
                          for modality in data_samples for ds in data_samples[modality]])
        loss = 0
        for modality, batch in inputs.items():
            x = torch.stack([t.float().flatten(1).mean(1) if modality == 'image'
                             else t.float().mean(0) for t in batch])
            loss = loss + self.trunk(self.encoders[modality](x)).pow(2).mean()
        return dict(loss=loss)


def make_runner(roots, work_dir, max_epochs=5, resume=None, checkpoint_every=None):
    batch_size = 4
    default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
    if checkpoint_every:
        default_hooks['checkpoint'] = dict(type='CheckpointHook', interval=checkpoint_every,
                                           by_epoch=False)
    return Runner(
        model=TinyMixedModel(), work_dir=str(work_dir), default_scope='mmpretrain',
        train_dataloader=dict(
            batch_size=batch_size, num_workers=0, collate_fn=dict(type='omnivec_collate'),
            sampler=dict(type='ModalityMixingSampler', batch_size=batch_size),
            dataset=dict(type='MultiSourceDataset', sources=source_cfgs(roots))),
        train_cfg=dict(type='TaskGroupEpochBasedTrainLoop', max_epochs=max_epochs,
                       groups=('simple', 'dense'), epochs_per_group=(2, 1)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=default_hooks, randomness=dict(seed=3),
        visualizer=dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')]),
        resume=resume is not None, load_from=resume)


def test_task_grouping_loop_alternates_groups_logs_them_and_resumes_mid_epoch(roots, tmp_path):
    runner = make_runner(roots, tmp_path / 'run', checkpoint_every=2)
    loop = runner.train_loop
    assert loop.epoch_lengths == dict(simple=7, dense=3)  # ceil(25 / 4), ceil(9 / 4)
    assert loop.max_iters == 7 + 7 + 3 + 7 + 7
    runner.train()
    seen = runner.model.seen
    assert len(seen) == loop.max_iters == runner.iter
    groups_per_batch = [{g for _, g, _ in batch} for batch in seen]
    expected = [{group} for group in group_schedule(('simple', 'dense'), (2, 1), 5)
                for _ in range(loop.epoch_lengths[group])]
    assert groups_per_batch == expected
    # the active group reaches the log scalars (and so the visualiser's backends)
    scalars = [json.loads(line) for line in
               next((tmp_path / 'run').rglob('vis_data/scalars.json')).read_text().splitlines()]
    assert [s['task_group'] for s in scalars if 'task_group' in s] == \
        [0.0 if g == {'simple'} else 1.0 for g in expected]
    assert runner.message_hub.get_info('task_group') == 'simple'

    # resume from iteration 16: epoch 2 (dense, 0-based) has run 2 of its 3 batches
    resumed = make_runner(roots, tmp_path / 'resumed', resume=str(tmp_path / 'run' /
                                                                  'iter_16.pth'))
    resumed.train()
    assert resumed.model.seen == seen[16:]


def test_task_grouping_loop_refuses_a_batch_size_other_than_the_samplers(roots, tmp_path):
    runner = make_runner(roots, tmp_path)
    runner._train_dataloader['sampler']['batch_size'] = 8
    with pytest.raises(ValueError, match='train_dataloader.batch_size=4 but the '
                                         'ModalityMixingSampler has batch_size=8'):
        runner.train_loop  # noqa: B018  the loop is built on first access


def test_task_metric_scores_each_task_on_its_own_samples(dataset):
    from mmengine.evaluator import Evaluator
    evaluator = Evaluator([
        dict(type='TaskMetric', task='stripes_cls', metric=dict(type='Accuracy')),
        dict(type='TaskMetric', task='modelnet_cls', metric=dict(type='Accuracy')),
    ])
    evaluator.dataset_meta = dataset.metainfo
    assert evaluator.metrics[0].metric.dataset_meta['classes'] == ('horizontal', 'vertical')
    predicted = []
    for i, pred in ((0, 0), (1, 1), (16, 7), (17, 0), (18, 0), (30, None)):
        sample = dataset[i]['data_samples']
        if pred is not None:  # the segmentation sample has no class prediction
            sample.set_pred_label(pred)
        predicted.append(sample)
    evaluator.process(predicted)
    # stripes 0, 1: labels 0 (horizontal) -> 1 of 2 right; ModelNet: 3 shapes of class 0
    metrics = evaluator.evaluate(6)
    assert sorted(metrics) == ['modelnet_cls/accuracy/top1', 'stripes_cls/accuracy/top1']
    assert metrics['stripes_cls/accuracy/top1'] == 50.0
    assert metrics['modelnet_cls/accuracy/top1'] == pytest.approx(200 / 3)
    with pytest.raises(ValueError, match="no sample of task 'stripes_cls' was evaluated"):
        evaluator.evaluate(6)


# ------------------------------------------------------------------------------ text, RGB-D


def test_text_set_is_glue_tsv_with_labels_and_a_corpus(roots):
    info = roots['text']
    ds = DATASETS.build(dict(type='TextClsDataset', **info['train']))
    assert len(ds) == 8 * len(TEXT_CLASSES) and ds.CLASSES == TEXT_CLASSES
    assert [ds.get_data_info(i)['gt_label'] for i in range(len(ds))] == info['labels']['train']
    with open(ds.ann_file) as f:
        assert f.readline() == 'sentence\tlabel\n'
    corpus = DATASETS.build(dict(type='TextClsDataset', data_root=info['train']['data_root'],
                                 ann_file='corpus.txt'))
    assert len(corpus) == 10 * len(TEXT_CLASSES) and 'gt_label' not in corpus.get_data_info(0)
    assert corpus.get_data_info(0)['text'] == ds.get_data_info(0)['text']


def test_text_dataset_refuses_bad_files(tmp_path):
    (tmp_path / 'a.tsv').write_text('text\tlabel\nhello\t0\n')
    with pytest.raises(ValueError, match="no column\\(s\\) \\['sentence'\\] in the header"):
        DATASETS.build(dict(type='TextClsDataset', data_root=str(tmp_path), ann_file='a.tsv'))
    (tmp_path / 'b.tsv').write_text('sentence\tlabel\nhello\tpositive\n')
    with pytest.raises(ValueError, match="b.tsv:2: label 'positive' is not an integer"):
        DATASETS.build(dict(type='TextClsDataset', data_root=str(tmp_path), ann_file='b.tsv'))
    (tmp_path / 'c.tsv').write_text('sentence\tlabel\nhello\t2\n')
    with pytest.raises(ValueError, match='c.tsv:2: label 2 is out of range'):
        DATASETS.build(dict(type='TextClsDataset', data_root=str(tmp_path), ann_file='c.tsv',
                            classes=('a', 'b')))
    (tmp_path / 'd.json').write_text('{}')
    with pytest.raises(ValueError, match="expected a GLUE-style .tsv or a one-text-per-line "
                                         ".txt, got '.json'"):
        DATASETS.build(dict(type='TextClsDataset', data_root=str(tmp_path), ann_file='d.json'))


@pytest.mark.parametrize('encoding', ['mm', 'sunrgbd'])
def test_rgbd_dataset_reads_rgb_and_depth_in_metres_as_four_channels(tmp_path, encoding):
    info = write_rgbd(tmp_path, depth_encoding=encoding)
    ds = DATASETS.build(dict(type='DepthImageDataset', **info['train'], pipeline=[
        dict(type='LoadRGBDFromFile', depth_encoding=encoding), dict(type='PackInputs')]))
    assert len(ds) == 4
    sample = ds[2]
    assert sample['inputs'].shape == (4, 24, 32) and sample['data_samples'].gt_label.item() == 1
    assert_close(sample['inputs'][3],
                 torch.from_numpy(info['depth_mm']['train'][2] / 1000.0).float())


def test_rgbd_refuses_a_depth_map_of_another_size(tmp_path):
    from PIL import Image
    info = write_rgbd(tmp_path)
    Image.fromarray(torch.zeros(8, 8, dtype=torch.int32).numpy().astype('uint16')).save(
        tmp_path / 'depth' / 'train_0.png')
    ds = DATASETS.build(dict(type='DepthImageDataset', **info['train'],
                             pipeline=[dict(type='LoadRGBDFromFile')]))
    with pytest.raises(ValueError, match='train_0.png is 8x8 but .*train_0.png is 32x24'):
        ds[0]
