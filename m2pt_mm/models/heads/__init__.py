from .point_seg_head import PointPartSegHead

__all__ = ['PointPartSegHead']
