"""Point-cloud transforms (Point-MAE practice).

``points`` is a float32 tensor ``(N, 3)`` (xyz) or ``(N, 6)`` (xyz + normals) throughout, and
``gt_seg_label`` (segmentation) an int64 tensor ``(N,)`` that every resampling keeps aligned.
Tensors, not arrays: ``PackInputs`` would read a 2-D array as a grey image and transpose it.

ModelNet40 (Point-MAE fine-tuning: 1024 points, FPS to 1200 then 1024 at random when training)::

    LoadPointCloud → PointSample(1200, 'fps') → PointSample(1024, 'random') → PointNormalize
    → PointScaleAndTranslate → PackInputs(input_key='points')

ShapeNetPart (Point-MAE segmentation: normalise all points, then 2048 drawn with replacement)::

    LoadPointCloud(with_seg_label=True) → PointNormalize
    → PointSample(2048, 'random', replace=True)
    → PointScaleAndTranslate((0.8, 1.25), 0.1, anisotropic=False)
    → PackInputs(input_key='points', algorithm_keys=('gt_seg_label', ))
"""
import os.path as osp
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from m2pt_mm.ops import farthest_point_sample


def _source(results: dict) -> str:
    path = results.get('points_path', '<points>')
    return f'{path}[{results["h5_index"]}]' if 'h5_index' in results else str(path)


@TRANSFORMS.register_module()
class LoadPointCloud(BaseTransform):
    """Load ``results['points_path']``: a txt file (ModelNet ``x,y,z,nx,ny,nz``; ShapeNetPart
    ``x y z nx ny nz label`` — the delimiter is detected), a ``.npy`` array (ShapeNet-55 ``(N,
    3)``), or row ``h5_index`` of a PartNet h5 (``data`` xyz, ``label_seg``).

    Adds ``points`` (float32 ``(N, 3)`` or ``(N, 6)``) and, with ``with_seg_label``,
    ``gt_seg_label`` (int64 ``(N,)``: a txt file's last column or the h5 ``label_seg``). Labels are
    checked against ``part_ids`` (the allowed labels, ShapeNetPart) or ``num_seg_classes``
    (PartNet) when the dataset provides them.

    Args:
        use_normals: Keep the normals (columns 3–5).
        with_seg_label: Read per-point labels.

    Raises:
        ValueError: NaN/inf values, too few columns, no points, non-integer or out-of-range labels
            (the message names the file).
    """

    def __init__(self, use_normals: bool = False, with_seg_label: bool = False) -> None:
        self.use_normals, self.with_seg_label = use_normals, with_seg_label

    def _read_rows(self, path: str) -> np.ndarray:
        try:
            if path.endswith('.npy'):  # ShapeNet-55 (Point-MAE): a float32 (8192, 3) array
                data = np.load(path, allow_pickle=False).astype(np.float64)
                if data.ndim != 2:
                    raise ValueError(f'expected an (N, 3) array, got shape {data.shape}')
            else:
                with open(path) as f:
                    first = f.readline()
                data = np.loadtxt(path, delimiter=',' if ',' in first else None,
                                  dtype=np.float64, ndmin=2)
        except ValueError as e:
            raise ValueError(f'cannot parse point file {path}: {e}') from e
        need = (6 if self.use_normals else 3) + int(self.with_seg_label)
        if data.shape[0] == 0:
            raise ValueError(f'point file {path} has no points')
        if data.shape[1] < need:
            raise ValueError(f'point file {path} has {data.shape[1]} columns, needs >= {need} '
                             f'(xyz{", normals" if self.use_normals else ""}'
                             f'{", part label" if self.with_seg_label else ""})')
        return data

    def transform(self, results: dict) -> dict:
        path, source = results['points_path'], _source(results)
        if not osp.isfile(path):
            raise FileNotFoundError(f'point file not found: {path}')
        if 'h5_index' in results:
            import h5py
            if self.use_normals:
                raise ValueError(f'{path}: PartNet h5 files hold xyz only; set use_normals=False')
            with h5py.File(path, 'r') as f:
                coords = np.asarray(f['data'][results['h5_index']], dtype=np.float64)
                labels = np.asarray(f['label_seg'][results['h5_index']]) if (
                    self.with_seg_label) else None
        else:
            data = self._read_rows(path)
            coords = data[:, :6 if self.use_normals else 3]
            labels = data[:, -1] if self.with_seg_label else None
        if coords.shape[0] == 0:
            raise ValueError(f'{source} has no points')
        bad = ~np.isfinite(coords).all(axis=1)
        if bad.any():
            raise ValueError(f'{source} has {int(bad.sum())} points with NaN or infinite values '
                             f'(first at row {int(np.argmax(bad))})')
        results['points'] = torch.from_numpy(coords.astype(np.float32))
        if labels is not None:
            results['gt_seg_label'] = torch.from_numpy(self._check_labels(labels, results, source))
        return results

    @staticmethod
    def _check_labels(labels: np.ndarray, results: dict, source: str) -> np.ndarray:
        if not np.isfinite(labels).all() or (np.round(labels) != labels).any():
            raise ValueError(f'{source}: part labels must be integers')
        labels = labels.astype(np.int64)
        if 'part_ids' in results:
            bad = np.unique(labels[~np.isin(labels, results['part_ids'])])
            if bad.size:
                raise ValueError(f'{source}: part labels {bad.tolist()} are out of range for '
                                 f'category {results.get("category", "")!r} (allowed '
                                 f'{list(results["part_ids"])})')
        else:
            high = results.get('num_seg_classes')
            out = labels < 0 if high is None else (labels < 0) | (labels >= high)
            if out.any():
                raise ValueError(f'{source}: part labels {np.unique(labels[out]).tolist()} are '
                                 f'out of range [0, {"inf" if high is None else high})')
        return labels

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(use_normals={self.use_normals}, with_seg_label='
                f'{self.with_seg_label})')


