"""VideoMAE's Kinetics fine-tuning recipe on clips decoded from real mp4 files: RandAugment,
random-resized crop and random erasing draw once per clip; the 5 clips x 3 crops test samples
VideoMAE's positions, averages the 15 views' scores and is what ``tools/test.py --tta`` runs."""
import random

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmpretrain.registry import MODELS
from torch.testing import assert_close

import m2pt_mm.models  # noqa: F401
from m2pt_mm.datasets.transforms.video import (
    PyAVDecode,
    PyAVInit,
    SampleFrames,
    VideoCrop,
    VideoNormalize,
    VideoRandAugment,
    VideoRandomErasing,
    VideoRandomResizedCrop,
    VideoSelectClip,
)
from m2pt_mm.testing.modalities import write_kinetics
from tests.helpers import TINY_VIDEO, call_tool

#: write_kinetics' clips: 40 frames of 32 x 40 (H x W)
FRAMES, H, W = 40, 32, 40


@pytest.fixture(scope='module')
def kinetics(tmp_path_factory) -> dict:
    return write_kinetics(tmp_path_factory.mktemp('k400'), per_class=(1, 1))


def video_path(info: dict, split: str = 'val', index: int = 0) -> str:
    root = info[split]['data_root']
    rel = open(f'{root}/{info[split]["ann_file"]}').read().split('\n')[index].rsplit(maxsplit=1)[0]
    return f'{root}/videos/{rel}'


def decode(path: str, frame_inds) -> torch.Tensor:
    return PyAVDecode()(dict(video_path=path, frame_inds=np.asarray(frame_inds)))['imgs']


@pytest.fixture(scope='module')
def clip(kinetics) -> dict:
    """8 frames (every 4th) of a real clip, as PyAVDecode leaves them: uint8 (8, 3, 32, 40)."""
    results = PyAVInit()(dict(video_path=video_path(kinetics)))
    return PyAVDecode()(SampleFrames(8, 4, test_mode=True)(results))


def tiny_cfg() -> Config:
    return Config.fromfile(str(TINY_VIDEO))


# ------------------------------------------------------------------------ training transforms
def test_randaugment_is_timms_policy_drawn_once_for_every_frame(clip):
    augment = VideoRandAugment('rand-m7-n4-mstd0.5-inc1')
    timm_ra = augment.rand_augment
    assert timm_ra.num_layers == 4 and len(timm_ra.ops) == 15
    assert {(op.name, op.prob, op.magnitude, op.magnitude_std) for op in timm_ra.ops} >= {
        ('Invert', 0.5, 7, 0.5), ('SolarizeAdd', 0.5, 7, 0.5), ('TranslateXRel', 0.5, 7, 0.5)}
    changed = 0
    for seed in range(4):
        random.seed(seed)
        np.random.seed(seed)
        out = augment(dict(clip))['imgs']
        state = random.getstate(), np.random.get_state()[1].copy()
        assert out.dtype == torch.uint8 and out.shape == clip['imgs'].shape
        for t, frame in enumerate(clip['imgs']):  # timm on each frame from the clip's draw
            random.seed(seed)
            np.random.seed(seed)
            expected = TF.pil_to_tensor(timm_ra(TF.to_pil_image(frame)))
            assert torch.equal(out[t], expected), (seed, t)
        # the clip consumed the random numbers of one frame: one draw, not one per frame
        assert random.getstate() == state[0]
        np.testing.assert_array_equal(np.random.get_state()[1], state[1])
        changed += not torch.equal(out, clip['imgs'])
    assert changed >= 3


def test_random_resized_crop_cuts_one_box_from_every_frame(clip):
    crop = VideoRandomResizedCrop(16, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3))
    for seed in range(3):
        torch.manual_seed(seed)
        results = crop(dict(clip))
        torch.manual_seed(seed)
        box = crop.crop.make_params([clip['imgs']])  # torchvision's draw: top, left, height, width
        assert box['height'] * box['width'] < H * W  # a sub-box, not the whole frame
        expected = TF.resized_crop(clip['imgs'].float(), box['top'], box['left'], box['height'],
                                   box['width'], [16, 16], antialias=False)
        assert_close(results['imgs'], expected)
        assert results['img_shape'] == (16, 16) and results['imgs'].dtype == torch.float32


