"""Video transforms with PyAV: mp4 → a normalised ``(C, T, H, W)`` clip.

Pipeline (VideoMAE's Kinetics-400 fine-tuning practice: 16 frames, interval 4, 224²)::

    PyAVInit → SampleFrames(clip_len=16, frame_interval=4) → PyAVDecode
    → VideoResize(short_side=224) → VideoCrop(224, random_crop=train) → [VideoFlip, train]
    → VideoNormalize → PackInputs(input_key='imgs')

VideoMAE's fine-tuning recipe adds, on training clips, ``VideoRandAugment`` (timm's
``rand-m7-n4-mstd0.5-inc1``, one draw for every frame), ``VideoRandomResizedCrop`` (one crop for
every frame) and ``VideoRandomErasing`` (one region for every frame); its 5 clips x 3 crops test
is ``SampleFrames(num_clips=5)`` → decode → ``TestTimeAug`` over ``VideoSelectClip`` x
``VideoCrop(position=...)`` (configs/video/_base_/).

Between transforms ``imgs`` is a tensor ``(T, C, H, W)`` (uint8 after decoding, float after
resizing), the layout torchvision's ``transforms.v2.functional`` works on, which does the pixel
work; ``VideoNormalize`` turns it into the model's ``(C, T, H, W)`` float clip.

PyAV rather than mmaction2: mmaction2 1.2.0's wheel cannot import ``mmaction.models`` (its
``localizers/__init__.py`` imports a ``drn`` package the wheel lacks) and needs ``decord``.
"""
import os.path as osp
import random
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

    ``num_clips > 1`` (test only) samples that many clips uniformly spaced over the video, as
    VideoMAE's multi-view test (``--test_num_segment``) does: on the frames taken every
    ``frame_interval`` from frame 0 (``L = ceil(total_frames / frame_interval)`` of them), clip
    ``k`` starts at ``int(k * max(L - clip_len, 0) / (num_clips - 1))``, so the first clip starts at
    frame 0 and the last ends at the video's end. Indices past the end repeat that grid's last
    frame, as VideoMAE pads its test index list (``'loop'`` wraps instead, ``'error'`` raises).

    Adds ``frame_inds`` (int64 array of ``num_clips * clip_len``, clip after clip), ``clip_len``,
    ``frame_interval``, ``num_clips``.

    Args:
        clip_len: Frames per clip (VideoMAE: 16).
        frame_interval: Step between sampled frames (VideoMAE K400: 4).
        test_mode: Centred (True) or random (False) start.
        out_of_bound: ``'repeat_last'``, ``'loop'`` or ``'error'``.
        num_clips: Clips per video; more than 1 only with ``test_mode`` (VideoMAE's test: 5).
    """

    def __init__(self,
                 clip_len: int = 16,
                 frame_interval: int = 4,
                 test_mode: bool = False,
                 out_of_bound: str = 'repeat_last',
                 num_clips: int = 1) -> None:
        if out_of_bound not in ('repeat_last', 'loop', 'error'):
            raise ValueError(f"out_of_bound must be 'repeat_last', 'loop' or 'error', got "
                             f'{out_of_bound!r}')
        if clip_len < 1 or frame_interval < 1:
            raise ValueError(f'clip_len and frame_interval must be >= 1, got {clip_len}, '
                             f'{frame_interval}')
        if num_clips < 1 or (num_clips > 1 and not test_mode):
            raise ValueError(f'num_clips must be >= 1, and 1 unless test_mode (training samples '
                             f'one clip per video), got num_clips={num_clips}, '
                             f'test_mode={test_mode}')
        self.clip_len, self.frame_interval = clip_len, frame_interval
        self.test_mode, self.out_of_bound, self.num_clips = test_mode, out_of_bound, num_clips

    def transform(self, results: dict) -> dict:
        total = results['total_frames']
        span = (self.clip_len - 1) * self.frame_interval + 1
        if total < span and self.out_of_bound == 'error':
            views = f' (each of the {self.num_clips} test clips)' if self.num_clips > 1 else ''
            raise ValueError(f'video {results.get("video_path", "")} has {total} frames, fewer '
                             f'than the {span} a clip of {self.clip_len} frames at interval '
                             f'{self.frame_interval} spans{views}')
        last = total - 1
        if self.num_clips > 1:
            num_grid = -(-total // self.frame_interval)
            step = max(num_grid - self.clip_len, 0) / (self.num_clips - 1)
            starts = self.frame_interval * np.array([int(k * step) for k in range(self.num_clips)])
            last = (num_grid - 1) * self.frame_interval  # VideoMAE pads with the grid's last
        elif total >= span:
            starts = np.array([(total - span) // 2 if self.test_mode else
                               np.random.randint(total - span + 1)])
        else:
            starts = np.zeros(1, dtype=np.int64)
        inds = (starts[:, None] + np.arange(self.clip_len) * self.frame_interval).reshape(-1)
        inds = inds.astype(np.int64)
        inds = np.minimum(inds, last) if self.out_of_bound == 'repeat_last' else inds % total
        results.update(frame_inds=inds, clip_len=self.clip_len,
                       frame_interval=self.frame_interval, num_clips=self.num_clips)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, frame_interval='
                f'{self.frame_interval}, test_mode={self.test_mode}, out_of_bound='
                f'{self.out_of_bound!r}, num_clips={self.num_clips})')


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
    """Crop every frame of a clip at the same place: centred (eval), random (training), or at
    the start / centre / end of the frame's long side (VideoMAE's 3-crop test: crop ``k`` of 3
    starts at ``int(k * (long - crop) / 2)``; the short side stays centred).

    Args:
        crop_size: ``s`` or ``(h, w)``.
        random_crop: Random position instead of ``position``.
        position: ``'centre'``, ``'start'`` (top or left) or ``'end'`` (bottom or right) along
            the long side (along the height when ``h >= w``, as VideoMAE).
    """

    POSITIONS = ('start', 'centre', 'end')

    def __init__(self, crop_size: Union[int, Sequence[int]] = 224,
                 random_crop: bool = False, position: str = 'centre') -> None:
        if position not in self.POSITIONS:
            raise ValueError(f'position must be one of {self.POSITIONS}, got {position!r}')
        self.crop_size: Tuple[int, int] = (crop_size, crop_size) if isinstance(
            crop_size, int) else tuple(crop_size)
        self.random_crop, self.position = random_crop, position

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
            if self.position != 'centre' and h >= w:
                top = 0 if self.position == 'start' else h - ch
            elif self.position != 'centre':
                left = 0 if self.position == 'start' else w - cw
        # the centre is ours (floor): torchvision's center_crop rounds half to even
        results.update(imgs=TF.crop(imgs, top, left, ch, cw), img_shape=(ch, cw),
                       crop_bbox=(left, top, left + cw, top + ch))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(crop_size={self.crop_size}, random_crop='
                f'{self.random_crop}, position={self.position!r})')


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


@TRANSFORMS.register_module()
class VideoSelectClip(BaseTransform):
    """Keep clip ``index`` of the ``num_clips`` clips that ``SampleFrames(num_clips=n)`` sampled
    (one view of the multi-clip test: ``TestTimeAug`` runs one ``VideoSelectClip`` per clip on
    the clips decoded once).

    Args:
        index: Which clip, ``0 <= index < num_clips``.
    """

    def __init__(self, index: int) -> None:
        self.index = index

    def transform(self, results: dict) -> dict:
        imgs, clip_len, num_clips = results['imgs'], results['clip_len'], results['num_clips']
        if not 0 <= self.index < num_clips or imgs.shape[0] != num_clips * clip_len:
            raise ValueError(f'cannot select clip {self.index} from {imgs.shape[0]} frames of '
                             f'{results.get("video_path", "")}: expected {num_clips} clips of '
                             f'{clip_len} frames (SampleFrames(num_clips=...))')
        keep = slice(self.index * clip_len, (self.index + 1) * clip_len)
        results.update(imgs=imgs[keep], frame_inds=np.asarray(results['frame_inds'])[keep],
                       num_clips=1, clip_index=self.index)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(index={self.index})'


@TRANSFORMS.register_module()
class VideoRandAugment(BaseTransform):
    """timm's RandAugment with one draw for the whole clip: the same ops, magnitudes and
    interpolation on every frame, as VideoMAE's ``create_random_augment`` (its RandAugment ops take
    the list of frames). ``imgs`` becomes uint8 ``(T, 3, H, W)``.

    timm's policy string rather than ``torchvision.transforms.v2.RandAugment``, whose RandAugment
    differs from ``rand-m7-n4-mstd0.5-inc1``: it applies every chosen op (timm: each with
    probability 0.5), at a fixed magnitude (timm: Gaussian with std 0.5 around 7 of 10, drawn per
    op), over 14 ops with Identity (timm ``inc1``: 15 ops with Invert and SolarizeAdd, no
    Identity), and fills with black (timm: grey 128).

    Args:
        policy: timm's RandAugment string (VideoMAE's ``--aa``).
        interpolation: Resampling of the geometric ops (VideoMAE ``--train_interpolation``).
    """

    def __init__(self, policy: str = 'rand-m7-n4-mstd0.5-inc1',
                 interpolation: str = 'bicubic') -> None:
        from timm.data.auto_augment import rand_augment_transform
        from timm.data.transforms import str_to_pil_interp

        self.policy, self.interpolation = policy, interpolation
        # VideoMAE's hparams; translate_const only matters for the absolute-pixel Translate ops
        self.rand_augment = rand_augment_transform(
            policy, dict(translate_const=int(224 * 0.45),
                         interpolation=str_to_pil_interp(interpolation)))

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        if imgs.dim() != 4 or imgs.shape[1] != 3:
            raise ValueError(f'VideoRandAugment expects imgs (T, 3, H, W), got '
                             f'{tuple(imgs.shape)} ({results.get("video_path", "")})')
        if imgs.dtype != torch.uint8:
            imgs = imgs.round().clamp(0, 255).to(torch.uint8)
        # timm draws ops with numpy and probabilities/magnitudes with `random`: replaying both
        # states for each frame gives every frame the clip's one draw, with timm's own code
        py_state, np_state = random.getstate(), np.random.get_state()
        frames = []
        for frame in imgs:
            random.setstate(py_state)
            np.random.set_state(np_state)
            frames.append(TF.pil_to_tensor(self.rand_augment(TF.to_pil_image(frame))))
        results['imgs'] = torch.stack(frames)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(policy={self.policy!r}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class VideoRandomResizedCrop(BaseTransform):
    """One random-resized crop (torchvision's parameters) for every frame, resized to ``size``;
    ``imgs`` becomes float. VideoMAE's training crop: scale ``(0.08, 1)``, aspect ``(3/4, 4/3)``,
    bilinear without antialiasing (``torch.nn.functional.interpolate``).

    Args:
        size: Output ``s`` or ``(h, w)``.
        scale: Range of the crop's area as a fraction of the frame's.
        ratio: Range of the crop's aspect ratio (w / h).
        antialias: Antialias when shrinking.
    """

    def __init__(self, size: Union[int, Sequence[int]] = 224,
                 scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3), antialias: bool = False) -> None:
        from torchvision.transforms import v2

        self.crop = v2.RandomResizedCrop(size, scale=tuple(scale), ratio=tuple(ratio),
                                         antialias=antialias)

    def transform(self, results: dict) -> dict:
        imgs = self.crop(results['imgs'].float())  # a plain tensor: one draw for all frames
        results.update(imgs=imgs, img_shape=tuple(imgs.shape[-2:]))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.crop!r})'


@TRANSFORMS.register_module()
class VideoRandomErasing(BaseTransform):
    """Random erasing of a normalised ``(C, T, H, W)`` clip: with probability ``prob`` one
    rectangle (torchvision's area / aspect sampling), the same on every frame, filled with
    Gaussian noise drawn for each frame and pixel. This is VideoMAE's ``RandomErasing(0.25,
    mode='pixel', max_count=1)``, whose default ``cube=True`` erases one region through the clip;
    ``torchvision.transforms.v2.RandomErasing(value='random')`` alone would repeat one noise
    patch on every frame.

    Args:
        prob: Probability of erasing (VideoMAE ``--reprob``: 0.25).
        scale: Range of the erased area as a fraction of the frame's (timm: 0.02 to 1/3).
        ratio: Range of the rectangle's aspect ratio (timm: 0.3 to 1/0.3).
    """

    def __init__(self, prob: float = 0.25, scale: Sequence[float] = (0.02, 1 / 3),
                 ratio: Sequence[float] = (0.3, 1 / 0.3)) -> None:
        from torchvision.transforms import v2

        self.prob = prob
        self.eraser = v2.RandomErasing(p=1.0, scale=tuple(scale), ratio=tuple(ratio),
                                       value='random')

    def transform(self, results: dict) -> dict:
        imgs = results['imgs']
        if imgs.dim() != 4:
            raise ValueError(f'VideoRandomErasing expects a normalised clip (C, T, H, W), got '
                             f'{tuple(imgs.shape)} ({results.get("video_path", "")})')
        if torch.rand(1).item() >= self.prob:
            return results
        frames = imgs.transpose(0, 1)  # (T, C, H, W), the layout torchvision reads C, H, W from
        params = self.eraser.make_params([frames])
        if params['v'] is None:  # no rectangle fitted in 10 tries: torchvision leaves it
            return results
        i, j, h, w = params['i'], params['j'], params['h'], params['w']
        noise = torch.randn(frames.shape[0], frames.shape[1], h, w, dtype=imgs.dtype)
        results['imgs'] = TF.erase(frames, i, j, h, w, noise).transpose(0, 1).contiguous()
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, scale={self.eraser.scale}, '
                f'ratio={self.eraser.ratio})')
