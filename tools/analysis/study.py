"""Run a study file: its pretraining stages, its tuning grid (chosen on val), its final runs
(reported on test), then the statistics, tables and figures (``m2pt_mm.study``).

Resumable: a finished run (its ``result.json``) is skipped, and the rerun says which; a killed
study continues where it stopped.

Examples::

    python tools/analysis/study.py studies/m2pt_digits.py            # the evidence study
    python tools/analysis/study.py studies/m2pt_digits.py --quick    # every arm, toy size
    python tools/analysis/study.py studies/m2pt_digits.py --only baseline m2pt_spectrograms
"""
import argparse
import os.path as osp
import shlex
import signal
import sys
import time
from typing import Optional, Sequence

from m2pt_mm.utils.cli_checks import require_file, run_main

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Run a study file (m2pt_mm.study)')
    parser.add_argument('study', help='study file, e.g. studies/m2pt_digits.py')
    parser.add_argument('--quick', action='store_true', help="apply the file's toy-size overlay")
    parser.add_argument('--only', nargs='+', metavar='ARM', help='run only these arms')
    parser.add_argument('--work-dir', help="default: the study file's work_dir")
    parser.add_argument('--jobs', type=int, help="runs at a time (default: the file's jobs)")
    parser.add_argument('--no-figures', action='store_true', help='write no PNG figures')
    args = parser.parse_args(argv)
    require_file(parser, args.study, 'study file')
    return args


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    start = time.time()
    from m2pt_mm.study import load_study, run_study, select_arms, write_report
    from m2pt_mm.study.report import commit, machine
    study = load_study(args.study, quick=args.quick, root=ROOT)
    if args.only:
        study = select_arms(study, args.only)
    if args.jobs:
        study.jobs = args.jobs
    work = osp.abspath(args.work_dir or osp.join(ROOT, study.work_dir))

    def log(message: str) -> None:
        print(f'[{time.time() - start:7.1f} s] {message}', flush=True)

    log(f'study {args.study} in {work}: {len(study.arms)} arms, regimes '
        f'{[r.name for r in study.regimes]}, {study.jobs} run(s) at a time')
    outcome = run_study(study, work, log)
    command = 'python tools/analysis/study.py ' + ' '.join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    header = dict(date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), command=command,
                  commit=commit(ROOT), machine=machine(), wall_s=round(time.time() - start, 1))
    text = write_report(study, outcome, work, header, figures=not args.no_figures)
    print('\n' + text)
    log(f'done: {osp.join(work, "results.md")}, results.json'
        + ('' if args.no_figures else ', figures/'))
    return text


if __name__ == '__main__':
    # SIGTERM as Ctrl-C: the runs in progress are stopped, the finished ones kept
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    run_main(main, 'study.py')
