"""OmniVec's task grouping as an mmengine train loop (paper §3.2): ``v1`` epochs of batches from
the *simple* tasks, then ``v2`` epochs of the *dense* ones, alternating for ``E`` epochs."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmengine.registry import LOOPS
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from m2pt_mm.datasets.samplers import ModalityMixingSampler


def group_schedule(groups: Sequence[str], epochs_per_group: Sequence[int],
                   max_epochs: int) -> List[str]:
    """The active task group of every epoch: ``epochs_per_group[k]`` consecutive epochs of
    ``groups[k]``, cycling, for ``max_epochs`` epochs (``('simple', 'dense'), (2, 1), 5`` →
    ``simple, simple, dense, simple, simple``)."""
    cycle = [g for g, n in zip(groups, epochs_per_group) for _ in range(n)]
    return [cycle[e % len(cycle)] for e in range(max_epochs)]


@LOOPS.register_module()
class TaskGroupEpochBasedTrainLoop(EpochBasedTrainLoop):
    """Epoch-based training that switches the active task group every few epochs.

    Epoch ``e`` draws its batches only from the sources of ``group_schedule(...)[e]``: the loop
    sets the group on the dataloader's :class:`~m2pt_mm.datasets.ModalityMixingSampler` before the
    epoch. An epoch is as long as the sampler makes it for that group, so ``max_iters`` is the
    sum over the schedule. Every epoch logs its group, sets ``task_group`` (its name) in the
    message hub's runtime info and the scalar ``train/task_group`` (its index in ``groups``),
    which the ``LoggerHook`` writes to the log and the visualiser's backends.

    Resuming is exact: the group follows from the epoch, and a checkpoint written mid-epoch
    (``CheckpointHook(by_epoch=False)``) continues that epoch at the next batch of the same
    sequence (:meth:`ModalityMixingSampler.set_start_iter`).

    Iteration-based LR schedules (``convert_to_iter_based=True``) assume one epoch length; with
    groups of different lengths, schedule by epoch or set the sampler's ``batches_per_epoch``.

    Args:
        runner: The runner.
        dataloader: The train dataloader (config or object); its sampler must be a
            ``ModalityMixingSampler``.
        max_epochs: Total epochs ``E``.
        groups: The task groups, in schedule order.
        epochs_per_group: Consecutive epochs of each group (the paper's ``v1, v2``).
        val_begin: As ``EpochBasedTrainLoop``.
        val_interval: As ``EpochBasedTrainLoop``.
        dynamic_intervals: As ``EpochBasedTrainLoop``.

    Raises:
        TypeError: the sampler is not a ``ModalityMixingSampler``.
        ValueError: ``groups`` and ``epochs_per_group`` of different lengths or empty, an epoch
            count below one, a dataloader batch size other than the sampler's, a group without
            sources.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 groups: Sequence[str] = ('simple', 'dense'),
                 epochs_per_group: Sequence[int] = (1, 1),
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None) -> None:
        if isinstance(groups, str) or not groups or len(groups) != len(epochs_per_group):
            raise ValueError(f'groups and epochs_per_group must be sequences of one length, got '
                             f'{groups!r} and {epochs_per_group!r}')
        if any(not isinstance(n, int) or n < 1 for n in epochs_per_group):
            raise ValueError(f'epochs_per_group must be positive ints, got {epochs_per_group!r}')
        super().__init__(runner, dataloader, max_epochs, val_begin, val_interval,
                         dynamic_intervals)
        sampler = self.dataloader.sampler
        if not isinstance(sampler, ModalityMixingSampler):
            raise TypeError(f'TaskGroupEpochBasedTrainLoop switches the task group of the train '
                            f'dataloader\'s sampler, which must be a ModalityMixingSampler, got '
                            f'{type(sampler).__name__}')
        if self.dataloader.batch_size != sampler.batch_size:
            raise ValueError(f'train_dataloader.batch_size={self.dataloader.batch_size} but the '
                             f'ModalityMixingSampler has batch_size={sampler.batch_size}; they '
                             f'must be equal, or the batches mix the wrong counts')
        self.sampler = sampler
        self.groups = list(groups)
        self.epochs_per_group = list(epochs_per_group)
        self.schedule = group_schedule(self.groups, self.epochs_per_group, self._max_epochs)
        # each group's epoch length; fails now for a group without sources
        self.epoch_lengths = {g: sampler.num_batches([g]) for g in self.groups}
        self._max_iters = sum(self.epoch_lengths[g] for g in self.schedule)
        self.sampler.set_groups([self.schedule[0]])  # len(dataloader) as the first epoch's

    def iters_before(self, epoch: int) -> int:
        """Iterations of the epochs before ``epoch``."""
        return sum(self.epoch_lengths[g] for g in self.schedule[:epoch])

    def run_epoch(self) -> None:
        """Iterate one epoch of the scheduled task group (from the resumed batch, if any)."""
        runner, epoch = self.runner, self._epoch
        group = self.schedule[epoch]
        self.sampler.set_groups([group])
        self.sampler.set_epoch(epoch)
        start = self._iter - self.iters_before(epoch)
        if start:
            self.sampler.set_start_iter(start)
        runner.message_hub.update_info('task_group', group)
        # the log line shows every scalar the message hub holds: without this, a dense epoch
        # would print the simple tasks' last losses (and vice versa) as if computed now
        scalars = runner.message_hub.log_scalars
        for key in [k for k in scalars if k.startswith('train/') and '.' in k[len('train/'):]]:
            del scalars[key]
        names = [self.sampler.sources[i] for i in self.sampler.active_sources()]
        runner.logger.info(f'Epoch {epoch + 1}/{self._max_epochs}: task group {group!r}, '
                           f'{self.epoch_lengths[group]} batches from {names}'
                           + (f' (resumed at batch {start})' if start else ''))
        runner.call_hook('before_train_epoch')
        runner.model.train()
        for idx, data_batch in enumerate(self.dataloader, start):
            runner.message_hub.update_scalar('train/task_group', self.groups.index(group))
            # the iteration line shows modality mixing at work: omnivec_collate keys a batch's
            # inputs by modality
            runner.message_hub.update_scalar('train/modalities', len(data_batch['inputs']))
            self.run_iter(idx, data_batch)
        runner.call_hook('after_train_epoch')
        self._epoch += 1
