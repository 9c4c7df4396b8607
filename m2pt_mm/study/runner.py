"""Running a study: its pretraining stages, its tuning grid (chosen on val), then its final runs
(reported on test), ``jobs`` runs at a time, each in a worker process that trains through the
same function as ``tools/train.py`` (:func:`m2pt_mm.engine.cli.locked_train_runner`) and then
evaluates the final weights with mmengine's ``Runner.val()`` and ``Runner.test()``.

A run lives in ``WORK/runs/<phase>/<arm or stage>/<regime>/[<grid point>/]seed<S>/`` and is
finished when its ``result.json`` exists (written last, by rename): a rerun of the study skips
finished runs, says which, and starts unfinished ones again from their beginning (a run takes
seconds to a minute; its folder is cleared first).
"""
import contextlib
import itertools
import json
import math
import multiprocessing
import os
import os.path as osp
import shutil
import signal
import statistics
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from m2pt_mm.study.spec import _REF, Study

RESULT = 'result.json'


class StudyLockedError(RuntimeError):
    """The study's folder is in use by another study process."""

SEED_KEY = 'randomness.seed'  # every run's training seed (mmengine's randomness)
_STUDY_PID: Optional[int] = None  # in a worker: the study process that started it


@dataclass
class Run:
    """One training run of a study (options resolved: no placeholders left)."""
    id: str
    phase: str  # 'stage' | 'tune' | 'final'
    name: str  # the arm or stage
    regime: Optional[str]
    seed: int
    config: str
    options: Dict[str, Any]
    hparams: Dict[str, Any] = field(default_factory=dict)
    pretrain_seed: Optional[int] = None
    init_only: bool = False
    evaluate: bool = True

    @property
    def work_dir(self) -> str:
        return osp.join('runs', self.id)


def _fmt(value: Any) -> str:
    return f'{value:g}' if isinstance(value, float) else str(value)


def hparam_tag(hparams: Dict[str, Any]) -> str:
    """``lr=0.001,lambda_lr_mult=10``: a grid point as a folder name."""
    return ','.join(f'{k}={_fmt(v)}' for k, v in hparams.items()) or 'default'


def _substitute(node: Any, values: Dict[str, Any], refs: Callable[[str, Optional[int]], str]
                ) -> Any:
    if isinstance(node, str):
        m = _REF.match(node)
        if m:
            return refs(m.group(1), int(m.group(2)) if m.group(2) else None)
        for key, value in values.items():
            if node == '{' + key + '}':
                return value  # the value itself, of its own type (a number, None)
            node = node.replace('{' + key + '}', str(value))
        return node
    if isinstance(node, dict):
        return {k: _substitute(v, values, refs) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, values, refs) for v in node]
    return node


