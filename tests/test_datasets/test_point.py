"""ModelNet40, ShapeNetPart and PartNet datasets and the point transforms, on real-format files."""
import json

import h5py
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmpretrain.registry import DATASETS, MODELS, TRANSFORMS

import m2pt_mm.datasets  # noqa: F401  registers
from m2pt_mm.datasets import SHAPENETPART_SEG_CLASSES
from m2pt_mm.ops import farthest_point_sample
from m2pt_mm.testing.modalities import write_modelnet40, write_partnet, write_shapenetpart

PACK_SEG = dict(type='PackInputs', input_key='points', algorithm_keys=('gt_seg_label', ),
                meta_keys=('sample_idx', 'points_path'))


def test_modelnet40_dataset_and_pipeline(tmp_path):
    info = write_modelnet40(tmp_path, classes=('airplane', 'bathtub', 'night_stand'),
                            per_class=(2, 1), num_points=300)
    pipeline = [dict(type='LoadPointCloud'), dict(type='PointSample', num_points=200),
                dict(type='PointSample', num_points=128, method='random'),
                dict(type='PointNormalize'),
                dict(type='PackInputs', input_key='points', meta_keys=('points_path', ))]
    train = DATASETS.build(dict(type='ModelNetDataset', **info['train'], pipeline=pipeline))
    test = DATASETS.build(dict(type='ModelNetDataset', **info['val'], pipeline=pipeline))
    assert len(train) == 6 and len(test) == 3
    assert len(train.metainfo['classes']) == 40 and train.metainfo['classes'][23] == 'night_stand'
    # the class of "night_stand_0003" is everything before the last underscore
    assert [test.get_data_info(i)['gt_label'] for i in range(3)] == [0, 1, 23]
    assert test.get_data_info(2)['points_path'] == str(tmp_path / 'night_stand' /
                                                       'night_stand_0003.txt')
    out = test[2]
    points = out['inputs']
    assert points.shape == (128, 3) and points.dtype == torch.float32
    torch.testing.assert_close(out['data_samples'].gt_label, torch.tensor([23]))
    torch.testing.assert_close(points.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(points.norm(dim=1).max(), torch.tensor(1.))
    with_normals = TRANSFORMS.build(dict(type='LoadPointCloud', use_normals=True))(
        dict(points_path=info['files']['val'][0]))['points']
    raw = np.loadtxt(info['files']['val'][0], delimiter=',')
    torch.testing.assert_close(with_normals, torch.from_numpy(raw).float())


def test_farthest_point_sampling_picks_farthest_first():
    # on a line at 0, 1, 2, 3, 10: start at 0, then 10 (farthest), then 3 (min distance 3 beats
    # 2's min distance 2)
    xyz = torch.tensor([[0., 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0], [10, 0, 0]])
    assert farthest_point_sample(xyz, 3).tolist() == [0, 4, 3]
    results = dict(points=torch.cat([xyz, torch.eye(5, 3)], 1),
                   gt_seg_label=torch.tensor([5, 6, 7, 8, 9]))
    out = TRANSFORMS.build(dict(type='PointSample', num_points=3))(results)
    torch.testing.assert_close(out['points'][:, 0], torch.tensor([0., 10, 3]))
    torch.testing.assert_close(out['gt_seg_label'], torch.tensor([5, 9, 8]))
    first = TRANSFORMS.build(dict(type='PointSample', num_points=2, method='first'))(
        dict(points=xyz, gt_seg_label=torch.tensor([5, 6, 7, 8, 9])))
    torch.testing.assert_close(first['points'], xyz[:2])
    torch.testing.assert_close(first['gt_seg_label'], torch.tensor([5, 6]))


def test_normalize_and_scale_translate():
    points = torch.tensor([[1., 1, 1, 0, 0, 1], [3, 1, 1, 0, 1, 0], [2, 4, 1, 1, 0, 0]])
    out = TRANSFORMS.build(dict(type='PointNormalize'))(dict(points=points))['points']
    # centroid (2, 2, 1); distances sqrt(2), sqrt(2), 2 → divide by 2
    torch.testing.assert_close(out[:, :3], torch.tensor([[-.5, -.5, 0], [.5, -.5, 0], [0, 1, 0]]))
    torch.testing.assert_close(out[:, 3:], points[:, 3:])

    aug = TRANSFORMS.build(dict(type='PointScaleAndTranslate'))
    np.random.seed(1)
    scale = np.random.uniform(2 / 3, 3 / 2, 3)
    shift = np.random.uniform(-0.2, 0.2, 3)
    np.random.seed(1)
    out = aug(dict(points=points.clone()))['points']
    torch.testing.assert_close(out[:, :3], points[:, :3] * torch.tensor(scale).float() +
                               torch.tensor(shift).float())
    torch.testing.assert_close(out[:, 3:], points[:, 3:])
    iso = TRANSFORMS.build(dict(type='PointScaleAndTranslate', scale_range=(0.8, 1.25),
                                translate_range=0.0, anisotropic=False))
    out = iso(dict(points=points[:, :3].clone()))['points']
    ratio = out / points[:, :3]
    torch.testing.assert_close(ratio, torch.full_like(ratio, float(ratio[0, 0])))
    assert 0.8 <= float(ratio[0, 0]) <= 1.25


def test_bad_point_files_name_the_file(tmp_path):
    rows = np.random.default_rng(0).uniform(-1, 1, (50, 6))
    good = tmp_path / 'few.txt'
    np.savetxt(good, rows, fmt='%.6f', delimiter=',')
    load = TRANSFORMS.build(dict(type='LoadPointCloud'))
    results = load(dict(points_path=str(good)))
    with pytest.raises(ValueError, match=r'few.txt has 50 points, fewer than the 128 needed'):
        TRANSFORMS.build(dict(type='PointSample', num_points=128))(dict(results))
    # drawing with replacement (Point-MAE's ShapeNetPart sampling) serves a small cloud
    out = TRANSFORMS.build(dict(type='PointSample', num_points=128, method='random',
                                replace=True))(dict(results))
    assert out['points'].shape == (128, 3)

    rows[7, 1] = np.nan
    nan_file = tmp_path / 'nan.txt'
    np.savetxt(nan_file, rows, fmt='%.6f', delimiter=',')
    with pytest.raises(ValueError, match=r'nan.txt has 1 points with NaN .*row 7'):
        load(dict(points_path=str(nan_file)))
    narrow = tmp_path / 'xyz_only.txt'
    np.savetxt(narrow, rows[:, :3], delimiter=',')
    with pytest.raises(ValueError, match=r'xyz_only.txt has 3 columns, needs >= 6'):
        TRANSFORMS.build(dict(type='LoadPointCloud', use_normals=True))(
            dict(points_path=str(narrow)))


def test_shapenetpart_dataset_labels_and_alignment(tmp_path):
    info = write_shapenetpart(tmp_path, categories=('Bag', 'Chair', 'Table'),
                              per_split=(2, 1, 1), num_points=(280, 320))
    load_only = [dict(type='LoadPointCloud', with_seg_label=True)]
    trainval = DATASETS.build(dict(type='ShapeNetPartDataset', **info['train'],
                                   pipeline=load_only))
    test = DATASETS.build(dict(type='ShapeNetPartDataset', **info['val'], pipeline=load_only))
    train_only = DATASETS.build(dict(type='ShapeNetPartDataset', data_root=str(tmp_path),
                                     split='train'))
    assert (len(trainval), len(test), len(train_only)) == (9, 3, 6)
    assert trainval.metainfo['classes'][4] == 'Chair' and len(trainval.metainfo['classes']) == 16
    # order: categories as in synsetoffset2category.txt, object index = line number
    assert [test.get_data_info(i)['gt_label'] for i in range(3)] == [1, 4, 15]
    assert {d['path'] for d in info['shapes']['val']} == {
        test.get_data_info(i)['points_path'] for i in range(3)}
    chair = test[1]
    rows = np.loadtxt(chair['points_path'])
    torch.testing.assert_close(chair['points'], torch.from_numpy(rows[:, :3]).float())
    torch.testing.assert_close(chair['gt_seg_label'], torch.from_numpy(rows[:, 6]).long())
    assert set(chair['gt_seg_label'].tolist()) == {12, 13, 14, 15}
    # the fixture's parts are z bands: the lowest quarter of the chair is part 12
    low = rows[:, 2] <= np.quantile(rows[:, 2], 0.2)
    assert set(rows[low, 6].astype(int).tolist()) == {12}

    # resampling keeps every point with its own label
    np.random.seed(0)
    sampled = TRANSFORMS.build(dict(type='PointSample', num_points=512, method='random',
                                    replace=True))(dict(chair))
    nearest = torch.cdist(sampled['points'], chair['points']).argmin(1)
    torch.testing.assert_close(sampled['gt_seg_label'], chair['gt_seg_label'][nearest])
    assert len(set(nearest.tolist())) > 200

    packed = DATASETS.build(dict(
        type='ShapeNetPartDataset', **info['val'],
        pipeline=[dict(type='LoadPointCloud', with_seg_label=True), dict(type='PointNormalize'),
                  dict(type='PointSample', num_points=256, method='random', replace=True),
                  PACK_SEG]))
    batch = pseudo_collate([packed[i] for i in range(3)])
    preprocessor = MODELS.build(dict(type='ClsDataPreprocessor'))
    data = preprocessor(batch)
    assert data['inputs'].shape == (3, 256, 3)
    sample = data['data_samples'][1]
    assert sample.gt_seg_label.shape == (256, ) and sample.gt_seg_label.dtype == torch.long
    torch.testing.assert_close(sample.gt_label, torch.tensor([4]))
    assert set(sample.gt_seg_label.tolist()) <= set(SHAPENETPART_SEG_CLASSES['Chair'])


def test_shapenetpart_bad_input(tmp_path):
    info = write_shapenetpart(tmp_path, categories=('Chair', ), per_split=(1, 1, 1))
    test = DATASETS.build(dict(type='ShapeNetPartDataset', **info['val'],
                               pipeline=[dict(type='LoadPointCloud', with_seg_label=True)]))
    path = test.get_data_info(0)['points_path']
    rows = np.loadtxt(path)
    rows[3, 6] = 2  # an Airplane part in a chair
    np.savetxt(path, rows, fmt='%.6f')
    with pytest.raises(ValueError, match=r"part labels \[2\] are out of range for category "
                                         r"'Chair' \(allowed \[12, 13, 14, 15\]\)") as err:
        test[0]
    assert path in str(err.value)

    split = tmp_path / 'train_test_split' / 'shuffled_test_file_list.json'
    split.write_text(json.dumps(['shape_data/03001627/doesnotexist']))
    with pytest.raises(FileNotFoundError, match='doesnotexist.txt is listed in the test split'):
        DATASETS.build(dict(type='ShapeNetPartDataset', **info['val']))
    split.write_text(json.dumps(['shape_data/99999999/abc']))
    with pytest.raises(ValueError, match='not shape_data/<synset>/<shape id>'):
        DATASETS.build(dict(type='ShapeNetPartDataset', **info['val']))


def test_partnet_h5_dataset(tmp_path):
    info = write_partnet(tmp_path, category='Chair', level=1, num_classes=4,
                         per_split=(4, 2, 2), num_points=256, train_files=2)
    pipeline = [dict(type='LoadPointCloud', with_seg_label=True),
                dict(type='PointSample', num_points=64), PACK_SEG]
    train = DATASETS.build(dict(type='PartNetDataset', **info['train'], pipeline=pipeline))
    assert len(train) == 4  # two files of two shapes
    assert [(train.get_data_info(i)['points_path'][-11:], train.get_data_info(i)['h5_index'])
            for i in range(4)] == [('train-00.h5', 0), ('train-00.h5', 1),
                                   ('train-01.h5', 0), ('train-01.h5', 1)]
    loaded = TRANSFORMS.build(dict(type='LoadPointCloud', with_seg_label=True))(
        dict(train.get_data_info(2)))
    points, labels = info['arrays']['train']
    torch.testing.assert_close(loaded['points'], torch.from_numpy(points[2]))
    torch.testing.assert_close(loaded['gt_seg_label'], torch.from_numpy(labels[2]))
    out = train[2]
    assert out['inputs'].shape == (64, 3)
    assert out['data_samples'].gt_seg_label.shape == (64, )
    assert 'gt_label' not in out['data_samples']

    named = DATASETS.build(dict(type='PartNetDataset', **{**info['test'], 'num_classes': None},
                                label_file=info['label_file']))
    assert named.metainfo['classes'] == ('other', 'chair/part_1', 'chair/part_2', 'chair/part_3')
    assert named.num_classes == 4 and len(named) == 2


def test_partnet_bad_input(tmp_path):
    info = write_partnet(tmp_path, num_classes=4, per_split=(2, 1, 1), num_points=64)
    with pytest.raises(ValueError, match='needs num_classes'):
        DATASETS.build(dict(type='PartNetDataset', **{**info['val'], 'num_classes': None}))
    with pytest.raises(ValueError, match=r'num_classes=5 but .* lists 3 parts'):
        DATASETS.build(dict(type='PartNetDataset', **{**info['val'], 'num_classes': 5},
                            label_file=info['label_file']))
    # labels go up to 3: a dataset that claims 3 classes refuses them, naming file and row
    small = DATASETS.build(dict(type='PartNetDataset', **{**info['val'], 'num_classes': 3},
                                pipeline=[dict(type='LoadPointCloud', with_seg_label=True)]))
    with pytest.raises(ValueError, match=r'val-00.h5\[0\]: part labels \[3\] are out of range '
                                         r'\[0, 3\)'):
        small[0]
    with pytest.raises(FileNotFoundError, match='no test-\\*.h5 files'):
        DATASETS.build(dict(type='PartNetDataset', **{**info['test'], 'category': 'Lamp'}))
    with h5py.File(tmp_path / 'Chair-1' / 'test-00.h5', 'w') as f:
        f.create_dataset('data', data=np.zeros((1, 8, 3), np.float32))
    with pytest.raises(KeyError, match="no dataset 'label_seg'"):
        DATASETS.build(dict(type='PartNetDataset', **info['test']))
