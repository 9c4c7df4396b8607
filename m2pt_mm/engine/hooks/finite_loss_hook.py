"""Stop a run at the first non-finite loss, naming the iteration."""
import math
from typing import Any, Optional

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite (the message names the iteration)."""


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise ``FloatingPointError`` when the training loss is NaN or infinite.

    mmdet's ``CheckInvalidLossHook`` does this but lives in mmdet's registry (classification,
    audio and point runs do not import mmdet) and fails with ``AssertionError: None``. Checked
    every iteration by default: mmengine's ``RuntimeInfoHook`` already reads every loss into the
    message hub, so the check adds no device synchronisation, and the run stops before the
    checkpoint hook (lower priority) can write the NaN weights.

    Args:
        interval: Iterations between checks.
    """
    priority = 'NORMAL'

    def __init__(self, interval: int = 1) -> None:
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'FiniteLossHook: interval must be a positive int, got {interval!r}')
        self.interval = interval

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs or 'loss' not in outputs or not self.every_n_train_iters(
                runner, self.interval):
            return
        loss = float(torch.as_tensor(outputs['loss']).detach())
        if not math.isfinite(loss):
            parts = ', '.join(f'{k}={float(torch.as_tensor(v).detach()):.4g}'
                              for k, v in outputs.items() if k.startswith('loss') and k != 'loss')
            raise NonFiniteLossError(
                f'the training loss is {loss} at iteration {runner.iter + 1} (epoch '
                f'{runner.epoch + 1}, batch {batch_idx + 1})' + (f': {parts}' if parts else '')
                + '; the last checkpoint in the work dir precedes it')
