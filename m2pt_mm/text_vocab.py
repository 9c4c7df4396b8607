"""The text vocabulary, one home for the data pipeline and the models: the special tokens and
their ids, WordPiece training on local texts (nothing is downloaded from a hub), and reading a
vocabulary back.

``build_text_vocab`` writes the file the ``TokenizeText`` transform encodes with and the
model's ``TextTokenizer`` reads its size from; both check the special ids with
``load_text_vocab``. Below both ``m2pt_mm.datasets`` and ``m2pt_mm.models`` (it imports neither).
"""
import heapq
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Tuple, Union

#: The special tokens of every vocabulary ``build_text_vocab`` writes, at these ids (the
#: WordPiece trainer places them first, in this order).
SPECIAL_TOKENS = ('[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]')
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = range(len(SPECIAL_TOKENS))


def load_text_vocab(vocab_file: Union[str, os.PathLike]) -> 'tokenizers.Tokenizer':  # noqa: F821
    """Read a vocabulary written by ``build_text_vocab`` (a HuggingFace ``tokenizers`` JSON).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the special tokens are not at the ids of :data:`SPECIAL_TOKENS`.
    """
    from tokenizers import Tokenizer  # the runtime requirement is only needed for text
    path = os.fspath(vocab_file)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'text vocabulary not found: {path!r} (write one with '
                                'm2pt_mm.text_vocab.build_text_vocab)')
    tokenizer = Tokenizer.from_file(path)
    ids = [tokenizer.token_to_id(token) for token in SPECIAL_TOKENS]
    if ids != list(range(len(SPECIAL_TOKENS))):
        raise ValueError(f'text vocabulary {path!r}: special tokens {SPECIAL_TOKENS} must have the '
                         f'ids 0..{len(SPECIAL_TOKENS) - 1}, found {ids}')
    return tokenizer


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
