"""Where a point tokenizer's tokens sit: :class:`PointCentres` and :data:`TokenGrid`.

The point operators (sampling, neighbours, interpolation) live below the models and the data
pipeline, in :mod:`m2pt_mm.ops.point`.
"""
from dataclasses import dataclass
from typing import Tuple, Union

from torch import Tensor


@dataclass(frozen=True, eq=False)
class PointCentres:
    """The positions a point tokenizer returns in place of a token grid.

    Images, spectrograms and video have a token lattice (``(h, w)``, ``(t, h, w)``); a point
    cloud's tokens sit at its group centres, which differ from cloud to cloud. The position
    embedding, the ``[B, D, G]`` feature maps and the part-segmentation head read them.

    Attributes:
        centres: Group centres ``[B, G, 3]``.
    """

    centres: Tensor

    def __post_init__(self) -> None:
        if self.centres.dim() != 3 or self.centres.shape[-1] != 3:
            raise ValueError(f'PointCentres expects centres [B, G, 3], got '
                             f'{tuple(self.centres.shape)}')

    @property
    def num_groups(self) -> int:
        """Tokens per cloud ``G``."""
        return self.centres.shape[1]

    def __repr__(self) -> str:
        return f'PointCentres(centres {list(self.centres.shape)})'


#: What a tokenizer returns beside its tokens: the token lattice ``(h, w)`` / ``(t, h, w)``, or
#: for point clouds the group centres.
TokenGrid = Union[Tuple[int, ...], PointCentres]
