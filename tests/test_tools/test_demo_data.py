"""The demo's data tools write the real on-disk formats that mmpretrain's datasets and the demo
configs read: the digits as an ImageNet folder, the spectrograms as a flat image folder."""
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmpretrain.datasets import CustomDataset, ImageNet
from mmpretrain.registry import DATASETS
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / 'configs' / 'demo'

pytest.importorskip('sklearn', reason='the digits ship with scikit-learn')


from m2pt_mm.testing import digits as digits_tool  # noqa: E402
from m2pt_mm.testing import spectrograms as spec_tool  # noqa: E402


def _config(prefix: str) -> Path:
    (path, ) = DEMO.glob(f'{prefix}_1xb64-coslr-*.py')  # the demo's 20-epoch classifiers
    return path


@pytest.fixture(scope='module')
def digits_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp('digits')
    counts = digits_tool.write_digits_imagenet(str(out))
    assert counts == {'train': 1797 - 360, 'val': 360}
    return out


@pytest.fixture(scope='module')
def spec_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp('spectrograms')
    assert spec_tool.write_spectrograms(str(out), num=24, seed=0, batch_size=10) == 24
    return out


# ---------------------------------------------------------------------------------------- digits
def test_digits_folder_is_imagenet_format(digits_dir):
    classes = (digits_dir / 'classes.txt').read_text().split()
    assert classes == [str(c) for c in range(10)]
    total = 0
    for split, expected in (('train', 1437), ('val', 360)):
        pngs = sorted((digits_dir / split).glob('*/*.png'))
        assert len(pngs) == expected
        assert sorted(p.name for p in (digits_dir / split).iterdir()) == classes
        lines = (digits_dir / 'meta' / f'{split}.txt').read_text().splitlines()
        assert len(lines) == expected
        for line in lines:
            rel, label = line.rsplit(' ', 1)
            assert (digits_dir / split / rel).is_file()
            assert rel.split('/')[0] == classes[int(label)]
        total += len(pngs)
    assert total == 1797
    with Image.open(next((digits_dir / 'val' / '7').glob('*.png'))) as img:
        assert img.size == (32, 32) and img.mode == 'RGB'
        pixels = np.asarray(img)
    assert pixels.max() > 200 and pixels.min() < 30  # a real scan: ink on a dark background
    assert (pixels[..., 0] == pixels[..., 2]).all()   # grey replicated to RGB


def test_digits_val_split_is_stratified_and_fixed(digits_dir):
    _, labels = digits_tool.load_digit_scans()
    train, val = digits_tool.stratified_split(labels, 360, seed=0)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == 1797
    expected = np.bincount(labels) * 360 / 1797
    assert np.abs(np.bincount(labels[val]) - expected).max() < 1
    again_train, again_val = digits_tool.stratified_split(labels, 360, seed=0)
    np.testing.assert_array_equal(val, again_val)
    assert not np.array_equal(val, digits_tool.stratified_split(labels, 360, seed=1)[1])
    written = sorted(int(p.stem) for p in (digits_dir / 'val').glob('*/*.png'))
    assert written == val.tolist()
    with pytest.raises(ValueError, match='val_size'):
        digits_tool.stratified_split(labels, 1797)


def test_mmpretrain_datasets_read_the_digits_folder(digits_dir):
    classes = str(digits_dir / 'classes.txt')
    train = ImageNet(data_root=str(digits_dir), split='train', classes=classes)
    assert len(train) == 1437 and len(train.CLASSES) == 10
    val = CustomDataset(data_root=str(digits_dir), ann_file='meta/val.txt', data_prefix='val',
                        classes=classes)
    assert len(val) == 360
    labels = [val.get_data_info(i)['gt_label'] for i in range(len(val))]
    assert Counter(labels) == Counter(int(p.parent.name) for p in (digits_dir / 'val').glob('*/*'))
    info = val.get_data_info(0)
    assert Path(info['img_path']).parent.name == str(info['gt_label'])


@pytest.mark.parametrize('prefix', ['vit-tiny-p8_scratch',
                                    'm2pt_vit-tiny-p8-spectrogram_scratch'])
def test_demo_classifier_configs_read_the_digits_folder(digits_dir, prefix):
    cfg = Config.fromfile(str(_config(prefix)))
    cfg.merge_from_dict({f'{s}_dataloader.dataset.data_root': str(digits_dir)
                         for s in ('train', 'val', 'test')})
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert (len(train), len(val)) == (1437, 360)
    assert train.CLASSES == tuple(str(c) for c in range(10)) == tuple(cfg.classes)
    assert cfg.model.head.num_classes == len(train.CLASSES)
    sample = val[5]
    assert sample['inputs'].shape == (3, 32, 32)
    assert sample['data_samples'].gt_label.item() == val.get_data_info(5)['gt_label']


# ------------------------------------------------------------------------------- spectrograms
def test_spectrogram_folder_holds_varied_grey_32x32_images(spec_dir):
    pngs = sorted(spec_dir.glob('*.png'))
    assert len(pngs) == 24
    assert {p.stem.split('_')[1] for p in pngs} == set(spec_tool.KINDS)
    images = []
    for path in pngs:
        with Image.open(path) as img:
            assert img.size == (32, 32) and img.mode == 'L'
            images.append(np.asarray(img, dtype=np.float32))
    for img in images:
        assert img.std() > 5 and img.max() == 255 and img.min() == 0  # normalised, not constant
    assert min(np.abs(a - b).mean() for i, a in enumerate(images) for b in images[i + 1:]) > 1


def test_spectrograms_are_deterministic(spec_dir, tmp_path):
    spec_tool.write_spectrograms(str(tmp_path), num=24, seed=0, batch_size=10)
    for path in sorted(tmp_path.glob('*.png')):
        np.testing.assert_array_equal(np.asarray(Image.open(path)),
                                      np.asarray(Image.open(spec_dir / path.name)))
    other = spec_tool.synth_clip(np.random.default_rng(1), 'tone')
    assert not np.array_equal(other, spec_tool.synth_clip(np.random.default_rng(0), 'tone'))


def test_log_mel_image_puts_higher_tones_higher_up():
    t = torch.arange(16000) / 16000
    waves = torch.stack([torch.sin(2 * np.pi * f * t) for f in (300., 1000., 4000.)])
    images = spec_tool.log_mel_images(waves, size=32)
    assert images.shape == (3, 32, 32) and images.dtype == torch.uint8
    brightest_row = images.float().mean(dim=2).argmax(dim=1).tolist()
    assert brightest_row[0] > brightest_row[1] > brightest_row[2]  # row 0 = highest band
    with pytest.raises(ValueError, match=r'\[batch, samples\]'):
        spec_tool.log_mel_images(waves[0])
    with pytest.raises(ValueError, match='kind'):
        spec_tool.synth_clip(np.random.default_rng(0), 'speech')


def test_mae_config_reads_the_spectrogram_folder(spec_dir):
    cfg = Config.fromfile(str(_config('mae_vit-tiny-p8')))
    cfg.train_dataloader.dataset.data_root = str(spec_dir)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 24
    assert dataset[0]['inputs'].shape == (1, 32, 32)  # one-channel spectrogram image
    direct = CustomDataset(data_root=str(spec_dir), with_label=False)
    assert len(direct) == 24 and 'gt_label' not in direct.get_data_info(0)
