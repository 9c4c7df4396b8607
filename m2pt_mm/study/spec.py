"""A study file: a Python config (mmengine ``Config``) that declares the arms, regimes, seeds,
tuning grid and pretraining stages of a controlled comparison, checked as a whole before any run
starts (one clear line per mistake, naming the section, entry and field).

Sections (``studies/m2pt_digits.py`` is the worked example)::

    work_dir   = 'work_dirs/study'         # runs/, data/, results.{md,json}, figures/
    jobs       = 2                         # runs at a time (one thread each)
    metric     = 'accuracy/top1'           # the evaluator key compared (a suffix match)
    data       = dict(NAME=dict(type='digits' | 'spectrograms' | 'shapenet55', ...))
    values     = dict(NAME=value)                        # '{NAME}' in options
    options    = {key: value}                            # under every run's own options
    regimes    = [dict(name, train_list, options)]       # '{train_list}' in options is this
    seeds      = dict(final=[...] or {regime: [...]}, tune=[...], pretrain=[...])
    tuning     = [dict(name, key, values)]               # grid dimensions, chosen on val
    tune_on    = ['full']                  # regimes tuned (default all); the others take the
                                           # first one's choice
    stages     = [dict(name, config, options, init_only=False)]   # pretraining runs
    arms       = [dict(name, config, options, tune=(dims), tune_as=None, label, role)]
    baseline   = 'baseline'                              # comparisons default to arm − baseline
    comparisons = [(arm, reference), ...]
    quick      = dict(...)                 # overlay for --quick (same sections; see deep_merge)

Option values are strings, numbers, lists or dicts. In strings, ``{data}`` is the study's data
folder, ``{train_list}`` the regime's training list and ``{NAME}`` an entry of ``values`` (a
string that is exactly ``'{NAME}'`` becomes the value itself, of its type); a string ``'@STAGE'`` or
``'@STAGE:EPOCH'`` is the final (or that epoch's) checkpoint of pretraining stage ``STAGE`` for
the run's regime and pretraining seed. A stage whose options mention ``{train_list}`` runs once
per regime, others once.
"""
import copy
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

SECTIONS = {'work_dir', 'jobs', 'metric', 'data', 'values', 'options', 'regimes', 'seeds', 'tuning',
            'tune_on', 'stages', 'arms', 'baseline', 'comparisons', 'quick', 'description'}
ARM_FIELDS = {'name', 'config', 'options', 'tune', 'tune_as', 'label', 'role'}
STAGE_FIELDS = {'name', 'config', 'options', 'init_only'}
REGIME_FIELDS = {'name', 'train_list', 'options', 'label'}
TUNING_FIELDS = {'name', 'key', 'values'}
DATA_TYPES = {'digits', 'spectrograms', 'shapenet55'}
_REF = re.compile(r'^@([A-Za-z0-9_]+)(?::(\d+))?$')


class StudyError(ValueError):
    """A mistake in a study file, raised before any run starts."""


@dataclass
class Arm:
    name: str
    config: str
    options: Dict[str, Any]
    tune: Tuple[str, ...]
    tune_as: Optional[str]
    label: str
    role: str


@dataclass
class Stage:
    name: str
    config: str
    options: Dict[str, Any]
    init_only: bool
    per_regime: bool


@dataclass
class Regime:
    name: str
    train_list: str
    options: Dict[str, Any]
    label: str


@dataclass
class Dimension:
    name: str
    key: str
    values: List[Any]


@dataclass
class Study:
    """A checked study file."""
    path: str
    work_dir: str
    jobs: int
    metric: str
    data: Dict[str, Dict[str, Any]]
    regimes: List[Regime]
    final_seeds: Dict[str, List[int]]
    tune_seeds: List[int]
    pretrain_seeds: List[int]
    tuning: List[Dimension]
    stages: List[Stage]
    arms: List[Arm]
    baseline: str
    comparisons: List[Tuple[str, str]]
    values: Dict[str, Any] = field(default_factory=dict)
    options: Dict[str, Any] = field(default_factory=dict)
    tune_on: List[str] = field(default_factory=list)
    description: List[str] = field(default_factory=list)
    root: str = '.'  # what config paths are relative to

    def arm(self, name: str) -> Arm:
        return next(a for a in self.arms if a.name == name)

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)


