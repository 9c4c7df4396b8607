"""Loading an RGB image and its depth map as one 4-channel image (OmniVec's depth modality)."""
import numpy as np
from mmcv import imread
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

DEPTH_ENCODINGS = ('mm', 'sunrgbd')


def decode_depth(raw: np.ndarray, encoding: str = 'mm') -> np.ndarray:
    """16-bit PNG values → depth in metres (float32); 0 stays 0 (no measurement).

    ``'mm'``: the value is millimetres (NYUv2 exports, Kinect raw). ``'sunrgbd'``: SUN RGB-D's
    files store millimetres rotated left by 3 bits (its toolbox's ``read3dPoints.m`` undoes it
    with ``bitor(bitshift(d, -3), bitshift(d, 13))``).
    """
    if encoding not in DEPTH_ENCODINGS:
        raise ValueError(f'depth encoding must be one of {DEPTH_ENCODINGS}, got {encoding!r}')
    raw = raw.astype(np.uint16)
    if encoding == 'sunrgbd':
        raw = (raw >> 3) | (raw << 13)
    return raw.astype(np.float32) / 1000.0


@TRANSFORMS.register_module()
class LoadRGBDFromFile(BaseTransform):
    """Read ``img_path`` (RGB) and ``depth_path`` (16-bit PNG) into ``img``: float32
    ``(H, W, 4)``, channels R, G, B in [0, 255] and depth in metres clipped to ``max_depth`` —
    what mmpretrain's geometric transforms and ``PackInputs`` take as an image of 4 channels
    (normalise per channel in the data preprocessor, ``to_rgb=False``).

    Args:
        depth_encoding: ``'mm'`` or ``'sunrgbd'`` (:func:`decode_depth`).
        max_depth: Depth beyond this (metres) is clipped; 10 m is the range of the Kinect and
            RealSense sensors of SUN RGB-D.

    Raises:
        ValueError: a depth map that is not single-channel 16-bit, or whose size differs from
            the RGB image's (the message names both files).
    """

    def __init__(self, depth_encoding: str = 'mm', max_depth: float = 10.0) -> None:
        if depth_encoding not in DEPTH_ENCODINGS:
            raise ValueError(f'depth_encoding must be one of {DEPTH_ENCODINGS}, got '
                             f'{depth_encoding!r}')
        if isinstance(max_depth, bool) or not isinstance(max_depth, (int, float)):
            raise TypeError(f'{type(self).__name__}: max_depth must be a number (metres), got '
                            f'{max_depth!r}')
        self.depth_encoding, self.max_depth = depth_encoding, float(max_depth)

    def transform(self, results: dict) -> dict:
        rgb_path, depth_path = results['img_path'], results['depth_path']
        rgb = imread(rgb_path, flag='color', channel_order='rgb')
        raw = imread(depth_path, flag='unchanged')
        if rgb is None or raw is None:
            raise FileNotFoundError(f'cannot read {rgb_path if rgb is None else depth_path}')
        if raw.ndim != 2 or raw.dtype != np.uint16:
            raise ValueError(f'{depth_path}: expected a single-channel 16-bit PNG depth map, got '
                             f'shape {raw.shape} {raw.dtype}')
        if raw.shape != rgb.shape[:2]:
            raise ValueError(f'{depth_path} is {raw.shape[1]}x{raw.shape[0]} but {rgb_path} is '
                             f'{rgb.shape[1]}x{rgb.shape[0]}; RGB and depth must be registered')
        depth = np.clip(decode_depth(raw, self.depth_encoding), 0, self.max_depth)
        img = np.concatenate([rgb.astype(np.float32), depth[..., None]], axis=2)
        results.update(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(depth_encoding={self.depth_encoding!r}, '
                f'max_depth={self.max_depth})')
