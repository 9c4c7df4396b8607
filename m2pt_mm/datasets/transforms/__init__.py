"""Audio, video, point-cloud, RGB-D and text transforms, registered into mmpretrain's
``TRANSFORMS``."""
from .audio import KaldiFbank, LoadAudioFromFile, NormalizeFbank, SpecAugment
from .depth import LoadRGBDFromFile, decode_depth
from .point import LoadPointCloud, PointNormalize, PointSample, PointScaleAndTranslate
from .text import TokenizeText
from .video import (
    PyAVDecode,
    PyAVInit,
    SampleFrames,
    VideoCrop,
    VideoFlip,
    VideoNormalize,
    VideoResize,
)

__all__ = ['LoadAudioFromFile', 'KaldiFbank', 'SpecAugment', 'NormalizeFbank', 'PyAVInit',
           'SampleFrames', 'PyAVDecode', 'VideoResize', 'VideoCrop', 'VideoFlip',
           'VideoNormalize', 'LoadPointCloud', 'PointSample', 'PointNormalize',
           'PointScaleAndTranslate', 'LoadRGBDFromFile', 'decode_depth', 'TokenizeText']
