"""The contract every backbone tokenizer keeps (one test per behaviour, parametrised over the
tokenizers, as timm tests its models): a tensor of another modality is refused naming the expected
shape; a model made for one input size loads strictly into one made for another and runs there
(position tables resized); merged == unmerged; the merged backbone loads strict=True into the
plain (pathway=None) backbone and computes the same features."""
import copy
from typing import Any, Callable, Dict, NamedTuple

import pytest
import torch
from mmpretrain.registry import MODELS
from torch.testing import assert_close

import m2pt_mm.models  # noqa: F401  registers the backbone and the tokenizers
from m2pt_mm.registry import TOKENIZERS
from m2pt_mm.testing.tiny import pathway_stand_ins

ARCH = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64)


class Case(NamedTuple):
    backbone: Dict[str, Any]  # M2PTVisionTransformer kwargs for input size A (tokenizer included)
    other_size: Dict[str, Any]  # the kwargs that change for input size B
    make: Callable[[str], torch.Tensor]  # 'a' | 'b' → a batch of that size
    wrong: torch.Tensor  # a tensor of another modality
    error: str  # what the refusal names (a regex)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


CASES = {
    'ImageTokenizer': Case(
        dict(tokenizer=dict(type='ImageTokenizer'), img_size=32, patch_size=8),
        dict(img_size=48),
        lambda s: torch.randn(2, 3, *((32, 32) if s == 'a' else (48, 48)), generator=_gen(0)),
        torch.randn(2, 1024, 128), r'ImageTokenizer.*\(B, 3, H, W\).*\(2, 1024, 128\)'),
    'AudioTokenizer': Case(
        dict(tokenizer=dict(type='AudioTokenizer', num_frames=64, num_mel_bins=32), patch_size=8),
        dict(tokenizer=dict(type='AudioTokenizer', num_frames=32, num_mel_bins=32)),
        lambda s: torch.randn(2, 1, 64 if s == 'a' else 32, 32, generator=_gen(1)),
        torch.randn(2, 3, 32, 32),
        r'AudioTokenizer expects log-mel spectrograms.*\(2, 3, 32, 32\)'),
    'VideoTokenizer': Case(
        dict(tokenizer=dict(type='VideoTokenizer', num_frames=4), img_size=32, patch_size=8,
             with_cls_token=False, out_type='avg_featmap', final_norm=False),
        dict(tokenizer=dict(type='VideoTokenizer', num_frames=8)),
        lambda s: torch.randn(2, 3, 4 if s == 'a' else 8, 32, 32, generator=_gen(2)),
        torch.randn(2, 3, 32, 32), r'VideoTokenizer.*\(2, 3, 32, 32\)'),
    'PointTokenizer': Case(
        dict(tokenizer=dict(type='PointTokenizer', num_groups=16, group_size=8),
             out_type='cls_max'),
        dict(),  # no position table: the groups' MLP positions fit any cloud size
        lambda s: torch.rand(2, 128 if s == 'a' else 200, 3, generator=_gen(3)) * 2 - 1,
        torch.randn(2, 3, 32, 32), r'PointTokenizer expects point clouds.*\(2, 3, 32, 32\)'),
}


def build(case: Case, size: str = 'a', pathway: bool = True, **overrides: Any):
    cfg = dict(type='M2PTVisionTransformer', arch=copy.deepcopy(ARCH), drop_path_rate=0.,
               **copy.deepcopy(case.backbone))
    if size == 'b':
        cfg.update(copy.deepcopy(case.other_size))
    if pathway:
        cfg['pathway'] = dict(allow_zero_aux=True)  # W′ and λ get stand-ins below
    cfg.update(overrides)
    model = MODELS.build(cfg)
    model.init_weights()
    if pathway:
        pathway_stand_ins(model, scale=0.1)
    return model.eval()


#: Registered tokenizers that are not for M2PTVisionTransformer, and where they are tested.
NOT_BACKBONE = {'TextTokenizer': 'token ids for the OmniVec text encoder (tests/test_omnivec)'}


def test_every_registered_tokenizer_has_a_contract_case():
    TOKENIZERS.import_from_location()
    assert set(TOKENIZERS.module_dict) == set(CASES) | set(NOT_BACKBONE)


@pytest.mark.parametrize('name', sorted(CASES))
def test_wrong_modality_tensor_is_refused_naming_the_expected_shape(name):
    case = CASES[name]
    with pytest.raises(ValueError, match=case.error):
        build(case)(case.wrong)


@pytest.mark.parametrize('name', sorted(CASES))
def test_a_model_for_one_input_size_loads_into_one_for_another(name):
    case = CASES[name]
    a = build(case, 'a')
    b = build(case, 'b')
    b.load_state_dict(a.state_dict(), strict=True)  # position tables resized on load
    with torch.no_grad():
        out_a, out_b = a(case.make('b'))[0], b(case.make('b'))[0]
    assert out_b.shape == out_a.shape and torch.isfinite(out_b).all()
    assert_close(out_b, out_a, rtol=1e-5, atol=1e-5)  # the same weights: the same function


@pytest.mark.parametrize('name', sorted(CASES))
def test_merged_equals_unmerged_and_loads_strict_into_the_plain_backbone(name):
    case = CASES[name]
    model = build(case)
    x = case.make('a')
    with torch.no_grad():
        unmerged = model(x)[0]
        model.switch_to_deploy()
        merged = model(x)[0]
        plain = build(case, pathway=False)
        plain.load_state_dict(model.state_dict(), strict=True)
        reference = plain(x)[0]
    assert torch.equal(merged, unmerged)  # the eval cache and the deploy weights: one merge
    assert_close(reference, unmerged, rtol=1e-5, atol=1e-5)
