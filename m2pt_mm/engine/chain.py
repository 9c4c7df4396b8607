"""The commands that take a config from its inputs to the figure a paper row reports, in order:
what ``docs/reproduce.md`` prints (``tools/analysis/paper_rows.py --guide``) and what the config run
test executes (``tests/test_config_runs.py``). One description, so that a guide line that does not
run cannot exist.

A config states how the paper tests it in a module-level dunder, read from the file's source and
from the local ``_base_`` files it inherits (the nearest wins)::

    __paper_test__ = dict(checkpoint='best', tta=True)   # default: the last checkpoint, no TTA

and what a user reproducing it must know in ``__reproduce_notes__ = ['A sentence.', ...]`` (every
file's notes, bases first). mmengine drops dunder names, so neither reaches the parsed config.
"""
import ast
import os.path as osp
import re
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[2]

TRAIN, TEST, PUBLISH = 'train', 'test', 'publish'


class CheckpointRef(NamedTuple):
    """A checkpoint a run writes, named before the run: ``which`` is ``'last'``, ``'best'`` or
    ``'epoch_N'``/``'iter_N'``; ``deploy`` names its merged twin (``*_deploy.pth``)."""
    work_dir: str
    which: str
    deploy: bool = False


class Source(NamedTuple):
    """Where a checkpoint file the configs read comes from: a public file (and the name to save
    it under is the path itself) and/or a config of this repository whose run is published under
    that name (``which``: the checkpoint of that run)."""
    public: Optional[str] = None
    config: Optional[str] = None
    which: str = 'last'


class Step(NamedTuple):
    """One command: ``train``/``test`` a config (on ``gpus`` GPUs), or ``publish`` a checkpoint
    under ``out_dir/out_name``."""
    tool: str
    config: Optional[str] = None
    gpus: int = 1
    checkpoint: Optional[CheckpointRef] = None
    cfg_options: Tuple[str, ...] = ()
    tta: bool = False
    out_dir: Optional[str] = None
    out_name: Optional[str] = None

    def argv(self, config: str, checkpoint: Callable[[CheckpointRef], str]) -> List[str]:
        """The step's arguments for ``tools/{train,test}.py`` or ``publish_model.py``, with
        ``config`` for the config path and ``checkpoint`` resolving the checkpoint it reads."""
        if self.tool == PUBLISH:
            return [checkpoint(self.checkpoint), self.out_dir, '--out-name', self.out_name]
        args = [config]
        if self.tool == TEST:
            args.append(checkpoint(self.checkpoint))
        if self.tta:
            args.append('--tta')
        if self.cfg_options:
            args += ['--cfg-options', *self.cfg_options]
        return args

    def command(self, checkpoint: Callable[[CheckpointRef], str]) -> str:
        """The shell command a user types (``dist_*.sh`` for more than one GPU)."""
        args = self.argv(self.config, checkpoint)
        if self.tool == PUBLISH:
            return ' '.join(['python tools/model_converters/publish_model.py', *args])
        if self.gpus == 1:
            return ' '.join([f'python tools/{self.tool}.py', *args])
        # dist_{train,test}.sh CONFIG [CHECKPOINT] GPUS [args]
        positional = 2 if self.tool == TEST else 1
        return ' '.join([f'bash tools/dist_{self.tool}.sh', *args[:positional], str(self.gpus),
                         *args[positional:]])


def _zoo(name: str, path: str) -> str:
    return (f"the M2PT zoo's {name} (AILab-CVC/M2PT README, ViT-B/16 weights): download it and "
            f'save it as `{path}`')


