"""AudioSet / ESC-50 datasets and the AudioMAE fbank pipeline, on real wav files."""
import json

import numpy as np
import pytest
import soundfile
import torch
from mmengine.evaluator import Evaluator
from mmpretrain.registry import DATASETS, TRANSFORMS
from torchaudio.compliance import kaldi

import m2pt_mm.datasets  # noqa: F401  registers
from m2pt_mm.datasets.transforms.audio import AUDIOSET_FBANK_STATS
from m2pt_mm.testing.modalities import tone, write_audioset, write_esc50, write_wav


def pipeline(target_length=128, augment=False, stats=AUDIOSET_FBANK_STATS):
    steps = [dict(type='LoadAudioFromFile'), dict(type='KaldiFbank', target_length=target_length)]
    if augment:
        steps.append(dict(type='SpecAugment', freqm=48, timem=192))
    steps += [dict(type='NormalizeFbank', mean=stats[0], std=stats[1]),
              dict(type='PackInputs', input_key='fbank', meta_keys=('sample_idx', 'audio_path'))]
    return steps


def audiomae_fbank(path, target_length, mean, std):
    """AudioMAE's dataset.py ``_wav2fbank`` + normalisation, written out for 16 kHz files."""
    data, rate = soundfile.read(path, dtype='float32')
    assert rate == 16000
    waveform = torch.from_numpy(data)[None]
    waveform = waveform - waveform.mean()
    fbank = kaldi.fbank(waveform, htk_compat=True, sample_frequency=16000, use_energy=False,
                        window_type='hanning', num_mel_bins=128, dither=0.0, frame_shift=10)
    p = target_length - fbank.shape[0]
    fbank = torch.nn.ZeroPad2d((0, 0, 0, p))(fbank) if p > 0 else fbank[:target_length]
    return ((fbank - mean) / (std * 2))[None]


def test_audioset_labels_and_fbank_match_audiomae(tmp_path):
    info = write_audioset(tmp_path, n=4, num_classes=3)
    train = DATASETS.build(dict(type='AudioSetDataset', **info['train'],
                                pipeline=pipeline(1024)))
    assert len(train) == 4
    assert train.metainfo['classes'] == ('Speech', 'Male speech, man speaking',
                                         'Female speech, woman speaking')
    assert [train.get_data_info(i)['gt_label'] for i in range(4)] == [[0], [1, 2], [2], [0, 1]]
    out = train[1]
    assert out['inputs'].shape == (1, 1024, 128)  # (1, time, mel): AudioMAE's [B, 1, 1024, 128]
    torch.testing.assert_close(out['data_samples'].gt_label, torch.tensor([1, 2]))
    path = out['data_samples'].audio_path
    assert path == str(tmp_path / 'audio' / 'train_0001.wav')
    expected = audiomae_fbank(path, 1024, *AUDIOSET_FBANK_STATS)
    torch.testing.assert_close(out['inputs'], expected)
    # 1 s at 16 kHz, 25 ms windows every 10 ms: 98 frames; the rest is zero-padding in the
    # log-mel domain, i.e. (0 - mean) / (2 std) after normalisation
    pad_value = 4.2677393 / (2 * 4.5689974)
    torch.testing.assert_close(out['inputs'][0, 98:], torch.full((1024 - 98, 128), pad_value))
    assert not torch.allclose(out['inputs'][0, 97], torch.full((128, ), pad_value))

    # eval.json holds absolute paths (AudioMAE's own lists do); they are used as they are
    val = DATASETS.build(dict(type='AudioSetDataset', **info['val'], pipeline=pipeline(64)))
    assert val.get_data_info(3)['audio_path'] == str((tmp_path / 'audio' / 'val_0003.wav')
                                                     .resolve())
    assert val[3]['inputs'].shape == (1, 64, 128)


