"""What every ``tools/*.py`` does before the OpenMMLab stack is imported (a bad argument answers
in a second, not after 8 s of imports) and how it reports a user's mistake: one line naming the
file or key, not a traceback.

Only the standard library and ``mmengine.config`` (no torch) are imported here.
"""
import argparse
import logging
import os
import os.path as osp
import sys
import warnings
from typing import Any, Callable, Iterable, Optional, Sequence

# mmengine imports pkg_resources, which warns on import; a tool (and every process it starts)
# imports this module first, so the filter is set before that import
warnings.filterwarnings('ignore', message=r'pkg_resources is deprecated', category=UserWarning)

from mmengine.config import DictAction  # noqa: E402

#: Set to 1 to get the traceback of an error the tools would report in one line.
TRACEBACK_ENV = 'M2PT_TRACEBACK'


class _LibraryNotices(logging.Filter):
    """Drops mmengine's '"FileClient" will be deprecated' log line, which its own CheckpointHook
    and LoggerHook cause on every run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith('"FileClient" will be deprecated')


def filter_library_warnings() -> None:
    """Silence the deprecation notices the pinned libraries emit on every run (nothing a user of
    this toolbox can act on): ``pkg_resources`` (a warning, imported by mmengine) and mmengine's
    ``FileClient`` (a log record of mmengine's logger, so a filter on every ``MMLogger``)."""
    warnings.filterwarnings('ignore', message=r'pkg_resources is deprecated', category=UserWarning)
    from mmengine.logging import MMLogger
    if getattr(MMLogger.__init__, '_filters_notices', False):
        return
    init = MMLogger.__init__

    # mmengine builds a new MMLogger per run (and adds no filter hook): filter each one it builds
    def init_with_filter(self: MMLogger, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.addFilter(_LibraryNotices())

    init_with_filter._filters_notices = True  # type: ignore[attr-defined]
    MMLogger.__init__ = init_with_filter
    for logger in MMLogger._instance_dict.values():
        logger.addFilter(_LibraryNotices())


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction``, naming an item without ``=`` instead of failing to unpack it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Optional[str] = None) -> None:
        for item in values or []:
            if '=' not in item or item.startswith('='):
                parser.error(f'{option_string} {item!r}: expected KEY=VALUE, e.g. '
                             'train_cfg.max_epochs=10')
        super().__call__(parser, namespace, values, option_string)


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank`` (as OpenMMLab tools)."""
    parser.add_argument('--work-dir', help='directory for logs (and checkpoints)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config entries, e.g. optim_wrapper.optimizer.lr=1e-3')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def require_file(parser: argparse.ArgumentParser, path: Optional[str], what: str) -> None:
    """``parser.error`` unless ``path`` is an existing file (``what``: 'config', 'checkpoint')."""
    if path is None:
        return
    if osp.isdir(path):
        parser.error(f'{what} {path!r} is a directory; expected a file')
    if not osp.isfile(path):
        parser.error(f'{what} {path!r} does not exist')


def check_output_file(parser: argparse.ArgumentParser, path: Optional[str], option: str,
                      inputs: Iterable[Optional[str]] = (), force: Optional[bool] = None,
                      make_dirs: bool = False) -> None:
    """``parser.error`` unless ``path`` can be written: not a directory, its directory exists
    (or, with ``make_dirs``, can be created) and is writable, and it is none of ``inputs`` (a
    tool's own input is overwritten only with ``--force``; ``force=None``: the tool has no such
    flag)."""
    if path is None:
        return
    if osp.isdir(path):
        parser.error(f'{option} {path!r} is a directory; expected a file name')
    directory = osp.dirname(osp.abspath(path))
    existing = directory
    while make_dirs and not osp.isdir(existing) and osp.dirname(existing) != existing:
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        parser.error(f'{option} {path!r}: directory {directory!r} does not exist')
    if not os.access(existing, os.W_OK):
        parser.error(f'{option} {path!r}: directory {existing!r} is not writable')
    for source in inputs:
        if (not force and source and osp.exists(path) and osp.exists(source)
                and osp.samefile(path, source)):
            parser.error(f'{option} {path!r} is this command\'s input {source!r}; refusing to '
                         'overwrite it (choose another file' +
                         (', or pass --force)' if force is not None else ')'))


def run_main(main: Callable[[Optional[Sequence[str]]], Any], prog: str) -> None:
    """Run a tool's ``main()`` as the command line does, answering in one line on stderr:

    - a user's mistake (a bad file, key or value: our errors, ``OSError``, ``ValueError``,
      ``TypeError``, ``KeyError``) as ``<prog>: error: <message>``, exit status 2;
    - anything else (an error of torch or a library: ``RuntimeError``, ``AssertionError``, ...)
      as ``<prog>: error: <type>: <message>`` and where to get the traceback, exit status 1.

    ``M2PT_TRACEBACK=1`` re-raises instead, with the traceback.
    """
    filter_library_warnings()
    try:
        main(None)
    except Exception as e:  # noqa: BLE001  every error ends in one line (or its traceback)
        if os.environ.get(TRACEBACK_ENV) == '1':
            _end_distributed(1, traceback_of=e)
            raise
        # torch's and the libraries' RuntimeErrors are not a user's mistake; ours are
        ours = type(e).__module__.startswith('m2pt_mm.')
        mistake = ours or isinstance(e, (OSError, ValueError, TypeError, KeyError))
        text = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        text = ' '.join(str(text).split())
        if not mistake:
            text = (f'{type(e).__name__}: {text} (not an input this tool checks; '
                    f'{TRACEBACK_ENV}=1 prints the traceback)')
        print(f'{prog}: error: {text}', file=sys.stderr)
        code = 2 if mistake else 1
        _end_distributed(code)
        sys.exit(code)
    _end_distributed(0)


def _end_distributed(code: int, traceback_of: Optional[BaseException] = None) -> None:
    """A process of a distributed run ends through
    :func:`m2pt_mm.engine.distributed.end_distributed_process` (it does not return); any other
    process returns here and exits normally."""
    if 'torch.distributed' not in sys.modules:
        return  # torch was never imported: no process group
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return
    if traceback_of is not None:
        import traceback
        traceback.print_exception(traceback_of)
    from m2pt_mm.engine.distributed import end_distributed_process
    end_distributed_process(code)
