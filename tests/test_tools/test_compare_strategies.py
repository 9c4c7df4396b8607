"""tools/analysis/compare_strategies.py: baseline, M2PT and OmniVec on the digits, end to end at
``--quick`` size (every pretraining and target run, evaluation, inference measurement, report)."""
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import load_tool

pytest.importorskip('sklearn', reason='the digits ship with scikit-learn')

METHODS = ('baseline', 'm2pt', 'omnivec')
PAIR_COLUMNS = '| M2PT − baseline | OmniVec − baseline | OmniVec − M2PT |'


def plain_vit_params() -> int:
    """Parameters of mmpretrain's own ViT with the tiny blocks, 32×32 inputs in 8×8 patches,
    plus a linear head for 10 classes: what a merged M2PT classifier must have."""
    from mmpretrain.models import VisionTransformer
    vit = VisionTransformer(arch=dict(embed_dims=64, num_layers=4, num_heads=4,
                                      feedforward_channels=128), img_size=32, patch_size=8)
    return sum(p.numel() for p in vit.parameters()) + 64 * 10 + 10


@pytest.fixture
def short_tmp():
    """A temporary folder with a short path: every run's config holds it in its data paths, and
    mmengine's yapf formatting of a config takes many times longer with long strings."""
    path = Path(tempfile.mkdtemp(prefix='cmp-'))
    yield path
    shutil.rmtree(path)


@pytest.mark.slow  # 9 training runs and 6 evaluations through the Runner: ~35 s on 2 cores
def test_compare_strategies_quick(short_tmp):
    tool = load_tool('analysis/compare_strategies')
    results = tool.main(['--quick', '--work-dir', str(short_tmp)])

    # the runs: both regimes, every method, the one quick seed, a top-1 each
    assert results['seeds'] == [0]
    assert list(results['regimes']) == ['full', '10pct']
    assert results['regimes']['full']['train_images'] == 128  # --quick: the first 128
    for regime in results['regimes']:
        assert sorted(results['top1'][regime]) == sorted(METHODS)
        for method in METHODS:
            (top1, ) = results['top1'][regime][method]
            assert 0 <= top1 <= 100
    assert sorted(results['runs']) == sorted(
        ['aux_mae', 'omnivec_pretrain_full', 'omnivec_pretrain_10pct']
        + [f'{m}_{r}_seed0' for m in METHODS for r in ('full', '10pct')])
    assert all(run['wall_s'] > 0 for run in results['runs'].values())

    # the data-scarce split: 10 % of the 1,437 training images, stratified
    digits = short_tmp / 'data' / 'digits' / 'meta'
    full, scarce = (Counter(line.rsplit(' ', 1)[1]
                            for line in (digits / name).read_text().splitlines())
                    for name in ('train.txt', 'train-10pct.txt'))
    assert sum(scarce.values()) == results['regimes']['10pct']['train_images'] == 144
    assert all(abs(scarce[c] - full[c] / 10) < 1 for c in full)

    # deployed: merged M2PT is the plain ViT; OmniVec keeps its encoder, projection and meta tokens
    models = results['inference']['models']
    assert models['m2pt']['params'] == models['baseline']['params'] == plain_vit_params()
    assert models['omnivec']['params'] > models['baseline']['params']
    assert all(models[m]['ms_min'] > 0 for m in METHODS)
    checks = results['inference']['checks']
    assert checks['m2pt_merged_vs_unmerged_max_abs'] <= 1e-5
    assert max(checks['softmax_vs_predict_max_abs'].values()) <= 1e-6

    # the report: JSON as returned, markdown with one table per regime and the cost table
    assert json.loads((short_tmp / 'results.json').read_text()) == json.loads(json.dumps(results))
    table = (short_tmp / 'results.md').read_text()
    assert table.count(f'| seed | baseline | M2PT | OmniVec {PAIR_COLUMNS}') == 2
    assert table.count('\n| 0 | ') == 2 and table.count('\n| mean ± std | ') == 2
    assert '| method | pretraining | target, full | target, 10pct | deployed model |' in table
    for label in ('baseline', 'M2PT', 'OmniVec'):
        assert f'\n| {label} | ' in table
    assert f'{models["omnivec"]["params"]:,}' in table


def test_verdict_claims_a_direction_only_when_every_seed_shows_it():
    verdict = load_tool('analysis/compare_strategies').verdict
    assert verdict([0.3, 1.1, 2.0], 'M2PT', 'baseline') == \
        'M2PT above baseline on every seed (3/3)'
    assert verdict([-0.3, -1.1, -2.0], 'M2PT', 'baseline') == \
        'M2PT below baseline on every seed (3/3)'
    assert verdict([3.0, 2.0, -0.3], 'OmniVec', 'M2PT') == (
        'no consistent difference between OmniVec and M2PT (OmniVec above on 2, below on 1, '
        'equal on 0 of 3 seeds)')
    assert verdict([0.0, 0.3, 0.3], 'OmniVec', 'M2PT').startswith('no consistent difference')
