"""AudioMAE's fine-tuning recipe on the tiny AudioSet in its real format: waveform roll and gain,
the dataset's waveform mixup, structured token masking, the frozen sin-cos position table."""
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmpretrain.registry import DATASETS, TRANSFORMS
from torch.testing import assert_close

import m2pt_mm.datasets  # noqa: F401  registers
from m2pt_mm.datasets.transforms.audio import WaveformMixup
from m2pt_mm.testing.modalities import write_audioset

FRAMES = 128


@pytest.fixture
def audioset(tmp_path):
    """4 one-second clips at 16 kHz; labels [0], [1, 2], [2], [0, 1] of 3 classes."""
    return write_audioset(tmp_path / 'audioset', n=4, num_classes=3)


def load(info, index: int = 0) -> dict:
    path = f'{info["train"]["data_root"]}/audio/train_{index:04d}.wav'
    return TRANSFORMS.build(dict(type='LoadAudioFromFile'))(dict(audio_path=path))


# ------------------------------------------------------------------ roll_mag_aug
def test_roll_shifts_the_waveform_circularly_by_the_drawn_shift(audioset):
    results = load(audioset)
    waveform = results['waveform'].clone()
    assert waveform.shape == (1, 16000)
    np.random.seed(0)  # np.random.randint(16000) draws 2732 after this seed
    out = TRANSFORMS.build(dict(type='RandomWaveformRoll'))(results)
    assert out['roll_shift'] == 2732
    expected = torch.cat([waveform[:, -2732:], waveform[:, :-2732]], dim=1)
    assert_close(out['waveform'], expected, rtol=0, atol=0)
    assert_close(out['waveform'][:, 2732], waveform[:, 0])


def test_gain_scales_the_waveform_by_beta_10_10_plus_half(audioset):
    results = load(audioset)
    waveform = results['waveform'].clone()
    np.random.seed(0)  # np.random.beta(10, 10) draws 0.5971578... after this seed
    out = TRANSFORMS.build(dict(type='RandomWaveformGain'))(results)
    assert out['gain'] == pytest.approx(1.0971578369693007, abs=1e-12)
    assert_close(out['waveform'], waveform * 1.0971578369693007)
    with pytest.raises(ValueError, match=r'waveform.*\(1, L\)'):
        TRANSFORMS.build(dict(type='RandomWaveformGain'))(dict(waveform=torch.zeros(2, 8)))


# ------------------------------------------------------------------ mixup
def test_mixup_with_a_fixed_lambda_mixes_dc_free_waveforms_and_label_vectors(audioset):
    first, second = load(audioset, 0), load(audioset, 1)  # labels [0] and [1, 2]
    w1, w2 = first['waveform'].clone(), second['waveform'].clone()
    first.update(gt_label=[0], num_classes=3)
    second.update(gt_label=[1, 2])
    out = WaveformMixup.mix(first, second, 0.3)
    assert_close(out['waveform'], 0.3 * (w1 - w1.mean()) + 0.7 * (w2 - w2.mean()))
    assert_close(out['gt_score'], torch.tensor([0.3, 0.7, 0.7]))
    assert out['mix_lambda'] == 0.3 and out['mix_audio_path'].endswith('train_0001.wav')
    # a shorter second clip is zero-padded (after removing its mean), a longer one cut
    short = dict(waveform=torch.tensor([[2., 4.]]), gt_label=[0, 1], sample_rate=16000)
    mixed = WaveformMixup.mix(dict(waveform=torch.tensor([[1., 2., 3., 4.]]), gt_label=[0],
                                   sample_rate=16000, num_classes=3), short, 0.5)
    assert_close(mixed['waveform'], torch.tensor([[-1.25, 0.25, 0.25, 0.75]]))
    assert_close(mixed['gt_score'], torch.tensor([1.0, 0.5, 0.0]))  # class 0 is in both
    long = dict(waveform=torch.tensor([[0., 2., 4., 6., 8., 10.]]), gt_label=[2], sample_rate=16000)
    mixed = WaveformMixup.mix(dict(waveform=torch.zeros(1, 3), gt_label=[2], sample_rate=16000,
                                   num_classes=3), long, 0.5)
    assert_close(mixed['waveform'], torch.tensor([[-2.5, -1.5, -0.5]]))


