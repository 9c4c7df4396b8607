"""AudioMAE's fine-tuning recipe on the tiny AudioSet in its real format: waveform roll and gain,
the dataset's waveform mixup, structured token masking, the frozen sin-cos position table."""
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmpretrain.registry import DATASETS, TRANSFORMS
from torch.testing import assert_close

import m2pt_mm.datasets  # noqa: F401  registers
from m2pt_mm.datasets.transforms.audio import WaveformMixup
from m2pt_mm.testing.modalities import write_audioset

FRAMES = 128


@pytest.fixture
def audioset(tmp_path):
    """4 one-second clips at 16 kHz; labels [0], [1, 2], [2], [0, 1] of 3 classes."""
    return write_audioset(tmp_path / 'audioset', n=4, num_classes=3)


def load(info, index: int = 0) -> dict:
    path = f'{info["train"]["data_root"]}/audio/train_{index:04d}.wav'
    return TRANSFORMS.build(dict(type='LoadAudioFromFile'))(dict(audio_path=path))


# ------------------------------------------------------------------ roll_mag_aug
def test_roll_shifts_the_waveform_circularly_by_the_drawn_shift(audioset):
    results = load(audioset)
    waveform = results['waveform'].clone()
    assert waveform.shape == (1, 16000)
    np.random.seed(0)  # np.random.randint(16000) draws 2732 after this seed
    out = TRANSFORMS.build(dict(type='RandomWaveformRoll'))(results)
    assert out['roll_shift'] == 2732
    expected = torch.cat([waveform[:, -2732:], waveform[:, :-2732]], dim=1)
    assert_close(out['waveform'], expected, rtol=0, atol=0)
    assert_close(out['waveform'][:, 2732], waveform[:, 0])


def test_gain_scales_the_waveform_by_beta_10_10_plus_half(audioset):
    results = load(audioset)
    waveform = results['waveform'].clone()
    np.random.seed(0)  # np.random.beta(10, 10) draws 0.5971578... after this seed
    out = TRANSFORMS.build(dict(type='RandomWaveformGain'))(results)
    assert out['gain'] == pytest.approx(1.0971578369693007, abs=1e-12)
    assert_close(out['waveform'], waveform * 1.0971578369693007)
    with pytest.raises(ValueError, match=r'waveform.*\(1, L\)'):
        TRANSFORMS.build(dict(type='RandomWaveformGain'))(dict(waveform=torch.zeros(2, 8)))


# ------------------------------------------------------------------ mixup
def test_mixup_with_a_fixed_lambda_mixes_dc_free_waveforms_and_label_vectors(audioset):
    first, second = load(audioset, 0), load(audioset, 1)  # labels [0] and [1, 2]
    w1, w2 = first['waveform'].clone(), second['waveform'].clone()
    first.update(gt_label=[0], num_classes=3)
    second.update(gt_label=[1, 2])
    out = WaveformMixup.mix(first, second, 0.3)
    assert_close(out['waveform'], 0.3 * (w1 - w1.mean()) + 0.7 * (w2 - w2.mean()))
    assert_close(out['gt_score'], torch.tensor([0.3, 0.7, 0.7]))
    assert out['mix_lambda'] == 0.3 and out['mix_audio_path'].endswith('train_0001.wav')
    # a shorter second clip is zero-padded (after removing its mean), a longer one cut
    short = dict(waveform=torch.tensor([[2., 4.]]), gt_label=[0, 1], sample_rate=16000)
    mixed = WaveformMixup.mix(dict(waveform=torch.tensor([[1., 2., 3., 4.]]), gt_label=[0],
                                   sample_rate=16000, num_classes=3), short, 0.5)
    assert_close(mixed['waveform'], torch.tensor([[-1.25, 0.25, 0.25, 0.75]]))
    assert_close(mixed['gt_score'], torch.tensor([1.0, 0.5, 0.0]))  # class 0 is in both
    long = dict(waveform=torch.tensor([[0., 2., 4., 6., 8., 10.]]), gt_label=[2], sample_rate=16000)
    mixed = WaveformMixup.mix(dict(waveform=torch.zeros(1, 3), gt_label=[2], sample_rate=16000,
                                   num_classes=3), long, 0.5)
    assert_close(mixed['waveform'], torch.tensor([[-2.5, -1.5, -0.5]]))