@TRANSFORMS.register_module()
class PointSample(BaseTransform):
    """Resample ``points`` (and ``gt_seg_label``) to exactly ``num_points``.

    Args:
        num_points: Points to keep.
        method: ``'fps'`` (farthest point sampling from point 0, deterministic), ``'random'``
            (numpy's global generator, which mmengine's ``randomness.seed`` seeds per worker) or
            ``'first'`` (the first ``num_points`` rows, Point-MAE's non-uniform ModelNet mode).
        replace: Draw with replacement (``'random'`` only; Point-MAE's ShapeNetPart sampling),
            which also serves clouds with fewer than ``num_points`` points.

    Raises:
        ValueError: fewer points than ``num_points`` without replacement (names the file).
    """

    def __init__(self, num_points: int, method: str = 'fps', replace: bool = False) -> None:
        if method not in ('fps', 'random', 'first'):
            raise ValueError(f"method must be 'fps', 'random' or 'first', got {method!r}")
        if replace and method != 'random':
            raise ValueError("replace=True needs method='random'")
        self.num_points, self.method, self.replace = num_points, method, replace

    def transform(self, results: dict) -> dict:
        points = results['points']
        n = points.shape[0]
        if n < self.num_points and not self.replace:
            raise ValueError(f'{_source(results)} has {n} points, fewer than the {self.num_points} '
                             f'needed ({self.method} sampling without replacement)')
        if self.method == 'fps':
            idx = farthest_point_sample(points[:, :3], self.num_points)
        elif self.method == 'random':
            idx = torch.from_numpy(np.random.choice(n, self.num_points, replace=self.replace))
        else:
            idx = torch.arange(self.num_points)
        results['points'] = points[idx]
        if 'gt_seg_label' in results:
            results['gt_seg_label'] = results['gt_seg_label'][idx]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_points={self.num_points}, method={self.method!r}, '
                f'replace={self.replace})')


@TRANSFORMS.register_module()
class PointNormalize(BaseTransform):
    """Point-MAE's ``pc_normalize``: centre xyz on its mean and scale it into the unit sphere
    (the farthest point at distance 1). Normals are left as they are.

    Raises:
        ValueError: all points coincide (names the file).
    """

    def transform(self, results: dict) -> dict:
        points = results['points'].clone()
        xyz = points[:, :3] - points[:, :3].mean(0)
        radius = xyz.norm(dim=1).max()
        if not radius > 0:
            raise ValueError(f'{_source(results)}: all points coincide, cannot normalise')
        points[:, :3] = xyz / radius
        results['points'] = points
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


@TRANSFORMS.register_module()
class PointScaleAndTranslate(BaseTransform):
    """Training augmentation ``xyz * s + t`` with ``s ~ U(scale_range)``, ``t ~ U(±translate)``.

    Defaults are Point-MAE's ``PointcloudScaleAndTranslate`` (classification: per-axis scale in
    [2/3, 3/2], shift in [-0.2, 0.2]); ``anisotropic=False`` with ``(0.8, 1.25)`` and ``0.1`` is
    its segmentation recipe (``random_scale_point_cloud`` + ``shift_point_cloud``). Normals are not
    changed (Point-MAE does not use them).

    Args:
        scale_range: ``(low, high)`` of the scale.
        translate_range: Half-width of the shift.
        anisotropic: One scale per axis (True) or one for all (False).
    """

    def __init__(self, scale_range: Sequence[float] = (2. / 3., 3. / 2.),
                 translate_range: float = 0.2, anisotropic: bool = True) -> None:
        low, high = scale_range
        if not 0 < low <= high:
            raise ValueError(f'scale_range must be 0 < low <= high, got {scale_range}')
        self.scale_range, self.translate_range = (low, high), translate_range
        self.anisotropic = anisotropic

    def transform(self, results: dict) -> dict:
        scale = np.random.uniform(*self.scale_range, size=3 if self.anisotropic else 1)
        shift = np.random.uniform(-self.translate_range, self.translate_range, size=3)
        points = results['points'].clone()
        points[:, :3] = points[:, :3] * torch.from_numpy(scale).float() + torch.from_numpy(
            shift).float()
        results['points'] = points
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale_range={self.scale_range}, translate_range='
                f'{self.translate_range}, anisotropic={self.anisotropic})')
