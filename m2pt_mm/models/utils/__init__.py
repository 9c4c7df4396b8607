"""Helpers shared by tokenizers, backbones, heads, MAE pretraining and the data pipeline: one
home per concept (point sampling and neighbours, position embeddings)."""
from .point import PointCentres, TokenGrid, farthest_point_sample, knn, three_nn_interpolate
from .position import point_position_mlp, sincos_position_table

__all__ = ['PointCentres', 'TokenGrid', 'farthest_point_sample', 'knn', 'three_nn_interpolate',
           'point_position_mlp', 'sincos_position_table']
