"""m2pt_mm.models.utils: farthest point sampling, kNN, PointNet++ interpolation, position tables.

The CPU paths are the reference (explicit values, brute force); on a CUDA machine mmcv's kernels
must give the same result.
"""
import numpy as np
import pytest
import torch
from torch.testing import assert_close

from m2pt_mm.models.utils import (
    PointCentres,
    farthest_point_sample,
    knn,
    point_position_mlp,
    sincos_position_table,
    three_nn_interpolate,
)

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='mmcv point ops run on CUDA only')


def cloud(batch=2, points=256, seed=0):
    return torch.rand(batch, points, 3, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def brute_force_fps(xyz, num):
    """Farthest point sampling from point 0, written out in float64 NumPy."""
    xyz = xyz.double().numpy()
    chosen, dist = [0], np.full(len(xyz), np.inf)
    for _ in range(num - 1):
        dist = np.minimum(dist, ((xyz - xyz[chosen[-1]])**2).sum(1))
        chosen.append(int(dist.argmax()))
    return chosen


# ---------------------------------------------------------------- farthest point sampling
def test_fps_explicit_indices_for_one_cloud_and_a_batch():
    # on a line at 0, 1, 2, 3, 10: start at 0, then 10 (farthest), then 3 (min distance 3 beats
    # 2's min distance 2), then 1 (1 and 2 are both 1 from a chosen point: the first one wins)
    line = torch.tensor([[0., 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0], [10, 0, 0]])
    single = farthest_point_sample(line, 4)
    assert single.dtype == torch.int64 and single.tolist() == [0, 4, 3, 1]
    # one contract for both ranks: a batch gives each cloud's indices, row by row
    mirrored = torch.tensor([[-10., 0, 0], [1, 0, 0], [7, 0, 0], [3, 0, 0], [0, 0, 0]])
    batch = farthest_point_sample(torch.stack([line, mirrored]), 3)
    assert batch.shape == (2, 3)
    assert batch.tolist() == [[0, 4, 3], [0, 2, 4]]
    assert batch[0].tolist() == farthest_point_sample(line, 3).tolist()


def test_fps_matches_brute_force_on_random_clouds():
    points = cloud(batch=3, points=300)
    index = farthest_point_sample(points, 40)
    assert index.shape == (3, 40)
    for b in range(3):
        assert index[b].tolist() == brute_force_fps(points[b], 40)
        assert farthest_point_sample(points[b], 40).tolist() == index[b].tolist()


@pytest.mark.parametrize('shape,num,message', [
    ((4, 5, 6, 3), 2, r'expects coordinates \(N, 3\) or \(B, N, 3\), got \(4, 5, 6, 3\)'),
    ((10, 6), 2, r'got \(10, 6\)'),
    ((10, 3), 11, r'cannot pick 11 of 10 points'),
    ((2, 10, 3), 0, r'cannot pick 0 of 10 points'),
])
def test_fps_refuses_bad_input(shape, num, message):
    with pytest.raises(ValueError, match=message):
        farthest_point_sample(torch.zeros(*shape), num)


# ---------------------------------------------------------------- kNN
def test_knn_explicit_neighbours_nearest_first():
    points = torch.tensor([[[0., 0, 0], [1, 0, 0], [0, 3, 0], [0, 0, -2]]])
    query = torch.tensor([[[0.9, 0, 0], [0, 0, -1.5]]])
    dist, index = knn(query, points, 3)
    assert index.dtype == torch.int64 and index.tolist() == [[[1, 0, 3], [3, 0, 1]]]
    assert_close(dist, torch.tensor([[[0.01, 0.81, 0.81 + 4], [0.25, 2.25, 1 + 2.25]]]))


def test_knn_matches_brute_force_and_the_exact_cdist_topk():
    points, query = cloud(points=200), cloud(points=30, seed=1)
    dist, index = knn(query, points, 8)
    brute = ((query[:, :, None] - points[:, None]).double()**2).sum(-1)  # [B, M, N]
    expected = brute.argsort(dim=-1)[..., :8]
    assert torch.equal(index, expected)
    assert_close(dist, brute.gather(2, expected).float())
    # the CPU path is the tokenizer's former code, bit for bit
    exact = torch.cdist(query, points, compute_mode='donot_use_mm_for_euclid_dist')
    old_dist, old_index = exact.topk(8, dim=-1, largest=False)
    assert torch.equal(index, old_index) and torch.equal(dist, old_dist.pow(2))


def test_knn_distances_carry_gradient_and_bad_input_is_refused():
    points = cloud(points=20).requires_grad_()
    query = cloud(points=5, seed=1).requires_grad_()
    dist, _ = knn(query, points, 2)
    dist.sum().backward()
    assert query.grad.abs().sum() > 0 and points.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r'0 < k <= N: query \(2, 5, 3\), points \(2, 20, 3\), '
                                         r'k=21'):
        knn(query, points, 21)
    with pytest.raises(ValueError, match=r'knn \(points\) expects coordinates \(B, N, 3\)'):
        knn(query, points[0], 2)


