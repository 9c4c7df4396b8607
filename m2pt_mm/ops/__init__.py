"""Operators below both the data pipeline and the models (they import neither)."""
from .point import farthest_point_sample, knn, three_nn_interpolate

__all__ = ['farthest_point_sample', 'knn', 'three_nn_interpolate']
