"""Randomness a resumed run repeats: every random draw of training is a function of (seed, epoch
or iteration, rank, worker), so a run resumed from a checkpoint equals the uninterrupted one."""
import functools
from typing import Any, Iterator, Optional

import numpy as np
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import set_random_seed

from ..workers import guarded_worker_init, worker_init_fn

# what a derived seed is for, so that the streams of one iteration differ
_STEP, _DATA, _WORKERS = range(3)


def derived_seed(seed: int, purpose: int, count: int, rank: int) -> int:
    """A 32-bit seed mixed from the run's ``seed``, a ``purpose`` tag, an epoch or iteration
    ``count`` and the process ``rank`` (numpy's ``SeedSequence``: nearby inputs give unrelated
    streams)."""
    entropy = [int(seed) % 2**64, purpose, int(count), int(rank)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


class _ReseedingIterator:
    """An iterator over batches that reseeds python, numpy and torch before fetching batch ``n``
    with ``derived_seed(seed, DATA, n, rank)``: a resumed ``IterBasedTrainLoop`` skips the
    consumed batches by fetching them again, so ``n`` counts from the run's start in both runs."""

    def __init__(self, iterator: Iterator, seed: int, rank: int) -> None:
        self._iterator = iterator
        self._seed = seed
        self._rank = rank
        self._count = 0

    def __iter__(self) -> '_ReseedingIterator':
        return self

    def __next__(self) -> Any:
        set_random_seed(derived_seed(self._seed, _DATA, self._count, self._rank))
        self._count += 1
        return next(self._iterator)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._iterator, name)


@HOOKS.register_module()
class ResumableRandomnessHook(Hook):
    """Make every random draw of training a function of (seed, epoch or iteration, rank, worker).

    mmengine seeds python, numpy and torch once, when the runner starts: a run resumed at epoch
    ``k`` draws its crops, Mixup/CutMix pairs and drop-path masks from the stream of epoch 0, not
    from where the uninterrupted run was, and ends with different weights. Saving the states
    would not do: worker processes hold their own and validation draws between a save and the
    next epoch. So this hook reseeds at the points both runs pass through:

    - before each training epoch, the train dataloader's worker seed (mmengine's
      ``worker_init_fn`` with seed ``(seed, epoch)``, through
      :func:`m2pt_mm.engine.workers.worker_init_fn`, which first makes each worker die with
      its parent: workers that are not persistent start again every epoch, and with mmengine's
      fixed seed would repeat the same random sequence every epoch);
    - before each batch is fetched, the main process, which runs the pipeline when
      ``num_workers=0`` (``seed, batch``): in ``before_train_epoch`` and after the previous
      iteration, and for ``IterBasedTrainLoop`` in its iterator itself, since its resume fetches
      the consumed batches again;
    - before each training step (``seed, iteration``): batch augments and drop path.

    Nothing is stored in the checkpoint: the seeds follow from the run's seed (which mmengine
    keeps in the checkpoint's meta) and the epoch and iteration it resumes at. Persistent
    workers would keep one stream for the whole run, which a resume cannot continue: they are
    restarted each epoch (a few seconds an epoch for a large loader, the cost of
    ``persistent_workers=False``).
    """
    # first of the hooks at each point, so that a hook that records the random state of a step
    # sees the reseeded one; the hooks after it draw the same in a resumed run as in the
    # uninterrupted one, so they do not break the repetition
    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._seed: Optional[int] = None
        self._rank = 0

    def before_train(self, runner) -> None:
        # runner.seed is the checkpoint's after a resume, the config's (or drawn one) otherwise
        self._seed = runner.seed
        self._rank = get_rank()
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator'):  # IterBasedTrainLoop
            loop.dataloader_iterator = _ReseedingIterator(loop.dataloader_iterator, self._seed,
                                                          self._rank)

    def before_train_epoch(self, runner) -> None:
        loader = runner.train_loop.dataloader
        self._restart_persistent_workers(loader)
        self._seed_workers(loader, runner.epoch)
        # the loop creates this epoch's iterator and fetches its first batch, `runner.iter`, next
        self._seed_next_batch(runner.iter)

    def before_train_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        set_random_seed(derived_seed(self._seed, _STEP, runner.iter, self._rank))

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        # runner.iter is still the iteration just done: the loop fetches batch runner.iter + 1
        self._seed_next_batch(runner.iter + 1)

    def _seed_next_batch(self, iteration: int) -> None:
        set_random_seed(derived_seed(self._seed, _DATA, iteration, self._rank))

    @staticmethod
    def _restart_persistent_workers(loader) -> None:
        # Persistent workers keep their random streams from one epoch to the next, which a
        # resumed run cannot continue: they start again each epoch, from that epoch's seed, as
        # non-persistent ones do (the one use of torch's private DataLoader._iterator: setting
        # it to None is how DataLoader.__iter__ makes new workers)
        iterator = getattr(loader, '_iterator', None)
        if loader.num_workers > 0 and loader.persistent_workers and iterator is not None:
            iterator._shutdown_workers()
            loader._iterator = None

    def _seed_workers(self, loader, epoch: int) -> None:
        if loader.num_workers == 0:
            return
        seed = derived_seed(self._seed, _WORKERS, epoch, self._rank)
        init_fn = loader.worker_init_fn
        # mmengine's default or ours (m2pt_mm.engine.workers, the same seeding after the guard
        # that ends workers with their parent): ours, with this epoch's seed
        if isinstance(init_fn, functools.partial) and init_fn.func in (mmengine_worker_init_fn,
                                                                       worker_init_fn):
            loader.worker_init_fn = functools.partial(worker_init_fn, *init_fn.args,
                                                      **{**init_fn.keywords, 'seed': seed})
        elif init_fn is None:
            loader.worker_init_fn = functools.partial(
                worker_init_fn, num_workers=loader.num_workers, rank=self._rank, seed=seed)
        else:
            # a worker_init_fn of the user's own decides the workers' seeds; it is only guarded
            loader.worker_init_fn = guarded_worker_init(init_fn)
