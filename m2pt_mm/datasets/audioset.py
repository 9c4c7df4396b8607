"""AudioSet in AudioMAE's list format: a json of wav files with label mids + the class csv."""
import csv
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.fileio import join_path
from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.registry import DATASETS


def read_class_csv(path: str) -> Tuple[Dict[str, int], Tuple[str, ...]]:
    """Read AudioSet's ``class_labels_indices.csv`` (header ``index,mid,display_name``).

    Returns:
        ``(mid → index, display names in index order)``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a missing column, or indices that are not exactly ``0 … K-1``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'AudioSet class csv not found: {path}')
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        missing = {'index', 'mid', 'display_name'} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f'{path}: expected columns index,mid,display_name; missing '
                             f'{sorted(missing)} (header: {reader.fieldnames})')
        rows = [(int(row['index']), row['mid'], row['display_name']) for row in reader]
    indices = sorted(i for i, _, _ in rows)
    if indices != list(range(len(rows))):
        raise ValueError(f'{path}: class indices must be 0..{len(rows) - 1} without gaps or '
                         f'repeats, got {indices[:10]}...')
    mid_to_index = {mid: i for i, mid, _ in rows}
    names = tuple(name for _, _, name in sorted(rows))
    return mid_to_index, names


def _apply(transforms: Sequence, results: dict) -> Optional[dict]:
    for transform in transforms:
        results = transform(results)
        if results is None:
            return None
    return results


class MixingDatasetMixin:
    """Runs a pipeline that may mix other samples in, as AudioMAE's dataset mixes clips.

    mmdet's multi-sample convention without its dataset wrapper (audio runs never import mmdet): a
    transform with ``get_indexes(dataset)`` receives ``results['mix_results']``, the samples at
    those indexes after the transforms *before* it (their own random draws included), and
    ``results['num_classes']`` to build label vectors. Without such a transform the pipeline runs
    as mmengine's ``Compose``.
    """

    def prepare_data(self, idx: int) -> Any:
        """The pipeline's output for sample ``idx`` (None when a transform drops it)."""
        results = self.get_data_info(idx)
        transforms = self.pipeline.transforms
        for i, transform in enumerate(transforms):
            get_indexes = getattr(transform, 'get_indexes', None)
            if get_indexes is not None:
                mixed = [_apply(transforms[:i], self.get_data_info(j)) for j in get_indexes(self)]
                results.update(mix_results=[r for r in mixed if r is not None],
                               num_classes=len(self.metainfo['classes']))
            results = transform(results)
            if results is None:
                return None
        return results


@DATASETS.register_module()
class AudioSetDataset(MixingDatasetMixin, MultiLabelDataset):
    """AudioSet (e.g. the balanced 2k-clip subset, "AudioSet-2k") as AudioMAE lists it.

    ``ann_file`` is AudioMAE's json ``{"data": [{"wav": path, "labels": "/m/09x0r,/m/05zppz"},
    ...]}``; ``label_csv`` is ``class_labels_indices.csv`` (``index,mid,display_name``). A
    relative ``wav`` path is taken relative to ``data_root/data_prefix`` (AudioMAE writes absolute
    paths, which are used as they are).

    Each sample carries ``audio_path`` and ``gt_label`` (the list of class indices — mmpretrain's
    multi-label convention, scored by ``AveragePrecision`` = mAP). A ``WaveformMixup`` in the
    pipeline gets the clip to mix in from the dataset (:class:`MixingDatasetMixin`).

    Args:
        ann_file: The json list.
        label_csv: The class csv (relative to ``data_root`` unless absolute).
        data_root: Dataset root.
        data_prefix: Folder that relative wav paths are relative to.
        pipeline: Transforms.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``.
    """

    def __init__(self,
                 ann_file: str,
                 label_csv: str = 'class_labels_indices.csv',
                 data_root: str = '',
                 data_prefix: str = '',
                 pipeline: tuple = (),
                 **kwargs) -> None:
        self.label_csv = label_csv if osp.isabs(label_csv) or not data_root else join_path(
            data_root, label_csv)
        self.mid_to_index, names = read_class_csv(self.label_csv)
        metainfo = {'classes': names, **(kwargs.pop('metainfo', None) or {})}
        super().__init__(ann_file=ann_file, data_root=data_root,
                         data_prefix=dict(audio_path=data_prefix), pipeline=pipeline,
                         metainfo=metainfo, **kwargs)

    def load_data_list(self) -> List[dict]:
        with open(self.ann_file) as f:
            try:
                content = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f'{self.ann_file}: not valid json ({e})') from e
        if not isinstance(content, dict) or not isinstance(content.get('data'), list):
            raise ValueError(f'{self.ann_file}: expected AudioMAE\'s {{"data": [{{"wav": ..., '
                             f'"labels": "/m/..,/m/.."}}, ...]}}')
        prefix = self.data_prefix['audio_path']
        data_list = []
        for i, entry in enumerate(content['data']):
            if not isinstance(entry, dict) or 'wav' not in entry or 'labels' not in entry:
                raise ValueError(f'{self.ann_file}: entry {i} needs keys "wav" and "labels", got '
                                 f'{entry!r}')
            mids = [m.strip() for m in str(entry['labels']).split(',') if m.strip()]
            if not mids:
                raise ValueError(f'{self.ann_file}: entry {i} ({entry["wav"]}) has no labels')
            unknown = [m for m in mids if m not in self.mid_to_index]
            if unknown:
                raise ValueError(f'{self.ann_file}: entry {i} ({entry["wav"]}) has label mids '
                                 f'{unknown} that are not in {self.label_csv}')
            wav = entry['wav']
            path = wav if osp.isabs(wav) else join_path(prefix, wav)
            # sorted and de-duplicated: a repeated mid must not count twice in a one-hot target
            labels = sorted({self.mid_to_index[m] for m in mids})
            data_list.append(dict(audio_path=path, gt_label=labels))
        return data_list

    def extra_repr(self) -> List[str]:
        return [f'Annotation file: \t{self.ann_file}', f'Class csv: \t{self.label_csv}',
                f'Audio prefix: \t{self.data_prefix["audio_path"]}']

    @property
    def num_classes(self) -> int:
        """Number of classes in the csv (527 for AudioSet)."""
        return len(self.mid_to_index)
