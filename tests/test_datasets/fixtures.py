"""The tiny real-format dataset writers, from tools/data/synth_modalities.py (one copy of them)."""
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    'synth_modalities', Path(__file__).resolve().parents[2] / 'tools' / 'data' / 'synth_modalities.py')
_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tool)

globals().update({k: v for k, v in vars(_tool).items() if not k.startswith('__')})
