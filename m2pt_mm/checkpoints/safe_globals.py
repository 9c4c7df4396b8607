"""The one place that makes mmengine (and MAE) checkpoints loadable with ``weights_only=True``.

:func:`m2pt_mm.checkpoints.load_checkpoint_file` registers it before every load; importing
``m2pt_mm.engine`` registers it for mmengine's own ``torch.load`` calls (``--resume``).

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6 defaults it to True,
so ``Runner(resume=True)`` stops at
``Unsupported global: mmengine.logging.history_buffer.HistoryBuffer``.
Turning ``weights_only`` off would let any checkpoint run code on load. Instead, exactly the globals
that mmengine's own training checkpoints contain are allow-listed (found with
``torch.serialization.get_unsafe_globals_in_checkpoint`` on a real checkpoint):

* ``HistoryBuffer`` (the message hub's scalar logs) and the numpy arrays / scalars in it, plus the
  classes of their numeric dtypes (rebuilt with BUILD, so the scanner does not list them);
* ``argparse.Namespace``: MAE's own training checkpoints keep their command line as ``'args'``
  (plain data; its values still have to pass the same allow-list);
* ``builtins.getattr``, which pickle uses to refer to ``HistoryBuffer.min`` / ``max`` / ``mean`` /
  ``current``. The name is bound to :func:`_history_buffer_getattr`, which resolves only those
  statistics methods, not to ``getattr`` itself.
"""
import argparse
import pickle
from typing import Any, List, Tuple

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

# numpy 2 moved numpy.core to numpy._core; checkpoints written under numpy 1 use the old names
_np_core = getattr(np, '_core', None) or np.core


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to HistoryBuffer's statistics methods."""
    # the four built-in statistics are registered lazily (on the first instance), custom ones
    # with HistoryBuffer.register_statistics
    allowed = {'min', 'max', 'mean', 'current'} | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(f'refused getattr({obj!r}, {name!r}) while loading a checkpoint: '
                                 'only HistoryBuffer statistics methods may be referenced')


def mmengine_checkpoint_globals() -> List[Tuple[Any, str]]:
    """``(object, pickled name)`` pairs an mmengine training checkpoint needs to unpickle."""
    pairs = [(HistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'),
             (_history_buffer_getattr, 'builtins.getattr'),
             (argparse.Namespace, 'argparse.Namespace'),
             (np.ndarray, 'numpy.ndarray'),
             (np.dtype, 'numpy.dtype')]
    for dtype in (np.float64, np.float32, np.float16, np.int64, np.int32, np.bool_):
        cls = type(np.dtype(dtype))
        pairs.append((cls, f'{cls.__module__}.{cls.__qualname__}'))
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        pairs += [(_np_core.multiarray._reconstruct, f'{module}._reconstruct'),
                  (_np_core.multiarray.scalar, f'{module}.scalar')]
    return pairs


def allow_mmengine_checkpoints() -> None:
    """Register :func:`mmengine_checkpoint_globals` with torch's safe unpickler (idempotent)."""
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
