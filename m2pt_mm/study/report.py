"""A study's results: ``results.json`` (every run's record, the grid, the statistics),
``results.md`` (the tables as printed) and the figures (``figures/*.png``), all computed from the
runs' records, so a rerun that skips every run writes the same tables."""
import json
import math
import os
import os.path as osp
import platform
import subprocess
from typing import Any, Dict, List, Optional

from m2pt_mm.study.spec import Study
from m2pt_mm.study.stats import holm, paired, summarize, verdict


def _finals(study: Study, records: Dict[str, Dict[str, Any]]) -> Dict[str, Dict[str, List]]:
    """``{regime: {arm: [record per final seed, in seed order]}}``."""
    out: Dict[str, Dict[str, List]] = {}
    for regime in study.regimes:
        out[regime.name] = {
            arm.name: [records[f'final/{arm.name}/{regime.name}/seed{s}']
                       for s in study.final_seeds[regime.name]] for arm in study.arms}
    return out


def machine() -> Dict[str, Any]:
    """What ran the study: CPU, core count, Python and the pinned stack's versions."""
    import mmengine
    import mmpretrain
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return dict(cpu=cpu, cores=os.cpu_count(), python=platform.python_version(),
                torch=torch.__version__, mmengine=mmengine.__version__,
                mmpretrain=mmpretrain.__version__)


