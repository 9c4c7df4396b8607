from .point_seg_head import PointPartSegHead, three_nn_interpolate

__all__ = ['PointPartSegHead', 'three_nn_interpolate']
