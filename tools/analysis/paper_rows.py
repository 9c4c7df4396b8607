"""The M2PT paper's result rows (Tables 1–6) and the configs of this repository that reproduce
each, read from the configs themselves.

A config that reproduces a row says so in its own file::

    __paper_rows__ = dict(table=1, setting='pretrained', row='M2PT-Point', columns=['tune acc'])

(a dict or a list of them). The entry is read from the file's source, and mmengine drops dunder
names from a config, so it never reaches the merged config and never passes to a child.

The paper's numbers live once, in :data:`PAPER` below (typed from the paper's text in
``shared/reference/papers/``). Rows of other methods the paper compares with (SemMAE, AST,
Point-BERT, SlowFast, …) are not reproduced here and not listed.

Examples::

    python tools/analysis/paper_rows.py              # markdown table; exit 1 if a row has no
                                                     # config or a config names an unknown row
    python tools/analysis/paper_rows.py --guide docs/reproduce.md   # also write the guide
"""
import argparse
import ast
import os.path as osp
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[2]


class Cell(NamedTuple):
    """One number of the paper: a (table, setting, row, column) and its value."""
    table: int
    setting: str
    row: str
    column: str
    value: float


def _cells(table: int, setting: str, columns: Sequence[str],
           rows: Dict[str, Sequence[Optional[float]]]) -> List[Cell]:
    return [Cell(table, setting, row, column, value) for row, values in rows.items()
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
]


class Claim(NamedTuple):
    """One entry of a config's ``__paper_rows__``."""
    config: str  # relative to the repository root
    table: int
    setting: str
    row: str
    columns: Tuple[str, ...]


