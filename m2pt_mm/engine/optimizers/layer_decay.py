"""Layer-wise lr decay that knows the pathway parameters, for classifiers, detectors, segmentors."""
from typing import Callable, List, Optional, Tuple

from mmengine.logging import MMLogger
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor
from torch import nn

from m2pt_mm.pathway import is_pathway_param, is_scale_param


def whole_model_layer_depth(model: nn.Module) -> Callable[[str], Tuple[int, int]]:
    """``get_layer_depth`` for any model with a ViT ``backbone``: backbone parameters get their
    block's depth, everything else (necks, heads) the last depth (lr scale 1)."""
    if hasattr(model, 'get_layer_depth'):
        return model.get_layer_depth
    backbone = getattr(model, 'backbone', None)
    if backbone is None or not hasattr(backbone, 'get_layer_depth'):
        raise TypeError(f'{type(model).__name__} has neither get_layer_depth() nor a backbone with '
                        'one; layer-wise lr decay needs a ViT-like backbone')
    return lambda name: backbone.get_layer_depth(name, prefix='backbone.')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class PathwayLayerDecayOptimWrapperConstructor(LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's layer-decay constructor, with what it lacks for M2PT:

    * λ (Cross-Modal Scales) always get weight decay 0: they are scalars whose size *is* the
      signal; ``custom_keys`` such as ``'.bias'`` or ``flat_decay_mult`` may not re-enable it.
    * W′ and λ get the lr scale of their block (``get_layer_depth`` sees ``layers.{i}.…``).
    * Works for detectors and segmentors, which have no ``get_layer_depth`` of their own.
    * A ``custom_keys`` entry that matches no parameter is an error, not silently ignored —
      except one naming a pathway parameter (``cross_modal_scale``, ``aux_weight``), so that one
      recipe base serves a plain baseline and its M2PT children.
    * ``lr_mult`` in ``custom_keys`` is honoured: lr = base lr × layer decay × ``lr_mult``
      (mmpretrain's constructor overwrites the lr after applying ``custom_keys``, so there it does
      nothing). By default λ of block i gets the lr of its block, as W (the official scripts);
      ``custom_keys={'cross_modal_scale': dict(lr_mult=10.)}`` gives λ its own.

    Use ``constructor='PathwayLayerDecayOptimWrapperConstructor'`` with the usual
    ``paramwise_cfg=dict(layer_decay_rate=0.65, custom_keys=...)``.
    """

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   get_layer_depth: Optional[Callable] = None,
                   **kwargs) -> None:
        if prefix == '' and get_layer_depth is None:
            get_layer_depth = whole_model_layer_depth(module)
            self._check_custom_keys(module)
        super().add_params(params, module, prefix=prefix, get_layer_depth=get_layer_depth, **kwargs)
        if prefix != '':
            return
        self._apply_lr_mult(params)
        scales = 0
        scale_lr_mults = set()
        for group in params:
            if is_scale_param(group['param_name']):
                group['weight_decay'] = 0.
                scales += 1
                scale_lr_mults.add(group['lr_mult'])
        if scales:
            aux = sum(1 for g in params if is_pathway_param(g['param_name'])) - scales
            MMLogger.get_current_instance().info(
                f'PathwayLayerDecay: {scales} Cross-Modal Scales with weight decay 0 and {aux} '
                'auxiliary weights, each at the lr scale of its block (λ × lr_mult '
                f'{sorted(scale_lr_mults)})')

    def _apply_lr_mult(self, params: List[dict]) -> None:
        """Scale each group's lr by the ``lr_mult`` of its ``custom_keys`` entry (the longest
        matching key, mmpretrain's rule)."""
        custom_keys = self.paramwise_cfg.get('custom_keys', {})
        sorted_keys = sorted(sorted(custom_keys), key=len, reverse=True)
        for group in params:
            key = next((k for k in sorted_keys if k in group['param_name']), None)
            lr_mult = custom_keys[key].get('lr_mult', 1.) if key is not None else 1.
            group['lr'] *= lr_mult  # lr_scale stays the layer-decay factor alone
            group['lr_mult'] = lr_mult  # mmpretrain sets it only where a key matches

    def _check_custom_keys(self, module: nn.Module) -> None:
        custom_keys = self.paramwise_cfg.get('custom_keys', {})
        names = [n for n, _ in module.named_parameters()]
        # a key is matched as a substring: 'cross_modal_scale' names λ as the end of 'x.<key>'
        unknown = [key for key in custom_keys
                   if not any(key in n for n in names) and not is_pathway_param(f'x.{key}')]
        if unknown:
            raise KeyError(f'paramwise_cfg.custom_keys {unknown} match no parameter name of '
                           f'{type(module).__name__} (e.g. {names[:3]} ... {names[-2:]})')
