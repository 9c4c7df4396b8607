"""Every number of the paper's own rows has a config that says it reproduces it, every such claim
names a real row, and docs/reproduce.md shows the table the configs give today."""
from pathlib import Path

import pytest

from m2pt_mm.analysis import paper_rows
from tests.helpers import ROOT, load_tool


def test_every_paper_cell_has_a_config_and_every_claim_a_paper_cell():
    configs, errors = paper_rows.match(paper_rows.all_claims())
    assert errors == []
    missing = [cell for cell in paper_rows.PAPER if cell not in configs]
    assert missing == [], missing
    for cell, paths in configs.items():
        assert all((ROOT / p).is_file() for p in paths), (cell, paths)


def test_a_claim_is_read_from_the_config_file_itself_not_from_its_bases():
    # the λ-fixed ablation inherits the M2PT-Point config (Tables 1, 5, 6) and claims one row
    fixed = ROOT / 'configs/classification/m2pt_vit-base-p16-point-lambdafixed_mae-pre_' \
                   '8xb128-coslr-100e_in1k.py'
    claims = paper_rows.read_claims(fixed)
    assert [(c.table, c.row) for c in claims] == [(5, 'all four, λ₀=1e-2, fixed')]


def test_a_claim_of_a_row_the_paper_lacks_or_without_its_keys_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(paper_rows, 'ROOT', tmp_path)
    config = tmp_path / 'configs' / 'x.py'
    config.parent.mkdir()
    config.write_text("__paper_rows__ = dict(table=1, setting='pretrained', row='M2PT-Lidar', "
                      "columns=['tune acc'])\n")
    _, errors = paper_rows.match(paper_rows.all_claims(tmp_path / 'configs'))
    assert errors == ["configs/x.py: no paper cell table 1 'pretrained' row 'M2PT-Lidar' "
                      "column 'tune acc'"]
    config.write_text("__paper_rows__ = dict(table=1, row='MAE*')\n")
    with pytest.raises(ValueError,
                       match=r"configs/x.py: __paper_rows__ lacks \['columns', 'setting'\]"):
        paper_rows.read_claims(config)


def test_the_reproduction_guide_shows_the_table_of_todays_configs():
    configs, _ = paper_rows.match(paper_rows.all_claims())
    guide = Path(ROOT / 'docs' / 'reproduce.md').read_text()
    assert paper_rows.markdown_table(configs) in guide, \
        'docs/reproduce.md is stale: python tools/analysis/paper_rows.py --guide docs/reproduce.md'


def test_guide_into_a_missing_folder_is_refused_before_the_work(tmp_path, capsys, monkeypatch):
    # before: a traceback after 15-19 s of matching every config
    tool = load_tool('analysis/paper_rows')
    monkeypatch.setattr(tool, 'all_claims', lambda: pytest.fail('matched before refusing'))
    with pytest.raises(SystemExit):
        tool.main(['--guide', str(tmp_path / 'no' / 'guide.md')])
    assert f"directory '{tmp_path / 'no'}' does not exist" in capsys.readouterr().err
