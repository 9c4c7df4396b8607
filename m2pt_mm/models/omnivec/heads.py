"""OmniVec's task heads: what the trunk output looks like to a head, the two pretraining heads
(masked reconstruction per modality, masked text tokens), and how library heads are called."""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import PixelData
from mmpretrain.models.heads import ClsHead, MultiLabelClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from ..heads import PointPartSegHead
from ..selfsup.token_masking import MASK_COUNTS, TokenMasking
from ..tokenizers.text import MASK_ID, PAD_ID, SPECIAL_TOKENS
from ..utils import PointCentres, TokenGrid

#: The paper's mask ratios (§4, masked pretraining): 90 % of the patches of images, video and
#: audio (depth, an image, alike), 80 % of point groups, 95 % of text tokens. ``OmniVec`` gives
#: a pretraining head its modality's ratio unless the config sets one.
MASK_RATIOS = dict(image=0.9, depth=0.9, video=0.9, audio=0.9, point=0.8, text=0.95)

#: What a head can read: the vectorizer's Omni embedding ``[B, d]``, the class token ``[B, D]``,
#: the patch tokens ``[B, N, D]``, or block outputs as feature maps (``TrunkOutput.featmaps``).
HEAD_INPUTS = ('omni', 'cls', 'tokens', 'featmap')


@dataclass
class TrunkOutput:
    """One group's pass through encoder, projection and trunk, as the heads see it.

    Attributes:
        outs: Every block's output ``[B, E + N, D]`` (the last through the final norm).
        grid: The tokenizer's grid, or the point centres.
        num_extra: ``E``, 1 with a class token.
        inputs: The group's input batch, before any masking or corruption (the targets).
        trunk: The trunk (its final norm and feature-map layout).
        vectorizer: The vectorizer, or None.
        state: What a pretraining head's masking returned (mask, ids_restore / targets).
        padding: ``[B, N]`` bool, True at padding patch tokens (text ``[PAD]``), which no token
            attended to and the Omni embedding leaves out; None when every token is real.
    """
    outs: List[Tensor]
    grid: TokenGrid
    num_extra: int
    inputs: Tensor
    trunk: nn.Module
    vectorizer: Optional[nn.Module] = None
    state: Any = None
    padding: Optional[Tensor] = None
    _omni: Optional[Tensor] = field(default=None, repr=False)

    def tokens(self) -> Tensor:
        """Patch tokens of the last block ``[B, N, D]`` (class token left out)."""
        return self.outs[-1][:, self.num_extra:]

    def cls(self) -> Tensor:
        """The class token of the last block ``[B, D]``."""
        if not self.num_extra:
            raise ValueError("input='cls' needs a trunk with a class token (with_cls_token=True)")
        return self.outs[-1][:, 0]

    def omni(self) -> Tensor:
        """The Omni embedding ``[B, d]`` (computed once per group)."""
        if self.vectorizer is None:
            raise ValueError("Omni embeddings (input='omni', mode='tensor') need the model's "
                             'vectorizer, which is None')
        if self._omni is None:
            self._omni = self.vectorizer(self.tokens(), self.padding)
        return self._omni

    def featmaps(self, indices: Sequence[int], norm: bool = False) -> Tuple[Tensor, ...]:
        """Block outputs ``indices`` as feature maps (``[B, D, h, w]``, ``[B, D, G]``, ...);
        ``norm`` passes the intermediate ones through the final norm too (Point-MAE)."""
        last = len(self.outs) - 1
        maps = []
        for i in indices:
            x = self.outs[i]
            if norm and i % len(self.outs) != last:
                x = self.trunk.ln1(x)
            maps.append(self.trunk.featmap(x, self.grid))
        return tuple(maps)

    def select(self, rows: Sequence[int]) -> 'TrunkOutput':
        """The same output for a subset of the group's samples."""
        if len(rows) == self.inputs.shape[0]:
            return self
        index = torch.as_tensor(rows, device=self.inputs.device)
        grid = (PointCentres(self.grid.centres[index]) if isinstance(self.grid, PointCentres)
                else self.grid)
        return TrunkOutput([x[index] for x in self.outs], grid, self.num_extra,
                           self.inputs[index], self.trunk, self.vectorizer, None,
                           padding=None if self.padding is None else self.padding[index],
                           _omni=None if self._omni is None else self._omni[index])


class OmniVecPretrainHead(BaseModule):
    """A pretraining head: it changes the input of its group (masking) before the trunk.

    The model calls :meth:`corrupt` on the input batch before the encoder, :meth:`mask` on the
    embedded tokens (tokenizer + positions) before the encoder blocks, and :meth:`loss` on the
    trunk output; every sample of the group belongs to this head's task.
    """

    def corrupt(self, inputs: Tensor) -> Tuple[Tensor, Any]:
        """The encoder's input and a state for :meth:`mask`; unchanged by default."""
        return inputs, None

    def mask(self, tokens: Tensor, grid: TokenGrid, state: Any) -> Tuple[Tensor, Any]:
        """The tokens the encoder blocks and the trunk see; all by default."""
        return tokens, state

    def loss(self, out: TrunkOutput, data_samples: Sequence[DataSample]) -> Dict[str, Tensor]:
        raise NotImplementedError


