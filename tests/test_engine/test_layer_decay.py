"""λ's own learning rate: ``lr_mult`` of ``custom_keys`` in the layer-decay constructor."""
from typing import Dict, Optional

import pytest
import torch

from m2pt_mm.engine.optimizers import PathwayLayerDecayOptimWrapperConstructor
from tests.helpers import tiny_classifier

BASE_LR, DECAY, DEPTH = 1e-3, 0.65, 4 + 2  # 4 blocks + stem + head


def param_groups(model, optimizer: dict, custom_keys: Optional[dict] = None) -> Dict[str, dict]:
    constructor = PathwayLayerDecayOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=optimizer),
        dict(layer_decay_rate=DECAY, custom_keys=custom_keys or {}))
    return {g['param_name']: g for g in constructor(model).optimizer.param_groups}


def block_lr(block: int) -> float:
    return BASE_LR * DECAY ** (DEPTH - (block + 1) - 1)


def test_scales_default_to_the_lr_of_their_block(aux64_file):
    groups = param_groups(tiny_classifier(aux64_file),
                          dict(type='AdamW', lr=BASE_LR, weight_decay=0.05))
    for block in range(4):
        for layer in ('attn.qkv', 'attn.proj', 'ffn.layers.0.0', 'ffn.layers.1'):
            name = f'backbone.layers.{block}.{layer}'
            assert groups[f'{name}.cross_modal_scale']['lr'] == pytest.approx(block_lr(block))
            assert groups[f'{name}.weight']['lr'] == pytest.approx(block_lr(block))


@pytest.mark.parametrize('optimizer,scale_key', [
    (dict(type='AdamW', lr=BASE_LR, weight_decay=0.05), dict(lr_mult=0.1, decay_mult=0.)),
    # the linear probe's optimiser, with MAE's exclusion of 1-D parameters from LARS
    (dict(type='LARS', lr=BASE_LR, weight_decay=0., momentum=0.9),
     dict(lr_mult=0.1, lars_exclude=True)),
], ids=['AdamW', 'LARS'])
def test_lr_mult_of_a_custom_key_sets_the_scales_lr(aux64_file, optimizer, scale_key):
    custom_keys = {'cross_modal_scale': scale_key, 'head': dict(lr_mult=3.)}
    groups = param_groups(tiny_classifier(aux64_file), optimizer, custom_keys)
    for block in range(4):
        name = f'backbone.layers.{block}.attn.qkv'
        scale = groups[f'{name}.cross_modal_scale']
        assert scale['lr'] == pytest.approx(block_lr(block) * 0.1)  # base × decay × lr_mult
        assert scale['lr_scale'] == pytest.approx(block_lr(block) / BASE_LR)
        assert scale['weight_decay'] == 0.
        assert scale.get('lars_exclude', False) == scale_key.get('lars_exclude', False)
        # W and W′ of the same block keep their block's lr
        assert groups[f'{name}.weight']['lr'] == pytest.approx(block_lr(block))
        assert groups[f'{name}.aux_weight']['lr'] == pytest.approx(block_lr(block))
    assert groups['head.layers.head.weight']['lr'] == pytest.approx(BASE_LR * 3.)


def test_a_key_naming_the_scales_is_allowed_on_a_plain_model():
    # one recipe base (e.g. the linear probe's) serves the baseline and its M2PT children
    plain = torch.nn.ModuleDict(dict(backbone=torch.nn.Linear(2, 2)))
    plain.get_layer_depth = lambda name: (1, 2)
    for key in ('cross_modal_scale', '.cross_modal_scale_1', 'aux_weight'):
        groups = param_groups(plain, dict(type='AdamW', lr=BASE_LR, weight_decay=0.05),
                              {key: dict(lr_mult=0.1)})
        assert {g['lr'] for g in groups.values()} == {BASE_LR}
    with pytest.raises(KeyError, match=r"custom_keys \['cross_modal_scales'\] match no param"):
        param_groups(plain, dict(type='AdamW', lr=BASE_LR, weight_decay=0.05),
                     {'cross_modal_scales': dict(lr_mult=0.1)})
