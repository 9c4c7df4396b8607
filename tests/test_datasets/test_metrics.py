"""ShapeNetPart class/instance mIoU and PartNet mIoU against hand-computed values."""
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmpretrain.structures import DataSample

import m2pt_mm.evaluation  # noqa: F401  registers


def seg_sample(gt, pred_label=None, pred_score=None):
    sample = DataSample()
    sample.set_field(torch.tensor(gt), 'gt_seg_label')
    if pred_label is not None:
        sample.set_field(torch.tensor(pred_label), 'pred_seg_label')
    if pred_score is not None:
        sample.set_field(pred_score, 'pred_seg_score')
    return sample


def mug_scores():
    """Scores over all 50 parts whose overall argmax is always part 0 (an Airplane part): only the
    restriction to the Mug's parts 36/37 makes the prediction [36, 37, 36, 37]."""
    scores = torch.zeros(4, 50)
    scores[:, 0] = 10
    scores[:, 36] = torch.tensor([1., 1., 3., 0.])
    scores[:, 37] = torch.tensor([0., 2., 1., 1.])
    return scores


def test_shapenetpart_class_and_instance_miou():
    samples = [
        # Bag (parts 4, 5): IoU4 = 1/2, IoU5 = 2/3 → 7/12
        seg_sample([4, 4, 5, 5], pred_label=[4, 5, 5, 5]),
        # Bag, perfect; part 5 absent from prediction and gt counts 1 → 1
        seg_sample([4, 4, 4, 4], pred_label=[4, 4, 4, 4]),
        # Mug (36, 37) from scores: pred [36, 37, 36, 37]; IoU36 = 1/2, IoU37 = 2/3 → 7/12
        seg_sample([36, 37, 37, 37], pred_score=mug_scores()),
    ]
    evaluator = Evaluator(dict(type='ShapeNetPartMIoU', classwise=True))
    evaluator.process(samples)
    metrics = evaluator.evaluate(3)
    assert metrics['part-seg/instance_mIoU'] == pytest.approx(100 * (7 / 12 + 1 + 7 / 12) / 3)
    # Bag: (7/12 + 1) / 2 = 19/24, Mug: 7/12 → (19/24 + 14/24) / 2
    assert metrics['part-seg/class_mIoU'] == pytest.approx(100 * 33 / 48)
    assert metrics['part-seg/Bag_mIoU'] == pytest.approx(100 * 19 / 24)
    assert metrics['part-seg/Mug_mIoU'] == pytest.approx(100 * 7 / 12)
    assert 'part-seg/Chair_mIoU' not in metrics  # categories without shapes are not averaged
    assert metrics['part-seg/accuracy'] == pytest.approx(100 * 10 / 12)


def test_shapenetpart_rejects_inconsistent_samples():
    evaluator = Evaluator(dict(type='ShapeNetPartMIoU'))
    with pytest.raises(ValueError, match=r'a Bag shape has gt part labels \[12\] outside its '
                                         r'parts \[4, 5\]'):
        evaluator.process([seg_sample([4, 12], pred_label=[4, 4])])
    with pytest.raises(ValueError, match='gt part label 50 belongs to no category'):
        evaluator.process([seg_sample([50, 50], pred_label=[4, 4])])
    with pytest.raises(ValueError, match=r'pred_seg_label has 3 points, gt_seg_label 2'):
        evaluator.process([seg_sample([4, 4], pred_label=[4, 4, 4])])
    with pytest.raises(KeyError, match='needs pred_seg_score or pred_seg_label'):
        evaluator.process([seg_sample([4, 4])])


def test_partnet_miou_ignores_other():
    samples = [
        # gt [0, 1, 1, 2], pred [2, 1, 2, 2]: the "other" point is ignored → pred [0, 1, 2, 2];
        # part 1: I 1 / U 2, part 2: I 1 / U 2; shape mIoU 1/2
        seg_sample([0, 1, 1, 2], pred_label=[2, 1, 2, 2]),
        # part 1: I 4 / U 4; part 2 absent from both: not part of this shape's mean
        seg_sample([1, 1, 1, 1], pred_label=[1, 1, 1, 1]),
    ]
    evaluator = Evaluator(dict(type='PartNetMIoU', num_classes=3))
    evaluator.process(samples)
    metrics = evaluator.evaluate(2)
    # part-category IoU over the set: part 1 = 5/6, part 2 = 1/2
    assert metrics['partnet/mIoU'] == pytest.approx(100 * (5 / 6 + 1 / 2) / 2)
    assert metrics['partnet/shape_mIoU'] == pytest.approx(100 * (1 / 2 + 1) / 2)


