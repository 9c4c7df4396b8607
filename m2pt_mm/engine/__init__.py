"""Training machinery: merge/λ/checkpoint-check hooks, the pathway-aware layer-decay optimiser
constructor, OmniVec's task-grouping train loop, atomic checkpoint writes and the safe-resume
allow-list (registered on import).

Hooks and the constructor live in mmengine's root registries, so mmpretrain, mmdet and mmseg
configs all reach them by their plain names.
"""
from ..checkpoints.safe_globals import allow_mmengine_checkpoints, mmengine_checkpoint_globals
from ..patches import apply_patches
from .checkpoint_writing import (
    AtomicLocalBackend,
    checkpoint_bytes,
    deploy_path,
    save_atomic,
    write_deploy_checkpoint,
)
from .distributed import CPUCompatibleDistributedDataParallel, setup_cpu_distributed
from .hooks import *  # noqa: F401,F403
from .loops import TaskGroupEpochBasedTrainLoop, group_schedule
from .optimizers import *  # noqa: F401,F403
from .strategies import FSDP2Strategy

allow_mmengine_checkpoints()
apply_patches()

__all__ = ['AtomicLocalBackend', 'checkpoint_bytes', 'save_atomic', 'deploy_path',
           'write_deploy_checkpoint', 'CPUCompatibleDistributedDataParallel',
           'setup_cpu_distributed', 'allow_mmengine_checkpoints', 'mmengine_checkpoint_globals',
           'TaskGroupEpochBasedTrainLoop', 'group_schedule', 'FSDP2Strategy']