def pipeline(mixup_prob: float):
    return [dict(type='LoadAudioFromFile'), dict(type='RandomWaveformRoll'),
            dict(type='RandomWaveformGain'), dict(type='WaveformMixup', prob=mixup_prob),
            dict(type='KaldiFbank', target_length=FRAMES),
            dict(type='PackInputs', input_key='fbank', meta_keys=('mix_lambda', 'roll_shift',
                                                                  'gain', 'mix_audio_path'))]


def test_dataset_mixes_a_second_clip_with_its_own_roll_and_gain(audioset):
    """The dataset's sample equals AudioMAE's recipe replayed with the same NumPy draws: the
    clip's roll and gain, the mixup draw and partner, the partner's roll and gain, then λ."""
    from torchaudio.compliance import kaldi
    dataset = DATASETS.build(dict(type='AudioSetDataset', pipeline=pipeline(1.0),
                                  **audioset['train']))
    np.random.seed(3)
    sample = dataset[0]
    rng = np.random.RandomState(3)
    shift1, gain1 = rng.randint(16000), rng.beta(10, 10) + 0.5
    assert rng.rand() < 1.0
    partner = rng.randint(4)
    assert partner == 1  # another clip than the first, with other labels ([1, 2])
    shift2, gain2 = rng.randint(16000), rng.beta(10, 10) + 0.5
    lam = rng.beta(10, 10)
    meta = sample['data_samples']
    assert meta.mix_lambda == pytest.approx(lam) and meta.roll_shift == shift1
    assert meta.mix_audio_path.endswith(f'train_{partner:04d}.wav')

    def centred(index, shift, gain):
        w = torch.roll(load(audioset, index)['waveform'], int(shift), dims=1) * gain
        return w - w.mean()

    mix = lam * centred(0, shift1, gain1) + (1 - lam) * centred(partner, shift2, gain2)
    fbank = kaldi.fbank(mix - mix.mean(), htk_compat=True, sample_frequency=16000,
                        use_energy=False, window_type='hanning', num_mel_bins=128, dither=0.0,
                        frame_shift=10)
    expected = torch.nn.functional.pad(fbank, (0, 0, 0, FRAMES - fbank.shape[0]))[None]
    assert_close(sample['inputs'], expected, rtol=1e-4, atol=1e-3)
    assert_close(meta.gt_score, torch.tensor([lam, 1 - lam, 1 - lam], dtype=torch.float32))
    assert meta.gt_label.tolist() == audioset['labels']['train'][0]


def test_unmixed_clips_carry_their_one_hot_score_and_batches_stack(audioset):
    from mmpretrain.models import ClsDataPreprocessor, MultiLabelLinearClsHead
    dataset = DATASETS.build(dict(type='AudioSetDataset', pipeline=pipeline(0.0),
                                  **audioset['train']))
    batch = [dataset[1], dataset[2]]  # labels [1, 2] and [2]
    for sample in batch:
        assert sample['data_samples'].mix_lambda == 1.0
    preprocessor = ClsDataPreprocessor(num_classes=3)
    data = preprocessor(dict(inputs=[b['inputs'] for b in batch],
                             data_samples=[b['data_samples'] for b in batch]), training=True)
    scores = torch.stack([s.gt_score for s in data['data_samples']])
    assert_close(scores, torch.tensor([[0., 1., 1.], [0., 0., 1.]]))
    # the multi-label head trains on the (soft) score vectors: BCE summed over the classes
    head = MultiLabelLinearClsHead(num_classes=3, in_channels=4)
    feats = torch.randn(2, 4)
    loss = head.loss((feats, ), data['data_samples'])['loss']
    logits = head.fc(feats)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, scores,
                                                                   reduction='sum') / 2
    assert_close(loss, expected)