def test_partnet_predicted_other_counts_against_the_part_and_is_never_scored():
    # gt [1, 1, 2, 0], pred [0, 1, 2, 1]: point 3 ("other") is left out; point 0 is part 1
    # predicted as "other": part 1 I 1 / U 2, part 2 I 1 / U 1
    sample = seg_sample([1, 1, 2, 0], pred_label=[0, 1, 2, 1])
    evaluator = Evaluator(dict(type='PartNetMIoU', num_classes=3))
    evaluator.process([sample])
    assert evaluator.evaluate(1) == {'partnet/mIoU': pytest.approx(100 * 3 / 4),
                                     'partnet/shape_mIoU': pytest.approx(100 * 3 / 4)}
    # without ignore_index every label is scored: 0 I 0 / U 2, 1 I 1 / U 3, 2 I 1 / U 1
    evaluator = Evaluator(dict(type='PartNetMIoU', num_classes=3, ignore_index=None))
    evaluator.process([sample])
    assert evaluator.evaluate(1)['partnet/mIoU'] == pytest.approx(100 * (0 + 1 / 3 + 1) / 3)


def test_partnet_scores_never_predict_other():
    scores = torch.tensor([[9., 1., 0.], [9., 0., 2.], [9., 3., 1.]])  # argmax is always "other"
    evaluator = Evaluator(dict(type='PartNetMIoU'))  # num_classes from the scores' width
    evaluator.process([seg_sample([1, 2, 2], pred_score=scores)])
    # prediction over parts only: [1, 2, 1]; part 1: I 1 / U 2, part 2: I 1 / U 2
    metrics = evaluator.evaluate(1)
    assert metrics['partnet/mIoU'] == pytest.approx(50.0)
    assert metrics['partnet/shape_mIoU'] == pytest.approx(50.0)

    with pytest.raises(ValueError, match='needs num_classes'):
        Evaluator(dict(type='PartNetMIoU')).process([seg_sample([1, 2], pred_label=[1, 2])])
    with pytest.raises(ValueError, match=r'gt part labels must be in \[0, 3\), got 0..5'):
        Evaluator(dict(type='PartNetMIoU', num_classes=3)).process(
            [seg_sample([0, 5], pred_label=[1, 2])])


def test_dataloader_from_config_feeds_the_metrics(tmp_path):
    """The config route: a dataloader built by mmengine's Runner from registered names, whose
    data samples the registered metrics score (perfect predictions → 100)."""
    from mmengine.runner import Runner

    from m2pt_mm.testing.modalities import write_partnet, write_shapenetpart
    info = write_shapenetpart(tmp_path / 'shapenet', categories=('Bag', 'Chair'),
                              per_split=(1, 0, 2))
    pipeline = [dict(type='LoadPointCloud', with_seg_label=True), dict(type='PointNormalize'),
                dict(type='PointSample', num_points=64, method='random', replace=True),
                dict(type='PackInputs', input_key='points', algorithm_keys=('gt_seg_label', ))]
    loader = Runner.build_dataloader(dict(
        batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='ShapeNetPartDataset', **info['val'], pipeline=pipeline)))
    evaluator = Evaluator(dict(type='ShapeNetPartMIoU'))
    batches = list(loader)
    assert [b['inputs'][0].shape for b in batches] == [(64, 3), (64, 3)]
    for batch in batches:
        for sample in batch['data_samples']:
            sample.set_field(sample.gt_seg_label.clone(), 'pred_seg_label')
        evaluator.process(batch['data_samples'], batch)
    assert evaluator.evaluate(4) == {'part-seg/class_mIoU': 100.0,
                                     'part-seg/instance_mIoU': 100.0, 'part-seg/accuracy': 100.0}

    info = write_partnet(tmp_path / 'partnet', num_classes=3, per_split=(1, 1, 3), num_points=32)
    loader = Runner.build_dataloader(dict(
        batch_size=3, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='PartNetDataset', **info['test'], pipeline=[
            dict(type='LoadPointCloud', with_seg_label=True),
            dict(type='PackInputs', input_key='points', algorithm_keys=('gt_seg_label', ))])))
    batch = next(iter(loader))
    scores = [torch.nn.functional.one_hot(s.gt_seg_label, 3).float() for s in batch['data_samples']]
    for sample, score in zip(batch['data_samples'], scores):
        sample.set_field(score, 'pred_seg_score')
    evaluator = Evaluator(dict(type='PartNetMIoU', num_classes=3))
    evaluator.process(batch['data_samples'], batch)
    assert evaluator.evaluate(3) == {'partnet/mIoU': 100.0, 'partnet/shape_mIoU': 100.0}
