"""Table 7's dense group as the paper has it: Places-365, Moments in Time and S3DIS read from
tiny sets in their releases' layouts, S3DIS scored by mIoU over its classes, and dense batches of
the tiny stage 2 that mix several modalities."""
import contextlib
from collections import Counter

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS

import m2pt_mm.datasets  # noqa: F401
import m2pt_mm.evaluation  # noqa: F401
from m2pt_mm.datasets import (
    S3DIS_CLASSES,
    LoadS3DISRoom,
    ModalityMixingSampler,
    MomentsInTimeDataset,
    Places365Dataset,
    S3DISDataset,
)
from m2pt_mm.testing.omnivec import write_moments, write_places365, write_s3dis
from tests.helpers import ROOT

STAGE2 = ROOT / 'configs/omnivec/omnivec-4_vit-tiny-p8_omnivec-mae-pre_1xb10-tg-4e_tiny-' \
                'multimodal.py'


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    cwd = tmp_path_factory.mktemp('table7')
    root = cwd / 'data' / 'omnivec-tiny'  # where the tiny configs read them
    return dict(places=write_places365(root / 'places365'),
                moments=write_moments(root / 'moments'), s3dis=write_s3dis(root / 's3dis'),
                root=root, cwd=cwd)


def test_places365_reads_the_release_lists(data):
    info = data['places']
    train, val = Places365Dataset(**info['train']), Places365Dataset(**info['val'])
    assert [train.get_gt_labels().tolist(), val.get_gt_labels().tolist()] == [
        info['labels']['train'], info['labels']['val']]
    assert train.CLASSES == ('scene_0', 'scene_1', 'scene_2')  # from categories_places365.txt
    root = info['train']['data_root']
    assert train.get_data_info(0)['img_path'] == f'{root}/data_256/a/scene_0/00000001.jpg'
    assert val.get_data_info(0)['img_path'] == f'{root}/val_256/Places365_val_00000001.jpg'


def test_places365_refuses_a_bad_line_and_the_wrong_layout(data, tmp_path):
    bad = tmp_path / 'places'
    bad.mkdir()
    (bad / 'places365_val.txt').write_text('Places365_val_00000001.jpg 1\nval_2.jpg airfield\n')
    with pytest.raises(ValueError, match=r'places365_val.txt:2: expected "<image path> <int '
                       r'label>", got \'val_2.jpg airfield\''):
        Places365Dataset(data_root=str(bad), split='val')
    # pointed at the Moments in Time folder: no Places list there
    with pytest.raises(FileNotFoundError, match=r'Places365 list file not found: .*moments/'
                       r'places365_train_standard.txt \(the release layout: '
                       r'places365_train_standard.txt with data_256/'):
        Places365Dataset(data_root=str(data['root'] / 'moments'))


def test_moments_in_time_reads_the_release_csvs(data):
    info = data['moments']
    train = MomentsInTimeDataset(**info['train'])
    assert train.get_gt_labels().tolist() == info['labels']['train']
    assert train.CLASSES == ('moving+0', 'moving+1')
    first = train.get_data_info(0)['video_path']
    assert first == f'{info["train"]["data_root"]}/training/moving+0/clip_train_000.mp4'


def test_moments_in_time_names_an_unknown_category(data, tmp_path):
    root = tmp_path / 'mit'
    root.mkdir()
    (root / 'moments_categories.txt').write_text('running,0\nsinging,1\n')
    (root / 'validationSet.csv').write_text('running/a.mp4,running,3,0\n'
                                            'swimming/b.mp4,swimming,2,1\n')
    with pytest.raises(ValueError, match=r"validationSet.csv:2: category 'swimming' is not in "
                       r'.*moments_categories.txt'):
        MomentsInTimeDataset(ann_file='validationSet.csv', data_root=str(root), num_classes=2)
    (root / 'trainingSet.csv').write_text('running/a.mp4,running,3,0\nc.mp4,singing,3,0\n')
    with pytest.raises(ValueError, match=r'trainingSet.csv:2: expected a first column '
                       r'"<category>/<clip>.mp4", got \'c.mp4,singing,3,0\''):
        MomentsInTimeDataset(ann_file='trainingSet.csv', data_root=str(root), num_classes=2)