@MODELS.register_module()
class OmniVecMAEHead(OmniVecPretrainHead):
    """Masked reconstruction of one modality (image, depth, audio, video, point cloud).

    ``mask_ratio`` of the tokens are dropped after the tokenizer and positions (the encoder
    blocks and the trunk see the visible ones only); the decoder (``M2PTMAEDecoder``) fills the
    masked positions with its mask token, adds its positions and predicts every token; the
    loss head scores the masked ones: ``M2PTMAEHead`` (L2 on patches normalised per patch,
    ``norm_pix=True``: image, depth, audio, video) or ``PointMAEHead`` (Chamfer distance of each
    masked group's points: Point-MAE's loss, where the paper's §3.2 states l2 for points as for
    the other modalities). The masking is MAE pretraining's (``TokenMasking``: ``random``: every
    token alone; ``tube``: one spatial mask for all time steps).

    Args:
        in_channels: Trunk width (filled in by ``OmniVec``).
        decoder: ``M2PTMAEDecoder`` config; ``embed_dim`` defaults to ``in_channels``, ``grid``
            to the encoder's token grid, ``num_extra_tokens`` to 0 (the class token is not
            decoded).
        loss: Loss head config (``M2PTMAEHead`` or ``PointMAEHead``).
        grid: The encoder's token grid (filled in by ``OmniVec``).
        mask_ratio: Fraction of the tokens masked (``OmniVec`` fills in :data:`MASK_RATIOS`).
        mask_mode: ``'random'`` (the paper) or ``'tube'``.
        mask_count: ``'keep'`` (``int(n·(1 - r))`` visible, MAE) or ``'mask'`` (``int(r·n)``
            masked, VideoMAE / Point-MAE).
        init_cfg: Initialisation config.
    """

    MASK_COUNTS = MASK_COUNTS

    def __init__(self,
                 in_channels: int,
                 decoder: dict,
                 loss: dict,
                 grid: Optional[Sequence[int]] = None,
                 mask_ratio: float = 0.9,
                 mask_mode: str = 'random',
                 mask_count: str = 'keep',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if isinstance(mask_ratio, bool) or not isinstance(mask_ratio, (int, float)) or not (
                0. < mask_ratio < 1.):
            raise ValueError(f'mask_ratio must be in (0, 1), got {mask_ratio}')
        if mask_mode not in ('random', 'tube'):
            raise ValueError(f"mask_mode must be 'random' or 'tube', got {mask_mode!r}")
        if mask_count not in self.MASK_COUNTS:
            raise ValueError(f'mask_count must be one of {self.MASK_COUNTS}, got {mask_count!r}')
        self.mask_ratio, self.mask_mode, self.mask_count = float(mask_ratio), mask_mode, mask_count
        decoder = dict(decoder)
        decoder.setdefault('type', 'M2PTMAEDecoder')
        decoder.setdefault('embed_dim', in_channels)
        decoder.setdefault('num_extra_tokens', 0)
        if grid is not None:
            decoder.setdefault('grid', tuple(grid))
        self.decoder = MODELS.build(decoder)
        self.loss_head = MODELS.build(loss)

    def mask(self, tokens: Tensor, grid: TokenGrid, state: Any) -> Tuple[Tensor, Any]:
        """Keep the visible tokens; the state is ``(mask [B, N], ids_restore [B, N])``."""
        batch, num_tokens, dims = tokens.shape
        masking = TokenMasking(self.mask_ratio, self.mask_mode, self.mask_count)
        mask, ids_keep, ids_restore = masking.draw(batch, grid, num_tokens, tokens.device)
        visible = torch.gather(tokens, 1, ids_keep.unsqueeze(-1).expand(-1, -1, dims))
        return visible, (mask, ids_restore)

    def loss(self, out: TrunkOutput, data_samples: Sequence[DataSample]) -> Dict[str, Tensor]:
        """Decode the visible latents, score the masked tokens."""
        mask, ids_restore = out.state
        pred = self.decoder(out.tokens(), ids_restore, out.grid)
        return dict(loss=self.loss_head.loss(pred, out.inputs, mask, out.grid))


@MODELS.register_module()
class OmniVecMLMHead(OmniVecPretrainHead):
    """Masked text-token prediction with BERT's 8:1:1 rule, at the paper's ratios.

    Exactly what is implemented, per sequence of ``n`` real (non-``[PAD]``) tokens:

    1. ``round(mask_ratio · n)`` tokens (at least 1), drawn uniformly, are *masked*;
    2. ``round(predict_ratio · n)`` of them (at least 1) are *predicted*: the loss is the
       cross-entropy of the original token at these positions only;
    3. predicted tokens follow BERT: 80 % become ``[MASK]``, 10 % a random non-special token,
       10 % stay; the other masked tokens all become ``[MASK]``.

    With the paper's ``mask_ratio=0.95`` and ``predict_ratio=0.05`` (its ``f = 5 %``, "unlike 15 %
    in XLNet"), the trunk sees 5 % of a text unchanged plus the kept predicted tokens; with
    ``mask_ratio == predict_ratio = 0.15`` this is BERT's masked LM. The paper's sentence
    permutation and XLNet/MPNet permuted language modelling are not implemented: this is a plain
    masked LM. ``[PAD]`` stays ``[PAD]``: the model's key-padding mask keeps it out of attention,
    and the random draws cover the columns up to the batch's last real token only, so the same
    seed corrupts a text the same way however much padding follows it. The prediction layer is
    BERT's: ``Linear-GELU-LayerNorm`` and a linear decoder to the vocabulary.

    Args:
        in_channels: Trunk width (filled in by ``OmniVec``).
        vocab_size: Vocabulary size (filled in from the text tokenizer by ``OmniVec``).
        mask_ratio: Fraction of the real tokens masked.
        predict_ratio: Fraction of the real tokens predicted (``<= mask_ratio``).
        loss: Loss config (mmpretrain registry).
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 vocab_size: int,
                 mask_ratio: float = 0.95,
                 predict_ratio: float = 0.05,
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if not 0. < predict_ratio <= mask_ratio < 1.:
            raise ValueError(f'need 0 < predict_ratio <= mask_ratio < 1, got predict_ratio='
                             f'{predict_ratio}, mask_ratio={mask_ratio}')
        if vocab_size <= len(SPECIAL_TOKENS):
            raise ValueError(f'vocab_size must exceed the {len(SPECIAL_TOKENS)} special tokens, '
                             f'got {vocab_size}')
        self.vocab_size, self.mask_ratio, self.predict_ratio = vocab_size, mask_ratio, predict_ratio
        self.transform = nn.Sequential(nn.Linear(in_channels, in_channels), nn.GELU(),
                                       nn.LayerNorm(in_channels, eps=1e-12))
        self.decoder = nn.Linear(in_channels, vocab_size)
        self.loss_module = MODELS.build(loss)

    @staticmethod
    def _count(ratio: float, real: Tensor) -> Tensor:
        return torch.where(real > 0, (ratio * real).round().clamp(min=1), real).long()

    def corrupt(self, ids: Tensor) -> Tuple[Tensor, Any]:
        """``[B, L]`` ids → corrupted ids and the state ``(predicted [B, L] bool, ids)``."""
        real = ids != PAD_ID
        num_real = real.sum(dim=1)
        # draw for the columns up to the last real token only: trailing [PAD] columns would shift
        # the random stream and corrupt the same text differently at another padded length
        columns = real.any(dim=0).nonzero()
        width = int(columns.max()) + 1 if len(columns) else 0
        tail = (0, ids.shape[1] - width)
        drawn = (ids.shape[0], width)
        # rank the real tokens in a random order; padding ranks last
        noise = F.pad(torch.rand(drawn, device=ids.device), tail, value=2.).masked_fill(~real, 2.)
        rank = noise.argsort(dim=1).argsort(dim=1)
        masked = rank < self._count(self.mask_ratio, num_real)[:, None]
        predicted = rank < self._count(self.predict_ratio, num_real)[:, None]
        draw = F.pad(torch.rand(drawn, device=ids.device), tail, value=0.)
        random_ids = F.pad(torch.randint(len(SPECIAL_TOKENS), self.vocab_size, drawn,
                                         device=ids.device), tail, value=PAD_ID)
        corrupted = ids.masked_fill(masked & ~(predicted & (draw >= .8)), MASK_ID)
        corrupted = torch.where(predicted & (draw >= .8) & (draw < .9), random_ids, corrupted)
        return corrupted, (predicted, ids)

    def logits(self, tokens: Tensor) -> Tensor:
        """``[B, L, D]`` → ``[B, L, vocab_size]``."""
        return self.decoder(self.transform(tokens))

    def loss(self, out: TrunkOutput, data_samples: Sequence[DataSample]) -> Dict[str, Tensor]:
        """Cross-entropy at the predicted positions (and their accuracy, logged)."""
        predicted, ids = out.state
        if not bool(predicted.any()):
            raise ValueError('masked-token prediction: the text batch has no real tokens (all '
                             f'[PAD] = {PAD_ID})')
        logits = self.logits(out.tokens())[predicted]
        target = ids[predicted]
        loss = self.loss_module(logits, target)
        with torch.no_grad():
            accuracy = (logits.argmax(-1) == target).float().mean() * 100
        return dict(loss=loss, accuracy=accuracy)


# ---------------------------------------------------------------- library heads
def _cls_loss(head: nn.Module, feats: Tuple[Tensor, ...], out: TrunkOutput,
              samples: List[DataSample]) -> Dict[str, Tensor]:
    return head.loss(feats, samples)


def _cls_predict(head: nn.Module, feats: Tuple[Tensor, ...], out: TrunkOutput,
                 samples: List[DataSample]) -> List[DataSample]:
    return head.predict(feats, samples)


def _seg_samples(samples: Sequence[DataSample], size: Tuple[int, int]) -> list:
    """mmseg ``SegDataSample`` s with ``gt_sem_seg`` from ours (PixelData or a label tensor)."""
    from mmseg.structures import SegDataSample
    seg_samples = []
    for k, sample in enumerate(samples):
        label = sample.get('gt_sem_seg')
        if label is None:
            raise ValueError(f'semantic segmentation needs gt_sem_seg in every data sample; '
                             f'sample {k} has {sorted(sample.keys())}')
        if not isinstance(label, PixelData):
            label = torch.as_tensor(label)
            label = PixelData(data=label[None] if label.dim() == 2 else label)
        seg_samples.append(SegDataSample(gt_sem_seg=label, metainfo=dict(img_shape=size)))
    return seg_samples


def _seg_loss(head: nn.Module, feats: Tuple[Tensor, ...], out: TrunkOutput,
              samples: List[DataSample]) -> Dict[str, Tensor]:
    size = tuple(out.inputs.shape[-2:])
    return head.loss(feats, _seg_samples(samples, size), None)


def _seg_predict(head: nn.Module, feats: Tuple[Tensor, ...], out: TrunkOutput,
                 samples: List[DataSample]) -> List[DataSample]:
    size = tuple(out.inputs.shape[-2:])
    logits = head.predict(feats, [dict(img_shape=size)] * len(samples), None)
    for sample, logit in zip(samples, logits):
        sample.set_field(PixelData(data=logit.detach()), 'seg_logits')
        sample.set_field(PixelData(data=logit.argmax(dim=0, keepdim=True).detach()), 'pred_sem_seg')
    return samples


def _point_seg_logits(head: PointPartSegHead, feats: Tuple[Tensor, ...], out: TrunkOutput,
                      samples: List[DataSample]) -> Tensor:
    if not isinstance(out.grid, PointCentres):
        raise ValueError(f'PointPartSegHead needs a point tokenizer (group centres), got the '
                         f'grid {out.grid!r}')
    return head(feats, out.grid.centres, out.inputs, head.categories(samples, out.inputs.device))


def _point_seg_loss(head: PointPartSegHead, feats: Tuple[Tensor, ...], out: TrunkOutput,
                    samples: List[DataSample]) -> Dict[str, Tensor]:
    labels = head.seg_labels(samples, out.inputs.device)
    return head.loss(_point_seg_logits(head, feats, out, samples), labels)


def _point_seg_predict(head: PointPartSegHead, feats: Tuple[Tensor, ...], out: TrunkOutput,
                       samples: List[DataSample]) -> List[DataSample]:
    return head.set_predictions(_point_seg_logits(head, feats, out, samples), samples)


@dataclass(frozen=True)
class HeadKind:
    """How the model calls one family of heads."""
    name: str
    inputs: Tuple[str, ...]
    loss: Optional[Callable] = None
    predict: Optional[Callable] = None


HEAD_KINDS = {
    'cls': HeadKind('classification', ('omni', 'cls'), _cls_loss, _cls_predict),
    'seg': HeadKind('semantic segmentation', ('featmap', ), _seg_loss, _seg_predict),
    'point_seg': HeadKind('point part segmentation', ('featmap', ), _point_seg_loss,
                          _point_seg_predict),
    'pretrain': HeadKind('pretraining', ('tokens', )),
}


def head_kind(head_cls: type) -> str:
    """The key of :data:`HEAD_KINDS` for a head class."""
    for kind, bases in (('pretrain', OmniVecPretrainHead), ('point_seg', PointPartSegHead),
                        ('cls', (ClsHead, MultiLabelClsHead))):
        if issubclass(head_cls, bases):
            return kind
    # only now: a model without a segmentation head (classification, pretraining) never loads
    # mmseg
    from mmseg.models.decode_heads.decode_head import BaseDecodeHead
    if issubclass(head_cls, BaseDecodeHead):
        return 'seg'
    raise TypeError(f'OmniVec has no task route for a {head_cls.__name__}: use an mmpretrain '
                    'classification head, an mmseg decode head, PointPartSegHead, OmniVecMAEHead '
                    'or OmniVecMLMHead')