def test_fbank_crops_long_audio_and_keeps_the_tone(tmp_path):
    # a DC offset of 0.2, which AudioMAE removes before the filterbank
    path = write_wav(tmp_path / 'long.wav',
                     tone([1], 16000, 2.0, np.random.default_rng(0)) + 0.2, 16000)
    results = TRANSFORMS.build(dict(type='LoadAudioFromFile'))(dict(audio_path=str(path)))
    results = TRANSFORMS.build(dict(type='KaldiFbank', target_length=100))(results)
    assert results['num_frames'] == 198 and results['fbank'].shape == (1, 100, 128)
    expected = audiomae_fbank(str(path), 100, 0.0, 0.5)  # mean 0, 2·std 1: the raw log-mel
    torch.testing.assert_close(results['fbank'], expected)
    # 800 Hz tone: the loudest mel bin is the one whose centre is nearest 800 Hz
    centres_hz = kaldi.get_mel_banks(128, 512, 16000., 20., 0., 100., -500., 1.)[1].flatten()
    loudest = int(results['fbank'][0].mean(0).argmax())
    assert loudest == int((centres_hz - 800).abs().argmin())


def test_audioset_mean_average_precision_with_mmpretrain_metric(tmp_path):
    info = write_audioset(tmp_path, n=4, num_classes=3)
    dataset = DATASETS.build(dict(type='AudioSetDataset', **info['train'], pipeline=pipeline(16)))
    scores = torch.tensor([[0.9, 0.1, 0.65], [0.2, 0.8, 0.7], [0.3, 0.4, 0.6], [0.6, 0.3, 0.1]])
    samples = []
    for i in range(4):
        sample = dataset[i]['data_samples']
        sample.set_pred_score(scores[i])
        samples.append(sample)
    evaluator = Evaluator(dict(type='AveragePrecision'))
    evaluator.process(samples)
    # gt [0], [1,2], [2], [0,1]. AP0: positives ranked 1st, 2nd → 1. AP1: ranks 1 and 3 → (1 +
    # 2/3)/2. AP2: ranks 1 and 3 → (1 + 2/3)/2. mAP = (1 + 5/6 + 5/6) / 3
    assert evaluator.evaluate(4)['multi-label/mAP'] == pytest.approx(100 * 8 / 9, abs=1e-3)


def test_esc50_folds_classes_and_resampling(tmp_path):
    info = write_esc50(tmp_path, num_classes=3, clips_per_fold=1, sample_rate=44100, val_fold=2)
    train = DATASETS.build(dict(type='ESC50Dataset', **info['train'], pipeline=pipeline(64)))
    val = DATASETS.build(dict(type='ESC50Dataset', **info['val'], pipeline=pipeline(64)))
    assert len(train) == 12 and len(val) == 3
    assert {train.get_data_info(i)['fold'] for i in range(12)} == {1, 3, 4, 5}
    assert [val.get_data_info(i)['gt_label'] for i in range(3)] == [0, 1, 2]
    assert val.get_data_info(1)['audio_path'].endswith('audio/2-102010-A-1.wav')
    assert val.metainfo['classes'] == ('dog', 'rooster', 'pig')
    out = val[1]
    assert out['inputs'].shape == (1, 64, 128)
    torch.testing.assert_close(out['data_samples'].gt_label, torch.tensor([1]))

    # 44.1 kHz → 16 kHz: 16000 samples, and the 800 Hz tone of class 1 stays at 800 Hz
    results = TRANSFORMS.build(dict(type='LoadAudioFromFile'))(
        dict(audio_path=val.get_data_info(1)['audio_path']))
    assert results['ori_sample_rate'] == 44100 and results['sample_rate'] == 16000
    assert results['waveform'].shape == (1, 16000)
    spectrum = torch.fft.rfft(results['waveform'][0]).abs()
    assert int(spectrum.argmax()) == 800  # 1 s of signal: bin k is k Hz