def test_s3dis_room_points_carry_their_annotation_files_class(data):
    info = data['s3dis']
    train = S3DISDataset(**info['train'])
    assert len(train) == 2 and train.get_data_info(0)['room'] == 'Area_1/office_1'
    room = LoadS3DISRoom()(dict(train.get_data_info(0)))
    assert room['points'].shape == (7 * 64, 3) and room['points'].dtype == torch.float32
    counts = Counter(room['gt_seg_label'].tolist())
    index = S3DIS_CLASSES.index
    # two wall files; the release's stairs are clutter
    assert counts == {index('ceiling'): 64, index('floor'): 64, index('wall'): 128,
                      index('chair'): 64, index('table'): 64, index('clutter'): 64}
    # the floor file's points lie at z = 0, the ceiling's at z = 3
    floor = room['points'][room['gt_seg_label'] == index('floor')]
    torch.testing.assert_close(floor[:, 2], torch.zeros(64))
    coloured = LoadS3DISRoom(use_color=True)(dict(train.get_data_info(0)))['points']
    assert coloured.shape == (7 * 64, 6)
    assert 0 <= coloured[:, 3:].min() and coloured[:, 3:].max() <= 1


def test_s3dis_refuses_the_wrong_layout_by_name(data, tmp_path):
    with pytest.raises(FileNotFoundError, match=r'S3DIS area folder not found: .*Area_3 '
                       r'\(expected Area_N/<room>/Annotations/<class>_<k>.txt'):
        S3DISDataset(data_root=data['s3dis']['train']['data_root'], areas=(3, ))
    (tmp_path / 'Area_1' / 'office_1').mkdir(parents=True)
    (tmp_path / 'Area_1' / 'office_1' / 'office_1.txt').write_text('0 0 0 1 2 3\n')
    with pytest.raises(FileNotFoundError, match=r'Area_1 holds no <room>/Annotations/\*.txt'):
        S3DISDataset(data_root=str(tmp_path), areas=(1, ))


def test_s3dis_miou_is_the_mean_over_classes_of_points_summed_over_rooms():
    from mmpretrain.registry import METRICS
    metric = METRICS.build(dict(type='PartNetMIoU', num_classes=13, ignore_index=None))
    # room 1: 3 floor points, one predicted wall; room 2: 2 wall points, both right
    gt = [torch.tensor([1, 1, 1]), torch.tensor([2, 2])]
    pred = [torch.tensor([1, 1, 2]), torch.tensor([2, 2])]
    metric.process(None, [dict(gt_seg_label=g, pred_seg_label=p) for g, p in zip(gt, pred)])
    # floor: 2 / 3; wall: 2 / 3 (union of the 2 true and 1 false wall points)
    assert metric.compute_metrics(metric.results)['mIoU'] == pytest.approx(100 * 2 / 3)


def test_dense_batches_of_the_tiny_stage2_mix_image_video_and_points(data):
    sources = Config.fromfile(str(STAGE2)).train_dataloader.dataset.sources
    dense = {name: s for name, s in sources.items() if s['task_group'] == 'dense'}
    assert sorted(dense) == ['moments', 'places', 's3dis']
    with contextlib.chdir(data['cwd']), DefaultScope.overwrite_default_scope('mmpretrain'):
        dataset = DATASETS.build(dict(type='MultiSourceDataset', sources=dense))
    sampler = ModalityMixingSampler(dataset, batch_size=10, batches_per_epoch=20, seed=0)
    indices = list(sampler)
    assert len(indices) == 200
    modality = [s['modality'] for s in dense.values()]
    per_batch = [Counter(modality[dataset.source_index(i)] for i in indices[k:k + 10])
                 for k in range(0, 200, 10)]
    # every batch of the 20 holds all three modalities, 3 or 4 samples each
    assert all(set(c) == {'image', 'video', 'point'} for c in per_batch), per_batch
    assert all(min(c.values()) >= 3 for c in per_batch)
