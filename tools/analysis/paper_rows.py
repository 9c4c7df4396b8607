"""The result rows of the two papers (M2PT and OmniVec) and the configs that reproduce each:
the command line of :mod:`m2pt_mm.analysis.paper_rows`.

Examples::

    python tools/analysis/paper_rows.py              # markdown table; exit 1 if a row has no
                                                     # config or a config names an unknown row
    python tools/analysis/paper_rows.py --guide docs/reproduce.md   # also write the guide
"""
import argparse
import os.path as osp
import sys
from pathlib import Path
from typing import Optional, Sequence

from m2pt_mm.analysis.paper_rows import PAPER, all_claims, guide, markdown_table, match
from m2pt_mm.engine.chain import run_test_configs
from m2pt_mm.utils.cli_checks import check_output_file


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="The paper's rows and the configs of each")
    parser.add_argument('--guide', help='also write the reproduction guide (markdown) here')
    args = parser.parse_args(argv)
    check_output_file(parser, args.guide, '--guide')  # before 15-20 s of matching, not after
    configs, errors = match(all_claims())
    print(markdown_table(configs), end='')
    missing = [cell for cell in PAPER if cell not in configs]
    for cell in missing:
        errors.append(f'no config for table {cell.label} {cell.setting!r} row {cell.row!r} '
                      f'column {cell.column!r}')
    if args.guide:
        Path(args.guide).write_text(guide(configs))
        print(f'wrote {osp.relpath(args.guide)}')
    for error in errors:
        print(error, file=sys.stderr)
    print(f'{len(PAPER) - len(missing)} of {len(PAPER)} paper cells have a config')
    tested = set(run_test_configs())
    runnable = [cell for cell in PAPER if cell in configs
                and all(config in tested for config in configs[cell])]
    print(f'{len(runnable)} of {len(PAPER)} paper cells runnable: tests/test_config_runs.py '
          '(slow) runs the chain of each of their configs as docs/reproduce.md prints it')
    return 1 if errors or len(runnable) < len(PAPER) else 0


if __name__ == '__main__':
    sys.exit(main())
