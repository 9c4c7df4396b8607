"""The contract every tokenizer keeps (one test per behaviour, parametrised over the tokenizers,
as timm tests its models).

In the backbone: a tensor of another modality is refused naming the expected shape; a model made
for one input size loads strictly into one made for another and runs there (position tables
resized); merged == unmerged; the merged backbone loads strict=True into the plain (pathway=None)
backbone and computes the same features. Every method of ``BaseTokenizer`` for every registered
tokenizer (a new one is covered without a new test), and CONTRIBUTING's example tokenizer.
"""
import copy
import math
import textwrap
from typing import Any, Callable, Dict, List, NamedTuple, Tuple

import pytest
import torch
from mmpretrain.registry import MODELS
from torch.testing import assert_close

import m2pt_mm.models  # noqa: F401  registers the backbone and the tokenizers
from m2pt_mm.models.tokenizers import HOST_POS_EMBEDS, BaseTokenizer
from m2pt_mm.models.utils import PointCentres
from m2pt_mm.registry import TOKENIZERS, build_tokenizer
from m2pt_mm.testing.tiny import pathway_stand_ins
from tests.helpers import ROOT

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


# ---------------------------------------------------------------- every method of BaseTokenizer
#: Constructor arguments beyond ``embed_dims`` (small sizes, for speed) and the input size to run
#: at (None: the configured one); a registered tokenizer not listed is built from ``embed_dims``
#: alone and run at its configured size.
TINY: Dict[str, Tuple[Dict[str, Any], Any]] = {
    'ImageTokenizer': (dict(img_size=16, patch_size=8), None),
    'AudioTokenizer': (dict(num_frames=32, num_mel_bins=16, patch_size=8), None),
    'VideoTokenizer': (dict(num_frames=4, img_size=16, patch_size=8), None),
    'PointTokenizer': (dict(num_groups=8, group_size=8, group_embed='adjacency'), 64),
    'TextTokenizer': (dict(vocab_size=40, max_length=12), None),
}
#: Inputs that are not random floats of ``input_shape``: ``(shape, generator)`` → a batch of 2.
INPUTS: Dict[str, Callable[[Tuple[int, ...], torch.Generator], torch.Tensor]] = {
    'TextTokenizer': lambda shape, gen: torch.randint(0, 40, (2, *shape), generator=gen),
}
DIMS, OUT_DIMS = 8, 6


def registered_tokenizers() -> List[str]:
    TOKENIZERS.import_from_location()
    return sorted(TOKENIZERS.module_dict)


def tiny_tokenizer(name: str) -> Tuple[BaseTokenizer, torch.Tensor]:
    """A tiny ``name`` tokenizer (eval mode) and a batch of 2 of its input."""
    kwargs, size = TINY.get(name, ({}, None))
    torch.manual_seed(0)
    tokenizer = build_tokenizer(dict(type=name, **kwargs), embed_dims=DIMS).eval()
    shape = tokenizer.input_shape(size)
    assert shape is not None, f'{name} fixes no input size: give one in TINY'
    gen = _gen(4)
    make = INPUTS.get(name, lambda shape, gen: torch.rand(2, *shape, generator=gen) * 2 - 1)
    return tokenizer, make(shape, gen)


def check_class_attributes(name: str) -> None:
    tokenizer, _ = tiny_tokenizer(name)
    assert isinstance(tokenizer, BaseTokenizer)
    assert tokenizer.host_pos_embed in HOST_POS_EMBEDS
    assert isinstance(tokenizer.pos_every_block, bool)
    ratio, mode, count = tokenizer.mask_defaults
    assert 0 < ratio < 1 and mode in ('random', 'tube') and count in ('keep', 'mask')
    if mode == 'tube':
        assert len(tokenizer.init_out_size) == 3  # one spatial mask for every time step
    if tokenizer.vocab_size is not None:  # ids: every id below it embeds, the next is refused
        assert tokenizer.vocab_size > 0
        with torch.no_grad():
            tokenizer(torch.full((1, 2), tokenizer.vocab_size - 1))
        with pytest.raises(ValueError):
            tokenizer(torch.full((1, 2), tokenizer.vocab_size))


def check_input_shape_and_grid(name: str) -> None:
    tokenizer, x = tiny_tokenizer(name)
    assert tokenizer.input_shape(TINY.get(name, ({}, None))[1]) == tuple(x.shape[1:])
    with torch.no_grad():
        tokens, grid = tokenizer(x)
    assert tokens.shape[0] == 2 and tokens.shape[2] == DIMS
    if isinstance(grid, PointCentres):
        assert grid.centres.shape == (2, tokens.shape[1], 3)
    else:
        assert math.prod(grid) == tokens.shape[1]
    configured = tokenizer.input_shape()
    if configured is not None:
        assert configured == tuple(x.shape[1:]) and tuple(grid) == tuple(tokenizer.init_out_size)
    else:
        assert tokenizer.input_shape(x.shape[1]) == tuple(x.shape[1:])  # a size it does not fix


def check_positions(name: str) -> None:
    tokenizer, x = tiny_tokenizer(name)
    with torch.no_grad():
        tokens, grid = tokenizer(x)
        if tokenizer.host_pos_embed == 'none':
            positions = tokenizer.position_embedding(grid)
            assert positions.shape[1:] == tokens.shape[1:] and positions.shape[0] in (1, 2)
            return
    with pytest.raises(TypeError, match=f'{name} adds no positions of its own'):
        tokenizer.position_embedding(grid)
    assert len(tokenizer.init_out_size) == 2  # a host table is 2-D