_POINT_MAE = 'configs/mae/pointmae_m2pt-vit-base-g64_1xb128-coslr-300e_shapenet55-1024.py'
_AUDIO_MAE = 'configs/mae/audiomae_m2pt-vit-base-p16_64xb8-amp-coslr-33e_audioset-2m.py'
#: Every checkpoint file the configs read, and where it comes from.
SOURCES: Dict[str, Source] = {
    'checkpoints/mae_pretrain_vit_base.pth': Source(
        "MAE's public `mae_pretrain_vit_base.pth` (facebookresearch/mae)",
        'configs/mae/mae_m2pt-vit-base-p16_8xb512-amp-coslr-1600e_in1k.py'),
    'checkpoints/audiomae_pretrained.pth': Source(
        "AudioMAE's public `pretrained.pth` (facebookresearch/AudioMAE, AudioSet-2M)", _AUDIO_MAE),
    'checkpoints/videomae_vit-base-p16_k400_pretrain.pth': Source(
        "VideoMAE's public ViT-B Kinetics-400 pretraining checkpoint (MCG-NJU/VideoMAE, "
        'MODEL_ZOO.md)', 'configs/mae/videomae_m2pt-vit-base-p16_64xb32-amp-coslr-800e_k400.py'),
    'checkpoints/m2pt/point_vit-base-p16.pth': Source(
        _zoo('point model', 'checkpoints/m2pt/point_vit-base-p16.pth'), _POINT_MAE),
    'checkpoints/m2pt/video_vit-base-p16.pth': Source(
        _zoo('video model', 'checkpoints/m2pt/video_vit-base-p16.pth'),
        'configs/mae/videomae_m2pt-vit-base-p16_64xb32-amp-coslr-800e_k700.py'),
    'checkpoints/m2pt/audio_vit-base-p16.pth': Source(
        _zoo('audio model', 'checkpoints/m2pt/audio_vit-base-p16.pth'), _AUDIO_MAE),
    # the public Point-MAE files are 384 wide; the paper's point models are 768 wide
    'checkpoints/point-mae_vit-base_shapenet-pretrain.pth': Source(None, _POINT_MAE),
    **{f'checkpoints/m2pt/pointmae_vit-base-g64_shapenet55-ep{epoch}.pth':
       Source(None, _POINT_MAE, f'epoch_{epoch}') for epoch in (20, 220, 300)},
    # ViT-L/16 and ViT-H/14 targets; their point aux models are our Point-MAE runs at that size
    'checkpoints/mae_pretrain_vit_large.pth': Source(
        "MAE's public `mae_pretrain_vit_large.pth` (facebookresearch/mae)"),
    'checkpoints/mae_pretrain_vit_huge.pth': Source(
        "MAE's public `mae_pretrain_vit_huge.pth` (facebookresearch/mae)"),
    **{f'checkpoints/m2pt/pointmae_vit-{size}-g64_shapenet55.pth': Source(
        None, f'configs/mae/pointmae_m2pt-vit-{size}-g64_1xb128-coslr-300e_shapenet55-1024.py')
       for size in ('large', 'huge')},
    'checkpoints/m2pt/m2pt_vit-base-p16-point_mae-pre_in1k_deploy.pth': Source(
        None, 'configs/classification/m2pt_vit-base-p16-point_mae-pre_8xb128-coslr-100e_in1k.py'),
    'checkpoints/m2pt/m2pt_vit-base-p16-point_scratch_in1k_deploy.pth': Source(
        None, 'configs/classification/m2pt_vit-base-p16-point_scratch_16xb64-300e_in1k.py'),
    'checkpoints/m2pt/vit-base-p16_scratch_in1k.pth': Source(
        None, 'configs/classification/vit-base-p16_scratch_16xb64-300e_in1k.py'),
}


