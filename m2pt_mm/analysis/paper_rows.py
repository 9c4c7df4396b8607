"""The result rows of the two papers this toolbox implements — M2PT (Tables 1–6) and OmniVec
(Tables 2, 8 and 13) — and the configs of this repository that reproduce each, read from the
configs themselves.

A config that reproduces a row says so in its own file::

    __paper_rows__ = dict(table=1, setting='pretrained', row='M2PT-Point', columns=['tune acc'])
    __paper_rows__ = dict(paper='OmniVec', table=13, setting='fine-tuned', row='OmniVec',
                          columns=['ImageNet1K top-1'])

(a dict or a list of them; ``paper`` defaults to M2PT). The entry is read from the file's
source, and mmengine drops dunder names from a config, so it never reaches the merged config and
never passes to a child.

The papers' numbers live once, in :data:`PAPER` below (typed from the papers' text, arXiv
2401.14405 and OmniVec, WACV 2024); the OmniVec cells no config can reproduce are
:data:`NOT_REPRODUCED`, with the reason. Rows of other methods the papers compare with (SemMAE,
AST, Point-BERT, SlowFast, Omnivore, …) are not reproduced here and not listed.

``tools/analysis/paper_rows.py`` is its command line (it prints the table and writes
``docs/reproduce.md``).
"""
import ast
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from m2pt_mm.engine.chain import (
    ROOT,
    SOURCES,
    checkpoints_read,
    literal,
    load,
    producer,
    render,
    reproduce_notes,
    source_steps,
    train_chain,
)

M2PT, OMNIVEC = 'M2PT', 'OmniVec'


class Cell(NamedTuple):
    """One number of a paper: a (table, setting, row, column) and its value."""
    table: int
    setting: str
    row: str
    column: str
    value: float
    paper: str = M2PT

    @property
    def label(self) -> str:
        """The table as the guide names it (M2PT's tables by number alone)."""
        return str(self.table) if self.paper == M2PT else f'{self.paper} {self.table}'


def _cells(table: int, setting: str, columns: Sequence[str],
           rows: Dict[str, Sequence[Optional[float]]], paper: str = M2PT) -> List[Cell]:
    return [Cell(table, setting, row, column, value, paper) for row, values in rows.items()
            for column, value in zip(columns, values) if value is not None]


