"""Helpers shared by tokenizers, backbones, heads and MAE pretraining: one home per concept
(token positions, position embeddings); the point operators come from :mod:`m2pt_mm.ops`."""
from m2pt_mm.ops import farthest_point_sample, knn, three_nn_interpolate

from .point import PointCentres, TokenGrid
from .position import point_position_mlp, sincos_position_table

__all__ = ['PointCentres', 'TokenGrid', 'farthest_point_sample', 'knn', 'three_nn_interpolate',
           'point_position_mlp', 'sincos_position_table']
