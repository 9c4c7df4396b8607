"""Reading external checkpoints safely (``weights_only=True``), detecting and converting layouts."""
from .formats import (
    BLOCK_LINEARS,
    FORMATS,
    CheckpointFormat,
    Converted,
    UnsupportedFormatError,
    convert_mmpretrain,
    convert_timm,
    detect_format,
    register_format,
)
from .loading import (
    CheckpointError,
    check_checkpoint_file,
    check_finite,
    check_shapes,
    load_checkpoint_file,
    load_weights,
    route_mmengine_loads,
    unwrap_state_dict,
    verify_zip_records,
)
from .reader import ExternalCheckpoint, check_architecture, read_checkpoint

__all__ = [
    'read_checkpoint', 'ExternalCheckpoint', 'check_architecture', 'load_checkpoint_file',
    'unwrap_state_dict', 'check_checkpoint_file', 'check_finite', 'check_shapes', 'load_weights',
    'route_mmengine_loads', 'verify_zip_records',
    'CheckpointError', 'UnsupportedFormatError', 'detect_format',
    'register_format', 'CheckpointFormat', 'Converted', 'FORMATS', 'BLOCK_LINEARS',
    'convert_timm', 'convert_mmpretrain'
]
