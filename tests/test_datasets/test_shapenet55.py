"""ShapeNet-55 in Point-MAE's ``ShapeNet55-34`` layout: the lists, the ``.npy`` clouds through
Point-MAE's pretraining pipeline, and a list entry whose file is missing."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmpretrain.registry import DATASETS

import m2pt_mm.datasets  # noqa: F401  registers
from m2pt_mm.testing.modalities import write_shapenet55

#: Point-MAE's ShapeNet-55 pretraining input at the tiny size: random points, then pc_norm.
PIPELINE = [dict(type='LoadPointCloud'), dict(type='PointSample', num_points=64, method='random'),
            dict(type='PointNormalize'),
            dict(type='PackInputs', input_key='points', meta_keys=('points_path', 'taxonomy_id'))]


@pytest.fixture(scope='module')
def shapenet55(tmp_path_factory):
    return write_shapenet55(tmp_path_factory.mktemp('ShapeNet55-34'), per_split=(2, 1),
                            num_points=256)


def test_lists_and_samples(shapenet55):
    train = DATASETS.build(dict(type='ShapeNet55Dataset', **shapenet55['train'], pipeline=PIPELINE))
    test = DATASETS.build(dict(type='ShapeNet55Dataset', **shapenet55['val'], pipeline=PIPELINE))
    assert len(train) == 6 and len(test) == 3
    # the list order, and the entry split as Point-MAE splits it: taxonomy, model id
    assert [train.get_data_info(i)['points_path'] for i in range(6)] == shapenet55['files']['train']
    info = test.get_data_info(2)
    assert info['taxonomy_id'] == '04379231' and len(info['model_id']) == 32
    assert info['points_path'].endswith(f'shapenet_pc/04379231-{info["model_id"]}.npy')
    np.random.seed(0)
    out = test[2]
    points = out['inputs']
    assert points.shape == (64, 3) and points.dtype == torch.float32
    assert out['data_samples'].taxonomy_id == '04379231'
    assert 'gt_label' not in out['data_samples']  # self-supervised: no label
    # Point-MAE's random_sample + pc_norm on the file's rows, with the same draw
    np.random.seed(0)
    rows = torch.from_numpy(shapenet55['arrays']['val'][2][np.random.choice(256, 64, False)])
    rows = rows - rows.mean(0)
    torch.testing.assert_close(points, rows / rows.norm(dim=1).max())
    torch.testing.assert_close(points.norm(dim=1).max(), torch.tensor(1.))


def test_whole_reads_test_then_train(shapenet55):
    whole = DATASETS.build(dict(type='ShapeNet55Dataset', **shapenet55['train'], whole=True))
    assert [whole.get_data_info(i)['points_path'] for i in range(9)] == (
        shapenet55['files']['val'] + shapenet55['files']['train'])


def test_a_listed_file_that_is_missing_is_named(tmp_path):
    info = write_shapenet55(tmp_path, per_split=(2, 1), num_points=16)
    missing = info['files']['train'][3]
    Path(missing).unlink()
    name = missing.rsplit('/', 1)[1]
    with pytest.raises(FileNotFoundError, match=rf'train\.txt:4: {name} is listed but its point '
                                                rf'file .*{name} does not exist'):
        DATASETS.build(dict(type='ShapeNet55Dataset', **info['train']))


def test_a_malformed_list_line_is_named(tmp_path):
    info = write_shapenet55(tmp_path, per_split=(1, 1), num_points=16)
    (tmp_path / 'ShapeNet-55' / 'test.txt').write_text('02691156_no_dash.txt\n')
    with pytest.raises(ValueError, match=r'test\.txt:1: expected "<taxonomy id>-<model id>\.npy"'):
        DATASETS.build(dict(type='ShapeNet55Dataset', **info['val']))
