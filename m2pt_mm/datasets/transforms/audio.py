"""Audio transforms: wav → AudioMAE's normalised Kaldi log-mel filterbank ``(1, T, F)``.

Pipeline (AudioMAE's order, which matters: padding and SpecAugment write zeros into the *raw*
log-mel values, before normalisation)::

    LoadAudioFromFile → [RandomWaveformRoll → RandomWaveformGain → WaveformMixup, train only]
    → KaldiFbank → [SpecAugment, train only] → NormalizeFbank → PackInputs(input_key='fbank')

Random draws use NumPy's global generator, as mmcv's transforms do, so that mmengine's seeding
of the process and of each data-loader worker makes them reproducible.
"""
import os.path as osp
from typing import List, Sequence, Sized, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS
from mmpretrain.structures import label_to_onehot

#: AudioMAE's dataset statistics of the 128-bin fbank (mean, std); normalised as (x-mean)/(2 std).
AUDIOSET_FBANK_STATS = (-4.2677393, 4.5689974)
ESC50_FBANK_STATS = (-6.6268077, 5.358466)


@TRANSFORMS.register_module()
class LoadAudioFromFile(BaseTransform):
    """Read ``results['audio_path']`` with soundfile, average the channels, resample.

    Adds ``waveform`` (float32 tensor ``(1, L)``, in [-1, 1] as ``torchaudio.load`` gives) and
    ``sample_rate`` (= ``sample_rate`` argument) and ``ori_sample_rate``.

    Args:
        sample_rate: Output rate; a file at another rate is resampled
            (``torchaudio.functional.resample``). AudioMAE uses 16 kHz.

    Raises:
        ValueError: a file soundfile cannot read, or one without samples (the message names it).
    """

    def __init__(self, sample_rate: int = 16000) -> None:
        self.sample_rate = sample_rate

    def transform(self, results: dict) -> dict:
        import soundfile

        path = results['audio_path']
        if not osp.isfile(path):
            raise FileNotFoundError(f'audio file not found: {path}')
        try:
            data, rate = soundfile.read(path, dtype='float32', always_2d=True)
        except (RuntimeError, ValueError) as e:  # soundfile's LibsndfileError is a RuntimeError
            raise ValueError(f'cannot read audio file {path}: {e}') from e
        if data.shape[0] == 0:
            raise ValueError(f'audio file {path} has no samples')
        if not np.isfinite(data).all():
            raise ValueError(f'audio file {path} contains NaN or infinite samples')
        # mono: AudioMAE's data is mono; averaging keeps every channel of a stereo file
        waveform = torch.from_numpy(data.mean(axis=1, dtype=np.float32))[None]
        if rate != self.sample_rate:
            import torchaudio.functional as AF
            waveform = AF.resample(waveform, rate, self.sample_rate)
        results.update(waveform=waveform, sample_rate=self.sample_rate, ori_sample_rate=rate)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(sample_rate={self.sample_rate})'


@TRANSFORMS.register_module()
class KaldiFbank(BaseTransform):
    """AudioMAE's features: Kaldi-compatible log-mel filterbank of the DC-free waveform.

    ``torchaudio.compliance.kaldi.fbank(htk_compat=True, use_energy=False, window_type='hanning',
    dither=0.0, frame_shift=10, frame_length=25, num_mel_bins=128)``, then zero-padded or cropped
    (at the end) to ``target_length`` frames. Adds ``fbank`` ``(1, target_length, num_mel_bins)``
    — time along height, mel bins along width, the orientation AudioMAE's 1-channel patch
    embedding sees (``[B, 1, 1024, 128]``) — and ``num_frames`` (frames before pad/crop).

    Args:
        num_mel_bins: Mel bins (AudioMAE: 128).
        target_length: Frames after pad/crop (AudioSet 1024 = 10.24 s, ESC-50 512).
        frame_shift: ms (10).
        frame_length: ms (25).
    """

    def __init__(self,
                 num_mel_bins: int = 128,
                 target_length: int = 1024,
                 frame_shift: float = 10.0,
                 frame_length: float = 25.0) -> None:
        self.num_mel_bins = num_mel_bins
        self.target_length = target_length
        self.frame_shift = frame_shift
        self.frame_length = frame_length

    def transform(self, results: dict) -> dict:
        from torchaudio.compliance import kaldi

        waveform = results['waveform']
        window = int(results['sample_rate'] * self.frame_length / 1000)
        if waveform.shape[-1] < window:
            raise ValueError(f'audio {results.get("audio_path", "")} has {waveform.shape[-1]} '
                             f'samples, fewer than one {self.frame_length} ms window ({window})')
        fbank = kaldi.fbank(waveform - waveform.mean(), htk_compat=True,
                            sample_frequency=results['sample_rate'], use_energy=False,
                            window_type='hanning', num_mel_bins=self.num_mel_bins, dither=0.0,
                            frame_shift=self.frame_shift, frame_length=self.frame_length)
        num_frames = fbank.shape[0]
        if num_frames < self.target_length:
            fbank = torch.nn.functional.pad(fbank, (0, 0, 0, self.target_length - num_frames))
        else:
            fbank = fbank[:self.target_length]
        results.update(fbank=fbank[None], num_frames=num_frames)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_mel_bins={self.num_mel_bins}, target_length='
                f'{self.target_length}, frame_shift={self.frame_shift}, frame_length='
                f'{self.frame_length})')


