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
import heapq
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Tuple, Union

import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from m2pt_mm.models.tokenizers.text import PAD_ID, SPECIAL_TOKENS, load_text_vocab

#: WordPiece's prefix of a piece that continues a word (BERT's).
CONTINUING = '##'


def _merge(pair: Tuple[str, str]) -> str:
    """The piece a merge of ``pair`` makes (the right piece loses its ``##``)."""
    return pair[0] + pair[1][len(CONTINUING):]


def _pairs(word: List[str]) -> Iterable[Tuple[str, str]]:
    return zip(word, word[1:])


def train_wordpiece(word_counts: Dict[str, int], vocab_size: int) -> List[str]:
    """The pieces of a WordPiece vocabulary learnt from word counts (special tokens excluded).

    The rule of HuggingFace's ``WordPieceTrainer`` (BPE merges with the ``##`` continuing
    prefix): every character (``c``, and ``##c`` where it continues a word) is a piece; then the
    most frequent adjacent pair of pieces, counted over the words weighted by their counts, is
    merged into a new piece until ``vocab_size - len(SPECIAL_TOKENS)`` pieces exist or no pair is
    left. Ties are broken by a fixed rule, the merged piece's string and then the pair's strings,
    where the library uses hash-map order (different in every process), so the same texts always
    give the same pieces.

    Args:
        word_counts: ``{word: count}`` of the pre-tokenized, normalised texts.
        vocab_size: Vocabulary size, special tokens included.

    Returns:
        The pieces in the order they were learnt (the alphabet sorted, then the merges).
    """
    names = sorted(word_counts)  # a fixed order of the words, whatever the counting order
    words = [[w[0]] + [CONTINUING + ch for ch in w[1:]] for w in names]
    counts = [word_counts[w] for w in names]
    pieces = sorted({piece for word in words for piece in word} | {ch for w in names for ch in w})
    known = set(pieces)
    budget = vocab_size - len(SPECIAL_TOKENS)
    pair_counts: Dict[Tuple[str, str], int] = defaultdict(int)
    where: Dict[Tuple[str, str], set] = defaultdict(set)
    for i, (word, count) in enumerate(zip(words, counts)):
        for pair in _pairs(word):
            pair_counts[pair] += count
            where[pair].add(i)
    # a max-heap on count whose ties pop in string order; stale entries are skipped when popped
    heap = [(-n, _merge(pair), pair) for pair, n in pair_counts.items()]
    heapq.heapify(heap)
    while heap and len(pieces) < budget:
        negative, piece, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative or negative == 0:
            continue
        changed = set()
        for i in sorted(where.pop(pair, ())):
            word, count = words[i], counts[i]
            for old in _pairs(word):
                pair_counts[old] -= count
                changed.add(old)
            merged, k = [], 0
            while k < len(word):
                if k + 1 < len(word) and (word[k], word[k + 1]) == pair:
                    merged.append(piece)
                    k += 2
                else:
                    merged.append(word[k])
                    k += 1
            words[i] = merged
            for new in _pairs(merged):
                pair_counts[new] += count
                where[new].add(i)
                changed.add(new)
        for other in sorted(changed):
            if pair_counts[other] > 0:
                heapq.heappush(heap, (-pair_counts[other], _merge(other), other))
        pair_counts.pop(pair, None)
        if piece not in known:
            known.add(piece)
            pieces.append(piece)
    return pieces


def build_text_vocab(texts: Iterable[str], vocab_size: int,
                     out_file: Union[str, os.PathLike]) -> Path:
    """Learn a WordPiece vocabulary (BERT's lower-casing normaliser and pre-tokenizer) on
    ``texts`` and save it as a ``tokenizers`` JSON.

    The special tokens :data:`SPECIAL_TOKENS` get the ids 0–4 (``[PAD]`` = 0, ``[MASK]`` = 4),
    the other pieces ids in sorted order. The pieces are learnt by :func:`train_wordpiece` (the
    library trainer's rule, with ties broken by string instead of hash-map order), so the same
    texts give a byte-identical file in any process.

    Args:
        texts: The training texts (any iterable of strings).
        vocab_size: Largest vocabulary size (smaller when the texts have fewer pieces).
        out_file: Where to write the JSON.

    Returns:
        The written file.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    if vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f'vocab_size must exceed the {len(SPECIAL_TOKENS)} special tokens, '
                         f'got {vocab_size}')
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    word_counts: Dict[str, int] = Counter()
    for text in texts:
        word_counts.update(word for word, _ in
                           pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    pieces = sorted(set(train_wordpiece(word_counts, vocab_size)) - set(SPECIAL_TOKENS))
    vocab = {token: i for i, token in enumerate(list(SPECIAL_TOKENS) + pieces)}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token='[UNK]'))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
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
