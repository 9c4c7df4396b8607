"""Video transforms with PyAV: mp4 → a normalised ``(C, T, H, W)`` clip.

Pipeline (VideoMAE's Kinetics-400 fine-tuning practice: 16 frames, interval 4, 224²)::

    PyAVInit → SampleFrames(clip_len=16, frame_interval=4) → PyAVDecode
    → VideoResize(short_side=224) → VideoCrop(224, random_crop=train) → [VideoFlip, train]
    → VideoNormalize → PackInputs(input_key='imgs')

Between transforms ``imgs`` is a tensor ``(T, C, H, W)`` (uint8 after decoding, float after
resizing), the layout torchvision's ``transforms.v2.functional`` works on, which does the pixel
work; ``VideoNormalize`` turns it into the model's ``(C, T, H, W)`` float clip.

PyAV rather than mmaction2: mmaction2 1.2.0's wheel cannot import ``mmaction.models`` (its
``localizers/__init__.py`` imports a ``drn`` package the wheel lacks) and needs ``decord``.
"""
import os.path as osp
from typing import Sequence, Tuple, Union

import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

#: ImageNet mean/std on the 0–255 scale (VideoMAE: the [0, 1] values on [0, 1] frames, the same).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def _open_video(path: str):
    import av

    if not osp.isfile(path):
        raise FileNotFoundError(f'video file not found: {path}')
    try:
        container = av.open(path)
    except (av.FFmpegError, OSError, ValueError) as e:
        raise ValueError(f'cannot open video {path}: {e}') from e
    if not container.streams.video:
        container.close()
        raise ValueError(f'{path} has no video stream')
    return container


@TRANSFORMS.register_module()
class PyAVInit(BaseTransform):
    """Count the frames of ``results['video_path']`` (container metadata; demuxed packets when
    the container does not store the count). Adds ``total_frames``.

    Raises:
        ValueError: an unreadable file or one without video frames (the message names it).
    """

    def transform(self, results: dict) -> dict:
        import av

        path = results['video_path']
        container = _open_video(path)
        try:
            stream = container.streams.video[0]
            total = stream.frames
            if total <= 0:
                total = sum(1 for packet in container.demux(stream) if packet.size)
        except av.FFmpegError as e:
            raise ValueError(f'cannot read video {path}: {e}') from e
        finally:
            container.close()
        if total <= 0:
            raise ValueError(f'video {path} has no frames')
        results['total_frames'] = int(total)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """Pick ``clip_len`` frame indices ``frame_interval`` apart from ``total_frames``.

    Training: a random start where the whole clip fits; test: the centred clip. A video shorter
    than the clip's span ``(clip_len - 1) * frame_interval + 1`` is handled by ``out_of_bound``:

    - ``'repeat_last'`` (default): indices past the end repeat the last frame. This is what
      VideoMAE's Kinetics loader does for a short video (it pads the index list with the last
      frame), so a short clip still yields ``clip_len`` frames of real content.
    - ``'loop'``: indices wrap around to the start (mmaction2's default).
    - ``'error'``: raise ``ValueError`` naming the video and both lengths.

    Adds ``frame_inds`` (int64 array of ``clip_len``), ``clip_len``, ``frame_interval``.

    Args:
        clip_len: Frames per clip (VideoMAE: 16).
        frame_interval: Step between sampled frames (VideoMAE K400: 4).
        test_mode: Centred (True) or random (False) start.
        out_of_bound: ``'repeat_last'``, ``'loop'`` or ``'error'``.
    """

    def __init__(self,
                 clip_len: int = 16,
                 frame_interval: int = 4,
                 test_mode: bool = False,
                 out_of_bound: str = 'repeat_last') -> None:
        if out_of_bound not in ('repeat_last', 'loop', 'error'):
            raise ValueError(f"out_of_bound must be 'repeat_last', 'loop' or 'error', got "
                             f'{out_of_bound!r}')
        if clip_len < 1 or frame_interval < 1:
            raise ValueError(f'clip_len and frame_interval must be >= 1, got {clip_len}, '
                             f'{frame_interval}')
        self.clip_len, self.frame_interval = clip_len, frame_interval
        self.test_mode, self.out_of_bound = test_mode, out_of_bound

    def transform(self, results: dict) -> dict:
        total = results['total_frames']
        span = (self.clip_len - 1) * self.frame_interval + 1
        if total >= span:
            start = (total - span) // 2 if self.test_mode else np.random.randint(total - span + 1)
        elif self.out_of_bound == 'error':
            raise ValueError(f'video {results.get("video_path", "")} has {total} frames, fewer '
                             f'than the {span} a clip of {self.clip_len} frames at interval '
                             f'{self.frame_interval} spans')
        else:
            start = 0
        inds = start + np.arange(self.clip_len, dtype=np.int64) * self.frame_interval
        inds = np.minimum(inds, total - 1) if self.out_of_bound == 'repeat_last' else inds % total
        results.update(frame_inds=inds, clip_len=self.clip_len,
                       frame_interval=self.frame_interval)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, frame_interval='
                f'{self.frame_interval}, test_mode={self.test_mode}, out_of_bound='
                f'{self.out_of_bound!r})')


