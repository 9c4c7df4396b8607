"""The statistics of a study: per-arm summaries and paired comparisons over seeds.

Intervals are Student-t 95 % intervals over seeds (``n - 1`` degrees of freedom); a comparison
pairs the two arms' runs of the same seed and tests the mean paired difference with a paired
t-test (two-sided, ``scipy.stats.ttest_rel``). A comparison claims an effect only when its
interval excludes 0. Over a family of comparisons, :func:`holm` adjusts the p-values.
"""
import math
from dataclasses import asdict, dataclass
from typing import Dict, List, Sequence

from scipy import stats as _scipy

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation and t interval of ``n`` values (NaN where undefined)."""
    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> Dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Paired:
    """The paired differences ``a − b`` over seeds, their summary and the paired t-test."""
    diffs: List[float]
    summary: Summary
    t: float
    p: float
    wins: int
    losses: int

    def as_dict(self) -> Dict[str, object]:
        return dict(diffs=self.diffs, summary=self.summary.as_dict(), t=self.t, p=self.p,
                    wins=self.wins, losses=self.losses)


def summarize(values: Sequence[float], confidence: float = CONFIDENCE) -> Summary:
    """Mean, sample std (``n - 1``) and the t interval of the mean of ``values``."""
    n = len(values)
    if n == 0:
        raise ValueError('summarize: no values')
    mean = math.fsum(values) / n
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = _scipy.t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n)
    return Summary(n, mean, std, mean - half, mean + half)


def paired(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> Paired:
    """``a[i] − b[i]`` (runs of the same seed), its summary and the paired t-test of mean 0."""
    if len(a) != len(b):
        raise ValueError(f'paired: {len(a)} values against {len(b)}; pair runs of the same seeds')
    diffs = [x - y for x, y in zip(a, b)]
    summary = summarize(diffs, confidence)
    if len(diffs) < 2 or summary.std == 0:
        t, p = (math.nan, math.nan) if len(diffs) < 2 or summary.mean == 0 else (
            math.copysign(math.inf, summary.mean), 0.0)
    else:
        result = _scipy.ttest_rel(a, b)
        t, p = float(result.statistic), float(result.pvalue)
    return Paired(diffs, summary, t, p, sum(d > 0 for d in diffs), sum(d < 0 for d in diffs))


def holm(pvalues: Sequence[float]) -> List[float]:
    """Holm's step-down adjustment of a family of p-values (NaN stays NaN and does not count):
    the i-th smallest of m is multiplied by m - i, then made non-decreasing, capped at 1."""
    order = sorted((p, i) for i, p in enumerate(pvalues) if not math.isnan(p))
    m = len(order)
    adjusted = [math.nan] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def verdict(result: Paired, a: str, b: str, unit: str = 'points') -> str:
    """One line: the effect of ``a`` over ``b`` when the interval excludes 0, else "no
    detectable effect"."""
    s = result.summary
    if s.n < 2:
        return f'{a} vs {b}: one seed, no interval (difference {s.mean:+.2f} {unit})'
    ci = (f'95 % CI {s.ci_low:+.2f} … {s.ci_high:+.2f}, paired t-test p = {result.p:.3g}, '
          f'n = {s.n}')
    if s.ci_low > 0:
        return f'{a} above {b} by {s.mean:.2f} {unit} ({ci})'
    if s.ci_high < 0:
        return f'{a} below {b} by {-s.mean:.2f} {unit} ({ci})'
    return f'{a} vs {b}: no detectable effect (mean {s.mean:+.2f} {unit}, {ci})'