def test_random_erasing_erases_one_rectangle_through_the_clip_with_noise_per_frame(clip):
    x = VideoNormalize()(dict(imgs=clip['imgs']))['imgs']  # (3, 8, 32, 40)
    eraser = VideoRandomErasing(prob=1.0)
    for seed in range(4):
        torch.manual_seed(seed)
        out = eraser(dict(imgs=x.clone()))['imgs']
        torch.manual_seed(seed)
        torch.rand(1)  # the probability draw
        box = eraser.eraser.make_params([x.transpose(0, 1)])
        expected = torch.zeros(H, W, dtype=torch.bool)
        expected[box['i']:box['i'] + box['h'], box['j']:box['j'] + box['w']] = True
        changed = out != x
        assert torch.equal(changed, expected.expand_as(changed)), seed  # every frame and channel
        assert box['h'] * box['w'] >= 0.02 * H * W
        # noise drawn for each frame (VideoMAE's 'pixel' mode), not one patch repeated
        assert not torch.equal(out[:, 0][:, expected], out[:, 1][:, expected])
        assert abs(out[:, :, expected].std().item() - 1) < 0.3
    torch.manual_seed(0)
    erased = sum(not torch.equal(VideoRandomErasing(prob=0.25)(dict(imgs=x))['imgs'], x)
                 for _ in range(400))
    assert 70 < erased < 130, erased  # binomial(400, 0.25): 100 ± 9


# ------------------------------------------------------------------------ 5 clips x 3 crops
@pytest.mark.parametrize('total, clip_len, interval, starts', [
    (40, 4, 2, [0, 8, 16, 24, 32]),  # 20 frames on the grid: clip k starts at int(k * 16 / 4)
    (100, 16, 4, [0, 8, 16, 24, 36]),  # 25 on the grid: int(k * 9 / 4) = 0, 2, 4, 6, 9
    (301, 16, 4, [0, 60, 120, 180, 240]),  # 76 on the grid: int(k * 60 / 4) = 0, 15, 30, ...
])
def test_five_test_clips_start_where_videomae_starts_them(total, clip_len, interval, starts):
    inds = SampleFrames(clip_len, interval, test_mode=True, num_clips=5)(
        dict(total_frames=total))['frame_inds']
    expected = np.concatenate([s + interval * np.arange(clip_len) for s in starts])
    np.testing.assert_array_equal(inds, expected)
    assert inds.max() < total


def test_three_crops_slide_along_the_long_side():
    cols = torch.arange(W, dtype=torch.float).expand(2, 3, H, W)  # pixel = its column
    for position, left in (('start', 0), ('centre', 4), ('end', 8)):
        out = VideoCrop(32, position=position)(dict(imgs=cols))
        assert out['crop_bbox'] == (left, 0, left + 32, 32)
        assert_close(out['imgs'][0, 0, 0], torch.arange(left, left + 32, dtype=torch.float))
    rows = cols.transpose(-1, -2)  # tall frames: the crops slide down
    tops = [VideoCrop(32, position=p)(dict(imgs=rows))['crop_bbox'][1]
            for p in ('start', 'centre', 'end')]
    assert tops == [0, 4, 8]


def test_tta_pipeline_gives_fifteen_views_at_videomaes_positions(kinetics):
    cfg = tiny_cfg()
    path = video_path(kinetics)
    views = Compose(cfg.tta_pipeline)(dict(video_path=path))['inputs']
    assert len(views) == 15
    frames = VideoNormalize()(dict(imgs=decode(path, range(FRAMES))))['imgs']  # (3, 40, 32, 40)
    # 40 frames, every 2nd: clip k starts at frame 8k; crops start at columns 0, 4, 8
    for k in range(5):
        for c, left in enumerate((0, 4, 8)):
            expected = frames[:, 8 * k + 2 * torch.arange(4), :, left:left + 32]
            assert_close(views[3 * k + c], expected, msg=f'clip {k}, crop {c}')


