"""One task's metric on a multi-task (OmniVec) validation set."""
from typing import Any, Dict, Optional, Sequence

from mmengine.dist import get_world_size
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


@METRICS.register_module()
class TaskMetric(BaseMetric):
    """Run ``metric`` on the samples of one ``task`` only and prefix its results with the task.

    A ``MultiSourceDataset`` validation set mixes tasks whose predictions differ (labels, part
    labels, masks); each sample names its task in its metainfo, so one ``TaskMetric`` per task
    gives each metric the samples it understands::

        val_evaluator = [
            dict(type='TaskMetric', task='digits_cls', metric=dict(type='Accuracy')),
            dict(type='TaskMetric', task='shapenetpart_seg',
                 metric=dict(type='ShapeNetPartMIoU')),
        ]
        # → {'digits_cls/accuracy/top1': ..., 'shapenetpart_seg/part-seg/class_mIoU': ...}

    The wrapped metric gets the metainfo of the source with that task (``classes``, ...).
    Distributed evaluation collects the task's samples of every rank (the padding samples of a
    rounded-up sampler are not told apart, as for a subset of any dataset).

    Args:
        task: The task (the ``task`` metainfo the dataset sets).
        metric: The wrapped metric's config (mmpretrain ``METRICS``).
        collect_device: As ``BaseMetric``; also passed to the wrapped metric.
        collect_dir: As ``BaseMetric``; also passed to the wrapped metric.
    """

    def __init__(self, task: str, metric: dict, collect_device: str = 'cpu',
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=task, collect_dir=collect_dir)
        self.task = task
        metric = dict(metric)
        metric.setdefault('collect_device', collect_device)
        if collect_dir is not None:
            metric.setdefault('collect_dir', collect_dir)
        self.metric = METRICS.build(metric)

    @BaseMetric.dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        self._dataset_meta = dataset_meta
        sources = (dataset_meta or {}).get('sources', {})
        own = [s['metainfo'] for s in sources.values() if s.get('task') == self.task]
        self.metric.dataset_meta = own[0] if own else dataset_meta

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        chosen = [s for s in data_samples if s.get('task') == self.task]
        if chosen:
            self.metric.process(data_batch, chosen)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        raise NotImplementedError('TaskMetric.evaluate delegates to the wrapped metric')

    def evaluate(self, size: int) -> Dict[str, Any]:
        """The wrapped metric's results as ``{task}/{name}``.

        Raises:
            ValueError: (one process) no sample of the task was evaluated.
        """
        # with several ranks one may hold none of the task's samples: all must still collect
        if not self.metric.results and get_world_size() == 1:
            raise ValueError(f'TaskMetric: no sample of task {self.task!r} was evaluated; the '
                             f'tasks of the metrics must be tasks of the evaluated dataset')
        return {f'{self.task}/{k}': v for k, v in self.metric.evaluate(size).items()}
