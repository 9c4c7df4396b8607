"""The benchmark runs end to end (``--quick``: tiny model) and writes a complete report.

Only the report's shape and the exactness of the merged model are asserted: timings on a shared
machine are not a test (CONTRIBUTING: speed is measured by benchmarks, never by timed tests).
"""
import contextlib
import io
import json
import math

import pytest
import torch

from tests.helpers import call_tool

SETTINGS = ('all', 'aux-frozen', 'fix')
KINDS = ('m2pt', 'plain', 'm2pt-recompute')


def positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def assert_stats(s: dict, where: str) -> None:
    assert positive(s['min']) and positive(s['median']), f'{where}: {s}'
    assert s['min'] <= s['median'], where
    assert s['times'] and all(positive(t) for t in s['times']), where


@pytest.fixture(scope='module')
def quick_report(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('benchmark')
    threads = torch.get_num_threads()  # the benchmark sets its own thread count
    stdout = io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout):
            call_tool('analysis/benchmark', '--quick', '--out-dir', out_dir)
    finally:
        torch.set_num_threads(threads)
    report = json.loads((out_dir / 'benchmark.json').read_text())
    return report, (out_dir / 'benchmark.md').read_text(), stdout.getvalue()


def test_meta(quick_report):
    report, _, _ = quick_report
    meta = report['meta']
    assert meta['optimizer'] in ('fused', 'foreach')
    assert meta['optimizer'] == ('fused' if meta['fused_adamw_supported'] else 'foreach')
    assert meta['batch_sizes'] == [2] and meta['recompute'] is True
    assert meta['num_reparam_layers'] == 16  # 4 blocks × qkv, proj, fc1, fc2
    assert positive(meta['duration_s'])


def test_train_entries_cover_every_setting_and_model(quick_report):
    report, _, _ = quick_report
    assert [(e['setting'], e['batch_size']) for e in report['train']] == [(s, 2) for s in SETTINGS]
    for entry in report['train']:
        where = f'train {entry["setting"]}'
        assert set(entry['models']) == set(KINDS), where
        for kind, res in entry['models'].items():
            for part in ('fwd_bwd_s', 'optimizer_s', 'step_s'):
                assert_stats(res[part], f'{where} {kind} {part}')
            assert len(res['step_s']['times']) == report['meta']['steps']
        assert set(entry['comparisons']) == {'m2pt', 'm2pt-recompute', 'm2pt-recompute_vs_m2pt'}
        for comp in entry['comparisons'].values():
            assert positive(comp['ratio_min']) and positive(comp['ratio_median']), where
            assert math.isfinite(comp['extra_s_min']) and math.isfinite(comp['extra_s_median'])


def test_floor(quick_report):
    report, _, _ = quick_report
    floor = report['floor']
    for part in ('merge_s', 'grad_aux_s', 'grad_scale_s', 'adamw_s'):
        assert_stats(floor[part], f'floor {part}')
    for stat in ('min', 'median'):
        assert set(floor[f'floor_{stat}']) == set(SETTINGS)
        assert all(positive(v) for v in floor[f'floor_{stat}'].values())
        assert floor[f'floor_{stat}']['all'] > floor[f'floor_{stat}']['aux-frozen']
    # tiny arch: qkv 96×32, proj 32×32, fc1 64×32, fc2 32×64 in each of 4 blocks
    assert floor['reparam_params'] == 4 * (96 * 32 + 32 * 32 + 64 * 32 + 32 * 64)


def test_inference_merged_model_is_exact(quick_report):
    report, _, _ = quick_report
    inf = report['inference']
    for name in ('stock', 'merged', 'unmerged'):
        assert_stats(inf['models'][name], f'inference {name}')
    for key in ('ratio_merged_min', 'ratio_merged_median', 'ratio_unmerged_min',
                'ratio_unmerged_median'):
        assert positive(inf[key]), key
    assert 0 <= inf['max_abs_diff_merged'] <= 1e-5
    assert 0 <= inf['max_abs_diff_unmerged'] <= 1e-5


def test_memory_and_params(quick_report):
    report, _, _ = quick_report
    assert [(m['setting'], m['kind']) for m in report['memory']] == [
        (s, k) for s in SETTINGS for k in KINDS]
    for m in report['memory']:
        # a tiny model's step can fit in memory the process already holds: >= 0, not > 0
        for key in ('state_mb', 'step_peak_mb', 'total_mb'):
            assert math.isfinite(m[key]) and m[key] >= 0, (m['setting'], m['kind'], key)
    params = report['params']
    assert params['plain']['total'] == params['plain']['trainable'] > 0
    m2pt = params['m2pt (all)']
    assert m2pt['total'] == m2pt['trainable'] > params['plain']['total']
    assert params['m2pt (aux-frozen)']['trainable'] < m2pt['total']
    # fix: the head and one λ per reparam layer
    assert (params['m2pt (fix)']['trainable']
            == params['plain (fix: frozen backbone)']['trainable'] + 16)


def test_targets_and_markdown(quick_report):
    report, markdown, stdout = quick_report
    names = [t['name'] for t in report['targets']]
    assert 'inference merged vs stock max|Δ|' in names
    assert any('extra s / floor' in n for n in names) and any('step ratio' in n for n in names)
    for target in report['targets']:
        assert target['result'] in ('PASS', 'MISS') and math.isfinite(target['value'])
    exact = next(t for t in report['targets'] if t['name'] == 'inference merged vs stock max|Δ|')
    assert exact['result'] == 'PASS'
    for heading in ('## Train step', '## Floor', '## Inference', '## Peak memory', '## Targets'):
        assert heading in markdown and heading in stdout
