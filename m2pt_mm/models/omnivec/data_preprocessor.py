"""OmniVec's data preprocessor: one existing preprocessor per modality group of a batch."""
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseDataPreprocessor
from mmpretrain.registry import MODELS
from torch import nn


@MODELS.register_module()
class OmniVecDataPreprocessor(BaseDataPreprocessor):
    """Preprocess an ``omnivec_collate`` batch group by group.

    ``data = dict(inputs={modality: [Tensor, ...]}, data_samples={modality: [DataSample, ...]})``
    → the same dict with each group's inputs stacked into one tensor ``[B_m, ...]`` by its own
    preprocessor, e.g. mmpretrain's ``ClsDataPreprocessor`` (normalisation, batch augments) for
    images and RGB-D. A modality without one is moved to the device and stacked as it is (point
    clouds, token ids, and fbanks or clips already normalised by their pipelines).

    Args:
        preprocessors: ``{modality: preprocessor config}`` (mmpretrain ``MODELS``); each takes
            ``dict(inputs=[...], data_samples=[...])`` and returns the same keys, batched.

    Raises:
        TypeError: a batch that is not the ``omnivec_collate`` dict of dicts.
        ValueError: the inputs of a modality without a preprocessor differ in shape.
    """

    def __init__(self, preprocessors: Optional[Dict[str, dict]] = None) -> None:
        super().__init__()
        self.preprocessors = nn.ModuleDict(
            {m: MODELS.build(cfg) for m, cfg in (preprocessors or {}).items()})

    def _stack(self, modality: str, inputs: List[torch.Tensor]) -> torch.Tensor:
        inputs = self.cast_data(inputs)
        if isinstance(inputs, torch.Tensor):
            return inputs
        shapes = sorted({tuple(t.shape) for t in inputs})
        if len(shapes) != 1:
            raise ValueError(f'{modality} inputs of different shapes {shapes} cannot be stacked; '
                             f'resize/sample them in the pipeline, or give {modality} a '
                             f'preprocessor that pads')
        return torch.stack(inputs)

    def forward(self, data: dict, training: bool = False) -> dict:
        """``{modality: list}`` inputs → ``{modality: Tensor}``, data samples grouped alike."""
        inputs = data.get('inputs') if isinstance(data, dict) else None
        if not isinstance(inputs, dict):
            raise TypeError(f'OmniVecDataPreprocessor expects dict(inputs={{modality: [...]}}, '
                            f'data_samples={{modality: [...]}}) from omnivec_collate, got '
                            f'{type(inputs if isinstance(data, dict) else data).__name__} inputs')
        samples = data.get('data_samples') or {}
        out_inputs, out_samples = {}, {}
        for modality, group in inputs.items():
            group_samples = samples.get(modality)
            if modality in self.preprocessors:
                result = self.preprocessors[modality](
                    dict(inputs=group, data_samples=group_samples), training)
                out_inputs[modality], group_samples = result['inputs'], result['data_samples']
            else:
                out_inputs[modality] = self._stack(modality, group)
                group_samples = self.cast_data(group_samples)
            out_samples[modality] = group_samples
        return dict(inputs=out_inputs, data_samples=out_samples if samples else None)