def test_tta_on_a_clip_shorter_than_a_view_pads_or_names_the_file(tmp_path):
    info = write_kinetics(tmp_path / 'short', num_classes=1, per_class=(1, 1), num_frames=5)
    path = video_path(info)
    cfg = tiny_cfg()
    # 5 frames, a clip of 4 every 2nd spans 7: VideoMAE's padding, frames 0, 2, 4, 4 in each view
    views = Compose(cfg.tta_pipeline)(dict(video_path=path))['inputs']
    frames = VideoNormalize()(dict(imgs=decode(path, [0, 2, 4, 4])))['imgs']
    assert len(views) == 15
    assert_close(views[4], frames[..., 4:36])  # clip 1, centre crop
    cfg.tta_pipeline[1].out_of_bound = 'error'
    with pytest.raises(ValueError, match=r'short/videos/.*\.mp4 has 5 frames, fewer than the 7 '
                                         r'a clip of 4 frames at interval 2 spans \(each of the '
                                         r'5 test clips\)'):
        Compose(cfg.tta_pipeline)(dict(video_path=path))


def test_select_clip_refuses_a_clip_sampled_otherwise():
    results = dict(imgs=torch.zeros(8, 3, 4, 4), clip_len=4, num_clips=2, frame_inds=np.arange(8),
                   video_path='a.mp4')
    assert_close(VideoSelectClip(1)(dict(results))['frame_inds'], np.arange(4, 8))
    with pytest.raises(ValueError, match=r'cannot select clip 2 from 8 frames of a\.mp4: '
                                         r'expected 2 clips of 4 frames'):
        VideoSelectClip(2)(dict(results))
    with pytest.raises(ValueError, match='num_clips'):
        SampleFrames(num_clips=5)  # training samples one clip


def test_tta_model_averages_the_softmax_scores_of_the_fifteen_views(kinetics):
    cfg = tiny_cfg()
    cfg.model.backbone.pathway = None
    tta = MODELS.build(dict(**cfg.tta_model, module=cfg.model)).eval()
    pipeline = Compose(cfg.tta_pipeline)
    data = pseudo_collate([pipeline(dict(video_path=video_path(kinetics, 'val', i)))
                           for i in range(2)])
    with torch.no_grad():
        merged = tta.test_step(data)
        per_view = [tta.module.test_step(dict(inputs=data['inputs'][v],
                                              data_samples=data['data_samples'][v]))
                    for v in range(15)]
    assert len(merged) == 2
    for i, sample in enumerate(merged):
        scores = torch.stack([view[i].pred_score for view in per_view])
        assert_close(scores.sum(1), torch.ones(15))  # softmax scores, as VideoMAE averages
        assert not torch.allclose(scores[0], scores[14])  # the views differ
        assert_close(sample.pred_score, scores.mean(0))


def plain_checkpoint(path) -> str:
    """A tiny video classifier without pathway, saved as a (deploy) checkpoint."""
    cfg = tiny_cfg()
    cfg.model.backbone.pathway = None
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict(), 'meta': {}}, path)
    return str(path)


def test_tools_test_tta_refuses_a_config_without_tta_model(tmp_path):
    plain = tmp_path / 'no_tta.py'
    plain.write_text(f"_base_ = '{TINY_VIDEO}'\ntta_model = None\n")
    with pytest.raises(KeyError, match=r"no_tta\.py has no \['tta_model'\]: --tta needs both"):
        call_tool('test', plain, plain_checkpoint(tmp_path / 'plain.pth'), '--tta')


@pytest.mark.slow  # a Runner: ~9 s on 2 cores
def test_tools_test_tta_runs_the_fifteen_view_test(kinetics, tmp_path):
    opts = ['model.backbone.pathway=None', 'test_dataloader.batch_size=2',
            f'test_dataloader.dataset.data_root={kinetics["val"]["data_root"]}']
    metrics = call_tool('test', TINY_VIDEO, plain_checkpoint(tmp_path / 'plain.pth'), '--tta',
                        '--work-dir', tmp_path / 'work', '--cfg-options', *opts)
    assert set(metrics) == {'accuracy/top1', 'accuracy/top5'}
    assert metrics['accuracy/top5'] == 100.0  # 5 outputs: every label is in the top 5