def _literal(node: ast.AST):
    """``ast.literal_eval`` that also reads ``dict(key=literal, ...)``, as configs write it."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict' \
            and not node.args:
        return {kw.arg: _literal(kw.value) for kw in node.keywords}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e) for e in node.elts]
    return ast.literal_eval(node)


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
                value = _literal(node.value)
            except ValueError as error:
                raise ValueError(f'{rel}: __paper_rows__ must be a literal dict(...) or list of '
                                 f'them ({error})') from None
            entries = value if isinstance(value, list) else [value]
            claims = []
            for entry in entries:
                missing = {'table', 'setting', 'row', 'columns'} - set(entry)
                if missing:
                    raise ValueError(f'{rel}: __paper_rows__ lacks {sorted(missing)}')
                claims.append(Claim(rel, int(entry['table']), entry['setting'], entry['row'],
                                    tuple(entry['columns'])))
            return claims
    return []


def all_claims(config_root: Path = ROOT / 'configs') -> List[Claim]:
    return [c for path in sorted(config_root.rglob('*.py')) for c in read_claims(path)]


def match(claims: Sequence[Claim]) -> Tuple[Dict[Cell, List[str]], List[str]]:
    """Configs per paper cell, and the errors: claims of cells the paper does not have."""
    index = {(c.table, c.setting, c.row, c.column): c for c in PAPER}
    configs: Dict[Cell, List[str]] = defaultdict(list)
    errors = []
    for claim in claims:
        for column in claim.columns:
            cell = index.get((claim.table, claim.setting, claim.row, column))
            if cell is None:
                errors.append(f'{claim.config}: no paper cell table {claim.table} '
                              f'{claim.setting!r} row {claim.row!r} column {column!r}')
            else:
                configs[cell].append(claim.config)
    return configs, errors


def markdown_table(configs: Dict[Cell, List[str]]) -> str:
    lines = ['| table | setting | row | column | paper | config |', '|---|---|---|---|---|---|']
    for cell in PAPER:
        found = '<br>'.join(f'`{c}`' for c in configs.get(cell, [])) or '**none**'
        lines.append(f'| {cell.table} | {cell.setting} | {cell.row} | {cell.column} | '
                     f'{cell.value:g} | {found} |')
    return '\n'.join(lines) + '\n'


#: Where each checkpoint file the paper configs read comes from: a public file of another project
#: or a run of this repository (then ``publish_model.py`` gives it the name the configs read).
ORIGINS: Dict[str, str] = {
    'checkpoints/mae_pretrain_vit_base.pth':
        "MAE's public `mae_pretrain_vit_base.pth` (facebookresearch/mae), or this repository's "
        '`configs/mae/mae_m2pt-vit-base-p16_8xb512-amp-coslr-1600e_in1k.py`',
    'checkpoints/audiomae_pretrained.pth':
        "AudioMAE's public `pretrained.pth` (facebookresearch/AudioMAE, AudioSet-2M), or "
        '`configs/mae/audiomae_m2pt-vit-base-p16_64xb8-amp-coslr-33e_audioset-2m.py`',
    'checkpoints/videomae_vit-base-p16_k400_pretrain.pth':
        "VideoMAE's public ViT-B Kinetics-400 pretraining checkpoint (MCG-NJU/VideoMAE, "
        'MODEL_ZOO.md), or `configs/mae/videomae_m2pt-vit-base-p16_64xb8-amp-coslr-800e_k400.py`',
    'checkpoints/m2pt/point_vit-base-p16.pth':
        "the M2PT zoo's point ViT-B/16 (AILab-CVC/M2PT README), or epoch 300 of "
        '`configs/mae/pointmae_m2pt-vit-base-g64_1xb128-coslr-300e_shapenet55-1024.py`',
    'checkpoints/m2pt/video_vit-base-p16.pth':
        "the M2PT zoo's video ViT-B/16 (AILab-CVC/M2PT README), or, as the paper trained it, "
        '`configs/mae/videomae_m2pt-vit-base-p16_64xb32-amp-coslr-800e_k700.py`',
    'checkpoints/m2pt/audio_vit-base-p16.pth':
        "the M2PT zoo's audio ViT-B/16 (AILab-CVC/M2PT README), or "
        '`configs/mae/audiomae_m2pt-vit-base-p16_64xb8-amp-coslr-33e_audioset-2m.py`',
}


_POINT_MAE = 'configs/mae/pointmae_m2pt-vit-base-g64_1xb128-coslr-300e_shapenet55-1024.py'
#: The files only a run of this repository makes: the config that trains it and the checkpoint of
#: that run that ``publish_model.py`` publishes under the name the configs read.
PRODUCERS: Dict[str, Tuple[str, str]] = {
    # the public Point-MAE files are 384 wide; the paper's point models are 768 wide
    'checkpoints/point-mae_vit-base_shapenet-pretrain.pth': (_POINT_MAE, 'epoch_300.pth'),
    **{f'checkpoints/m2pt/pointmae_vit-base-g64_shapenet55-ep{epoch}.pth':
       (_POINT_MAE, f'epoch_{epoch}.pth') for epoch in (20, 220, 300)},
    'checkpoints/m2pt/m2pt_vit-base-p16-point_mae-pre_in1k_deploy.pth':
        ('configs/classification/m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py',
         'epoch_100_deploy.pth'),
    'checkpoints/m2pt/m2pt_vit-base-p16-point_scratch_in1k_deploy.pth':
        ('configs/classification/m2pt_vit-base-p16-point_scratch_16xb64-300e_in1k.py',
         'epoch_300_deploy.pth'),
    'checkpoints/m2pt/vit-base-p16_scratch_in1k.pth':
        ('configs/classification/vit-base-p16_scratch_16xb64-300e_in1k.py', 'epoch_300.pth'),
}


def origin(path: str) -> str:
    """Where a checkpoint file comes from, in a sentence with the commands that make it."""
    if path in PRODUCERS:
        config, checkpoint = PRODUCERS[path]
        folder, name = osp.split(path)
        return (f'this repository: train `{config}`, then `python tools/model_converters/'
                f'publish_model.py work_dirs/{Path(config).stem}/{checkpoint} {folder} '
                f'--out-name {name}`')
    return ORIGINS.get(path, '**origin unknown**')


def checkpoints_read(cfg) -> List[str]:
    """Every checkpoint path a resolved config reads (model init, aux models, load_from)."""
    found: List[str] = []

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in ('checkpoint', 'aux_checkpoint'):
            found.append(node)

    walk(cfg.model.to_dict())
    if cfg.get('load_from'):
        found.append(cfg.load_from)
    return list(dict.fromkeys(found))


def last_checkpoint(cfg) -> str:
    if cfg.train_cfg.get('max_epochs'):
        return f'epoch_{cfg.train_cfg.max_epochs}'
    return f'iter_{cfg.train_cfg.max_iters}'


def config_steps(config: str) -> List[str]:
    """The commands of one config, in order, with the files each reads and writes."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(ROOT / config))
    work = f'work_dirs/{Path(config).stem}'
    last = f'{work}/{last_checkpoint(cfg)}'
    backbone = cfg.model.get('backbone', {})
    merged = bool(backbone.get('pathway'))
    steps = []
    for path in checkpoints_read(cfg):
        steps.append(f'reads `{path}`: {origin(path)}')
    gpus = int(re.search(r'_(\d+)xb\d+', Path(config).stem)[1])
    tta = ' --tta' if cfg.get('tta_model') else ''  # the paper's multi-view test (VideoMAE)
    if gpus == 1:
        steps.append(f'`python tools/train.py {config}`')
    else:
        steps.append(f'`bash tools/dist_train.sh {config} {gpus}`')

    def test(checkpoint: str, extra: str = '') -> str:
        if gpus == 1:
            return f'`python tools/test.py {config} {checkpoint}{tta}{extra}`'
        return f'`bash tools/dist_test.sh {config} {checkpoint} {gpus}{tta}{extra}`'

    if merged:
        steps.append(f'the merged plain ViT is written beside it: `{last}_deploy.pth`')
        steps.append(test(f'{last}_deploy.pth', ' --cfg-options model.backbone.pathway=None'))
    else:
        steps.append(test(f'{last}.pth'))
    return steps