def deep_merge(base: Any, overlay: Any) -> Any:
    """``overlay`` over ``base``: dicts merge key by key; lists of named dicts (arms, stages,
    regimes) merge by ``name`` (an overlay entry ``dict(name=..., _delete_=True)`` removes that
    entry); anything else is replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if (isinstance(base, list) and isinstance(overlay, list) and overlay
            and all(isinstance(x, dict) and 'name' in x for x in base + overlay)):
        names = [x['name'] for x in base]
        out = list(base)
        for item in overlay:
            if item.get('_delete_'):
                if item['name'] not in names:
                    raise StudyError(f'quick: {item["name"]!r} to delete is not in the study file')
                del out[names.index(item['name'])]
                names.remove(item['name'])
            elif item['name'] in names:
                out[names.index(item['name'])] = deep_merge(out[names.index(item['name'])], item)
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(overlay)


def _plain(node: Any) -> Any:
    """mmengine ConfigDicts and tuples as plain dicts and lists."""
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v) for v in node]
    return node


def _named(section: str, items: Any, fields: set, required: Sequence[str]) -> List[dict]:
    if not isinstance(items, list) or not items:
        raise StudyError(f'{section}: expected a non-empty list of dicts with a name')
    seen = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get('name'), str):
            raise StudyError(f'{section}[{i}]: expected a dict with a string `name`')
        where = f'{section} {item["name"]!r}'
        if item['name'] in seen:
            raise StudyError(f'{where}: duplicate name (each {section[:-1]} is named once)')
        seen.add(item['name'])
        unknown = set(item) - fields
        if unknown:
            raise StudyError(f'{where}: unknown field(s) {sorted(unknown)}; expected some of '
                             f'{sorted(fields)}')
        for key in required:
            if key not in item:
                raise StudyError(f'{where}: missing field `{key}`')
        if not isinstance(item.get('options', {}), dict):
            raise StudyError(f'{where}: `options` must be a dict of config keys to values')
    return items


def _strings(node: Any):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def stage_refs(options: Dict[str, Any]) -> List[Tuple[str, Optional[int]]]:
    """The ``@STAGE[:EPOCH]`` references among ``options``' values."""
    return [(m.group(1), int(m.group(2)) if m.group(2) else None)
            for s in _strings(options) for m in [_REF.match(s)] if m]