def test_stereo_is_averaged_to_mono(tmp_path):
    left = np.linspace(-0.5, 0.5, 1600, dtype=np.float32)
    stereo = np.stack([left, np.full_like(left, 0.25)], axis=1)
    path = write_wav(tmp_path / 'stereo.wav', stereo, 16000)
    results = TRANSFORMS.build(dict(type='LoadAudioFromFile'))(dict(audio_path=str(path)))
    torch.testing.assert_close(results['waveform'][0], torch.from_numpy((left + 0.25) / 2),
                               atol=1 / 32768, rtol=0)


def test_spec_augment_masks_whole_rows_and_columns_before_normalisation():
    fbank = torch.ones(1, 200, 64)
    masked_rows = masked_cols = 0
    for seed in range(5):
        torch.manual_seed(seed)
        out = TRANSFORMS.build(dict(type='SpecAugment', freqm=20, timem=40))(
            dict(fbank=fbank.clone()))['fbank']
        zero = out[0] == 0
        rows, cols = zero.all(1), zero.all(0)
        # every zero lies in a fully masked time row or mel column, each mask narrower than its
        # maximum, and the rest is untouched
        assert (zero == (rows[:, None] | cols[None, :])).all()
        assert int(rows.sum()) < 40 and int(cols.sum()) < 20
        assert (out[0][~zero] == 1).all()
        masked_rows += int(rows.sum())
        masked_cols += int(cols.sum())
    assert masked_rows > 0 and masked_cols > 0
    off = TRANSFORMS.build(dict(type='SpecAugment', freqm=0, timem=0))(dict(fbank=fbank.clone()))
    torch.testing.assert_close(off['fbank'], fbank)


@pytest.mark.parametrize('content, message', [
    (b'RIFF\x24\x00\x00\x00WAVEgarbage-not-a-header', 'cannot read audio file'),
    (None, 'has no samples'),
    (np.zeros(100, np.float32), 'fewer than one 25.0 ms window'),
])
def test_bad_wav_files_name_the_file(tmp_path, content, message):
    path = tmp_path / 'bad.wav'
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        soundfile.write(str(path), np.zeros(0, np.float32) if content is None else content, 16000)
    load = TRANSFORMS.build(dict(type='LoadAudioFromFile'))
    fbank = TRANSFORMS.build(dict(type='KaldiFbank'))
    with pytest.raises(ValueError, match=message) as err:
        fbank(load(dict(audio_path=str(path))))
    assert str(path) in str(err.value)


def test_audioset_bad_annotations(tmp_path):
    info = write_audioset(tmp_path, n=2, num_classes=2)
    ann = tmp_path / 'train.json'
    content = json.loads(ann.read_text())
    content['data'][1]['labels'] = '/m/09x0r,/m/unknown'
    ann.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=r"entry 1 .*\['/m/unknown'\]"):
        DATASETS.build(dict(type='AudioSetDataset', **info['train']))
    ann.write_text(json.dumps({'data': [{'wav': 'a.wav'}]}))
    with pytest.raises(ValueError, match='needs keys "wav" and "labels"'):
        DATASETS.build(dict(type='AudioSetDataset', **info['train']))
    csv = tmp_path / 'class_labels_indices.csv'
    csv.write_text('index,mid,display_name\n0,/m/a,A\n2,/m/b,B\n')
    with pytest.raises(ValueError, match='indices must be 0..1'):
        DATASETS.build(dict(type='AudioSetDataset', **info['train']))


def test_esc50_bad_meta(tmp_path):
    info = write_esc50(tmp_path, num_classes=3, seconds=0.1)
    with pytest.raises(ValueError, match='val_fold must be 1..5'):
        DATASETS.build(dict(type='ESC50Dataset', **{**info['val'], 'val_fold': 6}))
    csv = tmp_path / 'meta' / 'esc50.csv'
    csv.write_text(csv.read_text() + '5-1-A-7.wav,5,7,train,False,1,A\n')
    # header + 15 rows: the appended row is line 17
    with pytest.raises(ValueError, match=r'esc50.csv:17: target 7 of 5-1-A-7.wav is out of range'):
        DATASETS.build(dict(type='ESC50Dataset', **info['train']))
