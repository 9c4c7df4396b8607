"""Text: a WordPiece vocabulary built locally, and the transform that turns a sample's text into
token ids of a fixed length (the fifth OmniVec modality).

Vocabularies are trained here with HuggingFace ``tokenizers`` on the training texts themselves
(nothing is downloaded from a hub)::

    build_text_vocab(texts, vocab_size=1000, out_file='data/text/vocab.json')
    pipeline = [dict(type='TokenizeText', vocab_file='data/text/vocab.json', max_length=64),
                dict(type='PackInputs', input_key='input_ids',
                     meta_keys=('sample_idx', 'text_length', 'truncated'))]

The model's ``TextTokenizer`` reads the same file (``vocab_file=...``) for its vocabulary size.
"""
import os
from pathlib import Path
from typing import Iterable, Union

import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from m2pt_mm.models.tokenizers.text import PAD_ID, SPECIAL_TOKENS, load_text_vocab


def build_text_vocab(texts: Iterable[str], vocab_size: int,
                     out_file: Union[str, os.PathLike]) -> Path:
    """Train a WordPiece vocabulary (BERT's lower-casing normaliser and pre-tokenizer) on
    ``texts`` and save it as a ``tokenizers`` JSON.

    The special tokens :data:`SPECIAL_TOKENS` get the ids 0–4 (``[PAD]`` = 0, ``[MASK]`` = 4),
    the other pieces ids in sorted order. Build the vocabulary once and keep the file with the
    data: the trainer breaks ties between merges of equal frequency in hash-map order, so when
    ``vocab_size`` cuts among them a rebuild may choose other pieces (the file, not the texts,
    defines the ids that a trained model knows).

    Args:
        texts: The training texts (any iterable of strings).
        vocab_size: Largest vocabulary size (smaller when the texts have fewer pieces).
        out_file: Where to write the JSON.

    Returns:
        The written file.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    if vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f'vocab_size must exceed the {len(SPECIAL_TOKENS)} special tokens, '
                         f'got {vocab_size}')
    tokenizer = Tokenizer(models.WordPiece(unk_token='[UNK]'))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                        show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    # The trainer numbers pieces of equal frequency in hash-map order, which differs from run to
    # run; WordPiece matches by string, so sorted ids give the same file for the same pieces.
    pieces = sorted(set(tokenizer.get_vocab()) - set(SPECIAL_TOKENS))
    vocab = {token: i for i, token in enumerate(list(SPECIAL_TOKENS) + pieces)}
    tokenizer.model = models.WordPiece(vocab, unk_token='[UNK]')
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(out))
    load_text_vocab(out)  # the special ids are what the models assume
    return out


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
        vocab_file: Vocabulary JSON written by :func:`build_text_vocab`.
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