@TRANSFORMS.register_module()
class SpecAugment(BaseTransform):
    """AudioMAE's training-time SpecAugment on ``fbank`` ``(1, T, F)``: one frequency mask of up
    to ``freqm`` bins and one time mask of up to ``timem`` frames, filled with 0 in the raw
    log-mel domain (so place it before ``NormalizeFbank``). Uses torchaudio's
    ``mask_along_axis``, as AudioMAE's ``FrequencyMasking`` / ``TimeMasking`` do.

    Args:
        freqm: Maximum frequency-mask width (AudioMAE AudioSet: 48); 0 disables.
        timem: Maximum time-mask width (AudioMAE AudioSet: 192); 0 disables.
    """

    def __init__(self, freqm: int = 48, timem: int = 192) -> None:
        self.freqm, self.timem = freqm, timem

    def transform(self, results: dict) -> dict:
        import torchaudio.functional as AF

        fbank = results['fbank']
        if fbank.dim() != 3:
            raise ValueError(f'SpecAugment expects fbank of shape (1, T, F), got '
                             f'{tuple(fbank.shape)}')
        if self.freqm > 0:
            fbank = AF.mask_along_axis(fbank, self.freqm, 0.0, axis=2)
        if self.timem > 0:
            fbank = AF.mask_along_axis(fbank, self.timem, 0.0, axis=1)
        results['fbank'] = fbank
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(freqm={self.freqm}, timem={self.timem})'


@TRANSFORMS.register_module()
class NormalizeFbank(BaseTransform):
    """AudioMAE's normalisation ``(fbank - mean) / (2 * std)`` with dataset statistics.

    Args:
        mean: Dataset fbank mean (AudioSet −4.2677393, ESC-50 −6.6268077).
        std: Dataset fbank std (AudioSet 4.5689974, ESC-50 5.358466).
    """

    def __init__(self,
                 mean: float = AUDIOSET_FBANK_STATS[0],
                 std: float = AUDIOSET_FBANK_STATS[1]) -> None:
        if std <= 0:
            raise ValueError(f'std must be positive, got {std}')
        self.mean, self.std = mean, std

    def transform(self, results: dict) -> dict:
        results['fbank'] = (results['fbank'] - self.mean) / (2 * self.std)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(mean={self.mean}, std={self.std})'


def _check_waveform(name: str, results: dict) -> torch.Tensor:
    waveform = results.get('waveform')
    if not isinstance(waveform, torch.Tensor) or waveform.dim() != 2 or waveform.shape[0] != 1:
        shape = tuple(waveform.shape) if isinstance(waveform, torch.Tensor) else type(waveform)
        raise ValueError(f'{name} expects results["waveform"] of shape (1, L) from '
                         f'LoadAudioFromFile ({results.get("audio_path", "")}), got {shape}')
    return waveform


def _onehot(label: Union[int, Sequence[int]], num_classes: int) -> torch.Tensor:
    return label_to_onehot(label, num_classes).float()


@TRANSFORMS.register_module()
class RandomWaveformRoll(BaseTransform):
    """The roll of AudioMAE's ``roll_mag_aug``: a circular shift of the waveform by a uniformly
    drawn number of samples in ``[0, L)``. Records the shift as ``roll_shift``."""

    def transform(self, results: dict) -> dict:
        waveform = _check_waveform(type(self).__name__, results)
        shift = int(np.random.randint(waveform.shape[1]))
        results.update(waveform=torch.roll(waveform, shift, dims=1), roll_shift=shift)
        return results


