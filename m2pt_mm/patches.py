"""Every change m2pt_mm makes to a library's internals, in one list.

Each patch is written next to the code it serves (its docstring says why no extension point
would do) and registered here with the upstream code it replaces or relies on, the library
version it was written against, and a fingerprint of that code as it was then.
``tests/test_patches.py`` compares the fingerprints with the installed libraries, so an upgrade
that changes patched code fails a test that names the patch to re-check, instead of changing a
run silently. ``m2pt_mm.engine`` applies them all on import (:func:`apply_patches`); each is
idempotent.

Extension points used the documented way (registries, ``CheckpointLoader.register_scheme``,
``torch.serialization.add_safe_globals``, model wrappers) are not patches, with one exception:
the checkpoint loader, registered with ``force=True`` over mmengine's own.
"""
import ast
import hashlib
import importlib
import inspect
from dataclasses import dataclass
from importlib.metadata import version
from typing import Dict, List, Tuple


@dataclass(frozen=True)
class LibraryPatch:
    """One patch of a library's internals.

    Attributes:
        name: Short name, used in messages.
        apply: Dotted path of the function that applies it (idempotent).
        upstream: ``(module, qualified name)`` of each upstream function or method the patch
            replaces or depends on.
        written_against: ``'<distribution> <version>'`` the fingerprints were taken from.
        fingerprints: The first 12 hex digits of the SHA-256 of each upstream function's source
            (:func:`upstream_fingerprint`), in the order of ``upstream``.
    """

    name: str
    apply: str
    upstream: Tuple[Tuple[str, str], ...]
    written_against: str
    fingerprints: Tuple[str, ...]


PATCHES: Tuple[LibraryPatch, ...] = (
    LibraryPatch(
        name='m2pt_mm:: config bases',
        apply='m2pt_mm.utils.config_scope.register_config_scope',
        upstream=(('mmengine.config.config', 'Config._get_cfg_path'), ),
        written_against='mmengine 0.10.7',
        fingerprints=('9e346aa7d78f', )),
    LibraryPatch(
        name='config text formatted once',
        apply='m2pt_mm.utils.config_scope.memoize_config_formatting',
        upstream=(('mmengine.config.config', 'Config.pretty_text'), ),
        written_against='mmengine 0.10.7',
        fingerprints=('2c6052ec1fe7', )),
    LibraryPatch(
        name='checked checkpoint loads',
        apply='m2pt_mm.checkpoints.route_mmengine_loads',
        upstream=(('mmengine.runner.checkpoint', 'load_from_local'), ),
        written_against='mmengine 0.10.7',
        fingerprints=('a0bebcae6294', )),
    LibraryPatch(
        name='data-loader workers die with their parent',
        apply='m2pt_mm.engine.workers.route_mmengine_worker_init',
        upstream=(('mmengine.runner.runner', 'Runner.build_dataloader'),
                  ('mmengine.runner._flexible_runner', 'FlexibleRunner.build_dataloader')),
        written_against='mmengine 0.10.7',
        fingerprints=('bd640f32b20a', 'c95a7e089a21')),
    LibraryPatch(
        name='FlexibleRunner checkpoints keep their step',
        apply='m2pt_mm.engine.strategies.keep_checkpoint_step',
        upstream=(('mmengine.runner._flexible_runner', 'FlexibleRunner.save_checkpoint'), ),
        written_against='mmengine 0.10.7',
        fingerprints=('72e298bb4fcf', )),
    LibraryPatch(
        name='FSDPStrategy resumes on torch >= 2.1',
        apply='m2pt_mm.engine.strategies.fix_fsdp_resume',
        upstream=(('mmengine._strategy.fsdp', 'FSDPStrategy.load_optim_state_dict'), ),
        written_against='mmengine 0.10.7',
        fingerprints=('dbdac2d7973f', )),
)


def upstream_source(module: str, qualname: str) -> str:
    """The source of ``module.qualname`` as the library's file has it, whether or not a patch
    has replaced the attribute since (read from the file, not from the live object)."""
    path = inspect.getsourcefile(importlib.import_module(module))
    with open(path, encoding='utf-8') as f:
        text = f.read()
    node: ast.AST = ast.parse(text)
    for part in qualname.split('.'):
        found = [n for n in ast.iter_child_nodes(node)
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                 and n.name == part]
        if not found:
            raise LookupError(f'{module} ({path}) has no {qualname}: the upstream code a patch '
                              f'depends on has moved or gone')
        node = found[0]  # a property's getter comes before its setter
    return ast.get_source_segment(text, node)


def upstream_fingerprint(module: str, qualname: str) -> str:
    """12 hex digits of the SHA-256 of :func:`upstream_source`."""
    return hashlib.sha256(upstream_source(module, qualname).encode()).hexdigest()[:12]


def changed_upstream() -> Dict[str, List[str]]:
    """``{patch name: [what changed, ...]}`` for every patch whose upstream code or library
    version differs from what it was written against; empty when all match."""
    changed: Dict[str, List[str]] = {}
    for patch in PATCHES:
        dist, written = patch.written_against.split()
        notes = []
        installed = version(dist)
        if installed != written:
            notes.append(f'{dist} {installed} installed, patch written against {written}')
        for (module, qualname), expected in zip(patch.upstream, patch.fingerprints):
            try:
                found = upstream_fingerprint(module, qualname)
            except LookupError as error:
                notes.append(str(error))
                continue
            if found != expected:
                notes.append(f'{module}.{qualname} changed (fingerprint {found}, '
                             f'written against {expected})')
        if notes:
            changed[patch.name] = notes
    return changed


def apply_patches() -> None:
    """Apply every patch of :data:`PATCHES` (each is idempotent)."""
    for patch in PATCHES:
        module, _, func = patch.apply.rpartition('.')
        getattr(importlib.import_module(module), func)()
