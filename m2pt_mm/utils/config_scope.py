"""``m2pt_mm::`` base configs for projects that build on m2pt_mm.

A downstream config inherits ours the OpenMMLab way, ``_base_ = ['m2pt_mm::demo/<config>.py']``,
once :func:`register_config_scope` has run (``tools/train.py`` and ``tools/test.py`` call it
through :func:`m2pt_mm.engine.cli.load_config`; a downstream tool calls it before
``Config.fromfile``).

Why a patch: mmengine resolves ``<scope>::<path>`` only for the packages of its own table
(``mmengine.config.utils.MODULE2PACKAGE``) and refuses any other ("mmengine does not support to
load m2pt_mm config"). Adding m2pt_mm to that table is not enough, because mmengine's lookup then
(1) reads ``<package>/.mim/model-index.yml`` first and re-raises the FileNotFoundError of a package
that has none, (2) finds the package through its installed distribution, which for an editable
install or a checkout on ``PYTHONPATH`` need not be the m2pt_mm that is imported, and (3) tags
every typed dict of the inherited config with ``_scope_='m2pt_mm'``, a scope without registries,
so that the runner cannot build the model. Our configs carry their own ``default_scope``
(mmpretrain, mmdet or mmseg) and are meant to be read exactly as a local base. So
``m2pt_mm::<path>`` becomes ``<path>`` under the configs of the imported m2pt_mm, inherited like a
relative ``_base_`` path; every other path goes to mmengine unchanged.

This module holds the patches of mmengine's config code: that one, and the memoized yapf
formatting of :func:`memoize_config_formatting` (both listed in :mod:`m2pt_mm.patches`).
"""
import functools
import os.path as osp
from typing import Callable, Optional, Tuple

from mmengine.config import Config

SCOPE = 'm2pt_mm'

#: marks the wrapper, so that a second registration does not wrap it again
_PATCHED = '_m2pt_mm_config_scope'


def config_root() -> str:
    """The ``configs/`` folder of the imported m2pt_mm.

    ``m2pt_mm/.mim/configs`` in an installed package (wheels copy the folder there, editable
    installs link it, see setup.py), else ``configs/`` beside the package in a source checkout.

    Raises:
        FileNotFoundError: neither folder exists.
    """
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    candidates = (osp.join(package, '.mim', 'configs'), osp.join(osp.dirname(package), 'configs'))
    for root in candidates:
        if osp.isdir(root):
            return root
    raise FileNotFoundError(f'the m2pt_mm package at {package} has no configs: expected one of '
                            f'{list(candidates)} (install m2pt_mm with pip, or use a checkout)')


def _with_m2pt_mm_scope(get_cfg_path: Callable) -> Callable:
    """Wrap mmengine's ``Config._get_cfg_path`` so that it resolves ``m2pt_mm::`` paths."""

    @functools.wraps(get_cfg_path)
    def _get_cfg_path(cfg_path: str, filename: str) -> Tuple[str, Optional[str]]:
        scope, sep, relative = cfg_path.partition('::')
        if not sep or scope != SCOPE:
            return get_cfg_path(cfg_path, filename)
        path = osp.join(config_root(), relative)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{filename}: base config {cfg_path!r} does not exist: no '
                                    f'{relative} under {config_root()}')
        return path, None  # no scope: inherited as a local base, under its own default_scope

    setattr(_get_cfg_path, _PATCHED, True)
    return _get_cfg_path


def register_config_scope() -> None:
    """Let ``Config.fromfile`` read ``_base_ = ['m2pt_mm::<path under configs/>']``.

    Idempotent; it changes nothing for any other base path.
    """
    if getattr(Config._get_cfg_path, _PATCHED, False):
        return
    Config._get_cfg_path = staticmethod(_with_m2pt_mm_scope(Config._get_cfg_path))


def memoize_config_formatting() -> None:
    """Format each config text with yapf once (idempotent).

    Why a patch: ``Config.pretty_text`` runs yapf on the whole config every time it is read, and a
    Runner reads it four times while it is built (the log, the dumped config, the visualiser's
    copy, ...): 5 s each for an OmniVec config on a CPU core. mmengine imports yapf's
    ``FormatCode`` into ``mmengine.config.config``; the same text and style give the same result,
    so that name is replaced by a memoized call (the last 16 texts).
    """
    import mmengine.config.config as config_module
    if getattr(config_module.FormatCode, _PATCHED, False):
        return
    format_code = config_module.FormatCode

    @functools.lru_cache(maxsize=16)
    def _format(text: str, style: Tuple[Tuple[str, object], ...]) -> Tuple[str, bool]:
        return format_code(text, style_config=dict(style))

    def memoized(text: str, style_config: Optional[dict] = None, **kwargs) -> Tuple[str, bool]:
        if kwargs or not isinstance(style_config, dict):
            return format_code(text, style_config=style_config, **kwargs)
        return _format(text, tuple(sorted(style_config.items())))

    setattr(memoized, _PATCHED, True)
    memoized.cache_info = _format.cache_info  # type: ignore[attr-defined]
    config_module.FormatCode = memoized
