"""The tiny real-format dataset writers (one copy of them, in :mod:`m2pt_mm.testing.modalities`)."""
from m2pt_mm.testing.modalities import *  # noqa: F401,F403
from m2pt_mm.testing.modalities import (surface_points, tone, write_mp4,  # noqa: F401
                                        write_wav)
