"""Log the Cross-Modal Scales λ to the visualiser (TensorBoard, local JSON) and the log."""
from collections import defaultdict
from typing import Dict, List

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
from torch.distributed.tensor import DTensor

from m2pt_mm.pathway import ScaleRecord, collect_scales, format_scale_table, is_scale_param

#: What FSDP1 puts before the names of the modules it wraps (``layers.0._fsdp_wrapped_module.``).
_FSDP_PREFIX = '_fsdp_wrapped_module.'


def scale_statistics(records: List[ScaleRecord]) -> Dict[str, float]:
    """Per block mean/min/max over its layers and aux models, and the mean per layer kind."""
    by_block, by_layer = defaultdict(list), defaultdict(list)
    for r in records:
        by_block[r.block].append(r.value)
        by_layer[r.layer if r.aux == 0 else f'{r.layer}_aux{r.aux}'].append(r.value)
    stats = {}
    for block, values in sorted(by_block.items(), key=lambda kv: -1 if kv[0] is None else kv[0]):
        stats[f'lambda/block{block}_mean'] = sum(values) / len(values)
        stats[f'lambda/block{block}_min'] = min(values)
        stats[f'lambda/block{block}_max'] = max(values)
    for layer, values in by_layer.items():
        stats[f'lambda/{layer}_mean'] = sum(values) / len(values)
    values = [r.value for r in records]
    stats['lambda/abs_mean'] = sum(abs(v) for v in values) / len(values)
    return stats


@HOOKS.register_module()
class ScaleLoggerHook(Hook):
    """Every ``interval`` training iterations, send λ statistics to ``runner.visualizer`` (use
    ``TensorboardVisBackend`` in ``visualizer.vis_backends`` for TensorBoard); after each training
    epoch, write the full block × layer table to the log.

    Args:
        interval: Iterations between scalar logs.
        log_table: Log the table after every training epoch.
    """
    priority = 'BELOW_NORMAL'

    def __init__(self, interval: int = 50, log_table: bool = True) -> None:
        self.interval = interval
        self.log_table = log_table

    @staticmethod
    def _records(runner) -> List[ScaleRecord]:
        if isinstance(runner.model, FSDP):
            # FSDP1 (mmengine's FSDPStrategy): a λ outside this rank's shard is an empty view;
            # gather the parameters for the read (a collective: every rank runs this hook)
            with FSDP.summon_full_params(runner.model, writeback=False):
                return ScaleLoggerHook._scales(runner.model.module)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return ScaleLoggerHook._scales(model)

    @staticmethod
    def _scales(model) -> List[ScaleRecord]:
        # under FSDP2 (FSDP2Strategy) λ of shape [1] lives on one rank, the others hold empty
        # shards: gather each (a collective) before reading it
        return collect_scales({name.replace(_FSDP_PREFIX, ''): p.full_tensor()
                               if isinstance(p, DTensor) else p
                               for name, p in model.named_parameters() if is_scale_param(name)})

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        records = self._records(runner)
        if records:
            runner.visualizer.add_scalars(scale_statistics(records), step=runner.iter + 1)

    def after_train_epoch(self, runner) -> None:
        records = self._records(runner)
        if records and self.log_table:
            runner.logger.info(f'Cross-Modal Scales λ after epoch {runner.epoch + 1}:\n'
                               f'{format_scale_table(records)}')