def test_esc50_mixup_trains_the_softmax_head_on_the_mixed_label_vector(tmp_path):
    from mmpretrain.models import LinearClsHead

    from m2pt_mm.testing.modalities import write_esc50
    info = write_esc50(tmp_path / 'esc50', num_classes=3, sample_rate=16000)  # no resampling
    dataset = DATASETS.build(dict(type='ESC50Dataset', pipeline=pipeline(1.0), **info['train']))
    np.random.seed(0)
    sample = dataset[0]['data_samples']
    # ESC-50 names a clip {fold}-{src}-{take}-{target}.wav
    partner = int(sample.mix_audio_path[:-len('.wav')].split('-')[-1])
    assert partner != int(sample.gt_label)  # two classes share the target
    expected = torch.zeros(3)
    expected[int(sample.gt_label)] += sample.mix_lambda
    expected[partner] += 1 - sample.mix_lambda
    assert_close(sample.gt_score, expected)
    assert sample.gt_score.sum().item() == pytest.approx(1.0)
    # mmpretrain's softmax cross-entropy takes the score vector as soft targets
    head = LinearClsHead(num_classes=3, in_channels=4)
    feats = torch.randn(1, 4)
    loss = head.loss((feats, ), [sample])['loss']
    assert_close(loss, -(expected * head.fc(feats).log_softmax(-1)).sum())


def test_mixup_outside_a_mixing_dataset_is_an_error(audioset):
    steps = Compose([dict(type='LoadAudioFromFile'), dict(type='WaveformMixup')])
    path = f'{audioset["train"]["data_root"]}/audio/train_0000.wav'
    with pytest.raises(ValueError, match='needs the dataset to load the clip'):
        steps(dict(audio_path=path, gt_label=[0]))
    with pytest.raises(ValueError, match=r'prob must be in \[0, 1\]'):
        WaveformMixup(prob=1.5)


# ------------------------------------------------------------------ token masking
def fbank_batch(info, n: int = 2) -> torch.Tensor:
    steps = Compose([dict(type='LoadAudioFromFile'), dict(type='KaldiFbank', target_length=FRAMES)])
    return torch.stack([steps(dict(audio_path=f'{info["train"]["data_root"]}/audio/'
                                              f'train_{i:04d}.wav'))['fbank'] for i in range(n)])


def masking_tokenizer(**kwargs):
    from m2pt_mm.models.tokenizers import AudioTokenizer
    return AudioTokenizer(**{'embed_dims': 8, 'num_frames': FRAMES, 'num_mel_bins': 128,
                             'mask_t_prob': 0.2, 'mask_f_prob': 0.2, **kwargs})


def test_token_masking_drops_whole_time_columns_and_frequency_rows(audioset):
    tokenizer = masking_tokenizer()
    tokens, grid = tokenizer(fbank_batch(audioset))
    assert grid == (8, 8) and tokens.shape == (2, 64, 8)
    x = torch.cat([torch.full((2, 1, 8), -1.), tokens], dim=1)  # a class token in front
    tokenizer.eval()
    assert tokenizer.mask_tokens(x, grid, 1)[0] is x  # evaluation sees every token
    tokenizer.train()
    out, kept_grid = tokenizer.mask_tokens(x, grid, 1, generator=torch.Generator().manual_seed(0))
    assert kept_grid == (6, 6)  # AudioMAE: int(8 · 0.8) of each axis
    # the kept time columns / frequency rows of each sample for this generator (time drawn first)
    times = [[0, 2, 3, 4, 5, 6], [0, 2, 3, 4, 5, 6]]
    freqs = [[0, 1, 2, 3, 4, 6], [0, 1, 3, 4, 5, 6]]  # each sample its own draw
    for b in range(2):
        grid_tokens = tokens[b].reshape(8, 8, 8)  # (time, frequency, dims)
        expected = grid_tokens[times[b]][:, freqs[b]].reshape(36, 8)
        assert_close(out[b, 1:], expected, rtol=0, atol=0)
        assert_close(out[b, 0], x[b, 0])
    # AudioSet's 64 × 8 grid keeps 51 × 6 tokens, as AudioMAE's int(T · 0.8), int(F · 0.8)
    full = masking_tokenizer(num_frames=1024)
    x = torch.zeros(1, 1 + 512, 8)
    assert full.mask_tokens(x, (64, 8), 1)[1] == (51, 6)
    assert full.mask_tokens(x, (64, 8), 1)[0].shape == (1, 1 + 51 * 6, 8)
    with pytest.raises(ValueError, match=r'must be in \[0, 1\)'):
        masking_tokenizer(mask_t_prob=1.0)


