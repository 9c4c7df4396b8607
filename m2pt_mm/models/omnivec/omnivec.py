"""OmniVec: modality encoders, meta tokens, projections, one shared trunk, vectorizer, heads."""
import copy
import inspect
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from .encoder import OmniVecEncoder
from .heads import HEAD_INPUTS, HEAD_KINDS, MASK_RATIOS, OmniVecPretrainHead, TrunkOutput, head_kind
from .meta import MODALITIES, MetaTokens
from .projection import FiLMProjection
from .trunk import OmniVecTrunk
from .vectorizer import Vectorizer

#: How task losses are combined (``OmniVec(loss_weighting=...)``): the sum of the task means,
#: or each task's mean weighted by its share of the batch's samples.
LOSS_WEIGHTINGS = ('task_mean', 'sample')
#: Keys of a head spec that route the head; the rest is the head's own config.
_ROUTE_KEYS = ('modality', 'input', 'in_indices', 'norm_outs')


def _takes(cls: type, name: str) -> bool:
    """Whether ``cls(name=...)`` is accepted, following ``**kwargs`` up the base classes
    (mmseg's ``FCNHead`` passes ``in_channels`` on to ``BaseDecodeHead``)."""
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters
        if name in params:
            return True
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return False
    return False


class _Route:
    """Where a task's head reads from: its modality, the kind of input, which blocks."""

    def __init__(self, task: str, kind: str, modality: str, input: str,
                 in_indices: Tuple[int, ...], norm_outs: bool) -> None:
        self.task, self.kind, self.modality, self.input = task, kind, modality, input
        self.in_indices, self.norm_outs = in_indices, norm_outs

    def features(self, out: TrunkOutput) -> Tuple[Tensor, ...]:
        if self.input == 'omni':
            return (out.omni(), )
        if self.input == 'cls':
            return (out.cls(), )
        if self.input == 'tokens':
            return (out.tokens(), )
        return out.featmaps(self.in_indices, self.norm_outs)