def literal(node: ast.AST) -> Any:
    """``ast.literal_eval`` that also reads ``dict(key=literal, ...)``, as configs write it."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict' \
            and not node.args:
        return {kw.arg: literal(kw.value) for kw in node.keywords}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(e) for e in node.elts]
    return ast.literal_eval(node)


def read_dunder(path: Path, name: str) -> Any:
    """The literal value of a module-level ``name = ...`` in a config file, or None.

    Raises:
        ValueError: the value is not a literal (naming the file and the name).
    """
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                return literal(node.value)
            except ValueError as error:
                raise ValueError(f'{path}: {name} must be a literal ({error})') from None
    return None


def local_bases(path: Path) -> List[Path]:
    """The config's local ``_base_`` files, depth first, bases before the files inheriting
    them, each once (``mmpretrain::``-style bases of other packages are not read)."""
    out: List[Path] = []
    for base in _bases_of(path):
        if '::' in base:
            continue
        base_path = (path.parent / base).resolve()
        for found in local_bases(base_path) + [base_path]:
            if found not in out:
                out.append(found)
    return out


def _bases_of(path: Path) -> List[str]:
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            value = literal(node.value)
            return [value] if isinstance(value, str) else list(value)
    return []


def inherited(path: Path, name: str) -> List[Any]:
    """Every value of dunder ``name`` along the config's local bases, then the file's own."""
    values = [read_dunder(p, name) for p in [*local_bases(path), path]]
    return [v for v in values if v is not None]


def reproduce_notes(config: str) -> List[str]:
    """The ``__reproduce_notes__`` of a config and its local bases, bases first, each once."""
    notes: List[str] = []
    for value in inherited(ROOT / config, '__reproduce_notes__'):
        for note in [value] if isinstance(value, str) else value:
            if note not in notes:
                notes.append(note)
    return notes


def paper_test(config: str) -> Dict[str, Any]:
    """How the paper tests the config: ``checkpoint`` ('last' or 'best') and ``tta``."""
    protocol: Dict[str, Any] = dict(checkpoint='last', tta=False)
    for value in inherited(ROOT / config, '__paper_test__'):
        unknown = set(value) - set(protocol)
        if unknown:
            raise ValueError(f'{config}: __paper_test__ has unknown keys {sorted(unknown)} '
                             f'(known: {sorted(protocol)})')
        protocol.update(value)
    if protocol['checkpoint'] not in ('last', 'best'):
        raise ValueError(f"{config}: __paper_test__ checkpoint must be 'last' or 'best', got "
                         f"{protocol['checkpoint']!r}")
    return protocol


def checkpoints_read(cfg) -> List[str]:
    """Every checkpoint path a parsed config reads (model init, aux models, load_from)."""
    found: List[str] = []

    def walk(node: Any, key: Optional[str] = None) -> None:
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


def producer(path: str) -> Optional[str]:
    """The config whose run makes a checkpoint file a config reads: its :data:`SOURCES` entry, or
    for ``work_dirs/<config name>/<checkpoint>`` (a later stage's ``load_from``) that config."""
    if path in SOURCES:
        return SOURCES[path].config
    match = re.fullmatch(r'work_dirs/([^/]+)/[^/]+\.pth', path)
    if match is None:
        return None
    found = [c for c in run_test_configs() if Path(c).stem == match[1]]
    return found[0] if len(found) == 1 else None


def num_gpus(config: str) -> int:
    """The recipe's GPU count: N of the ``NxbM`` name field."""
    match = re.search(r'_(\d+)xb\d+', Path(config).stem)
    if match is None:
        raise ValueError(f'{config}: no NxbM field in the name')
    return int(match[1])


def work_dir(config: str) -> str:
    return f'work_dirs/{Path(config).stem}'


def merges(cfg) -> bool:
    """A run of ``cfg`` writes merged deploy twins: its backbone has a pathway."""
    return bool(cfg.model.get('backbone', {}).get('pathway'))


def plain_test_options(cfg) -> Tuple[str, ...]:
    """``--cfg-options`` that test a merged (deploy) checkpoint with an M2PT config: no pathway,
    and no ``fix_weights`` (a probe's, which needs one)."""
    options = ['model.backbone.pathway=None']
    if cfg.model.backbone.get('fix_weights'):
        options.append('model.backbone.fix_weights=False')
    return tuple(options)


def publish_step(config: str, which: str, deploy: bool, path: str) -> Step:
    folder, name = osp.split(path)
    return Step(PUBLISH, config, checkpoint=CheckpointRef(work_dir(config), which, deploy),
                out_dir=folder, out_name=name)


def train_chain(config: str, cfg, test: bool = True) -> List[Step]:
    """Train the config; test the checkpoint the paper reports (with the merged plain ViT for an
    M2PT config); publish every file other configs read from this run."""
    gpus, merged = num_gpus(config), merges(cfg)
    protocol = paper_test(config)
    steps = [Step(TRAIN, config, gpus)]
    if test and cfg.get('test_dataloader'):  # pretraining configs have no test
        reported = CheckpointRef(work_dir(config), protocol['checkpoint'], deploy=merged)
        steps.append(Step(TEST, config, gpus, reported, tta=protocol['tta'],
                          cfg_options=plain_test_options(cfg) if merged else ()))
    for path, source in SOURCES.items():
        if source.config == config:
            # a downstream plain model reads the merged twin of an M2PT run
            steps.append(publish_step(config, source.which, merged, path))
    return steps


def checkpoint_name(ref: CheckpointRef, cfg) -> str:
    """The file a run of ``cfg`` writes for ``ref``, as the guide prints it (a shell glob for the
    best checkpoint, whose epoch is known only after the run)."""
    suffix = '_deploy.pth' if ref.deploy else '.pth'
    if ref.which == 'best':
        metric = cfg.default_hooks.checkpoint.get('save_best')
        if not metric:
            raise ValueError(f"{ref.work_dir}: the paper reports the best checkpoint but the "
                             'config sets no default_hooks.checkpoint.save_best')
        unit = 'epoch' if cfg.train_cfg.get('by_epoch', 'max_epochs' in cfg.train_cfg) else 'iter'
        # `[0-9].pth` leaves the deploy twin out of the glob
        tail = '*_deploy.pth' if ref.deploy else '*[0-9].pth'
        return f'{ref.work_dir}/best_{metric.replace("/", "_")}_{unit}_{tail}'
    if ref.which == 'last':
        if cfg.train_cfg.get('max_epochs'):
            return f'{ref.work_dir}/epoch_{cfg.train_cfg.max_epochs}{suffix}'
        return f'{ref.work_dir}/iter_{cfg.train_cfg.max_iters}{suffix}'
    return f'{ref.work_dir}/{ref.which}{suffix}'


def load(config: str):
    from mmengine.config import Config
    return Config.fromfile(str(ROOT / config))


def source_steps(path: str) -> List[Step]:
    """The commands that make a checkpoint file in this repository (train, then publish)."""
    source = SOURCES[path]
    if source.config is None:
        return []
    steps = train_chain(source.config, load(source.config), test=False)
    return [s for s in steps
            if s.tool == TRAIN or (s.tool == PUBLISH and osp.join(s.out_dir, s.out_name) == path)]


def render(steps: Sequence[Step]) -> List[str]:
    """Each step as the command a user types, checkpoints named as the runs write them."""
    cfgs: Dict[str, Any] = {}

    def name(ref: CheckpointRef) -> str:
        config = next(s.config for s in steps if s.config and work_dir(s.config) == ref.work_dir)
        if config not in cfgs:
            cfgs[config] = load(config)
        return checkpoint_name(ref, cfgs[config])

    return [step.command(name) for step in steps]


def run_test_configs() -> List[str]:
    """Every full-size config of ``configs/`` (not a ``_base_`` fragment, not a tiny CPU one):
    the configs whose chain the config run test runs."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / 'configs').rglob('*.py')
                  if '_base_' not in p.parts and 'tiny' not in p.stem)
