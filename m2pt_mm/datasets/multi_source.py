"""OmniVec's multi-source data: named datasets of several modalities and tasks behind one index,
each sample tagged with where it came from, and the collate that groups a batch by modality.

A sample of :class:`MultiSourceDataset` is its source's own ``PackInputs`` output
``dict(inputs=Tensor, data_samples=DataSample)`` with four metainfo fields set on the DataSample:
``modality`` (one of :data:`MODALITIES`), ``task`` (the key of the model's ``heads``),
``task_group`` (one of :data:`TASK_GROUPS`) and ``source`` (the dataset's name in ``sources``).
:func:`omnivec_collate` turns a list of them into
``dict(inputs={modality: [Tensor, ...]}, data_samples={modality: [DataSample, ...]})``.
"""
from typing import Any, Dict, List, Mapping, Sequence

from mmengine.dataset import BaseDataset, ConcatDataset, pseudo_collate
from mmengine.registry import FUNCTIONS
from mmengine.structures import BaseDataElement
from mmpretrain.registry import DATASETS

from ..registry import MODALITIES

#: The paper's task groups (§3.2): classification is ``simple``, segmentation ``dense``; masked
#: pretraining samples every source uniformly and is its own group.
TASK_GROUPS = ('simple', 'dense', 'pretrain')
#: The metainfo fields :class:`MultiSourceDataset` sets on every DataSample.
TAG_KEYS = ('modality', 'task', 'task_group', 'source')


def _source_tags(name: str, spec: Any) -> Dict[str, str]:
    """The tags of source ``name``, checked; ``spec`` is its entry of ``sources``."""
    if not isinstance(spec, Mapping) or 'dataset' not in spec:
        raise TypeError(f"sources[{name!r}] must be dict(dataset=..., modality=..., task=..., "
                        f"task_group=...), got {spec!r}")
    unknown = set(spec) - {'dataset', 'modality', 'task', 'task_group'}
    if unknown:
        raise KeyError(f'sources[{name!r}] has unknown keys {sorted(unknown)}; expected '
                       f'dataset, modality, task, task_group')
    modality = spec.get('modality')
    if modality is None:
        raise ValueError(f'sources[{name!r}] has no modality tag; set modality= one of '
                         f'{MODALITIES}')
    if modality not in MODALITIES:
        raise ValueError(f'sources[{name!r}]: unknown modality {modality!r}; expected one of '
                         f'{MODALITIES}')
    task = spec.get('task')
    if not isinstance(task, str) or not task:
        raise ValueError(f"sources[{name!r}] has no task name; set task= the key of the model's "
                         f"heads (e.g. 'digits_cls'), got {task!r}")
    group = spec.get('task_group')
    if group not in TASK_GROUPS:
        raise ValueError(f'sources[{name!r}]: task_group must be one of {TASK_GROUPS}, got '
                         f'{group!r}')
    return dict(modality=modality, task=task, task_group=group, source=name)