class Planner:
    """Turns a :class:`Study` into runs, phase by phase (a phase reads the results of the ones
    before: stage checkpoints, chosen grid points)."""

    def __init__(self, study: Study, work: str) -> None:
        self.study = study
        self.work = work  # where this process finds the runs; runs themselves execute in it
        self.data_dir = 'data'

    # --------------------------------------------------------------------------- helpers
    def _regime(self, name: str):
        return next(r for r in self.study.regimes if r.name == name)

    def _stage_run_id(self, stage: str, regime: Optional[str], seed: int) -> str:
        per_regime = self.study.stage(stage).per_regime
        return f'stage/{stage}/{regime if per_regime else "all"}/seed{seed}'

    def _pretrain_seed(self, index: int) -> int:
        seeds = self.study.pretrain_seeds
        return seeds[index % len(seeds)]

    def _resolve(self, options: Dict[str, Any], regime: Optional[str],
                 pretrain_seed: Optional[int],
                 stage_results: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
        values = dict(self.study.values, data=self.data_dir)
        if regime is not None:
            values['train_list'] = self._regime(regime).train_list

        def ref(stage: str, epoch: Optional[int]) -> str:
            run_id = self._stage_run_id(stage, regime, pretrain_seed)
            result = stage_results.get(run_id)
            if result is None or result.get('status') != 'ok':
                raise RuntimeError(f'stage run {run_id} has no checkpoint (status: '
                                   f'{None if result is None else result.get("status")})')
            if epoch is None:
                return result['checkpoint']
            path = osp.join('runs', run_id, f'epoch_{epoch}.pth')
            if not osp.isfile(osp.join(self.work, path)):
                raise RuntimeError(f'stage run {run_id} kept no {osp.basename(path)} (its '
                                   'checkpoint hook must keep that epoch)')
            return path
        return _substitute(options, values, ref)

    # --------------------------------------------------------------------------- phases
    def stages(self) -> List[Run]:
        runs = []
        for stage in self.study.stages:
            regimes = [r.name for r in self.study.regimes] if stage.per_regime else [None]
            for regime, seed in itertools.product(regimes, self.study.pretrain_seeds):
                options = {**self.study.options, **stage.options, SEED_KEY: seed}
                runs.append(Run(self._stage_run_id(stage.name, regime, seed), 'stage',
                                stage.name, regime, seed, osp.join(self.study.root, stage.config),
                                self._resolve(options, regime, None, {}),
                                init_only=stage.init_only, evaluate=False))
        return runs

    def tuned(self, arm: str) -> bool:
        """Whether ``arm`` has a grid to choose from (its own: not ``tune_as``)."""
        spec = self.study.arm(arm)
        return not spec.tune_as and len(self.grid(arm)) > 1

    def grid(self, arm: str) -> List[Dict[str, Any]]:
        """The grid points an arm is tuned over (one empty point without a grid)."""
        dims = [d for d in self.study.tuning if d.name in self.study.arm(arm).tune]
        return [dict(zip([d.name for d in dims], values))
                for values in itertools.product(*[d.values for d in dims])]

    def _arm_run(self, phase: str, arm: str, regime: str, seed: int, index: int,
                 hparams: Dict[str, Any], stage_results: Dict[str, Dict[str, Any]]) -> Run:
        spec = self.study.arm(arm)
        keys = {d.name: d.key for d in self.study.tuning}
        pretrain_seed = self._pretrain_seed(index)
        options = {**self.study.options, **self._regime(regime).options, **spec.options}
        options.update({keys[k]: v for k, v in hparams.items()})
        options[SEED_KEY] = seed
        tag = f'{hparam_tag(hparams)}/' if phase == 'tune' else ''
        return Run(f'{phase}/{arm}/{regime}/{tag}seed{seed}', phase, arm, regime, seed,
                   osp.join(self.study.root, spec.config),
                   self._resolve(options, regime, pretrain_seed, stage_results),
                   hparams=hparams, pretrain_seed=pretrain_seed)

    def tuning(self, stage_results: Dict[str, Dict[str, Any]]) -> List[Run]:
        runs = []
        for arm in self.study.arms:
            if not self.tuned(arm.name):
                continue
            for regime in self.study.tune_on:
                for hparams in self.grid(arm.name):
                    for index, seed in enumerate(self.study.tune_seeds):
                        runs.append(self._arm_run('tune', arm.name, regime, seed, index,
                                                  hparams, stage_results))
        return runs

    def finals(self, stage_results: Dict[str, Dict[str, Any]],
               chosen: Dict[Tuple[str, str], Dict[str, Any]]) -> List[Run]:
        runs = []
        for arm in self.study.arms:
            source = arm.tune_as or arm.name
            for regime in self.study.regimes:
                tuned_on = regime.name if regime.name in self.study.tune_on else \
                    self.study.tune_on[0]
                hparams = chosen.get((source, tuned_on), self.grid(source)[0])
                for index, seed in enumerate(self.study.final_seeds[regime.name]):
                    runs.append(self._arm_run('final', arm.name, regime.name, seed, index,
                                              hparams, stage_results))
        return runs


def choose(study: Study, planner: Planner, results: Dict[str, Dict[str, Any]]
           ) -> Tuple[Dict[Tuple[str, str], Dict[str, Any]], List[Dict[str, Any]]]:
    """The grid point of best mean val metric per (arm, regime) over the tuning seeds (a point
    with a failed run is never chosen; ties go to the earlier point), and the grid as rows."""
    chosen, rows = {}, []
    for arm in study.arms:
        if not planner.tuned(arm.name):
            continue
        for regime in study.tune_on:
            best, best_score = None, -math.inf
            for hparams in planner.grid(arm.name):
                scores = []
                for seed in study.tune_seeds:
                    r = results.get(f'tune/{arm.name}/{regime}/{hparam_tag(hparams)}/'
                                    f'seed{seed}')
                    scores.append(r['metrics']['val'] if r and r['status'] == 'ok' else math.nan)
                ok = all(not math.isnan(s) for s in scores)
                mean = statistics.mean(scores) if ok else math.nan
                rows.append(dict(arm=arm.name, regime=regime, hparams=hparams, val=scores,
                                 mean=mean))
                if ok and mean > best_score:
                    best, best_score = hparams, mean
            for row in rows:
                if row['arm'] == arm.name and row['regime'] == regime:
                    row['chosen'] = row['hparams'] == best
            chosen[(arm.name, regime)] = best if best is not None else planner.grid(
                arm.name)[0]
    return chosen, rows


# ------------------------------------------------------------------------------- worker side
def _die_with_parent() -> None:
    """Exit this worker once the study process is gone, however it ended (a SIGKILL included), so
    that no run outlives it and a rerun never meets a run still writing into its folder: a daemon
    thread polls the parent PID. (``PR_SET_PDEATHSIG`` is no use here: it follows the parent
    *thread*, and the pool starts replacement workers from a thread that ends at ``close()``.)"""
    import threading
    global _STUDY_PID
    _STUDY_PID = os.getppid()

    def watch() -> None:
        while os.getppid() == _STUDY_PID:
            time.sleep(0.1)
        os._exit(1)

    threading.Thread(target=watch, name='die-with-study', daemon=True).start()


def _study_alive() -> bool:
    """Whether the study process that started this worker still runs (True outside workers)."""
    return _STUDY_PID is None or os.getppid() == _STUDY_PID


def _worker_init(threads: int) -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the study's to handle
    from m2pt_mm.utils.cli_checks import filter_library_warnings  # before torch and mmengine
    filter_library_warnings()
    import torch
    torch.set_num_threads(threads)


def _pick(metrics: Dict[str, float], metric: str) -> float:
    keys = [k for k in metrics if k == metric or k.endswith('/' + metric)]
    if len(keys) != 1:
        raise KeyError(f'metric {metric!r}: the evaluator reported {sorted(metrics)}')
    return float(metrics[keys[0]])


def _state_dict_numel(path: str) -> int:
    from m2pt_mm.checkpoints import load_checkpoint_file, unwrap_state_dict
    state = unwrap_state_dict(load_checkpoint_file(path), path)[0]
    return int(sum(v.numel() for v in state.values()))


def _write_initial_checkpoint(run: Run) -> str:
    """An ``init_only`` stage: the config's model as initialised with the run's seed, saved as an
    mmengine checkpoint (a randomly initialised network of a trained one's layout)."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed
    from mmpretrain.registry import MODELS

    import m2pt_mm.models  # noqa: F401  registers the models
    from m2pt_mm.engine import save_atomic
    from m2pt_mm.engine.cli import load_config, train_args
    cfg = load_config(run.config, train_args(run.config, run.work_dir, run.options))
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    set_random_seed(run.seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    os.makedirs(run.work_dir, exist_ok=True)
    path = osp.join(run.work_dir, 'init.pth')
    save_atomic(dict(state_dict=model.state_dict(),
                     meta=dict(seed=run.seed, config=run.config, init_only=True)), path)
    with open(osp.join(run.work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.abspath(path))
    return path


def _train(run: Run, metric: str) -> Dict[str, Any]:
    from m2pt_mm.engine import deploy_path
    from m2pt_mm.engine.cli import locked_train_runner, train_args
    from m2pt_mm.study.trace import LambdaTraceHook
    options = dict(run.options, experiment_name=run.id.replace('/', '_'))
    # the run's folder was cleared by execute(): nothing of an earlier attempt to refuse
    with locked_train_runner(train_args(run.config, run.work_dir, options)) as runner:
        trace = LambdaTraceHook()
        runner.register_hook(trace, priority='LOW')
        runner.train()
        out: Dict[str, Any] = dict(lambda_trace=trace.trace)
        if run.evaluate:
            out['metrics'] = dict(val=_pick(runner.val(), metric),
                                  test=_pick(runner.test(), metric))
    with open(osp.join(run.work_dir, 'last_checkpoint')) as f:
        # relative to the study's folder, where every run executes: short strings in the configs
        # that read it (mmengine formats each config with yapf, slowly for long strings)
        checkpoint = osp.relpath(f.read().strip())
    out['checkpoint'] = checkpoint
    out['params'] = sum(p.numel() for p in runner.model.parameters())
    deploy = deploy_path(checkpoint)
    out['deploy_params'] = _state_dict_numel(deploy if osp.isfile(deploy) else checkpoint)
    dumped = [f for f in os.listdir(run.work_dir) if f.endswith('.py')]
    out['resolved_config'] = osp.join(run.work_dir, dumped[0]) if dumped else None
    return out


def execute(run: Run, metric: str) -> Dict[str, Any]:
    """Train (and evaluate) ``run`` in this process, in the current directory (the study's work
    dir); write and return its record. A run that raises is recorded as failed (a diverging grid
    point is a result of the tuning, not a reason to stop it)."""
    if osp.isdir(run.work_dir):
        shutil.rmtree(run.work_dir)  # an unfinished earlier attempt
    os.makedirs(run.work_dir)
    start = time.perf_counter()
    record = dict(asdict(run), work_dir=run.work_dir, status='ok')
    with open(osp.join(run.work_dir, 'stdout.log'), 'w') as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        try:
            if run.init_only:
                record['checkpoint'] = _write_initial_checkpoint(run)
            else:
                record.update(_train(run, metric))
        except Exception as e:  # noqa: BLE001  recorded, and the study decides
            traceback.print_exc()
            record.update(status='failed', error=f'{type(e).__name__}: {e}'.splitlines()[0])
    record['wall_s'] = round(time.perf_counter() - start, 2)
    if not _study_alive():  # orphaned while training: the study is gone, its rerun does this run
        os._exit(1)
    path = osp.join(run.work_dir, RESULT)
    with open(path + '.tmp', 'w') as f:
        json.dump(record, f, indent=1)
    os.replace(path + '.tmp', path)
    return record


def _execute_in_work(args: Tuple[Run, str, str]) -> Dict[str, Any]:
    run, metric, work = args
    os.chdir(work)
    return execute(run, metric)


# ------------------------------------------------------------------------------- study side
def _same_run(record: Dict[str, Any], run: Run) -> bool:
    """Whether a record was made by ``run`` as planned now (config, options, seeds): a study
    file edited since gives its runs again instead of reusing results of other settings."""
    planned = json.loads(json.dumps(asdict(run)))
    return all(record.get(k) == planned[k] for k in ('config', 'options', 'seed', 'pretrain_seed',
                                                       'hparams', 'init_only'))


def load_results(work: str, runs: Sequence[Run], keep_failed: bool = True,
                 log: Optional[Callable[[str], None]] = None) -> Dict[str, Dict[str, Any]]:
    """The records of the finished runs among ``runs`` (``keep_failed=False``: a failed run
    counts as unfinished; a record of other settings counts as unfinished, said through
    ``log``)."""
    out, stale = {}, []
    for run in runs:
        path = osp.join(work, run.work_dir, RESULT)
        if osp.isfile(path):
            with open(path) as f:
                record = json.load(f)
            if not _same_run(record, run):
                stale.append(run.id)
            elif keep_failed or record['status'] == 'ok':
                out[run.id] = record
    if stale and log is not None:
        log(f'{len(stale)} finished run(s) were made with other settings than the study file '
            f'gives now and run again: {", ".join(stale[:3])}{" …" if len(stale) > 3 else ""}')
    return out


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f'{seconds // 3600}h{seconds // 60 % 60:02d}m' if seconds >= 3600 else \
        f'{seconds // 60}m{seconds % 60:02d}s'


def run_phase(name: str, runs: Sequence[Run], work: str, jobs: int, metric: str,
              log: Callable[[str], None], keep_failed: bool = False
              ) -> Dict[str, Dict[str, Any]]:
    """Every run of ``runs`` not finished yet, ``jobs`` at a time in worker processes (one
    thread each); returns all records. ``keep_failed``: a run that failed before counts as
    finished (a diverged grid point), else it runs again. Ctrl-C or SIGTERM stops the workers."""
    results = load_results(work, runs, keep_failed, log)
    todo = [r for r in runs if r.id not in results]
    if results:
        skipped = [r.id for r in runs if r.id in results]
        shown = ', '.join(skipped[:3]) + (f', … ({len(skipped) - 3} more)' if len(skipped) > 3
                                          else '')
        log(f'{name}: skipped {len(skipped)} of {len(runs)} runs already finished ({shown})')
    if not todo:
        return results
    log(f'{name}: {len(todo)} run(s) to do, {jobs} at a time')
    start = time.perf_counter()
    ctx = multiprocessing.get_context('spawn')
    threads = max(1, (os.cpu_count() or 1) // jobs)
    pool = ctx.Pool(jobs, initializer=_worker_init, initargs=(threads, ), maxtasksperchild=20)
    try:
        walls: List[float] = []
        iterator = pool.imap_unordered(_execute_in_work,
                                       [(run, metric, os.path.abspath(work)) for run in todo])
        for done, record in enumerate(iterator, 1):
            results[record['id']] = record
            walls.append(record['wall_s'])
            eta = statistics.mean(walls) * (len(todo) - done) / jobs
            if record['status'] == 'ok':
                m = record.get('metrics')
                what = f'val {m["val"]:.2f} test {m["test"]:.2f}' if m else 'checkpoint written'
            else:
                what = f'FAILED: {record["error"]} (log: {record["work_dir"]}/stdout.log)'
            log(f'[{done:>4}/{len(todo)} {name} {_clock(time.perf_counter() - start)}, '
                f'ETA {_clock(eta)}] {record["id"]}: {what} ({record["wall_s"]:.1f} s)')
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
    return results


@contextlib.contextmanager
def study_lock(work: str):
    """Hold ``work/study.lock`` (an exclusive ``flock``, released when the process ends however
    it ends): two studies in one folder would clear each other's unfinished runs."""
    import fcntl
    path = osp.join(work, 'study.lock')
    with open(path, 'a+') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            owner = f.read().strip() or '?'
            raise StudyLockedError(f'{work} is in use by another study (process {owner}, '
                                   f'{path}); wait for it or stop it') from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        yield


def run_study(study: Study, work: str, log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Every phase of ``study`` in ``work`` (locked for the duration); returns the records and
    the tuning outcome."""
    os.makedirs(work, exist_ok=True)
    with study_lock(work):
        return _run_study(study, work, log)


def _require_ok(phase: str, records: Dict[str, Dict[str, Any]], work: str) -> None:
    """Stop the study when a run of ``phase`` failed (only a tuning run may fail: its grid point
    is then never chosen), naming each run, its error and its log."""
    failed = [r for r in records.values() if r['status'] != 'ok']
    if failed:
        raise RuntimeError(f'{len(failed)} {phase} run(s) failed: ' + '; '.join(
            f'{r["id"]}: {r["error"]} (log: {osp.join(work, r["work_dir"], "stdout.log")})'
            for r in failed))


def _run_study(study: Study, work: str, log: Callable[[str], None]) -> Dict[str, Any]:
    from m2pt_mm.study.data import prepare_data
    data = prepare_data(study.data, osp.join(work, 'data'), log)
    planner = Planner(study, work)
    stage_runs = planner.stages()
    stages = run_phase('pretraining', stage_runs, work, study.jobs, study.metric, log)
    _require_ok('pretraining', stages, work)
    tune_runs = planner.tuning(stages)
    tuned = run_phase('tuning', tune_runs, work, study.jobs, study.metric, log, keep_failed=True)
    chosen, grid = choose(study, planner, tuned)
    final_runs = planner.finals(stages, chosen)
    finals = run_phase('final', final_runs, work, study.jobs, study.metric, log)
    _require_ok('final', finals, work)
    return dict(data=data, stages=stages, tuning=tuned, grid=grid,
                chosen=[dict(arm=a, regime=r, hparams=h) for (a, r), h in chosen.items()],
                finals=finals, final_order=[r.id for r in final_runs])
