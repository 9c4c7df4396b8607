from .checkpoint_check_hook import (
    CheckpointCheckHook,
    CheckpointMismatchError,
    check_state_dict_fits,
)
from .crash_safe_checkpoint_hook import CrashSafeCheckpointHook
from .finite_loss_hook import FiniteLossHook
from .merge_pathway_hook import MergePathwayHook
from .resumable_randomness_hook import ResumableRandomnessHook, derived_seed
from .scale_logger_hook import ScaleLoggerHook, scale_statistics

__all__ = ['CrashSafeCheckpointHook', 'MergePathwayHook', 'ScaleLoggerHook', 'scale_statistics',
           'CheckpointCheckHook', 'CheckpointMismatchError', 'check_state_dict_fits',
           'FiniteLossHook', 'ResumableRandomnessHook', 'derived_seed']
