"""Text: the transform that turns a sample's text into token ids of a fixed length (the fifth
OmniVec modality), with a vocabulary :mod:`m2pt_mm.text_vocab` trains on the training texts::

    from m2pt_mm.text_vocab import build_text_vocab
    build_text_vocab(texts, vocab_size=1000, out_file='data/text/vocab.json')
    pipeline = [dict(type='TokenizeText', vocab_file='data/text/vocab.json', max_length=64),
                dict(type='PackInputs', input_key='input_ids',
                     meta_keys=('sample_idx', 'text_length', 'truncated'))]

The model's ``TextTokenizer`` reads the same file (``vocab_file=...``) for its vocabulary size.
"""
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from m2pt_mm.text_vocab import PAD_ID, load_text_vocab


@TRANSFORMS.register_module()
class TokenizeText(BaseTransform):
    """``results[key]`` (a string) → ``input_ids``: int64 ``(max_length, )`` WordPiece ids padded
    with ``[PAD]`` (0).

    No ``[CLS]``/``[SEP]`` are added: the OmniVec trunk has its own class token. A text of more
    than ``max_length`` pieces is **truncated** to its first ``max_length`` (default) and the
    sample says so: ``truncated=True`` and ``num_text_tokens`` (the length before truncation),
    next to ``text_length`` (the real, unpadded length); list them in ``PackInputs``'
    ``meta_keys`` to keep them in the data sample. With ``overflow='error'`` such a text is
    refused instead.

    Args:
        vocab_file: Vocabulary JSON written by :func:`m2pt_mm.text_vocab.build_text_vocab`.
        max_length: Padded length (the model's ``TextTokenizer.max_length`` or less).
        key: The results key holding the text.
        overflow: ``'truncate'`` or ``'error'``.

    Raises:
        ValueError: the text is missing, not a string, empty after tokenization, or (with
            ``overflow='error'``) too long; the message names the sample.
    """

    OVERFLOWS = ('truncate', 'error')

    def __init__(self, vocab_file: str, max_length: int, key: str = 'text',
                 overflow: str = 'truncate') -> None:
        if overflow not in self.OVERFLOWS:
            raise ValueError(f'overflow must be one of {self.OVERFLOWS}, got {overflow!r}')
        if max_length < 1:
            raise ValueError(f'max_length must be >= 1, got {max_length}')
        self.vocab_file, self.max_length, self.key, self.overflow = (vocab_file, max_length, key,
                                                                     overflow)
        self._tokenizer = load_text_vocab(vocab_file)

    def transform(self, results: dict) -> dict:
        where = f'sample {results.get("sample_idx", "?")}'
        text = results.get(self.key)
        if not isinstance(text, str):
            raise ValueError(f'TokenizeText: {where} needs a string under {self.key!r}, got '
                             f'{type(text).__name__} (keys: {sorted(results)})')
        ids = self._tokenizer.encode(text).ids
        if not ids:
            raise ValueError(f'TokenizeText: {where} has no tokens (text {text[:40]!r})')
        if len(ids) > self.max_length and self.overflow == 'error':
            raise ValueError(f'TokenizeText: {where} has {len(ids)} tokens, more than max_length='
                             f"{self.max_length} (overflow='error'; 'truncate' keeps the first "
                             f'{self.max_length}): {text[:40]!r}...')
        kept = ids[:self.max_length]
        input_ids = torch.full((self.max_length, ), PAD_ID, dtype=torch.long)
        input_ids[:len(kept)] = torch.tensor(kept, dtype=torch.long)
        results.update(input_ids=input_ids, text_length=len(kept), num_text_tokens=len(ids),
                       truncated=len(ids) > self.max_length)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(vocab_file={self.vocab_file!r}, max_length='
                f'{self.max_length}, key={self.key!r}, overflow={self.overflow!r})')