# ---------------------------------------------------------------- interpolation
def test_three_nn_interpolate_weights_by_inverse_squared_distance():
    centres = torch.tensor([[[0., 0., 0.], [1., 0., 0.], [0., 2., 0.], [5., 5., 5.]]])
    feats = torch.tensor([[[1., 2., 3., 100.]]])  # one channel
    xyz = torch.tensor([[[0., 0., 0.], [0.5, 0., 0.]]])
    out = three_nn_interpolate(xyz, centres, feats)
    assert out.shape == (1, 1, 2)
    assert_close(out[0, 0, 0], torch.tensor(1.), atol=1e-6, rtol=0)  # on a centre: its feature
    w = torch.tensor([1 / 0.25, 1 / 0.25, 1 / 4.25])  # squared distances .25, .25, 4.25
    assert_close(out[0, 0, 1], (w * torch.tensor([1., 2., 3.])).sum() / w.sum())
    # two centres: both are used
    assert_close(three_nn_interpolate(xyz[:, 1:], centres[:, :2], feats[..., :2]),
                 torch.tensor([[[1.5]]]))
    with pytest.raises(ValueError, match=r'4 centres but features \(1, 1, 3\)'):
        three_nn_interpolate(xyz, centres, feats[..., :3])


def test_three_nn_interpolate_cpu_path_is_unchanged():
    """The part-segmentation head's former code, on random data: bit for bit."""
    xyz, centres = cloud(points=100), cloud(points=16, seed=1)
    feats = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(2))
    dist = torch.cdist(xyz, centres, compute_mode='donot_use_mm_for_euclid_dist').pow(2)
    dist, idx = dist.topk(3, dim=-1, largest=False)
    weight = 1.0 / (dist + 1e-8)
    weight = weight / weight.sum(dim=-1, keepdim=True)
    gathered = feats.gather(2, idx.reshape(2, 1, -1).expand(-1, 5, -1)).reshape(2, 5, 100, 3)
    assert torch.equal(three_nn_interpolate(xyz, centres, feats),
                       (gathered * weight.unsqueeze(1)).sum(dim=-1))


# ---------------------------------------------------------------- CUDA (mmcv) == CPU
@cuda
def test_mmcv_fps_on_cuda_equals_the_cpu_path():
    points = cloud(points=1024)
    assert torch.equal(farthest_point_sample(points.cuda(), 64).cpu(),
                       farthest_point_sample(points, 64))
    assert torch.equal(farthest_point_sample(points[0].cuda(), 64).cpu(),
                       farthest_point_sample(points[0], 64))


@cuda
def test_mmcv_knn_on_cuda_equals_the_cpu_path():
    points, query = cloud(points=1024), cloud(points=64, seed=1)
    dist, index = knn(query, points, 32)
    cuda_dist, cuda_index = knn(query.cuda(), points.cuda(), 32)
    assert torch.equal(cuda_index.cpu(), index)
    assert_close(cuda_dist.cpu(), dist)


