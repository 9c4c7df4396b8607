"""mmengine's ``CheckpointHook`` with every save ordered so that no crash loses the last good
one."""
import contextlib
import difflib
import glob
import inspect
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Set

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS

from ..checkpoint_writing import atomic_write_text, is_temp_file, remove_with_deploy_twin


class _DeferredRemovals:
    """The hook's file backend, except that ``remove``/``rmtree`` are queued, not done."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.queued: List[str] = []

    def remove(self, path: str) -> None:
        self.queued.append(path)

    def rmtree(self, path: str) -> None:
        self.queued.append(path)

    def __getattr__(self, name: str):
        return getattr(self._backend, name)


@HOOKS.register_module()
class CrashSafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves can be killed at any point without losing a run.

    mmengine 0.10.7 removes the oldest checkpoint (``max_keep_ckpts``) and the previous best one
    *before* it writes the new one, and writes ``last_checkpoint`` with a plain ``open()``: a kill
    during the save can leave no complete checkpoint and a pointer to a deleted file. Here every
    save runs in this order:

    1. the new checkpoint, written atomically (the configs' ``atomic_local`` backend), then its
       deploy twin (``MergePathwayHook``, which wraps ``runner.save_checkpoint``);
    2. ``last_checkpoint``, replaced atomically (temporary file + rename);
    3. only then the rotation: checkpoints beyond ``max_keep_ckpts`` and the previous best one,
       each with its ``_deploy`` twin.

    mmengine's bookkeeping is kept as it is (``keep_ckpt_ids``, ``best_ckpt`` in the message
    hub, saved inside each checkpoint), so a resumed run rotates what is on disk. Temporary files
    left by a killed save are removed when training starts, and named in the log.

    ``keep_epochs`` lists epochs whose checkpoints (and deploy twins) outlive the rotation: the
    paper's Table 6 uses the point model's epoch-20 and epoch-220 checkpoints as auxiliary
    weights. mmengine has no such option (``save_begin``/``interval`` decide what is *written*,
    ``max_keep_ckpts`` then removes all but the last few). A kept epoch off the ``interval``
    schedule is saved as well.

    Args:
        keep_epochs: Epochs (1-based, as in the file names) never removed by the rotation; needs
            ``by_epoch=True``.
        *args, **kwargs: mmengine's ``CheckpointHook`` arguments.
    """

    def __init__(self, *args, keep_epochs: Sequence[int] = (), **kwargs) -> None:
        # mmengine passes unknown keys on to Runner.save_checkpoint, which takes none beyond the
        # hook's own: a typo would fail at the first save, an epoch of training later
        options = list(inspect.signature(CheckpointHook.__init__).parameters)[1:-1]
        unknown = sorted(set(kwargs) - set(options))
        if unknown:
            close = {k: difflib.get_close_matches(k, options, n=1) for k in unknown}
            hints = ''.join(f'; did you mean {m[0]!r} for {k!r}?' for k, m in close.items() if m)
            raise TypeError(f'{type(self).__name__} (default_hooks.checkpoint): unknown option(s) '
                            f'{unknown}{hints} (options: {options + ["keep_epochs"]})')
        super().__init__(*args, **kwargs)
        bad = [e for e in keep_epochs if isinstance(e, bool) or not isinstance(e, int) or e < 1]
        if bad:
            raise ValueError(f'keep_epochs must be epoch numbers >= 1, got {list(keep_epochs)}')
        if keep_epochs and not self.by_epoch:
            raise ValueError('keep_epochs names epochs: it needs by_epoch=True (this hook saves '
                             'by iteration)')
        self.keep_epochs = frozenset(keep_epochs)

    def after_train_epoch(self, runner) -> None:
        last = self.last_ckpt
        super().after_train_epoch(runner)
        # the interval skipped a kept epoch: save it anyway
        if runner.epoch + 1 in self.keep_epochs and self.last_ckpt == last:
            runner.logger.info(f'Saving checkpoint at {runner.epoch + 1} epochs (keep_epochs)')
            self._save_checkpoint(runner)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and osp.isdir(self.out_dir):
            stale = sorted(p for p in glob.glob(osp.join(self.out_dir, '.*')) if is_temp_file(p))
            for path in stale:
                os.remove(path)
            if stale:
                runner.logger.warning(f'{type(self).__name__}: removed {len(stale)} temporary '
                                      f'file(s) of an interrupted save: {stale}')

    @contextlib.contextmanager
    def _removals_after_save(self, runner) -> Iterator[None]:
        """Queue the removals mmengine's code makes inside the block; do them at its end."""
        backend = self.file_backend
        deferred = self.file_backend = _DeferredRemovals(backend)
        try:
            yield
        finally:
            self.file_backend = backend
        if is_main_process():
            # two improving validations at one epoch/iteration write the same best file name:
            # the "previous" best mmengine queued is then the file just written
            current = self._current_best_paths()
            for path in deferred.queued:
                if path not in current:
                    self._remove(runner, path)

    def _current_best_paths(self) -> Set[str]:
        """The paths the hook (and the message hub's ``best_ckpt*``) name as the best now."""
        # mmengine sets best_ckpt_path with one key indicator, best_ckpt_path_dict with several
        paths = [getattr(self, 'best_ckpt_path', None),
                 *getattr(self, 'best_ckpt_path_dict', {}).values()]
        return {p for p in paths if p}

    def _remove(self, runner, path: str) -> None:
        remove_with_deploy_twin(path, self.file_backend)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        stale: Optional[int] = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write_text(self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'))
        if stale is not None and stale not in self.keep_epochs:
            self._remove(runner, self.file_backend.join_path(self.out_dir,
                                                             self.filename_tmpl.format(stale)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self.save_best:
            # nothing to save; before_train, which makes file_backend, may not have run yet (a
            # validation before training)
            return
        # mmengine removes the previous best before it saves the new one: defer that removal
        with self._removals_after_save(runner):
            super()._save_best_checkpoint(runner, metrics)
