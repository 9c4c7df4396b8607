"""Batch augmentations for inputs with more axes than an image (video clips ``(N, C, T, H, W)``).

mmpretrain's ``ClsDataPreprocessor`` already stacks ``(1, T, F)`` spectrograms and
``(C, T, H, W)`` clips (mmengine's ``stack_batch`` pads any number of axes) and does not
normalise when ``mean`` is None, which is what the audio/video pipelines need (``NormalizeFbank``
and ``VideoNormalize`` normalise in the transforms). Its ``Mixup`` is shape-agnostic. Its
``CutMix`` is not: it indexes ``inputs[:, :, y1:y2, x1:x2]``, which on a clip cuts frames × rows
instead of rows × columns. ``VideoCutMix`` cuts the same spatial box out of every frame, as
VideoMAE's timm ``Mixup`` (``x[..., y1:y2, x1:x2]``) does.
"""
from typing import Tuple

import numpy as np
import torch
from mmpretrain.models.utils.batch_augments import CutMix
from mmpretrain.registry import BATCH_AUGMENTS


@BATCH_AUGMENTS.register_module()
class VideoCutMix(CutMix):
    """CutMix over the two last (spatial) axes of any batch ``(N, ..., H, W)``.

    Same arguments and label mixing as mmpretrain's ``CutMix`` (``alpha``, ``cutmix_minmax``,
    ``correct_lam``); the box is shared by all frames of a clip, so ``lam`` is its area fraction
    of one frame.
    """

    def mix(self, batch_inputs: torch.Tensor,
            batch_scores: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Paste a random box of a shuffled batch into every frame.

        Args:
            batch_inputs: ``(N, ..., H, W)``, e.g. clips ``(N, C, T, H, W)``.
            batch_scores: One-hot (or soft) labels ``(N, num_classes)``.

        Returns:
            The mixed inputs and the correspondingly mixed scores.
        """
        if batch_inputs.dim() < 4:
            raise ValueError(f'VideoCutMix expects inputs (N, ..., H, W) with at least 4 axes, '
                             f'got {tuple(batch_inputs.shape)}')
        lam = np.random.beta(self.alpha, self.alpha)
        index = torch.randperm(batch_inputs.size(0))
        (y1, y2, x1, x2), lam = self.cutmix_bbox_and_lam(batch_inputs.shape[-2:], lam)
        batch_inputs[..., y1:y2, x1:x2] = batch_inputs[index, ..., y1:y2, x1:x2]
        mixed_scores = lam * batch_scores + (1 - lam) * batch_scores[index, :]
        return batch_inputs, mixed_scores