@DATASETS.register_module()
class MultiSourceDataset(ConcatDataset):
    """Named datasets of several modalities and tasks, concatenated (mmengine ``ConcatDataset``)
    and tagged.

    The sources stay the real, unchanged datasets with their own pipelines; a sample is the
    source's output with ``modality``, ``task``, ``task_group`` and ``source`` set on its
    DataSample's metainfo. Index ``i`` runs through the sources in the order of ``sources``
    (``cumulative_sizes`` as in ``ConcatDataset``); :class:`~m2pt_mm.datasets.ModalityMixingSampler`
    decides which indices make a batch.

    ``metainfo`` is ``dict(sources={name: dict(modality=..., task=..., task_group=...,
    metainfo=<the source's metainfo>)})``; with a single source (a validation set) the source's
    own metainfo keys (``classes``, ...) are also at the top level, for the metrics that read them.

    Args:
        sources: ``{name: dict(dataset=cfg or dataset, modality=..., task=..., task_group=...)}``;
            ``modality`` one of :data:`MODALITIES`, ``task`` the model's head for it,
            ``task_group`` one of :data:`TASK_GROUPS`.
        lazy_init: As ``ConcatDataset``: load the annotation lists only on ``full_init()``.

    Raises:
        ValueError: no sources, a source without a modality tag, an unknown modality or task
            group, no task name.
    """

    def __init__(self, sources: Dict[str, dict], lazy_init: bool = False) -> None:
        if not isinstance(sources, Mapping) or not sources:
            raise ValueError(f'sources must be a non-empty dict {{name: dict(dataset=..., '
                             f'modality=..., task=..., task_group=...)}}, got {sources!r}')
        self.source_names: List[str] = list(sources)
        self.source_tags: List[Dict[str, str]] = [_source_tags(n, s) for n, s in sources.items()]
        datasets = [DATASETS.build(spec['dataset']) if isinstance(spec['dataset'], dict)
                    else spec['dataset'] for spec in sources.values()]
        keys = sorted({key for ds in datasets if isinstance(ds, BaseDataset)
                       for key in ds.metainfo})
        # the sources' metainfo differ by design (classes of digits vs. of ModelNet40)
        super().__init__(datasets, lazy_init=lazy_init, ignore_keys=keys)

    @property
    def metainfo(self) -> dict:
        """Each source's tags and metainfo; a single source's metainfo also at the top level."""
        meta: dict = dict(sources={
            name: dict({k: v for k, v in tags.items() if k != 'source'}, metainfo=ds.metainfo)
            for name, tags, ds in zip(self.source_names, self.source_tags, self.datasets)})
        if len(self.datasets) == 1:
            meta = dict(self.datasets[0].metainfo, **meta)
        return meta

    def source_index(self, idx: int) -> int:
        """The position in ``source_names`` of the source of global index ``idx``."""
        return self._get_ori_dataset_idx(idx)[0]

    def source_sizes(self) -> List[int]:
        """The number of samples of each source, in ``source_names`` order."""
        self.full_init()
        return [len(ds) for ds in self.datasets]

    def get_data_info(self, idx: int) -> dict:
        """The source's data info of ``idx`` with the four tags added."""
        info = super().get_data_info(idx)
        return dict(info, **self.source_tags[self.source_index(idx)])

    def __getitem__(self, idx: int) -> dict:
        sample = super().__getitem__(idx)
        tags = self.source_tags[self.source_index(idx)]
        data_sample = sample.get('data_samples') if isinstance(sample, Mapping) else None
        if not isinstance(data_sample, BaseDataElement):
            got = sorted(sample) if isinstance(sample, Mapping) else type(sample).__name__
            raise TypeError(f"source {tags['source']!r}, sample {idx}: expected the output of "
                            f"PackInputs, dict(inputs=..., data_samples=DataSample), got {got}; "
                            f"end the source's pipeline with PackInputs")
        data_sample.set_metainfo(tags)
        return sample


@FUNCTIONS.register_module()
def omnivec_collate(data_batch: Sequence[dict]) -> Dict[str, Dict[str, List[Any]]]:
    """Group a batch of tagged samples by modality (their shapes differ between modalities).

    Args:
        data_batch: Samples of :class:`MultiSourceDataset`, ``dict(inputs, data_samples)``.

    Returns:
        ``dict(inputs={modality: [input, ...]}, data_samples={modality: [DataSample, ...]})``,
        modalities sorted, the samples of one modality in their order in ``data_batch``; inputs
        are not stacked (``OmniVecDataPreprocessor`` stacks each group).

    Raises:
        ValueError: a sample whose DataSample has no ``modality`` in its metainfo.
    """
    groups: Dict[str, List[dict]] = {}
    for i, sample in enumerate(data_batch):
        data_sample = sample.get('data_samples') if isinstance(sample, Mapping) else None
        modality = data_sample.metainfo.get('modality') \
            if isinstance(data_sample, BaseDataElement) else None
        if modality is None:
            raise ValueError(f'sample {i} of the batch has no modality in its DataSample '
                             f'metainfo; omnivec_collate needs samples of a MultiSourceDataset '
                             f'(dict(inputs=..., data_samples=DataSample with modality=...))')
        groups.setdefault(modality, []).append(sample)
    collated = {m: pseudo_collate(groups[m]) for m in sorted(groups)}
    return dict(inputs={m: c['inputs'] for m, c in collated.items()},
                data_samples={m: c['data_samples'] for m, c in collated.items()})