@cuda
def test_mmcv_three_nn_interpolate_on_cuda_equals_the_cpu_path():
    xyz, centres = cloud(points=512), cloud(points=64, seed=1)
    feats = torch.randn(2, 8, 64, generator=torch.Generator().manual_seed(2))
    expected = three_nn_interpolate(xyz, centres, feats)
    got = three_nn_interpolate(xyz.cuda(), centres.cuda(), feats.cuda())
    assert_close(got.cpu(), expected, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- point centres
def test_point_centres_checks_its_shape():
    centres = PointCentres(torch.zeros(2, 16, 3))
    assert centres.num_groups == 16 and repr(centres) == 'PointCentres(centres [2, 16, 3])'
    with pytest.raises(ValueError, match=r'PointCentres expects centres \[B, G, 3\], got '
                                         r'\(16, 3\)'):
        PointCentres(torch.zeros(16, 3))


# ---------------------------------------------------------------- position embeddings
def mae_2d_sincos(embed_dim, grid_size, cls_token=False):
    """MAE's ``get_2d_sincos_pos_embed`` (AudioMAE's ``_flexible`` for a (h, w) grid),
    verbatim in NumPy."""
    def get_1d(embed_dim, pos):
        omega = np.arange(embed_dim // 2, dtype=np.float64)
        omega /= embed_dim / 2.
        omega = 1. / 10000**omega
        out = np.einsum('m,d->md', pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    grid_h = np.arange(grid_size[0], dtype=np.float32)
    grid_w = np.arange(grid_size[1], dtype=np.float32)
    grid = np.stack(np.meshgrid(grid_w, grid_h), axis=0).reshape([2, 1, *grid_size])
    emb = np.concatenate([get_1d(embed_dim // 2, grid[0]), get_1d(embed_dim // 2, grid[1])],
                         axis=1)
    if cls_token:
        emb = np.concatenate([np.zeros([1, embed_dim]), emb], axis=0)
    return torch.tensor(emb, dtype=torch.float).unsqueeze(0)


@pytest.mark.parametrize('grid,cls_token', [((4, 4), True), ((64, 8), False), ((3, 5), True)])
def test_2d_table_is_mae_table(grid, cls_token):
    table = sincos_position_table(grid, 32, cls_token=cls_token)
    assert table.shape == (1, grid[0] * grid[1] + cls_token, 32) and table.dtype == torch.float32
    assert_close(table, mae_2d_sincos(32, grid, cls_token))


def test_1d_and_3d_tables_are_the_videomae_table_over_the_token_index():
    flat = sincos_position_table((32, ), 16)
    assert flat.shape == (1, 32, 16)
    # VideoMAE: position p, channel j → p / 10000^(2·(j // 2) / d), sin on even, cos on odd j
    assert_close(flat[0, 5, 6], torch.tensor(np.sin(5 / 10000**(6 / 16)), dtype=torch.float))
    assert_close(flat[0, 5, 7], torch.tensor(np.cos(5 / 10000**(6 / 16)), dtype=torch.float))
    assert torch.equal(sincos_position_table((2, 4, 4), 16), flat)
    with_cls = sincos_position_table((2, 4, 4), 16, cls_token=True)
    assert torch.equal(with_cls[:, 1:], flat) and not with_cls[0, 0].any()
    with pytest.raises(ValueError, match='dims divisible by 4, got 18'):
        sincos_position_table((4, 4), 18)
    with pytest.raises(ValueError, match=r'a \(n, \), \(h, w\) or \(t, h, w\) grid, '
                                         r'got \(1, 2, 3, 4\)'):
        sincos_position_table((1, 2, 3, 4), 16)


def test_point_position_mlp_has_point_mae_names():
    mlp = point_position_mlp(24)
    assert list(mlp.state_dict()) == ['0.weight', '0.bias', '2.weight', '2.bias']
    assert mlp[0].in_features == 3 and mlp[0].out_features == 128 and mlp[2].out_features == 24
    assert isinstance(mlp[1], torch.nn.GELU)
