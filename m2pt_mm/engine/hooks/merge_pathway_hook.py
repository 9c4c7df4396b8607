"""Write a merged (deploy) checkpoint beside every checkpoint the CheckpointHook saves."""
import os
import os.path as osp
from typing import Any, Dict, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from m2pt_mm.pathway import is_pathway_param

from ..checkpoint_writing import deploy_path, orphan_deploy_files, write_deploy_checkpoint


@HOOKS.register_module()
class MergePathwayHook(Hook):
    """Beside each saved checkpoint ``X.pth`` (regular, last or ``save_best``), write
    ``X_deploy.pth`` holding only ``{'state_dict': merged, 'meta': ...}``: every pathway merged
    (``W ← W + Σ λ W′``), so it loads into the same config with ``pathway=None``.

    The training checkpoint is left complete (W, W′, λ, optimiser, schedulers): ``--resume``
    continues exactly. Deploy files whose training checkpoint was removed (``max_keep_ckpts``, an
    older best) are removed too. Writes are atomic.

    Args:
        remove_orphans: Delete ``*_deploy.pth`` whose training checkpoint no longer exists.
    """
    priority = 'LOWEST'

    def __init__(self, remove_orphans: bool = True) -> None:
        self.remove_orphans = remove_orphans
        self._pending: Optional[Dict[str, Any]] = None

    def before_run(self, runner) -> None:
        # mmengine 0.10.7 has no after-save hook point, and only Runner.save_checkpoint knows the
        # file name; wrap it (on this runner instance only) to write the deploy file after it.
        save = runner.save_checkpoint
        if getattr(save, '_m2pt_wrapped', False):
            return

        def save_and_deploy(out_dir: str, filename: str, *args, **kwargs):
            self._pending = None
            result = save(out_dir, filename, *args, **kwargs)
            if self._pending is not None and is_main_process():
                self._write_deploy(runner, osp.join(out_dir, filename))
            self._pending = None
            return result

        save_and_deploy._m2pt_wrapped = True
        runner.save_checkpoint = save_and_deploy

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # runs inside Runner.save_checkpoint, after hooks such as EMA have swapped in the weights
        # that are being saved: merge exactly those, right after the save, before any step
        state_dict = checkpoint.get('state_dict', {})
        if any(is_pathway_param(k) for k in state_dict):
            self._pending = dict(state_dict=dict(state_dict), meta=checkpoint.get('meta', {}))

    def _write_deploy(self, runner, checkpoint_path: str) -> None:
        target = deploy_path(checkpoint_path)
        write_deploy_checkpoint(self._pending['state_dict'], target, self._pending['meta'],
                                merged_from=osp.basename(checkpoint_path))
        runner.logger.info(f'MergePathwayHook: wrote merged (deploy) checkpoint {target}')
        if self.remove_orphans:
            for path in orphan_deploy_files(osp.dirname(target)):
                os.remove(path)
                runner.logger.info(f'MergePathwayHook: removed {path} (its checkpoint is gone)')