#: Every number of the paper's own method and of its baselines (the rows M2PT is compared to
#: under identical recipes).
PAPER: List[Cell] = [
    *_cells(1, 'pretrained', ('tune acc', 'fix acc', 'AP box', 'AP mask', 'ADE20K mIoU'), {
        'MAE*': (83.3, 65.6, 47.3, 42.4, 46.1),
        'M2PT-Video': (83.6, 67.1, None, None, None),
        'M2PT-Audio': (83.7, 67.3, None, None, None),
        'M2PT-Point': (83.9, 67.8, 50.0, 44.0, 47.9)}),
    *_cells(1, 'from-scratch', ('tune acc', 'fix acc', 'AP box', 'AP mask', 'ADE20K mIoU'), {
        'ViT': (76.5, 14.5, 46.2, 40.5, 39.7),
        'M2PT-Point': (81.9, 19.5, 48.9, 42.2, 42.5)}),
    *_cells(2, 'pretrained', ('ShapeNetPart mIoU_C', 'ShapeNetPart mIoU_I', 'PartNet mIoU'), {
        'Point-MAE': (84.2, 86.1, 47.4),
        'M2PT-Video': (85.6, 87.5, 50.1),
        'M2PT-Image': (85.6, 87.5, 49.2),
        'M2PT-Audio': (85.6, 87.5, 48.1)}),
    *_cells(2, 'from-scratch', ('ShapeNetPart mIoU_C', 'ShapeNetPart mIoU_I'), {
        'N/A': (50.2, 68.4),
        'M2PT-Video': (50.8, 68.8)}),
    *_cells(3, 'pretrained', ('AudioSet-2k top-1', ), {
        'AudioMAE': (35.3, ), 'M2PT-Point': (35.6, ), 'M2PT-Video': (35.5, ),
        'M2PT-Image': (35.6, )}),
    *_cells(3, 'from-scratch', ('AudioSet-2k top-1', ), {'N/A': (11.0, ), 'M2PT-Point': (11.4, )}),
    *_cells(4, 'pretrained', ('K400 top-1', ), {
        'VideoMAE': (81.5, ), 'M2PT-Point': (82.3, ), 'M2PT-Image': (82.2, ),
        'M2PT-Audio': (82.3, )}),
    *_cells(5, 'ablation', ('top-1', ), {
        'QKV only, λ₀=0, learnable': (83.4, ),
        'Proj only, λ₀=0, learnable': (83.6, ),
        'FFN 1st only, λ₀=0, learnable': (83.6, ),
        'FFN 2nd only, λ₀=0, learnable': (83.7, ),
        'all four, λ₀=0, learnable': (83.9, ),
        'all four, λ₀=1e-2, fixed': (83.5, ),
        'all four, λ₀=1e-2, learnable': (83.6, ),
        'all four, λ₀=1e-4, learnable': (83.6, ),
        'all four, λ₀=1e-6, learnable': (83.7, )}),
    *_cells(6, 'ablation', ('top-1', ), {
        'normal order, aux pretrained 20 epochs': (83.55, ),
        'normal order, aux pretrained 220 epochs': (83.69, ),
        'normal order, aux pretrained 300 epochs': (83.93, ),
        'reversed order, aux pretrained 300 epochs': (83.61, )}),
    # OmniVec: Table 2 (the stage-2 network without fine-tuning), Table 8 (its ablation, the same
    # evaluation), Table 13 (fine-tuned on each pretraining dataset); the cells of
    # NOT_REPRODUCED are left out here
    *_cells(2, 'pretrained', ('AudioSet (A)', 'SSv2', 'ImageNet1K', 'Sun RGBD', 'ModelNet40'), {
        'OmniVec': (44.7, 80.1, 88.6, 71.4, 83.6)}, OMNIVEC),
    *_cells(8, 'ablation', ('AudioSet (A)', 'SSv2', 'ImageNet1K', 'Sun RGBD', 'ModelNet40'), {
        'OmniVec-1': (None, 62.6, 70.2, 59.8, 68.5),
        'OmniVec-2': (None, 73.5, 79.8, 66.4, 75.2),
        'OmniVec-3': (None, 70.2, 77.3, 65.5, 72.2),
        'OmniVec-4': (44.7, 80.1, 88.6, 71.4, 83.6)}, OMNIVEC),
    *_cells(13, 'fine-tuned', ('AudioSet (A) mAP', 'SSv2 top-1', 'ImageNet1K top-1',
                               'Sun RGBD top-1', 'ModelNet40 OA'), {
        'OmniVec': (54.8, 85.4, 92.4, 74.6, 96.6)}, OMNIVEC),
]

#: OmniVec cells without a config, and why: (table, row, column, value, reason).
NOT_REPRODUCED: List[Tuple[int, str, str, float, str]] = [
    *[(2 if row == 'OmniVec' else 8, row, 'AudioSet (A+V)', value,
       'no audio-visual model or reader here') for row, value in (
           ('OmniVec', 48.6), ('OmniVec-1', 37.5), ('OmniVec-2', 42.6), ('OmniVec-3', 39.2),
           ('OmniVec-4', 48.6))],
    *[(2 if row == 'OmniVec' else 8, row, 'GLUE', value,
       'GLUE averages nine tasks; only its SST-2 layout is read here') for row, value in (
           ('OmniVec', 84.3), ('OmniVec-1', 57.5), ('OmniVec-2', 69.5), ('OmniVec-3', 68.8),
           ('OmniVec-4', 84.3))],
    *[(8, row, 'AudioSet (A)', value, 'the linear probe config reads OmniVec-4 only; '
       'another variant is its run with --cfg-options load_from=<that variant\'s stage-2 file>')
      for row, value in (('OmniVec-1', 36.3), ('OmniVec-2', 40.1), ('OmniVec-3', 39.4))],
    (13, 'OmniVec', 'AudioSet (A+V) mAP', 55.2, 'no audio-visual model or reader here'),
]


