from .point_part_seg import PointPartSegmentor

__all__ = ['PointPartSegmentor']
