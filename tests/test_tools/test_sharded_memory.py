"""tools/analysis/sharded_memory.py at tiny size on CPU (2 processes, gloo): every strategy runs
and reports per-rank figures; the sharded ones hold half the parameters and AdamW state.

Timings and RSS peaks on a shared machine are reported, not asserted (CONTRIBUTING: speed and
memory are measured by benchmarks, never by timed tests); the local bytes are exact.
"""
import contextlib
import io
import json
import math

import pytest
from torch.testing import assert_close

from tests.helpers import call_tool


def positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.slow  # four configurations in 2 fresh processes each (≈ 2 min)
def test_sharded_memory_tool_reports_each_strategy_per_rank(tmp_path):
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        results = call_tool('analysis/sharded_memory', '--strategies', 'ddp', 'fsdp', 'fsdp2',
                            '--recompute', 'off', '--steps', '2', '--warmup', '1', '--out',
                            tmp_path / 'off.json')
        results += call_tool('analysis/sharded_memory', '--strategies', 'fsdp2', '--recompute',
                             'on', '--steps', '2', '--warmup', '1')
    printed = stdout.getvalue()
    print(printed)
    assert json.loads((tmp_path / 'off.json').read_text()) == results[:3]
    by_name = {(r['strategy'], r['recompute']): r for r in results}
    assert sorted(by_name) == [('ddp', False), ('fsdp', False), ('fsdp2', False), ('fsdp2', True)]
    for (strategy, recompute), r in by_name.items():
        row = f"| {strategy} | {'on' if recompute else 'off'} | {r['params_mb']:.1f} MB |"
        assert row in printed
        assert len(r['ranks']) == 2 and [x['rank'] for x in r['ranks']] == [0, 1]
        assert all(positive(x[k]) for x in r['ranks'] for k in ('step_s', 'peak_mb'))
    ddp = by_name['ddp', False]
    # DDP: every rank holds the whole model (4 blocks x 64 dims, pathway on the four linears)
    # and its AdamW state (exp_avg and exp_avg_sq: twice the parameters, plus the step counts)
    assert ddp['ranks'][0]['params'] * 4 / 2 ** 20 == pytest.approx(ddp['params_mb'])
    for x in ddp['ranks']:
        assert_close(x['params_mb'], ddp['params_mb'], rtol=0, atol=0)
        assert 2 * x['params_mb'] < x['optim_mb'] < 2.01 * x['params_mb']
    for key in (('fsdp', False), ('fsdp2', False), ('fsdp2', True)):
        ranks = by_name[key]['ranks']
        # sharded: the ranks' local bytes add up to DDP's, split about evenly
        assert_close(sum(x['params_mb'] for x in ranks), ddp['params_mb'], rtol=1e-6, atol=0)
        assert_close(sum(x['optim_mb'] for x in ranks), ddp['optim_mb'], rtol=5e-3, atol=0)
        assert all(0.45 * ddp['params_mb'] < x['params_mb'] < 0.55 * ddp['params_mb']
                   for x in ranks), key


def test_saved_for_backward_counts_the_merged_weights_that_recompute_drops(capsys):
    off = call_tool('analysis/sharded_memory', '--saved-for-backward', '--recompute', 'off')
    on = call_tool('analysis/sharded_memory', '--saved-for-backward', '--recompute', 'on')
    # one tiny block (64 dims, MLP 128): the four merged weights qkv, proj, fc1, fc2 in fp32
    merged = (3 * 64 * 64 + 64 * 64 + 2 * 64 * 128) * 4 / 2 ** 20
    assert [r['merged_weights_mb'] for r in off] == [merged, merged]
    assert [r['merged_weights_mb'] for r in on] == [0, 0]
    for rows in (off, on):  # the activations grow with the batch, the same with recompute or not
        assert [r['batch_size'] for r in rows] == [1, 2]
        assert_close(rows[1]['activations_mb'], 2 * rows[0]['activations_mb'], rtol=0.05, atol=0)
    assert_close([r['activations_mb'] for r in on], [r['activations_mb'] for r in off])
    assert '| off | 1 |' in capsys.readouterr().out
