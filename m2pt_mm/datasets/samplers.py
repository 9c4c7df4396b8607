"""OmniVec's modality-mixing sampler: mini-batches drawn from several sources in set proportions.

mmdet's ``MultiSourceSampler`` (a fixed number of samples per source in every batch) is the
nearest library sampler, but it is infinite (iteration-based), has no epochs, no resume offset,
no single-source mode and no task groups, so this one is written for the epoch-based runs of
OmniVec (task grouping switches the sources every epoch).
"""
import logging
import math
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.logging import print_log
from mmengine.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from .multi_source import TASK_GROUPS, MultiSourceDataset

MODES = ('mixed', 'one_source')
# (sources, proportions) combinations already warned about: a config is warned about once
_WARNED_UNDRAWN: Set[Tuple[Tuple[str, ...], Tuple[str, ...]]] = set()


def _unwrap_sliced(dataset: Any) -> Tuple[Any, Optional[int]]:
    """The dataset under mmengine's ``num_batch_per_epoch`` wrapper, and the wrapper's length.

    ``Runner.build_dataloader`` wraps the dataset in ``_SlicedDataset`` (its length
    ``num_batch_per_epoch · batch_size · world_size``, items unchanged) before it builds the
    sampler; ``(dataset, None)`` for any other dataset.
    """
    from mmengine.runner.runner import _SlicedDataset  # the wrapper has no public name
    if isinstance(dataset, _SlicedDataset):
        return dataset._dataset, len(dataset)
    return dataset, None


def apportion(weights: Sequence[float], seats: int, rounds: int) -> np.ndarray:
    """Split ``seats`` places among sources in proportion to ``weights``, ``rounds`` times.

    Largest remainder with the remainders carried over: every round gives source ``s`` its
    ``floor(seats · w_s / Σw)`` places, and the places left over go to the sources with the
    largest accumulated fractional share (ties to the earlier source), whose share then drops by
    one. Each round sums to ``seats``; after ``n`` rounds source ``s`` has had ``n · seats ·
    w_s / Σw`` places to within one, so a source whose share of one round is below one place is
    still drawn (every few rounds) instead of never.

    Args:
        weights: Positive weights, one per source.
        seats: Places per round (the batch size, or 1 for one source per batch).
        rounds: The number of rounds (batches).

    Returns:
        Counts ``[rounds, len(weights)]`` (int64).
    """
    w = np.asarray(weights, dtype=np.float64)
    quota = seats * w / w.sum()
    base = np.floor(quota).astype(np.int64)
    frac = quota - base
    extra = int(seats - base.sum())
    credit = np.zeros_like(frac)
    counts = np.tile(base, (rounds, 1))
    for k in range(rounds):
        credit += frac
        # rounding keeps exact ties (1/3 + 1/3 + 1/3 - 1) ties despite float error
        winners = np.argsort(-np.round(credit, 9), kind='stable')[:extra]
        counts[k, winners] += 1
        credit[winners] -= 1
    return counts