def pipeline(mixup_prob: float):
    return [dict(type='LoadAudioFromFile'), dict(type='RandomWaveformRoll'),
            dict(type='RandomWaveformGain'), dict(type='WaveformMixup', prob=mixup_prob),
            dict(type='KaldiFbank', target_length=FRAMES),
            dict(type='PackInputs', input_key='fbank', meta_keys=('mix_lambda', 'roll_shift',
                                                                  'gain', 'mix_audio_path'))]


def test_dataset_mixes_a_second_clip_with_its_own_roll_and_gain(audioset):
    """The dataset's sample equals AudioMAE's recipe replayed with the same NumPy draws: the
    clip's roll and gain, the mixup draw and partner, the partner's roll and gain, then λ."""
    from torchaudio.compliance import kaldi
    dataset = DATASETS.build(dict(type='AudioSetDataset', pipeline=pipeline(1.0),
                                  **audioset['train']))
    np.random.seed(3)
    sample = dataset[0]
    rng = np.random.RandomState(3)
    shift1, gain1 = rng.randint(16000), rng.beta(10, 10) + 0.5
    assert rng.rand() < 1.0
    partner = rng.randint(4)
    assert partner == 1  # another clip than the first, with other labels ([1, 2])
    shift2, gain2 = rng.randint(16000), rng.beta(10, 10) + 0.5
    lam = rng.beta(10, 10)
    meta = sample['data_samples']
    assert meta.mix_lambda == pytest.approx(lam) and meta.roll_shift == shift1
    assert meta.mix_audio_path.endswith(f'train_{partner:04d}.wav')

    def centred(index, shift, gain):
        w = torch.roll(load(audioset, index)['waveform'], int(shift), dims=1) * gain
        return w - w.mean()

    mix = lam * centred(0, shift1, gain1) + (1 - lam) * centred(partner, shift2, gain2)
    fbank = kaldi.fbank(mix - mix.mean(), htk_compat=True, sample_frequency=16000,
                        use_energy=False, window_type='hanning', num_mel_bins=128, dither=0.0,
                        frame_shift=10)
    expected = torch.nn.functional.pad(fbank, (0, 0, 0, FRAMES - fbank.shape[0]))[None]
    assert_close(sample['inputs'], expected, rtol=1e-4, atol=1e-3)
    assert_close(meta.gt_score, torch.tensor([lam, 1 - lam, 1 - lam], dtype=torch.float32))
    assert meta.gt_label.tolist() == audioset['labels']['train'][0]


def test_unmixed_clips_carry_their_one_hot_score_and_batches_stack(audioset):
    from mmpretrain.models import ClsDataPreprocessor, MultiLabelLinearClsHead
    dataset = DATASETS.build(dict(type='AudioSetDataset', pipeline=pipeline(0.0),
                                  **audioset['train']))
    batch = [dataset[1], dataset[2]]  # labels [1, 2] and [2]
    for sample in batch:
        assert sample['data_samples'].mix_lambda == 1.0
    preprocessor = ClsDataPreprocessor(num_classes=3)
    data = preprocessor(dict(inputs=[b['inputs'] for b in batch],
                             data_samples=[b['data_samples'] for b in batch]), training=True)
    scores = torch.stack([s.gt_score for s in data['data_samples']])
    assert_close(scores, torch.tensor([[0., 1., 1.], [0., 0., 1.]]))
    # the multi-label head trains on the (soft) score vectors: BCE summed over the classes
    head = MultiLabelLinearClsHead(num_classes=3, in_channels=4)
    feats = torch.randn(2, 4)
    loss = head.loss((feats, ), data['data_samples'])['loss']
    logits = head.fc(feats)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, scores,
                                                                   reduction='sum') / 2
    assert_close(loss, expected)


def test_mixup_outside_a_mixing_dataset_is_an_error(audioset):
    steps = Compose([dict(type='LoadAudioFromFile'), dict(type='WaveformMixup')])
    path = f'{audioset["train"]["data_root"]}/audio/train_0000.wav'
    with pytest.raises(ValueError, match='needs the dataset to load the clip'):
        steps(dict(audio_path=path, gt_label=[0]))
    with pytest.raises(ValueError, match=r'prob must be in \[0, 1\]'):
        WaveformMixup(prob=1.5)