def load_study(path: str, quick: bool = False, root: str = '.') -> Study:
    """Read and check the study file ``path`` (configs relative to ``root``); ``quick`` applies
    its ``quick`` overlay."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise StudyError(f'study file {path!r} does not exist')
    # names starting with '_' are the file's own helpers (shared option dicts, config paths)
    raw = {k: v for k, v in _plain(Config.fromfile(path).to_dict()).items()
           if not k.startswith('_')}
    unknown = set(raw) - SECTIONS
    if unknown:
        raise StudyError(f'{path}: unknown section(s) {sorted(unknown)}; expected some of '
                         f'{sorted(SECTIONS)}')
    overlay = raw.pop('quick', None)
    if quick:
        if not overlay:
            raise StudyError(f'{path}: --quick needs a `quick` section (the toy-size overlay)')
        raw = deep_merge(raw, overlay)
    for key in ('work_dir', 'data', 'regimes', 'seeds', 'arms'):
        if key not in raw:
            raise StudyError(f'{path}: missing section `{key}`')

    data = raw['data']
    for name, entry in data.items():
        if not isinstance(entry, dict) or entry.get('type') not in DATA_TYPES:
            raise StudyError(f'data {name!r}: `type` must be one of {sorted(DATA_TYPES)}')

    regimes = [Regime(r['name'], r['train_list'], r.get('options', {}), r.get('label', r['name']))
               for r in _named('regimes', raw['regimes'], REGIME_FIELDS, ('train_list', ))]
    regime_names = [r.name for r in regimes]

    seeds = raw['seeds']
    unknown = set(seeds) - {'final', 'tune', 'pretrain'}
    if unknown or 'final' not in seeds:
        raise StudyError(f'seeds: expected keys final, tune, pretrain; got {sorted(seeds)}')
    final = seeds['final']
    final = {r: list(final) for r in regime_names} if isinstance(final, list) else final
    if set(final) != set(regime_names):
        raise StudyError(f'seeds.final: seeds for regimes {sorted(final)}, but the regimes are '
                         f'{regime_names}')
    tune_seeds, pretrain_seeds = list(seeds.get('tune', [])), list(seeds.get('pretrain', [0]))
    for what, values in [('tune', tune_seeds), ('pretrain', pretrain_seeds)] + [
            (f'final.{r}', v) for r, v in final.items()]:
        if len(set(values)) != len(values) or not all(isinstance(v, int) for v in values):
            raise StudyError(f'seeds.{what}: expected distinct integers, got {values}')

    tuning = [Dimension(d['name'], d['key'], list(d['values']))
              for d in _named('tuning', raw['tuning'], TUNING_FIELDS, ('key', 'values'))
              ] if raw.get('tuning') else []
    dims = {d.name for d in tuning}
    for d in tuning:
        if not d.values:
            raise StudyError(f'tuning {d.name!r}: no values')
    if tuning and not tune_seeds:
        raise StudyError('seeds.tune: a tuning grid needs tuning seeds')

    def check_config(where: str, config: str) -> None:
        if not osp.isfile(osp.join(root, config)):
            raise StudyError(f'{where}: config {config!r} does not exist')

    stages = []
    for s in _named('stages', raw.get('stages') or [], STAGE_FIELDS, ('config', )) \
            if raw.get('stages') else []:
        check_config(f'stages {s["name"]!r}', s['config'])
        options = s.get('options', {})
        per_regime = any('{train_list}' in text for text in _strings(options))
        stages.append(Stage(s['name'], s['config'], options, bool(s.get('init_only')), per_regime))
    stage_names = {s.name for s in stages}
    for s in stages:
        for ref, _ in stage_refs(s.options):
            raise StudyError(f'stages {s.name!r}: refers to stage {ref!r}; stages read no other '
                             'stage')

    arms = []
    for a in _named('arms', raw['arms'], ARM_FIELDS, ('config', )):
        where = f'arms {a["name"]!r}'
        check_config(where, a['config'])
        # without a grid (a study that inherits arms and drops the tuning) nothing is tuned
        tune = tuple(a.get('tune', [d.name for d in tuning])) if tuning else ()
        missing = set(tune) - dims
        if missing:
            raise StudyError(f'{where}: tunes {sorted(missing)}, which the tuning grid does not '
                             f'define (it has {sorted(dims)})')
        for ref, _ in stage_refs(a.get('options', {})):
            if ref not in stage_names:
                raise StudyError(f'{where}: refers to stage {ref!r}, which is not among the '
                                 f'stages {sorted(stage_names)}')
        arms.append(Arm(a['name'], a['config'], a.get('options', {}), tune, a.get('tune_as'),
                        a.get('label', a['name']), a.get('role', '')))
    arm_names = [a.name for a in arms]
    # a stage no arm reads is not run (a study file may inherit another's stages and keep a few
    # arms)
    used = {ref for a in arms for ref, _ in stage_refs(a.options)}
    stages = [s for s in stages if s.name in used]
    for a in arms:
        if a.tune_as is not None and (a.tune_as not in arm_names or a.tune_as == a.name):
            raise StudyError(f'arms {a.name!r}: tune_as {a.tune_as!r} must name another arm')
    baseline = raw.get('baseline', arm_names[0])
    if baseline not in arm_names:
        raise StudyError(f'baseline {baseline!r} is not an arm ({arm_names})')
    comparisons = [tuple(c) for c in raw.get('comparisons') or
                   [(a, baseline) for a in arm_names if a != baseline]]
    for c in comparisons:
        if len(c) != 2 or not set(c) <= set(arm_names):
            raise StudyError(f'comparisons: {list(c)} must be two arm names from {arm_names}')
    jobs = int(raw.get('jobs', 2))
    if jobs < 1:
        raise StudyError(f'jobs: expected at least 1, got {jobs}')
    description = raw.get('description', [])
    values = raw.get('values', {})
    reserved = {'data', 'train_list'} & set(values)
    if reserved:
        raise StudyError(f'values: {sorted(reserved)} are set by the study runner')
    tune_on = list(raw.get('tune_on') or regime_names)
    unknown = [r for r in tune_on if r not in regime_names]
    if unknown or not tune_on:
        raise StudyError(f'tune_on: {unknown or tune_on} must name regimes of {regime_names}')
    return Study(path, raw['work_dir'], jobs, raw.get('metric', 'accuracy/top1'), data, regimes,
                 final, tune_seeds, pretrain_seeds, tuning, stages, arms, baseline, comparisons,
                 values, raw.get('options', {}), tune_on,
                 [description] if isinstance(description, str) else list(description),
                 osp.abspath(root))


def select_arms(study: Study, only: Sequence[str]) -> Study:
    """The study restricted to the arms ``only`` (and the arms whose tuning they reuse, the
    stages they read); comparisons between the kept arms stay."""
    names = [a.name for a in study.arms]
    unknown = [n for n in only if n not in names]
    if unknown:
        raise StudyError(f'--only {unknown}: not an arm of {study.path} ({names})')
    keep = set(only)
    keep |= {study.arm(n).tune_as for n in only if study.arm(n).tune_as}
    arms = [a for a in study.arms if a.name in keep]
    used = {ref for a in arms for ref, _ in stage_refs(a.options)}
    out = copy.copy(study)
    out.arms = arms
    out.stages = [s for s in study.stages if s.name in used]
    out.comparisons = [c for c in study.comparisons if set(c) <= keep]
    if study.baseline not in keep:
        out.baseline = arms[0].name
    return out
