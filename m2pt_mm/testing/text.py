"""A tiny sentence-classification set in GLUE's layout, generated from templates, and its corpus.

The sentences describe the other tiny sets (digit scans, point shapes, tones, moving bars), so the
topic is the label and a model learns it from the words; the corpus (one sentence per line) is
what the text vocabulary is trained on.

Layout written by :func:`write_text_cls` (``TextClsDataset`` reads the ``.tsv`` files)::

    ROOT/train.tsv      sentence<TAB>label (header row), GLUE SST-2 style
    ROOT/dev.tsv
    ROOT/classes.txt    one class name per line
    ROOT/corpus.txt     every sentence of train and dev, one per line
"""
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

PathLike = Union[str, Path]

#: The classes (topics) and, per class, templates and the words their slots take.
TEXT_CLASSES = ('digit', 'shape', 'tone', 'motion')
_NUMBERS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine')
_TEMPLATES: Dict[str, Tuple[Sequence[str], Dict[str, Sequence[str]]]] = {
    'digit': (('the scan shows a handwritten {a}', 'a {b} {a} written in {c} ink',
               'someone wrote the digit {a} on the {b} page', 'the {b} scan of a {a} is blurry'),
              dict(a=_NUMBERS, b=('small', 'large', 'faint', 'bold'),
                   c=('black', 'blue', 'grey'))),
    'shape': (('a point cloud of a {a} with {b} parts', 'the {c} {a} is sampled as points',
               'points on the surface of a {c} {a}', 'a {a} shape seen from {b} sides'),
              dict(a=('chair', 'table', 'bag', 'lamp', 'sphere', 'cube'), b=_NUMBERS[2:6],
                   c=('wooden', 'round', 'tall', 'flat'))),
    'tone': (('a {a} hertz tone that lasts {b} seconds', 'the sound is a {c} tone at {a} hertz',
              'a {c} beep is heard for {b} seconds', 'the recording holds a {c} {a} hertz note'),
             dict(a=('four hundred', 'eight hundred', 'twelve hundred'), b=_NUMBERS[1:5],
                  c=('loud', 'quiet', 'steady', 'short'))),
    'motion': (('a bar moves {a} across the clip', 'the video shows a {b} bar sliding {a}',
                'in {c} frames a {b} stripe travels {a}', 'a {b} block drifts {a} over time'),
               dict(a=('left', 'right', 'up', 'down'), b=('white', 'bright', 'thin', 'wide'),
                    c=_NUMBERS[2:9])),
}


def template_sentence(label: int, rng: np.random.Generator) -> str:
    """A random sentence of class ``label`` (an index into :data:`TEXT_CLASSES`)."""
    templates, slots = _TEMPLATES[TEXT_CLASSES[label]]
    template = templates[int(rng.integers(len(templates)))]
    return template.format(**{k: v[int(rng.integers(len(v)))] for k, v in slots.items()})


def _write_tsv(path: Path, rows: List[Tuple[str, int]]) -> None:
    lines = ['sentence\tlabel'] + [f'{text}\t{label}' for text, label in rows]
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')


def write_text_cls(root: PathLike, per_class: Tuple[int, int] = (8, 2), seed: int = 0) -> dict:
    """Write the set (layout in the module docstring).

    Args:
        root: The output folder (created).
        per_class: Sentences per class in ``train.tsv`` and ``dev.tsv``.
        seed: Random seed of the sentences and their order.

    Returns:
        ``train`` / ``val``: ``TextClsDataset`` kwargs; ``corpus``: the corpus path;
        ``classes``; ``num_classes``; ``labels``: ``{'train': [...], 'val': [...]}`` in file order.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    labels, files = {}, {'train': 'train.tsv', 'val': 'dev.tsv'}
    corpus = []
    for split, n in zip(('train', 'val'), per_class):
        split_labels = [int(k) for k in rng.permutation(np.repeat(np.arange(len(TEXT_CLASSES)), n))]
        rows = [(template_sentence(k, rng), k) for k in split_labels]
        _write_tsv(root / files[split], rows)
        labels[split] = split_labels
        corpus += [text for text, _ in rows]
    (root / 'classes.txt').write_text('\n'.join(TEXT_CLASSES) + '\n', encoding='utf-8')
    (root / 'corpus.txt').write_text('\n'.join(corpus) + '\n', encoding='utf-8')
    kwargs = {split: dict(data_root=str(root), ann_file=name, classes=str(root / 'classes.txt'))
              for split, name in files.items()}
    return dict(kwargs, corpus=str(root / 'corpus.txt'), classes=TEXT_CLASSES,
                num_classes=len(TEXT_CLASSES), labels=labels)
