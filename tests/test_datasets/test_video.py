"""Kinetics list + mp4 decoding with PyAV, frame sampling and the clip transforms."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.evaluator import Evaluator
from mmpretrain.registry import DATASETS, TRANSFORMS
from mmpretrain.structures import DataSample

import m2pt_mm.datasets  # noqa: F401  registers
from m2pt_mm.testing.modalities import write_kinetics, write_video


def counter_video(path, num_frames, size=(32, 32)):
    """Frame t is uniformly grey at level 8·t, so a decoded frame tells its index."""
    frames = np.stack([np.full((*size, 3), 8 * t, np.uint8) for t in range(num_frames)])
    return str(write_video(path, frames))


def decode(path, **sample_args):
    results = TRANSFORMS.build(dict(type='PyAVInit'))(dict(video_path=path))
    results = TRANSFORMS.build(dict(type='SampleFrames', **sample_args))(results)
    return TRANSFORMS.build(dict(type='PyAVDecode'))(results)


def grey_levels(imgs):
    return imgs.float().mean(dim=(1, 2, 3))


def test_decodes_the_sampled_frames(tmp_path):
    path = counter_video(tmp_path / 'count.mp4', 30)
    results = decode(path, clip_len=4, frame_interval=4, test_mode=True)
    assert results['total_frames'] == 30
    # centred clip: span 13 of 30 frames starts at (30 - 13) // 2 = 8
    assert results['frame_inds'].tolist() == [8, 12, 16, 20]
    assert results['imgs'].dtype == torch.uint8 and results['imgs'].shape == (4, 3, 32, 32)
    torch.testing.assert_close(grey_levels(results['imgs']), torch.tensor([64., 96., 128., 160.]),
                               atol=3, rtol=0)


def test_training_start_is_random_where_the_clip_fits():
    sample = TRANSFORMS.build(dict(type='SampleFrames', clip_len=16, frame_interval=4))
    np.random.seed(3)
    expected_start = np.random.randint(100 - 61 + 1)
    np.random.seed(3)
    inds = sample(dict(total_frames=100))['frame_inds']
    assert inds.tolist() == (expected_start + 4 * np.arange(16)).tolist()
    starts = {int(sample(dict(total_frames=100))['frame_inds'][0]) for _ in range(50)}
    assert len(starts) > 5 and min(starts) >= 0 and max(starts) <= 39


def test_video_shorter_than_the_clip(tmp_path):
    path = counter_video(tmp_path / 'short.mp4', 10)
    # span of 4 frames at interval 4 is 13 > 10 frames: VideoMAE repeats the last frame
    results = decode(path, clip_len=4, frame_interval=4, test_mode=True)
    assert results['frame_inds'].tolist() == [0, 4, 8, 9]
    torch.testing.assert_close(grey_levels(results['imgs']), torch.tensor([0., 32., 64., 72.]),
                               atol=3, rtol=0)
    looped = decode(path, clip_len=4, frame_interval=4, out_of_bound='loop')
    assert looped['frame_inds'].tolist() == [0, 4, 8, 2]
    torch.testing.assert_close(grey_levels(looped['imgs']), torch.tensor([0., 32., 64., 16.]),
                               atol=3, rtol=0)
    with pytest.raises(ValueError, match=r'short.mp4 has 10 frames, fewer than the 13'):
        decode(path, clip_len=4, frame_interval=4, out_of_bound='error')
    # a container whose frame count overstates its stream: indices past the end get the last
    # decoded frame
    overstated = TRANSFORMS.build(dict(type='PyAVDecode'))(
        dict(video_path=path, frame_inds=np.array([2, 50])))
    torch.testing.assert_close(grey_levels(overstated['imgs']), torch.tensor([16., 72.]),
                               atol=3, rtol=0)


def test_kinetics_dataset_and_pipeline(tmp_path):
    info = write_kinetics(tmp_path, num_classes=2, per_class=(2, 1), num_frames=40, size=(32, 40))
    test_pipeline = [
        dict(type='PyAVInit'), dict(type='SampleFrames', clip_len=16, frame_interval=4,
                                    test_mode=True),
        dict(type='PyAVDecode'), dict(type='VideoResize', short_side=24),
        dict(type='VideoCrop', crop_size=24), dict(type='VideoNormalize'),
        dict(type='PackInputs', input_key='imgs', meta_keys=('sample_idx', 'video_path'))]
    train = DATASETS.build(dict(type='KineticsDataset', **info['train'], pipeline=[
        dict(type='PyAVInit'), dict(type='SampleFrames', clip_len=8, frame_interval=2),
        dict(type='PyAVDecode'), dict(type='VideoResize', short_side=24),
        dict(type='VideoCrop', crop_size=24, random_crop=True), dict(type='VideoFlip'),
        dict(type='VideoNormalize'), dict(type='PackInputs', input_key='imgs')]))
    val = DATASETS.build(dict(type='KineticsDataset', **info['val'], pipeline=test_pipeline))
    assert len(train) == 4 and len(val) == 2
    assert [train.get_data_info(i)['gt_label'] for i in range(4)] == [0, 0, 1, 1]
    assert train.get_data_info(2)['video_path'].startswith(str(tmp_path / 'videos' / 'action_1'))
    out = train[3]
    assert out['inputs'].shape == (3, 8, 24, 24) and out['inputs'].dtype == torch.float32
    torch.testing.assert_close(out['data_samples'].gt_label, torch.tensor([1]))
    first, again = val[1], val[1]
    assert first['inputs'].shape == (3, 16, 24, 24)  # 16 frames > 40 // 4: last frame repeated
    torch.testing.assert_close(first['inputs'], again['inputs'])  # test pipeline: deterministic
    torch.testing.assert_close(first['inputs'][:, -1], first['inputs'][:, -2])
    assert not torch.allclose(first['inputs'][:, 0], first['inputs'][:, 1])


def test_resize_crop_flip_normalize():
    imgs = torch.arange(2 * 3 * 32 * 40, dtype=torch.float32).reshape(2, 3, 32, 40) % 251
    out = TRANSFORMS.build(dict(type='VideoResize', short_side=16))(dict(imgs=imgs.byte()))
    assert out['imgs'].shape == (2, 3, 16, 20) and out['img_shape'] == (16, 20)
    crop = TRANSFORMS.build(dict(type='VideoCrop', crop_size=(16, 12)))(dict(imgs=imgs))
    assert crop['crop_bbox'] == (14, 8, 26, 24)
    torch.testing.assert_close(crop['imgs'], imgs[..., 8:24, 14:26])
    np.random.seed(0)
    rand = TRANSFORMS.build(dict(type='VideoCrop', crop_size=16, random_crop=True))(
        dict(imgs=imgs))
    left, top, right, bottom = rand['crop_bbox']
    torch.testing.assert_close(rand['imgs'], imgs[..., top:bottom, left:right])
    with pytest.raises(ValueError, match='cannot crop 64x64 from frames of 32x40'):
        TRANSFORMS.build(dict(type='VideoCrop', crop_size=64))(dict(imgs=imgs))
    flipped = TRANSFORMS.build(dict(type='VideoFlip', prob=1.0))(dict(imgs=imgs))
    assert flipped['flip'] is True
    torch.testing.assert_close(flipped['imgs'], imgs.flip(-1))
    kept = TRANSFORMS.build(dict(type='VideoFlip', prob=0.0))(dict(imgs=imgs))
    torch.testing.assert_close(kept['imgs'], imgs)

    mean, std = torch.tensor([123.675, 116.28, 103.53]), torch.tensor([58.395, 57.12, 57.375])
    frames = torch.stack([mean, mean + std]).view(2, 3, 1, 1).expand(2, 3, 4, 5)
    out = TRANSFORMS.build(dict(type='VideoNormalize'))(dict(imgs=frames))['imgs']
    assert out.shape == (3, 2, 4, 5)  # (C, T, H, W)
    torch.testing.assert_close(out[:, 0], torch.zeros(3, 4, 5))
    torch.testing.assert_close(out[:, 1], torch.ones(3, 4, 5))


def test_resize_rounds_the_long_side_and_crop_floors_the_centre():
    """Sizes and offsets are ours (torchvision's short-side resize would truncate 21.9 to 21, its
    center_crop would round 13.5 to 14 and 7.5 to 8); the pixels are torchvision's, equal to
    interpolate."""
    imgs = torch.arange(2 * 3 * 30 * 41, dtype=torch.float32).reshape(2, 3, 30, 41) % 251
    out = TRANSFORMS.build(dict(type='VideoResize', short_side=16))(dict(imgs=imgs.byte()))
    assert out['img_shape'] == (16, 22)  # 41 · 16 / 30 = 21.87
    expected = F.interpolate(imgs.byte().float(), size=(16, 22), mode='bilinear',
                             align_corners=False, antialias=True)
    assert torch.equal(out['imgs'], expected)
    crop = TRANSFORMS.build(dict(type='VideoCrop', crop_size=(15, 14)))(dict(imgs=imgs))
    assert crop['crop_bbox'] == (13, 7, 27, 22)  # (41 - 14) // 2 = 13, (30 - 15) // 2 = 7
    assert torch.equal(crop['imgs'], imgs[..., 7:22, 13:27])


def test_top1_top5_with_mmpretrain_accuracy():
    scores = torch.tensor([[0.1, 0.5, 0.1, 0.1, 0.1, 0.1],    # gt 1 ranked 1st
                           [0.15, 0.3, 0.25, 0.2, 0.05, 0.05]])  # gt 0 ranked 4th
    samples = [DataSample().set_gt_label(label).set_pred_score(score)
               for label, score in zip([1, 0], scores)]
    evaluator = Evaluator(dict(type='Accuracy', topk=(1, 5)))
    evaluator.process(samples)
    assert evaluator.evaluate(2) == {'accuracy/top1': 50.0, 'accuracy/top5': 100.0}


def test_bad_videos_and_lists(tmp_path):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(b'\x00\x00\x00\x18ftypmp42' + bytes(200))
    with pytest.raises(ValueError, match='broken.mp4'):
        TRANSFORMS.build(dict(type='PyAVInit'))(dict(video_path=str(bad)))
    with pytest.raises(FileNotFoundError, match='missing.mp4'):
        TRANSFORMS.build(dict(type='PyAVInit'))(dict(video_path=str(tmp_path / 'missing.mp4')))

    info = write_kinetics(tmp_path, num_classes=2, per_class=(1, 1), num_frames=4)
    ann = tmp_path / 'kinetics_train_list.txt'
    ann.write_text('action_0/a.mp4 0\naction_1/b.mp4 7\n')
    with pytest.raises(ValueError, match=r'kinetics_train_list.txt:2: label 7 of action_1/b.mp4 '
                                         r'is out of range \[0, 2\)'):
        DATASETS.build(dict(type='KineticsDataset', **info['train']))
    ann.write_text('action_0/a.mp4\n')
    with pytest.raises(ValueError, match=r':1: expected "<video path> <int label>"'):
        DATASETS.build(dict(type='KineticsDataset', **info['train']))
