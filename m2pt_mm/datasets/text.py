"""Text for OmniVec's fifth modality: GLUE-style sentence classification files and plain corpora."""
import csv
import os.path as osp
from typing import List, Optional

from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS


@DATASETS.register_module()
class TextClsDataset(BaseDataset):
    """Sentences with (optional) class labels, in GLUE's single-sentence layout or one per line.

    Two on-disk formats, told apart by the extension of ``ann_file``:

    * ``.tsv`` — GLUE's (SST-2 ``train.tsv`` / ``dev.tsv``): a header row, tab-separated,
      unquoted; the sentence in column ``text_column``, the integer label in ``label_column``::

          sentence	label
          the scan shows a handwritten seven	0

    * ``.txt`` — a corpus, one text per non-empty line (the input of BERT-style pretraining and
      of the vocabulary trainer); unlabelled.

    Each sample carries ``text`` (str) and, when labelled, ``gt_label`` (int). The tokenizer
    transform (``TokenizeText``) turns ``text`` into ids in the pipeline.

    Args:
        ann_file: The ``.tsv`` or ``.txt`` file, relative to ``data_root``.
        data_root: The folder of the files.
        text_column: Header name of the sentence column (``.tsv``).
        label_column: Header name of the label column (``.tsv``); ``None`` reads no labels.
        classes: Class names (a sequence or a file with one per line); labels must index them.
        pipeline: Transforms.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.

    Raises:
        FileNotFoundError: no ``ann_file``.
        ValueError: another extension, a missing column, a label that is not an integer in
            ``[0, len(classes))``, an empty text.
    """

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 text_column: str = 'sentence',
                 label_column: Optional[str] = 'label',
                 classes=None,
                 pipeline: tuple = (),
                 **kwargs) -> None:
        self.text_column, self.label_column = text_column, label_column
        super().__init__(ann_file=ann_file, data_root=data_root, classes=classes,
                         pipeline=pipeline, **kwargs)

    def _read_tsv(self) -> List[dict]:
        with open(self.ann_file, newline='', encoding='utf-8') as f:
            reader = csv.DictReader(f, delimiter='\t', quoting=csv.QUOTE_NONE)
            wanted = [self.text_column] + ([self.label_column] if self.label_column else [])
            missing = [c for c in wanted if c not in (reader.fieldnames or ())]
            if missing:
                raise ValueError(f'{self.ann_file}: no column(s) {missing} in the header '
                                 f'{reader.fieldnames}; set text_column / label_column')
            rows = [(line, row) for line, row in enumerate(reader, start=2)]
        classes = self.CLASSES
        data_list = []
        for line, row in rows:
            text = (row[self.text_column] or '').strip()
            if not text:
                raise ValueError(f'{self.ann_file}:{line}: empty {self.text_column!r}')
            sample = dict(text=text)
            if self.label_column:
                raw = row[self.label_column]
                try:
                    label = int(raw)
                except (TypeError, ValueError):
                    raise ValueError(f'{self.ann_file}:{line}: label {raw!r} is not an integer'
                                     ) from None
                if label < 0 or (classes is not None and label >= len(classes)):
                    bound = len(classes) if classes is not None else 'inf'
                    raise ValueError(f'{self.ann_file}:{line}: label {label} is out of range '
                                     f'[0, {bound}) (classes: {classes})')
                sample['gt_label'] = label
            data_list.append(sample)
        return data_list

    def _read_txt(self) -> List[dict]:
        with open(self.ann_file, encoding='utf-8') as f:
            return [dict(text=line.strip()) for line in f if line.strip()]

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'text annotation file not found: {self.ann_file}')
        ext = osp.splitext(self.ann_file)[1].lower()
        if ext == '.tsv':
            return self._read_tsv()
        if ext == '.txt':
            return self._read_txt()
        raise ValueError(f'{self.ann_file}: expected a GLUE-style .tsv or a one-text-per-line '
                         f'.txt, got {ext!r}')

    def extra_repr(self) -> List[str]:
        return [f'Annotation file: \t{self.ann_file}',
                f'Columns: \t{self.text_column}, {self.label_column}']