@TRANSFORMS.register_module()
class RandomWaveformGain(BaseTransform):
    """The magnitude of AudioMAE's ``roll_mag_aug``: the waveform times
    ``Beta(alpha, alpha) + offset`` (AudioMAE: ``Beta(10, 10) + 0.5``, a gain in (0.5, 1.5)
    around 1). Records the factor as ``gain``.

    Args:
        alpha: Both Beta parameters.
        offset: Added to the Beta draw.
    """

    def __init__(self, alpha: float = 10.0, offset: float = 0.5) -> None:
        if alpha <= 0:
            raise ValueError(f'alpha must be positive, got {alpha}')
        self.alpha, self.offset = alpha, offset

    def transform(self, results: dict) -> dict:
        waveform = _check_waveform(type(self).__name__, results)
        gain = float(np.random.beta(self.alpha, self.alpha)) + self.offset
        results.update(waveform=waveform * gain, gain=gain)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(alpha={self.alpha}, offset={self.offset})'


@TRANSFORMS.register_module()
class WaveformMixup(BaseTransform):
    """AudioMAE's mixup: in the dataset, on waveforms, before the fbank (not a batch mixup of
    spectrograms).

    With probability ``prob`` a second clip, drawn uniformly from the whole dataset, is mixed in:
    ``λ·(w₁ - mean w₁) + (1-λ)·(w₂ - mean w₂)`` with ``λ ~ Beta(alpha, alpha)``, ``w₂`` zero-padded
    or cut to ``w₁``'s length, and the target ``gt_score = λ·y₁ + (1-λ)·y₂`` (one-hot label
    vectors; a class of both clips scores 1). A clip that is not mixed gets ``gt_score = y₁``, so
    that every sample of a batch carries a score vector (mmpretrain's preprocessor and heads use
    ``gt_score`` when the first sample has one).

    The dataset loads the second clip: this transform follows mmdet's multi-sample convention,
    :meth:`get_indexes` picks it, and the dataset (``AudioSetDataset``, ``ESC50Dataset``) runs the
    transforms *before* this one on it and passes the result as ``results['mix_results']`` (so it
    gets its own roll and gain, as in AudioMAE), with ``results['num_classes']``. Records
    ``mix_lambda`` (1.0 when not mixed) and ``mix_audio_path``.

    Args:
        prob: Probability that a clip is mixed (AudioMAE ``--mixup``: 0.5).
        alpha: λ ~ Beta(alpha, alpha) (AudioMAE: 10).
    """

    def __init__(self, prob: float = 0.5, alpha: float = 10.0) -> None:
        if not 0. <= prob <= 1.:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if alpha <= 0:
            raise ValueError(f'alpha must be positive, got {alpha}')
        self.prob, self.alpha = prob, alpha

    def get_indexes(self, dataset: Sized) -> List[int]:
        """The index of the clip to mix in (``[]``: no mixing this time)."""
        if np.random.rand() >= self.prob:
            return []
        return [int(np.random.randint(len(dataset)))]

    def transform(self, results: dict) -> dict:
        if 'mix_results' not in results or 'num_classes' not in results:
            raise ValueError(f'{type(self).__name__} needs the dataset to load the clip to mix '
                             f'(results["mix_results"], results["num_classes"]): use it in the '
                             f'pipeline of AudioSetDataset or ESC50Dataset')
        others = results.pop('mix_results')
        if len(others) > 1:
            raise ValueError(f'{type(self).__name__} mixes two clips, got {len(others)} to mix in')
        if not others:
            results.update(gt_score=_onehot(results['gt_label'], results['num_classes']),
                           mix_lambda=1.0)
            return results
        return self.mix(results, others[0], float(np.random.beta(self.alpha, self.alpha)))

    @staticmethod
    def mix(results: dict, other: dict, lam: float) -> dict:
        """Mix ``other`` into ``results`` with weight ``1 - lam`` (waveforms and label vectors)."""
        first = _check_waveform('WaveformMixup', results)
        second = _check_waveform('WaveformMixup (the clip to mix in)', other)
        if results['sample_rate'] != other['sample_rate']:
            raise ValueError(f'cannot mix {results.get("audio_path")} at {results["sample_rate"]} '
                             f'Hz with {other.get("audio_path")} at {other["sample_rate"]} Hz')
        first, second = first - first.mean(), second - second.mean()
        length = first.shape[1]
        if second.shape[1] < length:  # AudioMAE: pad the second clip with zeros, or cut it
            second = torch.nn.functional.pad(second, (0, length - second.shape[1]))
        second = second[:, :length]
        num_classes = results['num_classes']
        score = (lam * _onehot(results['gt_label'], num_classes) +
                 (1 - lam) * _onehot(other['gt_label'], num_classes))
        results.update(waveform=lam * first + (1 - lam) * second, gt_score=score,
                       mix_lambda=lam, mix_audio_path=other.get('audio_path'))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob}, alpha={self.alpha})'
