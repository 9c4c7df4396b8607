"""Synthesise audio clips and write their log-mel spectrograms as a flat folder of PNG images.

The auxiliary modality of the demo: sine tones (with harmonics and vibrato), chirps (linear or
exponential sweeps), band-limited noise bursts, and mixtures of these, every parameter drawn from
``numpy.random.default_rng(seed)``. Each clip is turned into a log-mel spectrogram with
``torchaudio.transforms.MelSpectrogram`` (dB, ``top_db`` dynamic range), min-max normalised to
0..255, pooled to ``size``×``size`` (mel bins × frames, low frequencies at the bottom) and saved as
a grey PNG: an audio clip seen as a one-channel image, as AudioMAE and the paper treat audio.
There are no labels: the folder is read by mmpretrain's ``CustomDataset(with_label=False)``::

    OUT/00000_tone.png  OUT/00001_noise.png  ...

Command line: ``python tools/data/synth_spectrograms.py OUT --num 2000``.
"""
import os
from typing import Callable, Dict, Iterator, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

SAMPLE_RATE = 16000
DURATION = 1.0
KINDS = ('tone', 'chirp', 'noise', 'mixture')


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _envelope(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    """A random segment of the clip with exponential attack and release (0 outside)."""
    length = int(rng.uniform(0.15, 1.0) * n)
    start = int(rng.integers(0, n - length + 1))
    t = np.arange(length) / sample_rate
    attack = _log_uniform(rng, 0.002, 0.1)
    release = min(_log_uniform(rng, 0.01, 0.3), t[-1] / 6)
    env = (1 - np.exp(-t / attack)) * np.exp(-np.maximum(0, t - t[-1] + 6 * release) / release)
    out = np.zeros(n)
    out[start:start + length] = env
    return out


def _tone(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    t = np.arange(n) / sample_rate
    f0 = _log_uniform(rng, 80, 3000)
    vibrato = rng.uniform(0, 0.03) * np.sin(2 * np.pi * rng.uniform(2, 8) * t)
    phase = 2 * np.pi * np.cumsum(f0 * (1 + vibrato)) / sample_rate
    wave = np.zeros(n)
    decay = rng.uniform(0.3, 0.9)
    for h in range(1, int(rng.integers(1, 6)) + 1):
        if h * f0 < sample_rate / 2:
            wave += decay**(h - 1) * np.sin(h * phase + rng.uniform(0, 2 * np.pi))
    return wave * _envelope(rng, n, sample_rate)


def _chirp(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    f0, f1 = _log_uniform(rng, 80, 7000), _log_uniform(rng, 80, 7000)
    s = np.linspace(0, 1, n)
    freq = f0 + (f1 - f0) * s if rng.random() < 0.5 else f0 * (f1 / f0)**s
    return np.sin(2 * np.pi * np.cumsum(freq) / sample_rate) * _envelope(rng, n, sample_rate)


def _noise(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    """White noise band-passed to a random band (a mask on its spectrum)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    low = _log_uniform(rng, 50, 4000)
    high = min(low * _log_uniform(rng, 1.5, 20), sample_rate / 2)
    spectrum[(freqs < low) | (freqs > high)] = 0
    wave = np.fft.irfft(spectrum, n)
    return wave / (np.abs(wave).max() + 1e-8) * _envelope(rng, n, sample_rate)


def _mixture(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    parts = [SYNTHS[KINDS[int(rng.integers(0, 3))]] for _ in range(int(rng.integers(2, 4)))]
    return sum(rng.uniform(0.3, 1.0) * part(rng, n, sample_rate) for part in parts)


SYNTHS: Dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = dict(
    tone=_tone, chirp=_chirp, noise=_noise, mixture=_mixture)


def synth_clip(rng: np.random.Generator, kind: str, sample_rate: int = SAMPLE_RATE,
               duration: float = DURATION) -> np.ndarray:
    """One clip of ``kind`` (one of :data:`KINDS`): float32 in [-1, 1] with a faint noise floor."""
    if kind not in SYNTHS:
        raise ValueError(f'kind must be one of {KINDS}, got {kind!r}')
    n = int(round(sample_rate * duration))
    wave = SYNTHS[kind](rng, n, sample_rate)
    wave = wave / (np.abs(wave).max() + 1e-8) * rng.uniform(0.3, 1.0)
    wave = wave + 10**(rng.uniform(-4, -2)) * rng.standard_normal(n)
    return np.clip(wave, -1, 1).astype(np.float32)


def log_mel_images(waves: torch.Tensor, size: int = 32, sample_rate: int = SAMPLE_RATE,
                   top_db: float = 80.) -> torch.Tensor:
    """Log-mel spectrograms of ``waves`` [B, T] as uint8 images [B, size, size].

    ``2·size`` mel bins and about ``2·size`` frames, average-pooled to ``size``×``size``; each image
    is min-max normalised after clamping to ``top_db`` below its peak; row 0 is the highest band.
    """
    import torchaudio
    if waves.ndim != 2:
        raise ValueError(f'waves must be [batch, samples], got shape {tuple(waves.shape)}')
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=1024, hop_length=max(1, waves.shape[1] // (2 * size)),
        n_mels=2 * size, power=2.0)(waves.float())  # [B, n_mels, frames]
    db = 10 * torch.log10(mel.clamp_min(1e-10))
    db = torch.maximum(db, db.amax(dim=(1, 2), keepdim=True) - top_db)
    img = F.adaptive_avg_pool2d(db[:, None], size)[:, 0].flip(1)
    low, high = img.amin(dim=(1, 2), keepdim=True), img.amax(dim=(1, 2), keepdim=True)
    img = (img - low) / (high - low).clamp_min(1e-6)
    return (img * 255).round().to(torch.uint8)


def iter_clips(num: int, seed: int = 0) -> Iterator[Tuple[int, str, np.ndarray]]:
    """``(index, kind, wave)`` for ``num`` clips; kinds cycle so that each appears ~num/4 times."""
    rng = np.random.default_rng(seed)
    for i in range(num):
        kind = KINDS[i % len(KINDS)]
        yield i, kind, synth_clip(rng, kind)


def write_spectrograms(out_dir: str, num: int = 2000, seed: int = 0, size: int = 32,
                       batch_size: int = 256) -> int:
    """Write ``num`` spectrogram PNGs (``size``×``size``, grey) into the flat folder ``out_dir``.

    Returns:
        The number of images written.
    """
    if num <= 0:
        raise ValueError(f'num must be positive, got {num}')
    os.makedirs(out_dir, exist_ok=True)
    batch = []

    def flush() -> None:
        images = log_mel_images(torch.from_numpy(np.stack([w for _, _, w in batch])), size)
        for (i, kind, _), img in zip(batch, images.numpy()):
            Image.fromarray(img).save(os.path.join(out_dir, f'{i:05d}_{kind}.png'))
        batch.clear()

    for item in iter_clips(num, seed):
        batch.append(item)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    return num
