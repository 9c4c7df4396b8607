"""Text tokenizer: WordPiece ids → token embeddings with a learned position table (BERT)."""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from m2pt_mm.registry import TOKENIZERS
from m2pt_mm.text_vocab import (  # noqa: F401  the ids models import from here
    CLS_ID,
    MASK_ID,
    PAD_ID,
    SEP_ID,
    SPECIAL_TOKENS,
    UNK_ID,
    load_text_vocab,
)

from .base import BaseTokenizer, InputSize, TokenizerFold


@TOKENIZERS.register_module()
class TextTokenizer(BaseTokenizer):
    """Token ids ``[B, L]`` → embeddings ``[B, L, D]``, BERT's input embedding without segments.

    The ids come from the ``TokenizeText`` transform (WordPiece over a vocabulary built locally by
    ``build_text_vocab``), padded with ``[PAD]`` (id 0) to a fixed length. The position table is
    learned (BERT) and belongs to the tokenizer (:meth:`position_embedding`), so a backbone using
    this tokenizer has no ``pos_embed`` of its own. A sequence longer than ``max_length`` is
    refused here: the transform truncates (or refuses) before. ``[PAD]`` ids are padding
    (:meth:`key_padding_mask`): no token attends to them.

    Args:
        embed_dims: Token width.
        vocab_size: Vocabulary size; read from ``vocab_file`` when None.
        vocab_file: The vocabulary JSON (``build_text_vocab``), to read ``vocab_size`` from.
        max_length: Longest sequence; the rows of the position table.
        init_cfg: Initialisation config; BERT's normal(0.02) for both tables by default.
    """

    host_pos_embed = 'none'

    def __init__(self,
                 embed_dims: int,
                 vocab_size: Optional[int] = None,
                 vocab_file: Optional[str] = None,
                 max_length: int = 128,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if vocab_file is not None:
            size = load_text_vocab(vocab_file).get_vocab_size()
            if vocab_size is not None and vocab_size != size:
                raise ValueError(f'vocab_size={vocab_size} but {vocab_file!r} has {size} tokens')
            vocab_size = size
        if vocab_size is None or vocab_size <= len(SPECIAL_TOKENS):
            raise ValueError(f'TextTokenizer needs vocab_size > {len(SPECIAL_TOKENS)} (the special '
                             f'tokens) or a vocab_file, got vocab_size={vocab_size}')
        if max_length < 1:
            raise ValueError(f'max_length must be >= 1, got {max_length}')
        self.embed_dims, self.vocab_size, self.max_length = embed_dims, vocab_size, max_length
        self.init_out_size = (max_length, )
        self.token_embed = nn.Embedding(vocab_size, embed_dims)
        self.pos_embed = nn.Parameter(torch.zeros(1, max_length, embed_dims))
        nn.init.normal_(self.token_embed.weight, std=.02)
        nn.init.normal_(self.pos_embed, std=.02)

    def forward(self, ids: Tensor) -> Tuple[Tensor, Tuple[int]]:
        """``[B, L]`` integer ids → tokens ``[B, L, D]`` and the grid ``(L, )``."""
        if ids.dim() != 2 or ids.dtype.is_floating_point or ids.dtype == torch.bool:
            raise ValueError(f'{type(self).__name__} expects token ids of shape (B, L) with an '
                             f'integer dtype, got {tuple(ids.shape)} {ids.dtype}')
        if ids.shape[1] > self.max_length:
            raise ValueError(f'{type(self).__name__}: {ids.shape[1]} tokens exceed max_length='
                             f'{self.max_length} (TokenizeText truncates to its max_length, or '
                             "refuses with overflow='error'; use the same length here)")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise ValueError(f'{type(self).__name__}: token ids must be in [0, {self.vocab_size}), '
                             f'got [{int(ids.min())}, {int(ids.max())}]')
        return self.token_embed(ids.long()), (ids.shape[1], )

    def input_shape(self, size: InputSize = None) -> Tuple[int]:
        """``(L, )`` for ``size`` ``L``; None: ``max_length`` (``TokenizeText`` pads to it)."""
        length = self.max_length if size is None else int(size)
        if not 0 < length <= self.max_length:
            raise ValueError(f'{type(self).__name__}: a length of {length} is not in '
                             f'1..max_length={self.max_length}')
        return (length, )

    def key_padding_mask(self, x: Tensor) -> Optional[Tensor]:
        """``[B, L]`` True at the ``[PAD]`` ids (id 0) of a batch of ids ``[B, L]``."""
        if x.dim() != 2:
            return None  # not ids: forward refuses the batch, naming the expected shape
        return x == PAD_ID

    def fold(self, A: Tensor, c: Tensor, input_shape: Sequence[int]) -> TokenizerFold:
        """The token table followed by ``A·t + c`` and the position table times ``A`` (every
        row: the folded tokenizer takes any length up to ``max_length``)."""
        with torch.no_grad():
            state = {'token_embed.weight': (self.token_embed.weight @ A.T + c).detach().clone(),
                     'pos_embed': (self.pos_embed @ A.T).detach().clone()}
        return TokenizerFold(dict(type='TextTokenizer', vocab_size=self.vocab_size,
                                  max_length=self.max_length), state)

    def position_embedding(self, grid: Sequence[int]) -> Tensor:
        """``[1, L, D]``: the first ``L`` rows of the table."""
        length = int(tuple(grid)[0])
        if length > self.max_length:
            raise ValueError(f'{length} positions exceed max_length={self.max_length}')
        return self.pos_embed[:, :length]
