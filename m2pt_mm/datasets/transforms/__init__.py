"""Audio, video, point-cloud and text transforms, registered into mmpretrain's ``TRANSFORMS``."""
from .audio import KaldiFbank, LoadAudioFromFile, NormalizeFbank, SpecAugment
from .point import LoadPointCloud, PointNormalize, PointSample, PointScaleAndTranslate
from .text import TokenizeText, build_text_vocab
from .video import (PyAVDecode, PyAVInit, SampleFrames, VideoCrop, VideoFlip, VideoNormalize,
                    VideoResize)

__all__ = ['LoadAudioFromFile', 'KaldiFbank', 'SpecAugment', 'NormalizeFbank', 'PyAVInit',
           'SampleFrames', 'PyAVDecode', 'VideoResize', 'VideoCrop', 'VideoFlip',
           'VideoNormalize', 'LoadPointCloud', 'PointSample', 'PointNormalize',
           'PointScaleAndTranslate', 'TokenizeText', 'build_text_vocab']