@MODELS.register_module()
class OmniVec(BaseModel):
    """OmniVec (Srivastava & Sharma, WACV 2024): one shared transformer trunk for every modality.

    A batch is ``inputs={modality: [B_m, ...]}`` with ``data_samples={modality: [DataSample]}``
    (``omnivec_collate`` + ``OmniVecDataPreprocessor``); every data sample names its ``task`` in
    its metainfo (the key of ``heads``). Per modality group, and per pretraining task within it::

        meta  = meta tokens of the group's tensor shape                  (MetaTokens)
        x     = encoder(x)      tokenizer + positions (+ blocks)          (OmniVecEncoder)
        x     = LN([cls, (1 + γ(meta)) ⊙ (W x + b) + β(meta)])           (FiLMProjection)
        outs  = trunk(x)        the SAME blocks for every group           (OmniVecTrunk)
        omni  = vectorizer(patch tokens of the last block)                (Vectorizer)
        loss  = head(omni | class token | tokens | feature maps)

    Samples of one modality whose tasks do not mask their input share one trunk call; a
    pretraining task (``OmniVecMAEHead``, ``OmniVecMLMHead``) masks its group's input and gets a
    call of its own. Losses are reported as ``{task}.{name}``, each loss term multiplied by
    ``loss_weights[task]`` (default 1) and by the ``loss_weighting`` factor, and summed by
    mmengine.

    How tasks weigh against each other (``loss_weighting``): each head returns its task's mean
    over the task's samples (or tokens / patches) in the batch. With ``'task_mean'`` these means
    are summed as they are, so every task present in a batch counts once whatever its number of
    samples: the sampler's ``proportions`` change how often a task is seen and how many samples
    its mean averages, not its weight in the gradient. With ``'sample'`` each task's terms are
    multiplied by ``n_task / n_batch`` (its share of the batch's samples, every modality
    counted), so the sum is a mean over the batch's samples and a task weighs as its proportion.

    Args:
        encoders: ``{modality: OmniVecEncoder kwargs}`` (``tokenizer=dict(type=...)``, ``depth``,
            ...); ``embed_dims`` defaults to the trunk's. Modalities: :data:`MODALITIES`.
        trunk: ``OmniVecTrunk`` kwargs (``arch``, ``qkv_bias``, ``norm_cfg``, ``pathway``, ...).
        heads: ``{task: head config}`` plus the routing keys ``modality`` (required), ``input``
            (``'omni'``, ``'cls'``, ``'tokens'``, ``'featmap'``; default: ``'omni'`` for
            classification heads with a vectorizer, else the only one the head takes),
            ``in_indices`` (blocks of a feature-map input, default ``(-1, )``) and ``norm_outs``
            (intermediate feature maps through the final norm, Point-MAE's part segmentation).
            ``in_channels`` is filled with the input's width, ``grid`` with the encoder's token
            grid, ``vocab_size`` with the text tokenizer's, ``num_feats`` with
            ``len(in_indices)`` and ``mask_ratio`` with the paper's ratio of the modality
            (``MASK_RATIOS``) where the head's constructor takes them.
        vectorizer: ``dict(out_dims=d, num_tokens=L)`` (``out_dims`` defaults to the trunk
            width), or None for none (no ``'omni'`` input, no ``'tensor'`` mode).
        meta_dims: Width of the meta vector; the trunk's by default.
        loss_weights: ``{task: weight}``.
        loss_weighting: ``'task_mean'`` (sum of the task means) or ``'sample'`` (each task's
            mean times its share of the batch's samples); see above.
        data_preprocessor: The data preprocessor (``OmniVecDataPreprocessor``); mmengine's
            pass-through by default (the model stacks lists of tensors itself).
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 encoders: Dict[str, dict],
                 trunk: dict,
                 heads: Dict[str, dict],
                 vectorizer: Optional[dict] = dict(num_tokens=8),
                 meta_dims: Optional[int] = None,
                 loss_weights: Optional[Dict[str, float]] = None,
                 loss_weighting: str = 'task_mean',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if loss_weighting not in LOSS_WEIGHTINGS:
            raise ValueError(f'loss_weighting must be one of {LOSS_WEIGHTINGS}, got '
                             f'{loss_weighting!r}')
        self.loss_weighting = loss_weighting
        self.trunk_cfg = copy.deepcopy(dict(trunk))
        if self.trunk_cfg.get('type', 'OmniVecTrunk') not in ('OmniVecTrunk', OmniVecTrunk):
            raise ValueError(f"trunk: OmniVec's trunk is an OmniVecTrunk (the M2PT backbone's "
                             f"blocks), got type={self.trunk_cfg['type']!r}")
        trunk_kwargs = {k: v for k, v in self.trunk_cfg.items() if k != 'type'}
        self.trunk = OmniVecTrunk(**trunk_kwargs)
        dims = self.trunk.embed_dims
        norm_cfg = self.trunk_cfg.get('norm_cfg', dict(type='LN', eps=1e-6))
        unknown = sorted(set(encoders) - set(MODALITIES))
        if unknown or not encoders:
            raise KeyError(f'encoders: unknown modalities {unknown or "(none given)"}; known: '
                           f'{MODALITIES}')
        self.meta = MetaTokens(meta_dims or dims)
        self.encoders = nn.ModuleDict()
        self.projections = nn.ModuleDict()
        for modality in sorted(encoders):
            cfg = dict(encoders[modality])
            cfg.setdefault('embed_dims', dims)
            self.encoders[modality] = OmniVecEncoder(**cfg)
            self.projections[modality] = FiLMProjection(cfg['embed_dims'], dims,
                                                        self.meta.embed_dims, norm_cfg)
        self.vectorizer = None
        if vectorizer is not None:
            vectorizer = dict(vectorizer)
            vectorizer.setdefault('out_dims', dims)
            self.vectorizer = Vectorizer(in_dims=dims, **vectorizer)
        if not heads:
            raise ValueError('OmniVec needs at least one task head (heads={task: cfg})')
        self.heads = nn.ModuleDict()
        self.routes: Dict[str, _Route] = {}
        for task, spec in heads.items():
            self.heads[task], self.routes[task] = self._build_head(task, spec)
        self.loss_weights = dict(loss_weights or {})
        stray = sorted(set(self.loss_weights) - set(self.heads))
        if stray:
            raise KeyError(f'loss_weights names tasks without a head: {stray}; tasks: '
                           f'{sorted(self.heads)}')

    # ------------------------------------------------------------------ construction
    def _build_head(self, task: str, spec: dict) -> Tuple[nn.Module, _Route]:
        if 'loss' in task:
            # mmengine sums every logged value whose name contains "loss"
            raise ValueError(f'task name {task!r} must not contain "loss": the reported values '
                             f'{task}.<name> would all count as losses')
        spec = dict(spec)
        route = {k: spec.pop(k) for k in _ROUTE_KEYS if k in spec}
        modality = route.get('modality')
        if modality not in self.encoders:
            raise KeyError(f'heads[{task!r}]: modality {modality!r} has no encoder; encoders: '
                           f'{sorted(self.encoders)}')
        head_cls = spec.get('type')
        if isinstance(head_cls, str) and '.' in head_cls:
            # build 'mmseg.FCNHead' in mmseg's scope, so that its own parts (loss_decode) are
            # mmseg's and not the current scope's namesakes (mmpretrain's CrossEntropyLoss)
            spec.setdefault('_scope_', head_cls.split('.')[0])
        head_cls = head_cls if isinstance(head_cls, type) else MODELS.get(head_cls)
        if head_cls is None:
            raise KeyError(f'heads[{task!r}]: unknown head type {spec.get("type")!r}')
        kind = head_kind(head_cls)
        allowed = HEAD_KINDS[kind].inputs
        default = 'omni' if self.vectorizer is not None and 'omni' in allowed else (
            allowed[1] if allowed[0] == 'omni' else allowed[0])
        source = route.get('input', default)
        if source not in allowed:
            raise ValueError(f'heads[{task!r}]: a {HEAD_KINDS[kind].name} head reads '
                             f'{allowed}, not input={source!r} (inputs: {HEAD_INPUTS})')
        if source == 'omni' and self.vectorizer is None:
            raise ValueError(f"heads[{task!r}]: input='omni' needs a vectorizer")
        in_indices = tuple(route.get('in_indices', (-1, )))
        bad = [i for i in in_indices if not -self.trunk.num_layers <= i < self.trunk.num_layers]
        if bad or not in_indices:
            raise ValueError(f'heads[{task!r}]: in_indices {list(in_indices)} out of range for '
                             f'{self.trunk.num_layers} trunk blocks')
        tokenizer = self.encoders[modality].tokenizer
        defaults = dict(
            in_channels=self.vectorizer.out_dims if source == 'omni' else self.trunk.embed_dims,
            grid=self.encoders[modality].grid, num_feats=len(in_indices),
            vocab_size=tokenizer.vocab_size, mask_ratio=MASK_RATIOS[modality])
        for key, value in defaults.items():
            if value is not None and _takes(head_cls, key):
                spec.setdefault(key, value)
        head = MODELS.build(spec)
        return head, _Route(task, kind, modality, source, in_indices,
                            bool(route.get('norm_outs', False)))

    # ------------------------------------------------------------------ checks
    def _check_inputs(self, inputs: Any) -> Dict[str, Tensor]:
        if not isinstance(inputs, dict):
            raise TypeError(f'OmniVec expects inputs {{modality: Tensor}} (omnivec_collate + '
                            f'OmniVecDataPreprocessor), got {type(inputs).__name__}')
        checked = {}
        for modality, x in inputs.items():
            if modality not in self.encoders:
                raise KeyError(f'the batch has {modality!r} inputs but the model has no encoder '
                               f'for them; encoders: {sorted(self.encoders)}')
            if isinstance(x, (list, tuple)):
                shapes = {tuple(t.shape) for t in x}
                if len(shapes) != 1:
                    raise ValueError(f'{modality} inputs of different shapes {sorted(shapes)} '
                                     'cannot form one group')
                x = torch.stack(list(x))
            checked[modality] = x
        return checked

    def _check_samples(self, inputs: Dict[str, Tensor],
                       data_samples: Any) -> Dict[str, List[DataSample]]:
        if not isinstance(data_samples, dict):
            raise TypeError('OmniVec expects data_samples {modality: [DataSample, ...]}, got '
                            f'{type(data_samples).__name__}')
        if set(data_samples) != set(inputs):
            raise KeyError(f'data_samples has the modalities {sorted(data_samples)}, inputs '
                           f'{sorted(inputs)}')
        for modality, samples in data_samples.items():
            if len(samples) != inputs[modality].shape[0]:
                raise ValueError(f'{modality}: {inputs[modality].shape[0]} inputs but '
                                 f'{len(samples)} data samples')
            for k, sample in enumerate(samples):
                task = sample.metainfo.get('task')
                if task not in self.routes:
                    raise KeyError(f'{modality} sample {k}: task {task!r} has no head; heads: '
                                   f'{sorted(self.routes)} (the multi-source dataset sets the '
                                   "metainfo 'task')")
                if self.routes[task].modality != modality:
                    raise ValueError(f'{modality} sample {k}: the head of task {task!r} is for '
                                     f'{self.routes[task].modality} inputs')
        return data_samples

    # ------------------------------------------------------------------ forward
    def meta_vector(self, modality: str, shape: Sequence[int]) -> Tensor:
        """The meta vector of a ``modality`` batch of tensor shape ``shape``.

        A text batch's ``L`` is its encoder's ``max_length`` (the length ``TokenizeText`` pads
        to), not the batch's width: the width is padding, and the meta vector (so the FiLM
        projection) must not change with it.
        """
        shape = tuple(int(n) for n in shape)
        if modality == 'text' and len(shape) == 2:
            shape = (shape[0], self.encoders[modality].tokenizer.max_length)
        return self.meta(modality, shape)

    def encode(self, modality: str, x: Tensor,
               pretrain_head: Optional[OmniVecPretrainHead] = None) -> TrunkOutput:
        """One group through its encoder and projection, then the shared trunk; text ``[PAD]``
        tokens are left out of every attention (encoder blocks and trunk) and of the Omni
        embedding."""
        meta = self.meta_vector(modality, x.shape)
        encoder = self.encoders[modality]
        source, state = x, None
        if pretrain_head is not None:
            x, state = pretrain_head.corrupt(x)
        padding = encoder.padding_mask(x)
        tokens, grid = encoder.embed(x)
        if pretrain_head is not None:
            num_tokens = tokens.shape[1]
            tokens, state = pretrain_head.mask(tokens, grid, state)
            if padding is not None and tokens.shape[1] != num_tokens:
                raise ValueError(f'{type(pretrain_head).__name__} drops {modality} tokens: the '
                                 'padding mask of a text batch needs every token kept '
                                 '(OmniVecMLMHead corrupts ids instead)')
        tokens = encoder.forward_blocks(tokens, padding)
        tokens = self.projections[modality](tokens, meta, self.trunk.cls_token)
        num_extra = 0 if self.trunk.cls_token is None else 1
        trunk_padding = padding
        if padding is not None and num_extra:
            trunk_padding = F.pad(padding, (num_extra, 0), value=False)  # the class token
        return TrunkOutput(self.trunk(tokens, trunk_padding), grid, num_extra, source, self.trunk,
                           self.vectorizer, state, padding=padding)

    def _groups(self, samples: Sequence[DataSample]) -> List[Tuple[Optional[str], List[int]]]:
        """``(pretraining task or None, sample indices)`` per trunk call, in first-seen order."""
        groups: Dict[Optional[str], List[int]] = {}
        for k, sample in enumerate(samples):
            task = sample.metainfo['task']
            key = task if self.routes[task].kind == 'pretrain' else None
            groups.setdefault(key, []).append(k)
        return list(groups.items())

    def _trunk_calls(self, inputs: Dict[str, Tensor], data_samples: Dict[str, List[DataSample]],
                     ) -> Iterator[Tuple[TrunkOutput, str, List[int], List[DataSample]]]:
        """Run every group once through the trunk; yield, per task of the group, its output
        rows, the task, the group rows and the samples of that task."""
        for modality, x in inputs.items():
            samples = data_samples[modality]
            for pretrain_task, indices in self._groups(samples):
                head = None if pretrain_task is None else self.heads[pretrain_task]
                if len(indices) < len(samples):
                    x_group = x[torch.as_tensor(indices, device=x.device)]
                else:
                    x_group = x
                out = self.encode(modality, x_group, head)
                tasks: Dict[str, List[int]] = {}
                for row, k in enumerate(indices):
                    tasks.setdefault(samples[k].metainfo['task'], []).append(row)
                for task, rows in tasks.items():
                    yield out, task, rows, [samples[indices[row]] for row in rows]

    def loss(self, inputs: Dict[str, Tensor],
             data_samples: Dict[str, List[DataSample]]) -> Dict[str, Tensor]:
        """``{f'{task}.{name}': value}``, loss terms weighted by ``loss_weights`` and, with
        ``loss_weighting='sample'``, by the task's share of the batch's samples."""
        losses: Dict[str, Tensor] = {}
        batch_size = sum(len(group) for group in data_samples.values())
        for out, task, rows, samples in self._trunk_calls(inputs, data_samples):
            route, head = self.routes[task], self.heads[task]
            if route.kind == 'pretrain':
                task_losses = head.loss(out, samples)
            else:
                part = out.select(rows)
                task_losses = HEAD_KINDS[route.kind].loss(head, route.features(part), part,
                                                          samples)
            weight = self.loss_weights.get(task, 1.)
            if self.loss_weighting == 'sample':
                weight = weight * len(samples) / batch_size
            for name, value in task_losses.items():
                losses[f'{task}.{name}'] = value * weight if 'loss' in name else value
        return losses

    def predict(self, inputs: Dict[str, Tensor],
                data_samples: Dict[str, List[DataSample]]) -> List[DataSample]:
        """The data samples, modality by modality, with their task's predictions and their
        ``omni_embedding`` (with a vectorizer; what ``tools/test.py --dump`` saves)."""
        pretraining = sorted({s.metainfo['task'] for group in data_samples.values() for s in group
                              if self.routes[s.metainfo['task']].kind == 'pretrain'})
        if pretraining:
            raise ValueError(f'tasks {pretraining} are pretraining tasks: they have no '
                             "predictions (run them in 'loss' mode)")
        predicted = {id(s): s for group in data_samples.values() for s in group}
        for out, task, rows, samples in self._trunk_calls(inputs, data_samples):
            route, part = self.routes[task], out.select(rows)
            result = HEAD_KINDS[route.kind].predict(self.heads[task], route.features(part), part,
                                                    samples)
            omni = part.omni() if self.vectorizer is not None else None
            for n, (sample, new) in enumerate(zip(samples, result)):
                if omni is not None:
                    new.set_field(omni[n].detach(), 'omni_embedding')
                predicted[id(sample)] = new
        return [predicted[id(s)] for modality in inputs for s in data_samples[modality]]

    def forward(self,
                inputs: Dict[str, Union[Tensor, List[Tensor]]],
                data_samples: Optional[Dict[str, List[DataSample]]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], List[DataSample]]:
        """``'loss'``: ``{f'{task}.{name}': value}``; ``'predict'``: the data samples of the
        batch in order (modality by modality) with their task's predictions and, with a
        vectorizer, their Omni embedding ``omni_embedding [d]``; ``'tensor'``:
        ``{modality: Omni embeddings [B, d]}``."""
        inputs = self._check_inputs(inputs)
        if mode == 'tensor':
            return {modality: self.encode(modality, x).omni() for modality, x in inputs.items()}
        if mode not in ('loss', 'predict'):
            raise RuntimeError(f'Invalid mode "{mode}": expected "loss", "predict" or "tensor"')
        data_samples = self._check_samples(inputs, data_samples)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.predict(inputs, data_samples)