def guide(configs: Dict[Cell, List[str]]) -> str:
    """docs/reproduce.md: per table, per row, the paper's numbers and each config's commands."""
    out = ['# Reproducing the paper, row by row', '',
           'Generated by `python tools/analysis/paper_rows.py --guide docs/reproduce.md` from the',
           "configs' own `__paper_rows__` entries; do not edit by hand. A config named `NxbM` is the",
           "recipe's N GPUs × M samples each, and the commands below use N GPUs (`dist_train.sh",
           'CONFIG N`); other GPU counts change the batch unless `--auto-scale-lr` is given.',
           'No run of these full-size configs has been done in this repository (see the README',
           "'s Results); the paper's numbers are what a run should approach. The upstream projects",
           'do not state per-row training times we could check, so none are given.', '',
           '## Where each checkpoint comes from', '', '| file | origin |', '|---|---|']
    out += [f'| `{path}` | {origin(path)} |' for path in [*ORIGINS, *PRODUCERS]]
    out += ['', '## All rows', '', markdown_table(configs).rstrip('\n'), '']
    rows: Dict[Tuple[int, str, str], List[Cell]] = defaultdict(list)
    for cell in PAPER:
        rows[(cell.table, cell.setting, cell.row)].append(cell)
    table = None
    for (number, setting, row), cells in rows.items():
        if number != table:
            table = number
            out += [f'## Table {number}', '']
        numbers = ', '.join(f'{c.column} {c.value:g}' for c in cells)
        out += [f'### {row} ({setting}): {numbers}', '']
        members = list(dict.fromkeys(c for cell in cells for c in configs.get(cell, [])))
        if not members:
            out += ['**No config.**', '']
        for config in members:
            columns = [cell.column for cell in cells if config in configs.get(cell, [])]
            out += [f'`{config}` ({", ".join(columns)}):', '']
            out += [f'{i}. {step}' for i, step in enumerate(config_steps(config), 1)] + ['']
    return '\n'.join(out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="The paper's rows and the configs of each")
    parser.add_argument('--guide', help='also write the reproduction guide (markdown) here')
    args = parser.parse_args(argv)
    configs, errors = match(all_claims())
    print(markdown_table(configs), end='')
    missing = [cell for cell in PAPER if cell not in configs]
    for cell in missing:
        errors.append(f'no config for table {cell.table} {cell.setting!r} row {cell.row!r} '
                      f'column {cell.column!r}')
    if args.guide:
        Path(args.guide).write_text(guide(configs))
        print(f'wrote {osp.relpath(args.guide)}')
    for error in errors:
        print(error, file=sys.stderr)
    print(f'{len(PAPER) - len(missing)} of {len(PAPER)} paper cells have a config')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