@DATA_SAMPLERS.register_module()
class ModalityMixingSampler(Sampler):
    """Mini-batches drawn from the sources of a :class:`MultiSourceDataset` in set proportions
    (the paper's *modality mixing*), one source per batch (its ablation), or only from the
    sources of some task groups (*task grouping*).

    Used as the dataloader's ``sampler`` (as mmdet's ``MultiSourceSampler``); the default batch
    sampler cuts its index stream into batches, so ``batch_size`` here must equal the
    dataloader's (:class:`~m2pt_mm.engine.TaskGroupEpochBasedTrainLoop` checks it)::

        batch_size = 8
        train_dataloader = dict(
            batch_size=batch_size, collate_fn=dict(type='omnivec_collate'),
            sampler=dict(type='ModalityMixingSampler', batch_size=batch_size,
                         proportions=dict(digits=1, tones=1, shapes=2)),
            dataset=dict(type='MultiSourceDataset', sources=dict(...)))

    **Batches.** ``mode='mixed'``: every batch holds samples of all active sources, the counts by
    :func:`apportion` (e.g. ``{a: 1, b: 3}`` with batch size 8: 2 of ``a`` and 6 of ``b`` in every
    batch), the samples of one source together, in source order. ``mode='one_source'``: each
    batch is from one source; the number of batches per source is :func:`apportion` of the
    epoch's batches, their order shuffled. Active sources: those with a positive proportion whose
    ``task_group`` is in ``groups`` (all when ``None``).

    **Epochs.** An epoch has ``batches_per_epoch`` batches, by default as many as the active
    sources have samples: ``ceil(Σ sizes / (batch_size · world_size))``. Each source is read
    through its own random permutation of the epoch (reshuffled whenever it runs out, so a small
    source repeats and a large one is sub-sampled), seeded by ``(seed, epoch, source)``.

    **Distributed.** Every rank draws its own batches, with the same counts and source order, from
    disjoint samples: rank ``r`` takes positions ``r, r + W, r + 2W, ...`` of each source's
    permutation (as mmengine's ``DefaultSampler``). In ``one_source`` mode all ranks share the
    batch's source, so the global batch is single-source as in the ablation.

    **num_batch_per_epoch.** mmengine's debug option (``train_dataloader.num_batch_per_epoch``)
    wraps the dataset in a ``_SlicedDataset`` of ``num_batch_per_epoch · batch_size ·
    world_size`` samples; the sampler reads the sources from the dataset inside it and yields at
    most that many indices per epoch over all ranks (``num_batch_per_epoch`` batches on each),
    still mixed from every active source (the slice's first indices would be one source's).

    **Resume.** The batches of an epoch are a function of ``(seed, epoch, rank, groups)`` alone:
    ``set_epoch(e)`` then ``set_start_iter(i)`` yields exactly the rest of epoch ``e`` from batch
    ``i`` on (mmengine's ``IterBasedTrainLoop`` gets there by drawing and discarding ``i`` batches;
    here the discarded ones are never loaded). The offset applies to the next iteration only.

    Args:
        dataset: A :class:`MultiSourceDataset` (the runner passes it), or mmengine's
            ``num_batch_per_epoch`` wrapper around one.
        batch_size: The dataloader's batch size.
        proportions: ``{source: weight}``, weights ≥ 0 with a positive sum; sources not named
            are not drawn (a warning names them; name a source with 0 to leave it out
            silently). ``None``: all sources equally (the paper's masked pretraining).
        mode: ``'mixed'`` or ``'one_source'``.
        groups: Task groups whose sources are drawn (``None``: all); changed per epoch by the
            task-grouping loop through :meth:`set_groups`.
        batches_per_epoch: Batches per epoch on each rank; ``None`` for the default above.
        seed: Random seed, the same on all ranks (the runner passes ``randomness.seed``);
            ``None`` draws one and synchronises it across ranks.
        num_replicas: World size; ``None`` reads it from the process group.
        rank: This rank; ``None`` reads it from the process group.

    Raises:
        TypeError: ``dataset`` is not a :class:`MultiSourceDataset`.
        KeyError: ``proportions`` names a source the dataset does not have.
        ValueError: negative proportions or ones that do not sum to a positive number, an
            unknown mode or task group, a batch size or epoch length below one.
    """

    def __init__(self,
                 dataset: MultiSourceDataset,
                 batch_size: int,
                 proportions: Optional[Dict[str, float]] = None,
                 mode: str = 'mixed',
                 groups: Optional[Union[str, Sequence[str]]] = None,
                 batches_per_epoch: Optional[int] = None,
                 seed: Optional[int] = None,
                 num_replicas: Optional[int] = None,
                 rank: Optional[int] = None) -> None:
        dataset, sliced_length = _unwrap_sliced(dataset)
        if not isinstance(dataset, MultiSourceDataset):
            raise TypeError(f'ModalityMixingSampler needs a MultiSourceDataset (its sources carry '
                            f'the modality/task tags), got {type(dataset).__name__}')
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f'batch_size must be a positive int, got {batch_size!r}')
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if batches_per_epoch is not None and (not isinstance(batches_per_epoch, int)
                                              or batches_per_epoch < 1):
            raise ValueError(f'batches_per_epoch must be a positive int or None, got '
                             f'{batches_per_epoch!r}')
        dist_rank, dist_world = get_dist_info()
        self.rank = dist_rank if rank is None else int(rank)
        self.world_size = dist_world if num_replicas is None else int(num_replicas)
        if not 0 <= self.rank < self.world_size:
            raise ValueError(f'rank {self.rank} is not in [0, {self.world_size})')
        self.dataset = dataset
        self.batch_size = batch_size
        self.mode = mode
        self.batches_per_epoch = batches_per_epoch
        # mmengine's num_batch_per_epoch: its slice's length over all ranks, in batches per rank
        self.max_batches: Optional[int] = None if sliced_length is None else max(
            1, math.ceil(sliced_length / (batch_size * self.world_size)))
        self.seed = sync_random_seed() if seed is None else int(seed)
        if self.seed < 0:
            raise ValueError(f'seed must be >= 0, got {self.seed}')
        self.sources: List[str] = list(dataset.source_names)
        self.source_groups: List[str] = [t['task_group'] for t in dataset.source_tags]
        self.sizes: List[int] = dataset.source_sizes()
        self.offsets: List[int] = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).tolist()
        self.weights: List[float] = self._check_proportions(proportions)
        empty = [n for n, size, w in zip(self.sources, self.sizes, self.weights) if size == 0 and w]
        if empty:
            raise ValueError(f'source(s) {empty} have no samples but a positive proportion')
        self.epoch = 0
        self._start_iter = 0
        self.groups: Optional[List[str]] = None
        self.set_groups(groups)

    def _check_proportions(self, proportions: Optional[Dict[str, float]]) -> List[float]:
        if proportions is None:
            return [1.0] * len(self.sources)
        unknown = sorted(set(proportions) - set(self.sources))
        if unknown:
            raise KeyError(f'proportions name unknown source(s) {unknown}; the dataset has '
                           f'{self.sources}')
        weights = [float(proportions.get(name, 0.0)) for name in self.sources]
        if any(not math.isfinite(w) or w < 0 for w in weights):
            raise ValueError(f'proportions must be finite and >= 0, got {dict(proportions)}')
        if sum(weights) <= 0:
            raise ValueError(f'proportions must sum to a positive number, got '
                             f'{dict(proportions)} (sum {sum(weights)})')
        self._warn_unnamed(proportions)
        return weights

    def _warn_unnamed(self, proportions: Dict[str, float]) -> None:
        """Warn (once per sources and proportions) about sources ``proportions`` leaves out."""
        unnamed = tuple(name for name in self.sources if name not in proportions)
        key = (tuple(self.sources), tuple(sorted(proportions)))
        if not unnamed or key in _WARNED_UNDRAWN:
            return
        _WARNED_UNDRAWN.add(key)
        # a source left out of the dict is easy to miss: it is loaded, yet never trained on
        print_log(f'ModalityMixingSampler: proportions {dict(proportions)} name '
                  f'{len(proportions)} of the dataset\'s {len(self.sources)} sources; '
                  f'{list(unnamed)} will never be drawn (give them a weight, or 0 to leave them '
                  f'out without this warning)', logger='current', level=logging.WARNING)

    # ------------------------------------------------------------------ state set by the loop
    def set_epoch(self, epoch: int) -> None:
        """Draw the batches of ``epoch`` next (mmengine's ``DistSamplerSeedHook`` calls it)."""
        self.epoch = int(epoch)

    def set_start_iter(self, start_iter: int) -> None:
        """Start the next iteration at batch ``start_iter`` of the epoch (resume mid-epoch)."""
        if not 0 <= start_iter <= self.num_batches():
            raise ValueError(f'start_iter must be in [0, {self.num_batches()}], got {start_iter}')
        self._start_iter = int(start_iter)

    def set_groups(self, groups: Optional[Union[str, Sequence[str]]]) -> None:
        """Draw only from the sources of these task groups (``None``: all sources).

        Raises:
            ValueError: an unknown task group, or no source with a positive proportion in them.
        """
        groups = [groups] if isinstance(groups, str) else groups
        if groups is not None:
            bad = [g for g in groups if g not in TASK_GROUPS]
            if bad or not groups:
                raise ValueError(f'groups must be a non-empty subset of {TASK_GROUPS} or None, '
                                 f'got {groups!r}')
            groups = list(groups)
        self.groups = groups
        self.active_sources()  # fail now, not at the first batch of the epoch

    def active_sources(self, groups: Optional[Sequence[str]] = None) -> List[int]:
        """Indices (into ``sources``) of the sources drawn under ``groups`` (default: the current
        ones): positive proportion and task group in ``groups``."""
        groups = self.groups if groups is None else groups
        active = [i for i, (w, g) in enumerate(zip(self.weights, self.source_groups))
                  if w > 0 and (groups is None or g in groups)]
        if not active:
            have = {n: (g, w) for n, g, w in zip(self.sources, self.source_groups, self.weights)}
            raise ValueError(f'no source with a positive proportion is in task group(s) '
                             f'{groups}; sources (task_group, proportion): {have}')
        return active

    def num_batches(self, groups: Optional[Sequence[str]] = None) -> int:
        """Batches per epoch on each rank under ``groups`` (default: the current ones)."""
        if self.batches_per_epoch is not None:
            num = self.batches_per_epoch
        else:
            total = sum(self.sizes[i] for i in self.active_sources(groups))
            num = max(1, math.ceil(total / (self.batch_size * self.world_size)))
        return num if self.max_batches is None else min(num, self.max_batches)

    # ------------------------------------------------------------------ drawing
    def _source_stream(self, source: int, count: int) -> np.ndarray:
        """This rank's first ``count`` local indices of ``source`` in this epoch."""
        rng = np.random.default_rng([self.seed, self.epoch, source])
        need = self.rank + self.world_size * (count - 1) + 1 if count else 0
        size = self.sizes[source]
        perms = [rng.permutation(size) for _ in range(math.ceil(need / size))] if need else []
        stream = np.concatenate(perms) if perms else np.zeros(0, dtype=np.int64)
        return stream[self.rank:need:self.world_size]

    def epoch_batches(self) -> List[List[int]]:
        """All batches of the current epoch on this rank (global dataset indices)."""
        active = self.active_sources()
        weights = [self.weights[i] for i in active]
        num = self.num_batches()
        if self.mode == 'mixed':
            counts = apportion(weights, self.batch_size, num)
        else:
            per_batch = apportion(weights, 1, num)
            # shared by all ranks (no rank in the seed): one source per global batch
            order = np.random.default_rng([self.seed, self.epoch]).permutation(num)
            counts = per_batch[order] * self.batch_size
        streams = [iter(self._source_stream(s, int(counts[:, j].sum())))
                   for j, s in enumerate(active)]
        batches = []
        for row in counts:
            batch: List[int] = []
            for j, s in enumerate(active):
                batch.extend(self.offsets[s] + int(next(streams[j])) for _ in range(int(row[j])))
            batches.append(batch)
        return batches

    def __iter__(self) -> Iterator[int]:
        start, self._start_iter = self._start_iter, 0
        for batch in self.epoch_batches()[start:]:
            yield from batch

    def __len__(self) -> int:
        """Indices per epoch on this rank (batches × batch size)."""
        return self.num_batches() * self.batch_size
