"""OmniVec's meta tokens: what kind of input a group is and how big, read from the batch tensor."""
import math
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from ...registry import MODALITIES

#: The size fields after the modality ``I``.
SIZE_FIELDS = ('T', 'H', 'W', 'C', 'L')


def _shape_error(modality: str, shape: Sequence[int], expected: str) -> ValueError:
    return ValueError(f'meta tokens: a {modality} batch must have the shape {expected}, got '
                      f'{tuple(shape)}')


def meta_fields(modality: str, shape: Sequence[int]) -> Dict[str, Optional[int]]:
    """The sizes ``T, H, W, C, L`` of a batch of ``modality`` (None = absent); see
    :class:`MetaTokens` for the table.

    Args:
        modality: One of :data:`MODALITIES`.
        shape: The batch tensor's shape, batch axis first.
    """
    shape = tuple(int(n) for n in shape)
    fields: Dict[str, Optional[int]] = dict.fromkeys(SIZE_FIELDS)
    if modality in ('image', 'depth'):
        if len(shape) != 4:
            raise _shape_error(modality, shape, '(B, C, H, W)')
        fields.update(C=shape[1], H=shape[2], W=shape[3])
    elif modality == 'audio':
        if len(shape) != 4:
            raise _shape_error(modality, shape, '(B, 1, T, F) (frames, mel bins)')
        fields.update(C=shape[1], H=shape[2], W=shape[3])
    elif modality == 'video':
        if len(shape) != 5:
            raise _shape_error(modality, shape, '(B, C, T, H, W)')
        fields.update(C=shape[1], T=shape[2], H=shape[3], W=shape[4])
    elif modality == 'point':
        if len(shape) != 3:
            raise _shape_error(modality, shape, '(B, N, C)')
        fields.update(L=shape[1], C=shape[2])
    elif modality == 'text':
        if len(shape) != 2:
            raise _shape_error(modality, shape, '(B, L) token ids')
        fields.update(L=shape[1])
    else:
        raise KeyError(f'meta tokens: unknown modality {modality!r}; known: {MODALITIES}')
    return fields


class MetaTokens(nn.Module):
    """Embed a group's meta token ``(I, T, H, W, C, L)`` into one ``embed_dims`` vector.

    The fields are read from the batch tensor's shape (the paper's representation of each
    modality as ``t × h × w × c × l``); a field the modality does not have takes a learned "none"
    embedding of its own:

    ============ ================== ====== ======== ======== ====== ========
    modality     input              T      H        W        C      L
    ============ ================== ====== ======== ======== ====== ========
    image        ``(B, C, H, W)``   none   H        W        C (3)  none
    depth        ``(B, C, H, W)``   none   H        W        C (4)  none
    audio        ``(B, 1, T, F)``   none   frames   mel bins 1      none
    video        ``(B, C, T, H, W)`` T     H        W        C      none
    point        ``(B, N, C)``      none   none     none     C      N points
    text         ``(B, L)``         none   none     none     none   L tokens
    ============ ================== ====== ======== ======== ====== ========

    (Audio is a spectrogram image, as the paper's ``A ∈ R^{1×h×w×c×1}``.) The modality ``I``
    is an ``nn.Embedding`` row; each present size a small MLP of its own on ``log1p(value)``
    (sizes span 1 to thousands); the meta vector is the sum of the six. It depends on the shape
    only, so every sample of a group shares it, and for a fixed input shape it is a constant
    (which lets the FiLM projection fold into a plain linear layer for export).

    Args:
        embed_dims: Width of the meta vector.
        hidden_dims: Hidden width of the size MLPs.
    """

    def __init__(self, embed_dims: int, hidden_dims: int = 32) -> None:
        super().__init__()
        self.embed_dims = embed_dims
        self.modality_embed = nn.Embedding(len(MODALITIES), embed_dims)
        self.none_embed = nn.Parameter(torch.zeros(len(SIZE_FIELDS), embed_dims))
        self.size_mlps = nn.ModuleDict({
            name: nn.Sequential(nn.Linear(1, hidden_dims), nn.GELU(),
                                nn.Linear(hidden_dims, embed_dims))
            for name in SIZE_FIELDS
        })
        nn.init.normal_(self.modality_embed.weight, std=.02)
        nn.init.normal_(self.none_embed, std=.02)

    def forward(self, modality: str, shape: Sequence[int]) -> Tensor:
        """The meta vector ``[embed_dims]`` of a ``modality`` batch of tensor shape ``shape``."""
        fields = meta_fields(modality, shape)
        weight = self.none_embed
        meta = self.modality_embed.weight[MODALITIES.index(modality)]
        for k, name in enumerate(SIZE_FIELDS):
            value = fields[name]
            if value is None:
                meta = meta + weight[k]
            else:
                size = weight.new_tensor([math.log1p(value)])
                meta = meta + self.size_mlps[name](size)
        return meta
