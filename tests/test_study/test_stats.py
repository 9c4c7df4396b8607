"""m2pt_mm.study.stats against values worked out by hand (t quantiles from a printed table:
t(0.975, 3) = 3.18245, t(0.975, 4) = 2.77645)."""
import math

import pytest

from m2pt_mm.study.stats import holm, paired, summarize, verdict


def test_summary_of_four_values():
    s = summarize([1.0, 2.0, 3.0, 4.0])
    # mean 2.5; sample variance (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3; half-width
    # 3.18245 · sqrt(5/3) / 2 = 2.05426
    assert s.n == 4
    assert s.mean == pytest.approx(2.5)
    assert s.std == pytest.approx(math.sqrt(5 / 3))
    assert s.ci_low == pytest.approx(2.5 - 2.05426, abs=1e-5)
    assert s.ci_high == pytest.approx(2.5 + 2.05426, abs=1e-5)


def test_summary_of_one_value_has_no_interval():
    s = summarize([93.5])
    assert s.mean == 93.5 and math.isnan(s.std) and math.isnan(s.ci_low)
    with pytest.raises(ValueError, match='no values'):
        summarize([])


def test_paired_difference_and_t_test():
    r = paired([3.0, 5.0, 4.0, 6.0], [1.0, 2.0, 3.0, 4.0])
    # differences 2, 3, 1, 2: mean 2, sd sqrt(2/3); t = 2 / (sd / 2) = 4.89898 on 3 df,
    # two-sided p = 0.016277; interval 2 ± 3.18245 · sqrt(2/3) / 2 = 2 ± 1.29923
    assert r.diffs == [2.0, 3.0, 1.0, 2.0]
    assert r.t == pytest.approx(4.89898, abs=1e-5)
    assert r.p == pytest.approx(0.016277, abs=1e-6)
    assert r.summary.ci_low == pytest.approx(0.70077, abs=1e-5)
    assert r.summary.ci_high == pytest.approx(3.29923, abs=1e-5)
    assert (r.wins, r.losses) == (4, 0)


def test_paired_needs_the_same_seeds():
    with pytest.raises(ValueError, match='3 values against 2'):
        paired([1, 2, 3], [1, 2])


def test_verdicts():
    above = paired([3.0, 5.0, 4.0, 6.0], [1.0, 2.0, 3.0, 4.0])
    assert verdict(above, 'M2PT', 'baseline').startswith('M2PT above baseline by 2.00 points')
    below = paired([1.0, 2.0, 3.0, 4.0], [3.0, 5.0, 4.0, 6.0])
    assert verdict(below, 'M2PT', 'baseline').startswith('M2PT below baseline by 2.00 points')
    # differences +1, -1, +2, -2, 0: mean 0, the interval covers 0
    mixed = paired([1.0, 0.0, 2.0, 0.0, 5.0], [0.0, 1.0, 0.0, 2.0, 5.0])
    text = verdict(mixed, 'M2PT', 'baseline')
    assert 'no detectable effect' in text and 'n = 5' in text
    # t(0.975, 4) = 2.77645; sd sqrt(10 / 4) → half-width 2.77645 · 1.58114 / sqrt(5) = 1.96324
    assert mixed.summary.ci_high == pytest.approx(1.96324, abs=1e-5)


def test_holm_adjustment():
    # sorted 0.01, 0.03, 0.04 → × 3, 2, 1 = 0.03, 0.06, 0.04 → non-decreasing 0.03, 0.06, 0.06
    adjusted = holm([0.01, 0.04, 0.03, math.nan])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06]) and math.isnan(adjusted[3])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
