"""OmniVec's rows in the paper-rows tool: a claim names its paper, an OmniVec claim is matched
against OmniVec's cells only, and the guide lists the cells no config reproduces."""
from pathlib import Path

import pytest

from m2pt_mm.analysis import paper_rows
from tests.helpers import ROOT


def test_an_omnivec_claim_matches_omnivec_cells_only(tmp_path, monkeypatch):
    monkeypatch.setattr(paper_rows, 'ROOT', tmp_path)
    config = tmp_path / 'configs' / 'x.py'
    config.parent.mkdir()
    # M2PT's Table 2 has no such row: the paper field decides which table 2 is meant
    config.write_text("__paper_rows__ = dict(paper='OmniVec', table=2, setting='pretrained', "
                      "row='OmniVec', columns=['ImageNet1K'])\n")
    configs, errors = paper_rows.match(paper_rows.all_claims(tmp_path / 'configs'))
    assert errors == []
    cell, = configs
    assert (cell.paper, cell.table, cell.value, cell.label) == ('OmniVec', 2, 88.6, 'OmniVec 2')
    config.write_text("__paper_rows__ = dict(table=2, setting='pretrained', row='OmniVec', "
                      "columns=['ImageNet1K'])\n")
    _, errors = paper_rows.match(paper_rows.all_claims(tmp_path / 'configs'))
    assert errors == ["configs/x.py: no paper cell table 2 'pretrained' row 'OmniVec' "
                      "column 'ImageNet1K'"]


def test_a_claim_of_an_unknown_paper_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setattr(paper_rows, 'ROOT', tmp_path)
    config = tmp_path / 'configs' / 'x.py'
    config.parent.mkdir()
    config.write_text("__paper_rows__ = dict(paper='Omnivec', table=8, setting='ablation', "
                      "row='OmniVec-4', columns=['SSv2'])\n")
    with pytest.raises(ValueError, match=r"configs/x.py: __paper_rows__ paper 'Omnivec' is "
                       r"neither 'M2PT' nor 'OmniVec'"):
        paper_rows.read_claims(config)


def test_every_omnivec_cell_is_claimed_or_listed_as_not_reproduced():
    configs, _ = paper_rows.match(paper_rows.all_claims())
    omnivec = [c for c in paper_rows.PAPER if c.paper == 'OmniVec']
    # Table 2 (5 cells), Table 8 (4 rows of 4 and OmniVec-4's AudioSet), Table 13 (5)
    assert len(omnivec) == 5 + 17 + 5
    assert all(configs.get(c) for c in omnivec)
    listed = {(t, r, col) for t, r, col, _, _ in paper_rows.NOT_REPRODUCED}
    claimed = {(c.table, c.row, c.column) for c in omnivec}
    assert not listed & claimed
    # Table 8 has 7 columns × 4 rows: each is claimed or explained
    assert len({k for k in listed | claimed if k[0] == 8}) == 28
    guide = Path(ROOT / 'docs' / 'reproduce.md').read_text()
    for table, row, column, value, reason in paper_rows.NOT_REPRODUCED:
        assert f'| OmniVec {table} | {row} | {column} | {value:g} | {reason} |' in guide