class Claim(NamedTuple):
    """One entry of a config's ``__paper_rows__``."""
    config: str  # relative to the repository root
    table: int
    setting: str
    row: str
    columns: Tuple[str, ...]
    paper: str = M2PT


def read_claims(config: Path) -> List[Claim]:
    """The ``__paper_rows__`` entries written in a config file itself (a dict or a list of dicts).

    Raises:
        ValueError: an entry that is not a literal or misses one of its keys.
    """
    rel = config.relative_to(ROOT).as_posix()
    for node in ast.parse(config.read_text(), str(config)).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '__paper_rows__' for t in node.targets):
            try:
                value = literal(node.value)
            except ValueError as error:
                raise ValueError(f'{rel}: __paper_rows__ must be a literal dict(...) or list of '
                                 f'them ({error})') from None
            entries = value if isinstance(value, list) else [value]
            claims = []
            for entry in entries:
                missing = {'table', 'setting', 'row', 'columns'} - set(entry)
                if missing:
                    raise ValueError(f'{rel}: __paper_rows__ lacks {sorted(missing)}')
                paper = entry.get('paper', M2PT)
                if paper not in (M2PT, OMNIVEC):
                    raise ValueError(f'{rel}: __paper_rows__ paper {paper!r} is neither '
                                     f'{M2PT!r} nor {OMNIVEC!r}')
                claims.append(Claim(rel, int(entry['table']), entry['setting'], entry['row'],
                                    tuple(entry['columns']), paper))
            return claims
    return []


def all_claims(config_root: Path = ROOT / 'configs') -> List[Claim]:
    return [c for path in sorted(config_root.rglob('*.py')) for c in read_claims(path)]


def match(claims: Sequence[Claim]) -> Tuple[Dict[Cell, List[str]], List[str]]:
    """Configs per paper cell, and the errors: claims of cells the paper does not have."""
    index = {(c.paper, c.table, c.setting, c.row, c.column): c for c in PAPER}
    configs: Dict[Cell, List[str]] = defaultdict(list)
    errors = []
    for claim in claims:
        for column in claim.columns:
            cell = index.get((claim.paper, claim.table, claim.setting, claim.row, column))
            if cell is None:
                table = claim.table if claim.paper == M2PT else f'{claim.paper} {claim.table}'
                errors.append(f'{claim.config}: no paper cell table {table} '
                              f'{claim.setting!r} row {claim.row!r} column {column!r}')
            else:
                configs[cell].append(claim.config)
    return configs, errors


def markdown_table(configs: Dict[Cell, List[str]]) -> str:
    lines = ['| table | setting | row | column | paper | config |', '|---|---|---|---|---|---|']
    for cell in PAPER:
        found = '<br>'.join(f'`{c}`' for c in configs.get(cell, [])) or '**none**'
        lines.append(f'| {cell.label} | {cell.setting} | {cell.row} | {cell.column} | '
                     f'{cell.value:g} | {found} |')
    return '\n'.join(lines) + '\n'


def origin(path: str) -> str:
    """Where a checkpoint file comes from, in a sentence with the commands that make it."""
    source = SOURCES.get(path)
    if source is None:
        config = producer(path)
        if config is None:
            return '**origin unknown**'
        train = ' → '.join(f'`{c}`' for c in render(train_chain(config, load(config),
                                                                 test=False)))
        return f'the run of `{config}`, after the files it reads (its rows say): {train}'
    made = ' → '.join(f'`{c}`' for c in render(source_steps(path)))
    if source.public and made:
        return f'{source.public}; or train it here: {made}'
    return source.public or f'this repository: {made}'