def check_grid_for_length(name: str) -> None:
    tokenizer, _ = tiny_tokenizer(name)
    own = tuple(tokenizer.init_out_size)
    assert tokenizer.grid_for_length(math.prod(own)) == own
    assert tokenizer.grid_for_length(0) is None
    other = tokenizer.grid_for_length(4 * math.prod(own))
    assert other is None or math.prod(other) == 4 * math.prod(own)


def check_mask_tokens_and_padding(name: str) -> None:
    tokenizer, x = tiny_tokenizer(name)
    with torch.no_grad():
        tokens, grid = tokenizer(x)
    with_cls = torch.cat((tokens[:, :1], tokens), dim=1)
    kept, kept_grid = tokenizer.mask_tokens(with_cls, grid, 1)
    assert kept is with_cls and kept_grid is grid  # in evaluation every token stays
    mask = tokenizer.key_padding_mask(x)
    if mask is not None:
        assert mask.dtype == torch.bool and mask.shape == tokens.shape[:2]


def check_fold(name: str) -> None:
    tokenizer, x = tiny_tokenizer(name)
    A, c = torch.randn(OUT_DIMS, DIMS, generator=_gen(5)), torch.randn(OUT_DIMS, generator=_gen(6))
    folded = tokenizer.fold(A, c, x.shape[1:])
    built = build_tokenizer(folded.cfg, embed_dims=OUT_DIMS).eval()
    built.load_state_dict(folded.state_dict, strict=True)
    with torch.no_grad():
        tokens, grid = tokenizer(x)
        got, got_grid = built(x)
        assert_close(got, tokens @ A.T + c, rtol=1e-5, atol=1e-5)
        if tokenizer.host_pos_embed == 'none':
            assert built.host_pos_embed == 'none'
            assert_close(built.position_embedding(got_grid),
                         tokenizer.position_embedding(grid) @ A.T, rtol=1e-5, atol=1e-5)
    if folded.vit_patch_cfg is not None:  # loads into mmpretrain's ViT as its patch embedding
        vit = MODELS.build(dict(type='VisionTransformer', arch=dict(ARCH, embed_dims=OUT_DIMS),
                                pre_norm=True, **folded.vit_patch_cfg))
        vit.patch_embed.load_state_dict({'projection.weight': folded.state_dict[
            'projection.weight']}, strict=True)


def check_mae_takes_the_mask_defaults(name: str) -> None:
    kwargs, _ = TINY.get(name, ({}, None))
    mae = MODELS.build(dict(type='M2PTMAEViT', arch=copy.deepcopy(ARCH),
                            tokenizer=dict(type=name, **kwargs)))
    assert (mae.mask_ratio, mae.mask_mode, mae.mask_count) == tuple(mae.patch_embed.mask_defaults)


CHECKS = [check_class_attributes, check_input_shape_and_grid, check_positions,
          check_grid_for_length, check_mask_tokens_and_padding, check_fold,
          check_mae_takes_the_mask_defaults]


@pytest.mark.parametrize('check', CHECKS, ids=lambda check: check.__name__[6:])
@pytest.mark.parametrize('name', registered_tokenizers())
def test_every_registered_tokenizer_keeps_the_contract(name, check):
    check(name)


@pytest.fixture
def contributing_example():
    """CONTRIBUTING's example tokenizer, registered as a module of the package while the test
    runs (as its one file would be)."""
    text = (ROOT / 'CONTRIBUTING.md').read_text(encoding='utf-8')
    section = text[text.index('- **A new tokenizer**'):]
    code = textwrap.dedent(section.split('```python\n', 1)[1].split('```', 1)[0])
    namespace = {'__name__': 'm2pt_mm.models.tokenizers.signal',
                 '__package__': 'm2pt_mm.models.tokenizers'}
    exec(compile(code, 'CONTRIBUTING.md', 'exec'), namespace)
    try:
        yield 'SignalTokenizer'
    finally:
        TOKENIZERS.module_dict.pop('SignalTokenizer')


def test_contributing_example_is_a_complete_tokenizer(contributing_example):
    name = contributing_example
    TINY[name] = (dict(in_channels=6, length=64, patch_size=8), None)
    try:
        for check in CHECKS:
            check(name)
        case = Case(dict(tokenizer=dict(type=name, in_channels=6, length=64, patch_size=8)),
                    dict(tokenizer=dict(type=name, in_channels=6, length=32, patch_size=8)),
                    lambda s: torch.randn(2, 6, 64 if s == 'a' else 32, generator=_gen(7)),
                    torch.randn(2, 3, 32, 32), r'SignalTokenizer.*\(B, 6, T\).*\(2, 3, 32, 32\)')
        with pytest.raises(ValueError, match=case.error):
            build(case)(case.wrong)
        a, b = build(case, 'a'), build(case, 'b')
        b.load_state_dict(a.state_dict(), strict=True)  # the time axis of pos_embed resized
        model = build(case)
        x = case.make('a')
        with torch.no_grad():
            unmerged = model(x)[0]
            model.switch_to_deploy()
            assert torch.equal(model(x)[0], unmerged)
    finally:
        TINY.pop(name)