def commit(root: str) -> Optional[str]:
    try:
        out = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=root, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=root,
                               text=True, capture_output=True, check=True).stdout.strip()
        return out + ('+local changes' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        return None


def analyse(study: Study, outcome: Dict[str, Any]) -> Dict[str, Any]:
    """Per arm and regime: test metric summary, val mean, costs; per comparison and regime: the
    paired statistics and the verdict."""
    finals = _finals(study, outcome['finals'])
    arms, comparisons = {}, []
    for regime, by_arm in finals.items():
        for arm, runs in by_arm.items():
            test = [r['metrics']['test'] for r in runs]
            lam = [r['lambda_trace'][-1]['abs_mean'] for r in runs if r.get('lambda_trace')]
            arms.setdefault(arm, {})[regime] = dict(
                seeds=[r['seed'] for r in runs], test=test,
                val=[r['metrics']['val'] for r in runs], summary=summarize(test).as_dict(),
                hparams=runs[0]['hparams'], wall_s=sum(r['wall_s'] for r in runs) / len(runs),
                params=runs[0]['params'], deploy_params=runs[0]['deploy_params'],
                final_abs_lambda=({b: sum(x[b] for x in lam) / len(lam) for b in lam[0]}
                                  if lam else None))
        family = []
        for a, b in study.comparisons:
            ta, tb = arms[a][regime]['test'], arms[b][regime]['test']
            result = paired(ta, tb)
            family.append(dict(regime=regime, a=a, b=b, **result.as_dict(),
                               verdict=verdict(result, study.arm(a).label, study.arm(b).label)))
        for row, p_holm in zip(family, holm([row['p'] for row in family])):
            row['p_holm'] = p_holm
        comparisons += family
    return dict(arms=arms, comparisons=comparisons)


def _num(x: float, fmt: str = '.2f') -> str:
    return '–' if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def format_tables(study: Study, analysis: Dict[str, Any], outcome: Dict[str, Any]) -> str:
    """The markdown tables (no timing of this invocation: they depend on the records only)."""
    metric = study.metric
    dims = [d.name for d in study.tuning]
    lines: List[str] = []
    for regime in study.regimes:
        lines += [f'### {regime.label} (`{regime.name}`): test {metric}, %', '',
                  '| arm | role | mean ± std | 95 % CI | n | per seed | val mean | chosen | '
                  's / run | params (train → deployed) |',
                  '|---|---|---|---|---|---|---|---|---|---|']
        for arm in study.arms:
            a = analysis['arms'][arm.name][regime.name]
            s = a['summary']
            hp = ', '.join(f'{k} {v:g}' if isinstance(v, float) else f'{k} {v}'
                           for k, v in a['hparams'].items()) or '–'
            lines.append(
                f'| {arm.label} | {arm.role} | {_num(s["mean"])} ± {_num(s["std"])} | '
                f'{_num(s["ci_low"])} … {_num(s["ci_high"])} | {s["n"]} | '
                f'{" ".join(f"{v:.1f}" for v in a["test"])} | '
                f'{_num(sum(a["val"]) / len(a["val"]))} | {hp} | {a["wall_s"]:.0f} | '
                f'{a["params"]:,} → {a["deploy_params"]:,} |')
        lines += ['', f'Paired differences (same seeds, test {metric}, points; Student-t 95 % '
                  'interval over seeds, two-sided paired t-test; p Holm: adjusted over this '
                  'regime\'s comparisons):', '',
                  '| comparison | mean | 95 % CI | p | p Holm | better / worse seeds | verdict |',
                  '|---|---|---|---|---|---|---|']
        for c in analysis['comparisons']:
            if c['regime'] != regime.name:
                continue
            s = c['summary']
            lines.append(f'| {study.arm(c["a"]).label} − {study.arm(c["b"]).label} | '
                         f'{s["mean"]:+.2f} | {_num(s["ci_low"], "+.2f")} … '
                         f'{_num(s["ci_high"], "+.2f")} | {_num(c["p"], ".3g")} | '
                         f'{_num(c["p_holm"], ".3g")} | '
                         f'{c["wins"]} / {c["losses"]} | {c["verdict"]} |')
        lines.append('')
    if outcome['grid']:
        lines += [f'### Tuning grid (val {metric}, %, tuning seeds {study.tune_seeds}; the chosen '
                  'point is the best mean, ties to the earlier one)', '',
                  '| arm | regime | ' + ' | '.join(dims) + ' | per seed | mean | chosen |',
                  '|---|---|' + '---|' * len(dims) + '---|---|---|']
        for row in outcome['grid']:
            cells = [_num(row['hparams'][d], 'g') if d in row['hparams'] else '–' for d in dims]
            lines.append(f'| {row["arm"]} | {row["regime"]} | ' + ' | '.join(cells) + ' | '
                         + ' '.join(_num(v, '.1f') for v in row['val'])
                         + f' | {_num(row["mean"])} | {"**yes**" if row["chosen"] else ""} |')
        untuned = [r.name for r in study.regimes if r.name not in study.tune_on]
        if untuned:
            lines += ['', f'Regimes {untuned} take the point chosen on `{study.tune_on[0]}`.']
        reused = [a for a in study.arms if a.tune_as]
        if reused:
            lines += ['', 'Reusing another arm\'s choice: ' + '; '.join(
                f'{a.name} ← {a.tune_as}' for a in reused) + '.']
        lines.append('')
    lam_rows = [(arm, regime) for arm in study.arms for regime in study.regimes
                if analysis['arms'][arm.name][regime.name]['final_abs_lambda']]
    if lam_rows:
        blocks = sorted(analysis['arms'][lam_rows[0][0].name][lam_rows[0][1].name]
                        ['final_abs_lambda'], key=int)
        lines += ['### λ at the end of training: mean |λ| per block (over its layers, mean over '
                  'final seeds)', '', '| arm | regime | ' + ' | '.join(
                      f'block {b}' for b in blocks) + ' |', '|---|---|' + '---|' * len(blocks)]
        for arm, regime in lam_rows:
            lam = analysis['arms'][arm.name][regime.name]['final_abs_lambda']
            lines.append(f'| {arm.label} | {regime.name} | ' + ' | '.join(
                f'{lam[b]:.4f}' for b in blocks) + ' |')
        lines.append('')
    return '\n'.join(lines)


# ---------------------------------------------------------------------------------- figures
def _save(fig, path: str, title: str) -> str:
    """Title, lay out, write (PNG) and close ``fig``; returns ``path``."""
    import matplotlib.pyplot as plt
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_figures(study: Study, analysis: Dict[str, Any], outcome: Dict[str, Any],
                  out_dir: str) -> List[str]:
    """``top1.png`` (per-seed points, mean and 95 % CI per arm and regime), ``differences.png``
    (each comparison's paired mean and CI) and, with pathway arms, ``lambda.png`` (mean |λ| per
    block over training)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    regimes = study.regimes
    labels = [a.label for a in study.arms]

    width = 4.5 + 5 * len(regimes)  # the arm names take the left 4.5 inches
    fig, axes = plt.subplots(1, len(regimes), figsize=(width, 0.45 * len(labels) + 1.5),
                             sharey=True, squeeze=False)
    for ax, regime in zip(axes[0], regimes):
        for y, arm in enumerate(study.arms):
            a = analysis['arms'][arm.name][regime.name]
            s = a['summary']
            n = len(a['test'])
            ys = [y + 0.25 * (i / max(n - 1, 1) - 0.5) for i in range(n)]
            ax.scatter(a['test'], ys, s=10, color='0.55', zorder=2)
            if not math.isnan(s['ci_low']):
                ax.errorbar(s['mean'], y, xerr=[[s['mean'] - s['ci_low']],
                                                [s['ci_high'] - s['mean']]],
                            fmt='o', color='C0', capsize=3, zorder=3)
        base = analysis['arms'][study.baseline][regime.name]['summary']['mean']
        ax.axvline(base, color='C3', lw=0.8, ls='--')
        ax.set_title(regime.label)
        ax.set_xlabel(f'test {study.metric} (%)')
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels)
        ax.grid(axis='x', alpha=0.3)
    axes[0][0].invert_yaxis()  # the first arm on top (the y axis is shared: invert it once)
    paths.append(_save(fig, osp.join(out_dir, 'top1.png'), 'per-seed test accuracy (grey), '
                       'mean and 95 % CI (blue); dashed: baseline mean'))

    comps = [(a, b) for a, b in study.comparisons]
    fig, axes = plt.subplots(1, len(regimes), figsize=(width + 1, 0.45 * len(comps) + 1.5),
                             sharey=True, squeeze=False)
    for ax, regime in zip(axes[0], regimes):
        rows = [c for c in analysis['comparisons'] if c['regime'] == regime.name]
        for y, c in enumerate(rows):
            s = c['summary']
            ax.scatter(c['diffs'], [y] * len(c['diffs']), s=8, color='0.6', zorder=2)
            if not math.isnan(s['ci_low']):
                color = 'C2' if s['ci_low'] > 0 else 'C3' if s['ci_high'] < 0 else 'C0'
                ax.errorbar(s['mean'], y, xerr=[[s['mean'] - s['ci_low']],
                                                [s['ci_high'] - s['mean']]],
                            fmt='o', color=color, capsize=3, zorder=3)
        ax.axvline(0, color='k', lw=0.8)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([f'{study.arm(c["a"]).label} − {study.arm(c["b"]).label}'
                            for c in rows], fontsize=8)
        ax.set_title(regime.label)
        ax.set_xlabel('paired difference (points)')
        ax.grid(axis='x', alpha=0.3)
    axes[0][0].invert_yaxis()  # the first comparison on top (shared y axis: invert once)
    paths.append(_save(fig, osp.join(out_dir, 'differences.png'), 'paired differences per seed '
                       '(grey), mean and 95 % CI: green above 0, red below, blue covers 0'))

    traced = [arm for arm in study.arms
              if analysis['arms'][arm.name][regimes[0].name]['final_abs_lambda']]
    if traced:
        cols = min(4, len(traced))
        rows_n = math.ceil(len(traced) / cols)
        fig, axes = plt.subplots(rows_n, cols, figsize=(4 * cols, 3 * rows_n), squeeze=False)
        finals = _finals(study, outcome['finals'])
        for ax, arm in zip(axes.flat, traced):
            for style, regime in zip(('-', '--', ':'), regimes):
                runs = finals[regime.name][arm.name]
                traces = [r['lambda_trace'] for r in runs]
                epochs = [t['epoch'] for t in traces[0]]
                for b in sorted(traces[0][0]['abs_mean'], key=int):
                    mean = [sum(t[i]['abs_mean'][b] for t in traces) / len(traces)
                            for i in range(len(epochs))]
                    ax.plot([e / epochs[-1] for e in epochs], mean, style, color=f'C{int(b)}',
                            marker='.' if len(epochs) < 5 else None,
                            label=f'block {b}, {regime.name}')
            ax.set_title(arm.label, fontsize=9)
            ax.set_xlabel('fraction of training')
            ax.set_ylabel('mean |λ|')
        for ax in list(axes.flat)[len(traced):]:
            ax.axis('off')
        axes.flat[0].legend(fontsize=6)
        paths.append(_save(fig, osp.join(out_dir, 'lambda.png'), 'Cross-Modal Scales over '
                           'training: mean |λ| per block (mean over final seeds)'))
    return paths


def write_report(study: Study, outcome: Dict[str, Any], work: str, header: Dict[str, Any],
                 figures: bool = True) -> str:
    """Write ``results.json``, ``results.md`` and the figures into ``work``; return the tables."""
    analysis = analyse(study, outcome)
    tables = format_tables(study, analysis, outcome)
    figs = write_figures(study, analysis, outcome, osp.join(work, 'figures')) if figures else []
    stage_walls = [r['wall_s'] for r in outcome['stages'].values()]
    runs_wall = sum(r['wall_s'] for part in ('stages', 'tuning', 'finals')
                    for r in outcome[part].values())
    header = dict(header, runs=dict(pretraining=len(outcome['stages']),
                                    tuning=len(outcome['tuning']), final=len(outcome['finals'])),
                  run_seconds_total=round(runs_wall, 1),
                  pretraining_seconds_mean=round(sum(stage_walls) / max(len(stage_walls), 1), 1),
                  figures=[osp.relpath(p, work) for p in figs])
    m = header['machine']
    text = '\n'.join([
        f'## {study.description[0] if study.description else osp.basename(study.path)}', '',
        f'Run: {header["date"]}, `{header["command"]}`, commit {header["commit"]}; '
        f'{m["cpu"]}, {m["cores"]} cores, no GPU; torch {m["torch"]}, mmengine {m["mmengine"]}, '
        f'mmpretrain {m["mmpretrain"]}; wall time of this invocation '
        f'{header["wall_s"] / 60:.1f} min.',
        f'Runs: {header["runs"]["pretraining"]} pretraining, {header["runs"]["tuning"]} tuning, '
        f'{header["runs"]["final"]} final; their summed run time {runs_wall / 60:.1f} min '
        f'({study.jobs} at a time).', '',
        *[f'- {line}' for line in study.description[1:]], '', tables,
        'Figures: ' + ', '.join(f'`{osp.relpath(p, work)}`' for p in figs) if figs else '', ''])
    with open(osp.join(work, 'results.md'), 'w') as f:
        f.write(text)
    records = {**outcome['stages'], **outcome['tuning'], **outcome['finals']}
    with open(osp.join(work, 'results.json.tmp'), 'w') as f:
        json.dump(dict(header=header, data=outcome['data'], grid=outcome['grid'],
                       chosen=outcome['chosen'], analysis=analysis, runs=records), f, indent=1)
    os.replace(osp.join(work, 'results.json.tmp'), osp.join(work, 'results.json'))
    return text
