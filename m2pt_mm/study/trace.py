"""The Cross-Modal Scales over training, per block, for the study's figures."""
from collections import defaultdict
from typing import Any, Dict, List

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from m2pt_mm.pathway import collect_scales


class LambdaTraceHook(Hook):
    """Before training and after every training epoch, the mean λ and mean |λ| of each block
    (over its layers and aux models); nothing for a model without a pathway."""
    priority = 'LOW'

    def __init__(self) -> None:
        self.trace: List[Dict[str, Any]] = []

    def before_train(self, runner) -> None:
        self._record(runner, runner.epoch)  # the start: λ as initialised (or resumed)

    def after_train_epoch(self, runner) -> None:
        self._record(runner, runner.epoch + 1)

    def _record(self, runner, epoch: int) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        records = collect_scales(model)
        if not records:
            return
        values, absolute = defaultdict(list), defaultdict(list)
        for r in records:
            values[r.block].append(r.value)
            absolute[r.block].append(abs(r.value))
        blocks = sorted(b for b in values if b is not None)
        self.trace.append(dict(
            epoch=epoch,
            mean={str(b): sum(values[b]) / len(values[b]) for b in blocks},
            abs_mean={str(b): sum(absolute[b]) / len(absolute[b]) for b in blocks}))