@TRANSFORMS.register_module()
class PyAVDecode(BaseTransform):
    """Decode the frames ``frame_inds`` of ``video_path`` as RGB.

    Decodes sequentially up to the largest index (mp4 seeking lands on key frames, so a
    sequential decode is the exact way). If the stream holds fewer frames than its metadata
    claimed, indices past the last decoded frame take the last decoded frame.

    Adds ``imgs`` (uint8 tensor ``(T, 3, H, W)``), ``original_shape`` and ``img_shape`` (H, W).
    """

    def transform(self, results: dict) -> dict:
        import av

        path, inds = results['video_path'], np.asarray(results['frame_inds'])
        wanted, last_needed = set(inds.tolist()), int(inds.max())
        frames, last_index, last_frame = {}, -1, None
        container = _open_video(path)
        try:
            stream = container.streams.video[0]
            stream.thread_type = 'AUTO'
            for last_index, frame in enumerate(container.decode(stream)):
                last_frame = frame
                if last_index in wanted:
                    frames[last_index] = frame.to_ndarray(format='rgb24')
                if last_index >= last_needed:
                    break
        except av.FFmpegError as e:
            raise ValueError(f'cannot decode video {path}: {e}') from e
        finally:
            container.close()
        if last_frame is None:
            raise ValueError(f'video {path} has no decodable frames')
        if last_index < last_needed:
            frames.setdefault(last_index, last_frame.to_ndarray(format='rgb24'))
        clip = np.stack([frames[min(int(i), last_index)] for i in inds])
        imgs = torch.from_numpy(clip).permute(0, 3, 1, 2).contiguous()
        results.update(imgs=imgs, original_shape=tuple(clip.shape[1:3]),
                       img_shape=tuple(clip.shape[1:3]))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


@TRANSFORMS.register_module()
class VideoResize(BaseTransform):
    """Resize every frame so the short side is ``short_side`` (aspect kept), bilinear with
    antialiasing. ``imgs`` becomes float ``(T, 3, H', W')``.

    Args:
        short_side: Target length of the shorter side (VideoMAE: 224 for fine-tuning eval).
    """

    def __init__(self, short_side: int = 224) -> None:
        self.short_side = short_side

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        h, w = imgs.shape[-2:]
        scale = self.short_side / min(h, w)
        size = (self.short_side, max(1, round(w * scale))) if h <= w else (
            max(1, round(h * scale)), self.short_side)
        # the size is ours (rounded): torchvision's short-side resize truncates the long side
        imgs = TF.resize(imgs.float(), list(size), interpolation=TF.InterpolationMode.BILINEAR,
                         antialias=True)
        results.update(imgs=imgs, img_shape=size)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(short_side={self.short_side})'


@TRANSFORMS.register_module()
class VideoCrop(BaseTransform):
    """Crop every frame of a clip at the same place: centred (eval) or random (training).

    Args:
        crop_size: ``s`` or ``(h, w)``.
        random_crop: Random position instead of the centre.
    """

    def __init__(self, crop_size: Union[int, Sequence[int]] = 224,
                 random_crop: bool = False) -> None:
        self.crop_size: Tuple[int, int] = (crop_size, crop_size) if isinstance(
            crop_size, int) else tuple(crop_size)
        self.random_crop = random_crop

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        h, w = imgs.shape[-2:]
        ch, cw = self.crop_size
        if h < ch or w < cw:
            raise ValueError(f'cannot crop {ch}x{cw} from frames of {h}x{w} '
                             f'({results.get("video_path", "")}); resize first')
        if self.random_crop:
            top, left = np.random.randint(h - ch + 1), np.random.randint(w - cw + 1)
        else:
            top, left = (h - ch) // 2, (w - cw) // 2
        # the centre is ours (floor): torchvision's center_crop rounds half to even
        results.update(imgs=TF.crop(imgs, top, left, ch, cw), img_shape=(ch, cw),
                       crop_bbox=(left, top, left + cw, top + ch))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(crop_size={self.crop_size}, random_crop={self.random_crop})'


@TRANSFORMS.register_module()
class VideoFlip(BaseTransform):
    """Flip the whole clip horizontally with probability ``prob``. Adds ``flip``.

    Args:
        prob: Flip probability.
    """

    def __init__(self, prob: float = 0.5) -> None:
        self.prob = prob

    def transform(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.prob)
        if flip:
            results['imgs'] = TF.horizontal_flip(results['imgs'])
        results['flip'] = flip
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class VideoNormalize(BaseTransform):
    """Normalise per channel and lay the clip out as ``(C, T, H, W)`` float (VideoMAE's tubelet
    embedding input).

    Args:
        mean: Per-channel mean on the 0–255 scale (RGB).
        std: Per-channel std on the 0–255 scale.
    """

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD) -> None:
        if len(mean) != len(std):
            raise ValueError(f'mean and std need one value per channel, got {mean} and {std}')
        self.mean, self.std = tuple(mean), tuple(std)

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        if imgs.dim() != 4 or imgs.shape[1] != len(self.mean):
            raise ValueError(f'VideoNormalize expects imgs (T, {len(self.mean)}, H, W), got '
                             f'{tuple(imgs.shape)}')
        imgs = TF.normalize(imgs.float(), list(self.mean), list(self.std))
        results['imgs'] = imgs.permute(1, 0, 2, 3).contiguous()
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(mean={self.mean}, std={self.std})'