def audiomae_sincos(embed_dim: int, grid_size) -> np.ndarray:
    """AudioMAE's ``get_2d_sincos_pos_embed_flexible(embed_dim, grid_size, cls_token=True)``."""
    grid_h = np.arange(grid_size[0], dtype=np.float32)
    grid_w = np.arange(grid_size[1], dtype=np.float32)
    grid = np.stack(np.meshgrid(grid_w, grid_h), axis=0).reshape([2, 1, *grid_size])

    def one_d(dims, pos):
        omega = 1. / 10000**(np.arange(dims // 2, dtype=np.float64) / (dims / 2.))
        out = np.einsum('m,d->md', pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    emb = np.concatenate([one_d(embed_dim // 2, grid[0]), one_d(embed_dim // 2, grid[1])], axis=1)
    return np.concatenate([np.zeros([1, embed_dim]), emb], axis=0)


def tiny_audio_backbone(**tokenizer):
    from m2pt_mm.models import M2PTVisionTransformer
    backbone = M2PTVisionTransformer(
        arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
        tokenizer=dict(type='AudioTokenizer', num_frames=FRAMES, num_mel_bins=128, **tokenizer),
        out_type='featmap', final_norm=False)
    backbone.init_weights()
    return backbone


def test_frozen_sincos_table_is_audiomae_formula_and_not_trained():
    backbone = tiny_audio_backbone(sincos_pos_embed=True)
    assert backbone.pos_embed.shape == (1, 1 + 8 * 8, 32)
    assert not backbone.pos_embed.requires_grad
    expected = torch.from_numpy(audiomae_sincos(32, (8, 8))).float()[None]
    assert_close(backbone.pos_embed.detach(), expected)
    assert 'pos_embed' in dict(backbone.named_parameters())  # still AudioMAE's checkpoint key
    plain = tiny_audio_backbone()  # default: mmpretrain's learned, trained table
    assert plain.pos_embed.requires_grad
    assert not torch.allclose(plain.pos_embed.detach(), expected)


def test_backbone_masks_tokens_after_adding_positions_in_training_only(audioset):
    """Each token a training step sees is one of the evaluation's position-added tokens, and the
    kept ones form whole time columns × frequency rows."""
    backbone = tiny_audio_backbone(mask_t_prob=0.2, mask_f_prob=0.2, sincos_pos_embed=True)
    seen = []
    backbone.layers[0].register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    fbank = fbank_batch(audioset, 1)
    with torch.no_grad():
        backbone.eval()
        assert backbone(fbank)[0].shape == (1, 32, 8, 8)
        backbone.train()
        assert backbone(fbank)[0].shape == (1, 32, 6, 6)  # featmap of the kept grid
    full, masked = seen[0][0], seen[1][0]
    assert masked.shape == (1 + 36, 32)
    assert_close(masked[0], full[0])  # the class token stays
    match = (masked[1:, None] - full[None, 1:]).abs().amax(-1)  # [36, 64]
    assert (match.min(dim=1).values < 1e-6).all()  # each kept token with its own position
    positions = match.argmin(dim=1)
    times, freqs = sorted(set((positions // 8).tolist())), sorted(set((positions % 8).tolist()))
    assert len(times) == len(freqs) == 6
    assert positions.tolist() == [t * 8 + f for t in times for f in freqs]


def test_a_loaded_table_replaces_the_sincos_one_and_stays_out_of_the_optimizer(tmp_path):
    """AudioMAE loads its checkpoint's table into the frozen parameter; the recipe's optimizer
    (layer decay constructor) leaves it out."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import MODELS

    from tests.helpers import TINY_AUDIO
    cfg = Config.fromfile(str(TINY_AUDIO))  # the recipe's optimizer, layer decay included
    cfg.model.backbone.pathway = None
    state = MODELS.build(cfg.model).backbone.state_dict()
    state['pos_embed'] = torch.randn_like(state['pos_embed'])
    torch.save(state, tmp_path / 'target.pth')
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(tmp_path / 'target.pth'))
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert_close(model.backbone.pos_embed.detach(), state['pos_embed'])
    assert not model.backbone.pos_embed.requires_grad
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    optimised = {id(p) for group in wrapper.optimizer.param_groups for p in group['params']}
    assert id(model.backbone.pos_embed) not in optimised
    assert id(model.backbone.cls_token) in optimised