def config_steps(config: str) -> List[str]:
    """The commands of one config, in order, after the files it reads."""
    cfg = load(config)
    steps = [f'reads `{path}`: {origin(path)}' for path in checkpoints_read(cfg)]
    return steps + [f'`{command}`' for command in render(train_chain(config, cfg))]


def guide(configs: Dict[Cell, List[str]]) -> str:
    """docs/reproduce.md: per table, per row, the paper's numbers and each config's commands."""
    out = ['# Reproducing the paper, row by row', '',
           'Generated by `python tools/analysis/paper_rows.py --guide docs/reproduce.md` from the',
           "configs' own `__paper_rows__` entries; do not edit by hand. A config named `NxbM` "
           'is the',
           "recipe's N GPUs × M samples each, and the commands below use N GPUs (`dist_train.sh",
           'CONFIG N`); other GPU counts change the batch unless `--auto-scale-lr` is given.',
           'No run of these full-size configs has been done in this repository (see the README',
           "'s Results); the paper's numbers are what a run should approach. The upstream projects",
           'do not state per-row training times we could check, so none are given.', '',
           'Every command below is run, in this order, by `tests/test_config_runs.py` (its `slow`',
           'set, `make test-all`) on a copy of its config changed in one documented way (ViT width',
           '64, tiny data in the real formats, two iterations:',
           '`m2pt_mm/testing/config_runs.py`), with the files the guide says to download made at',
           'that width in their projects\' layouts: the commands run as printed. A checkpoint',
           'name with `*` is a shell glob for the best checkpoint, whose epoch is known after the',
           'run (the paper reports the best epoch there, as the upstream project does); an M2PT',
           'run is tested with its merged plain ViT (`*_deploy.pth`, written by',
           '`MergePathwayHook`) and the `--cfg-options` that drop the pathway.', '',
           '## Where each checkpoint comes from', '', '| file | origin |', '|---|---|']
    out += [f'| `{path}` | {origin(path)} |' for path in SOURCES]
    out += ['', '## All rows', '', markdown_table(configs).rstrip('\n'), '',
            '## OmniVec cells without a config', '',
            "Tables 2, 8 and 13 of OmniVec (the rows labelled `OmniVec N` above) run on the "
            "datasets this toolbox reads; the paper's other cells are not reproduced:", '',
            '| table | row | column | paper | why not |', '|---|---|---|---|---|']
    out += [f'| OmniVec {table} | {row} | {column} | {value:g} | {reason} |'
            for table, row, column, value, reason in NOT_REPRODUCED]
    out += ['']
    rows: Dict[Tuple[str, str, str], List[Cell]] = defaultdict(list)
    for cell in PAPER:
        rows[(cell.label, cell.setting, cell.row)].append(cell)
    table = None
    for (label, setting, row), cells in rows.items():
        if label != table:
            table = label
            out += [f'## {cells[0].paper} Table {cells[0].table}' if cells[0].paper != M2PT
                    else f'## Table {label}', '']
        numbers = ', '.join(f'{c.column} {c.value:g}' for c in cells)
        out += [f'### {row} ({setting}): {numbers}', '']
        members = list(dict.fromkeys(c for cell in cells for c in configs.get(cell, [])))
        if not members:
            out += ['**No config.**', '']
        for config in members:
            columns = [cell.column for cell in cells if config in configs.get(cell, [])]
            out += [f'`{config}` ({", ".join(columns)}):', '']
            out += [f'{i}. {step}' for i, step in enumerate(config_steps(config), 1)] + ['']
            notes = reproduce_notes(config)
            if notes:
                out += ['Notes:', ''] + [f'- {note}' for note in notes] + ['']
    return '\n'.join(out)
