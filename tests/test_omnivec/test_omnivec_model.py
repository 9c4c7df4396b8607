"""OmniVec model: encoders, meta tokens, FiLM projection, the shared trunk, vectorizer, heads,
masked pretraining, single-modality export and the trunk as an M2PT auxiliary model.

Batches are built by hand in the interface format: ``inputs={modality: Tensor}``,
``data_samples={modality: [DataSample with metainfo task]}``.
"""
import copy

import pytest
import torch
from mmengine.structures import PixelData
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import m2pt_mm.models  # noqa: F401  registers
from m2pt_mm.checkpoints import CheckpointError, read_checkpoint
from m2pt_mm.models.backbones import M2PTVisionTransformer
from m2pt_mm.models.omnivec import MODALITIES, OmniVecMLMHead, export_single_modality, meta_fields
from m2pt_mm.models.tokenizers.text import MASK_ID, PAD_ID

DIMS, DEPTH, OMNI = 32, 2, 24
TRUNK = dict(arch=dict(embed_dims=DIMS, num_layers=DEPTH, num_heads=2, feedforward_channels=64))

#: modality → (encoder, one sample's input shape)
ENCODERS = {
    'image': (dict(tokenizer=dict(type='ImageTokenizer', img_size=16, patch_size=4)), (3, 16, 16)),
    'depth': (dict(tokenizer=dict(type='ImageTokenizer', in_channels=4, img_size=16,
                                  patch_size=4)), (4, 16, 16)),
    'audio': (dict(tokenizer=dict(type='AudioTokenizer', num_frames=32, num_mel_bins=16,
                                  patch_size=8)), (1, 32, 16)),
    'video': (dict(tokenizer=dict(type='VideoTokenizer', num_frames=4, img_size=16, patch_size=8,
                                  tubelet_size=2)), (3, 4, 16, 16)),
    'point': (dict(tokenizer=dict(type='PointTokenizer', num_groups=8, group_size=8)), (64, 3)),
    'text': (dict(tokenizer=dict(type='TextTokenizer', vocab_size=40, max_length=12)), (12, )),
}


def _decoder(predict: int, **kwargs) -> dict:
    return dict(decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2, mlp_ratio=2.,
                predict_feature_dim=predict, **kwargs)


def _pixels(patch: int, channels: int, **kwargs) -> dict:
    return dict(type='M2PTMAEHead', norm_pix=True, patch_size=patch, in_channels=channels,
                loss=dict(type='PixelReconstructionLoss', criterion='L2'), **kwargs)


CLS = dict(type='LinearClsHead', num_classes=3, loss=dict(type='CrossEntropyLoss'))
SUPERVISED = {
    'image_cls': dict(CLS, modality='image'),
    'depth_seg': dict(type='mmseg.FCNHead', modality='depth', channels=16, num_convs=1,
                      concat_input=False, num_classes=3),
    'audio_cls': dict(type='MultiLabelLinearClsHead', num_classes=3, modality='audio',
                      input='cls'),
    'video_cls': dict(CLS, modality='video'),
    'point_seg': dict(type='PointPartSegHead', modality='point', num_classes=4,
                      num_categories=None, fp_channels=(32, ), mid_channels=(16, ),
                      in_indices=(0, 1), norm_outs=True),
    'text_cls': dict(CLS, modality='text'),
}
PRETRAIN = {
    'image_mae': dict(type='OmniVecMAEHead', modality='image', decoder=_decoder(4 * 4 * 3),
                      loss=_pixels(4, 3)),
    'depth_mae': dict(type='OmniVecMAEHead', modality='depth', decoder=_decoder(4 * 4 * 4),
                      loss=_pixels(4, 4)),
    'audio_mae': dict(type='OmniVecMAEHead', modality='audio', decoder=_decoder(8 * 8),
                      mask_ratio=0.75,  # 8 tokens: 0.9 would leave none visible
                      loss=_pixels(8, 1)),
    'video_mae': dict(type='OmniVecMAEHead', modality='video', decoder=_decoder(2 * 8 * 8 * 3),
                      mask_ratio=0.75,
                      loss=_pixels(8, 3, tubelet_size=2)),
    'point_mae': dict(type='OmniVecMAEHead', modality='point',
                      decoder=_decoder(3 * 8, pos_embed='mlp'),
                      loss=dict(type='PointMAEHead', group_size=8)),
    'text_mlm': dict(type='OmniVecMLMHead', modality='text', mask_ratio=0.5, predict_ratio=0.25),
}


def build(encoders=None, heads=None, **kwargs) -> torch.nn.Module:
    cfg = dict(type='OmniVec', trunk=copy.deepcopy(TRUNK),
               encoders=encoders or {m: copy.deepcopy(e) for m, (e, _) in ENCODERS.items()},
               heads=copy.deepcopy(heads or {**SUPERVISED, **PRETRAIN}),
               vectorizer=dict(out_dims=OMNI, num_tokens=4))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def sample_input(modality: str, batch: int = 2, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    shape = ENCODERS[modality][1]
    if modality == 'text':
        ids = torch.randint(5, 40, (batch, *shape), generator=g)
        ids[:, 9:] = PAD_ID  # 9 real tokens, then padding
        return ids
    return torch.randn(batch, *shape, generator=g)


def samples(modality: str, task: str, batch: int = 2) -> list:
    out = []
    for k in range(batch):
        s = DataSample(metainfo=dict(task=task, modality=modality)).set_gt_label(k % 3)
        if task == 'depth_seg':
            s.gt_sem_seg = PixelData(data=torch.full((1, 16, 16), k % 3, dtype=torch.long))
        if task == 'point_seg':
            s.gt_seg_label = torch.arange(64) % 4
        out.append(s)
    return out


def batch(tasks: dict, size: int = 2) -> tuple:
    """``{modality: task}`` → (inputs, data_samples) in the interface format."""
    inputs = {m: sample_input(m, size) for m in sorted(tasks)}
    return inputs, {m: samples(m, tasks[m], size) for m in sorted(tasks)}


SUPERVISED_BATCH = {SUPERVISED[t]['modality']: t for t in SUPERVISED}


@pytest.fixture(scope='module')
def model():
    from mmengine.registry import DefaultScope
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):  # as configs run
        return build()


# ---------------------------------------------------------------- state-dict names
def test_state_dict_names_follow_the_interface(model):
    keys = list(model.state_dict())
    assert 'trunk.cls_token' in keys and 'trunk.ln1.weight' in keys
    for name in ('attn.qkv.weight', 'attn.proj.weight', 'ffn.layers.0.0.weight',
                 'ffn.layers.1.weight', 'ln1.weight', 'ln2.weight'):
        assert f'trunk.layers.1.{name}' in keys
    assert 'encoders.image.tokenizer.projection.weight' in keys
    assert 'encoders.image.pos_embed' in keys
    assert 'encoders.text.tokenizer.token_embed.weight' in keys
    assert 'projections.depth.film.weight' in keys and 'projections.depth.norm.weight' in keys
    assert 'meta.modality_embed.weight' in keys and 'vectorizer.projection.weight' in keys
    assert 'heads.image_cls.fc.weight' in keys and 'heads.point_mae.decoder.mask_token' in keys
    # an mmseg head is built in mmseg's scope: its loss is mmseg's, not mmpretrain's namesake
    assert type(model.heads['depth_seg'].loss_decode).__module__.startswith('mmseg.')
    # the paper's mask ratios unless a config sets one (audio and video do: 8 tokens)
    assert (model.heads['image_mae'].mask_ratio, model.heads['depth_mae'].mask_ratio) == (.9, .9)
    assert model.heads['point_mae'].mask_ratio == .8
    assert model.heads['text_mlm'].mask_ratio == .5 and model.heads['video_mae'].mask_ratio == .75
    prefixes = {k.split('.')[0] for k in keys}
    assert prefixes == {'trunk', 'encoders', 'projections', 'meta', 'vectorizer', 'heads'}
    # the trunk has the M2PT backbone's block names and nothing of its stem
    trunk_keys = set(model.trunk.state_dict())
    vit = M2PTVisionTransformer(arch=TRUNK['arch'], img_size=16, patch_size=4)
    assert trunk_keys == set(vit.state_dict()) - {'pos_embed', 'patch_embed.projection.weight',
                                                   'patch_embed.projection.bias'}


# ---------------------------------------------------------------- the shared trunk
def test_one_trunk_gets_gradients_from_every_modality_of_a_mixed_batch(model):
    model.train()
    calls = []
    handle = model.trunk.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    try:
        losses = model(*batch(SUPERVISED_BATCH), mode='loss')
    finally:
        handle.remove()
    assert len(calls) == len(MODALITIES)  # one trunk call per modality group
    trunk_params = [p for p in model.trunk.parameters() if p.requires_grad]
    per_modality = {}
    for task, spec in SUPERVISED.items():
        task_loss = sum(v for k, v in losses.items() if k.startswith(f'{task}.') and 'loss' in k)
        grads = torch.autograd.grad(task_loss, trunk_params, retain_graph=True,
                                    allow_unused=True)
        assert all(g is not None for g in grads), task
        per_modality[spec['modality']] = grads
        assert sum(float(g.abs().sum()) for g in grads) > 0, task
    model.zero_grad()
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for k, param in enumerate(trunk_params):  # one parameter set accumulates all six
        torch.testing.assert_close(param.grad, sum(g[k] for g in per_modality.values()))


def test_train_step_takes_the_collated_lists_and_updates_the_trunk():
    from mmengine.optim import OptimWrapper
    model = build(heads=SUPERVISED)
    inputs, data = batch(dict(image='image_cls', point='point_seg', text='text_cls'))
    collated = dict(inputs={m: list(x) for m, x in inputs.items()}, data_samples=data)
    before = model.trunk.layers[0].attn.qkv.weight.detach().clone()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log = model.train_step(collated, optim)
    assert {'loss', 'image_cls.loss', 'point_seg.loss', 'point_seg.accuracy',
            'text_cls.loss'} <= set(log)
    torch.testing.assert_close(log['loss'], log['image_cls.loss'] + log['point_seg.loss']
                               + log['text_cls.loss'])
    assert not torch.equal(before, model.trunk.layers[0].attn.qkv.weight)


def test_loss_weights_scale_only_their_task():
    torch.manual_seed(0)
    plain = build(heads=SUPERVISED)
    weighted = build(heads=SUPERVISED, loss_weights=dict(image_cls=0.25))
    weighted.load_state_dict(plain.state_dict())
    tasks = dict(image='image_cls', audio='audio_cls')
    a, b = plain(*batch(tasks), mode='loss'), weighted(*batch(tasks), mode='loss')
    torch.testing.assert_close(b['image_cls.loss'], 0.25 * a['image_cls.loss'])
    torch.testing.assert_close(b['audio_cls.loss'], a['audio_cls.loss'])


def test_two_tasks_of_one_modality_share_one_trunk_call():
    heads = dict(SUPERVISED, image_cls2=dict(CLS, modality='image', input='cls'))
    model = build(heads=heads)
    calls = []
    model.trunk.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    inputs = {'image': sample_input('image', 4)}
    data = {'image': samples('image', 'image_cls', 2) + samples('image', 'image_cls2', 2)}
    losses = model(inputs, data, mode='loss')
    assert calls == [4]
    assert set(losses) == {'image_cls.loss', 'image_cls2.loss'}


# ---------------------------------------------------------------- meta tokens, projection
def test_meta_fields_table():
    assert meta_fields('image', (2, 3, 16, 24)) == dict(T=None, H=16, W=24, C=3, L=None)
    assert meta_fields('depth', (2, 4, 16, 16))['C'] == 4
    assert meta_fields('audio', (2, 1, 32, 16)) == dict(T=None, H=32, W=16, C=1, L=None)
    assert meta_fields('video', (2, 3, 4, 16, 8)) == dict(T=4, H=16, W=8, C=3, L=None)
    assert meta_fields('point', (2, 64, 6)) == dict(T=None, H=None, W=None, C=6, L=64)
    assert meta_fields('text', (2, 12)) == dict(T=None, H=None, W=None, C=None, L=12)
    with pytest.raises(ValueError, match=r'video batch must have the shape \(B, C, T, H, W\)'):
        meta_fields('video', (2, 3, 16, 16))


def test_meta_tokens_differ_per_modality_and_change_the_projection(model):
    metas = {m: model.meta(m, (2, *ENCODERS[m][1])) for m in MODALITIES}
    for a in MODALITIES:
        for b in MODALITIES:
            if a < b:
                assert not torch.allclose(metas[a], metas[b], atol=1e-4), (a, b)
    # the same modality at another size has another meta vector
    assert not torch.allclose(metas['image'], model.meta('image', (2, 3, 32, 32)), atol=1e-4)
    # image and depth meta through the depth projection: same tokens, different outputs
    projection = model.projections['depth']
    tokens = torch.randn(2, 16, DIMS)
    with torch.no_grad():
        as_depth = projection(tokens, metas['depth'])
        as_image = projection(tokens, metas['image'])
    assert (as_depth - as_image).abs().max() > 1e-3
    # FiLM: (1 + γ) ⊙ (W x + b) + β, then the LayerNorm
    scale, shift = projection.modulation(metas['depth'])
    expected = projection.norm(projection.linear(tokens) * scale + shift)
    torch.testing.assert_close(as_depth, expected)


def test_meta_tokens_of_absent_fields_are_learned_none_embeddings(model):
    # text has no T/H/W/C: its meta vector is its modality row + the L MLP + four "none" rows
    meta = model.meta
    expected = (meta.modality_embed.weight[MODALITIES.index('text')] + meta.none_embed[:4].sum(0)
                + meta.size_mlps['L'](torch.tensor([torch.log1p(torch.tensor(12.)).item()])))
    torch.testing.assert_close(meta('text', (2, 12)), expected)


# ---------------------------------------------------------------- vectorizer, tensor mode
def test_vectorizer_gives_one_omni_embedding_per_sample_and_modality(model):
    model.eval()
    inputs = {m: sample_input(m, 3) for m in MODALITIES}
    with torch.no_grad():
        omni = model(inputs, mode='tensor')
    assert sorted(omni) == sorted(MODALITIES)
    for modality, embedding in omni.items():
        assert embedding.shape == (3, OMNI), modality
    # token counts differ (image 16, audio 8, point 8, text 12): the pooling makes them fit
    out = model.encode('image', inputs['image'])
    assert out.tokens().shape == (3, 16, DIMS)
    pooled = torch.nn.functional.adaptive_avg_pool1d(out.tokens().transpose(1, 2), 4)
    torch.testing.assert_close(
        omni['image'], model.vectorizer.projection(pooled.transpose(1, 2).flatten(1)))


def test_predict_returns_samples_in_batch_order_with_predictions(model):
    model.eval()
    inputs, data = batch(SUPERVISED_BATCH, 2)
    with torch.no_grad():
        out = model(inputs, data, mode='predict')
    assert [s.metainfo['modality'] for s in out] == [m for m in sorted(SUPERVISED_BATCH)
                                                    for _ in range(2)]
    for sample in out:
        assert sample.omni_embedding.shape == (OMNI, )
        task = sample.metainfo['task']
        if task.endswith('_cls'):
            assert sample.pred_score.shape == (3, )
        elif task == 'depth_seg':
            assert sample.pred_sem_seg.data.shape == (1, 16, 16)
        else:
            assert sample.pred_seg_label.shape == (64, )


# ---------------------------------------------------------------- masked pretraining
@pytest.mark.parametrize('task', sorted(PRETRAIN))
def test_masked_pretraining_step_lowers_the_loss_on_a_fixed_batch(task):
    torch.manual_seed(0)
    modality = PRETRAIN[task]['modality']
    model = build(encoders={modality: copy.deepcopy(ENCODERS[modality][0])},
                  heads={task: PRETRAIN[task]})
    inputs, data = batch({modality: task}, 4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)

    def loss() -> torch.Tensor:
        torch.manual_seed(1)  # the same mask every time
        return model(inputs, data, mode='loss')[f'{task}.loss']

    first = loss()
    assert torch.isfinite(first)
    for _ in range(5):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    assert loss().item() < 0.9 * first.item()


def test_mae_masks_before_the_encoder_blocks_and_the_trunk():
    heads = {'image_mae': dict(PRETRAIN['image_mae'], mask_ratio=0.75)}
    encoders = {'image': dict(ENCODERS['image'][0], depth=1, num_heads=2)}
    model = build(encoders=encoders, heads=heads)
    seen = []
    model.encoders['image'].blocks[0].register_forward_hook(lambda m, i, o: seen.append(i[0].shape))
    model.trunk.register_forward_hook(lambda m, i, o: seen.append(i[0].shape))
    model(*batch({'image': 'image_mae'}), mode='loss')
    # 16 tokens, 4 visible (MAE's int(16 · 0.25)); the trunk adds the class token
    assert seen == [torch.Size([2, 4, DIMS]), torch.Size([2, 5, DIMS])]


def test_mlm_corruption_follows_the_documented_counts_and_8_1_1():
    head = OmniVecMLMHead(in_channels=DIMS, vocab_size=40, mask_ratio=0.95, predict_ratio=0.05)
    ids = torch.randint(5, 40, (4000, 40))
    ids[:, 20:] = PAD_ID  # 20 real tokens: round(0.95·20) = 19 masked, round(0.05·20) = 1 predicted
    torch.manual_seed(0)
    corrupted, (predicted, original) = head.corrupt(ids)
    assert original is ids
    assert predicted.sum(1).eq(1).all() and not predicted[:, 20:].any()
    torch.testing.assert_close(corrupted[:, 20:], ids[:, 20:])  # padding untouched
    masked_only = (corrupted == MASK_ID) & ~predicted
    assert masked_only.sum(1).eq(18).all()  # the other 18 masked tokens are all [MASK]
    unchanged = (corrupted == ids)[:, :20] & ~predicted[:, :20]
    assert unchanged.sum(1).eq(1).all()  # 20 - 19 tokens stay visible
    p_corrupted, p_ids = corrupted[predicted], ids[predicted]
    as_mask = (p_corrupted == MASK_ID).float().mean().item()
    kept = (p_corrupted == p_ids).float().mean().item()
    assert abs(as_mask - 0.8) < 0.03 and 0.07 < kept < 0.14  # 10 % kept (+ random hits)
    assert ((p_corrupted != MASK_ID) & (p_corrupted != p_ids)).float().mean().item() > 0.07


# ---------------------------------------------------------------- export
EXPORTABLE = ['image', 'depth', 'audio', 'video', 'text', 'point']


@pytest.mark.parametrize('modality', EXPORTABLE)
def test_export_loads_strict_into_m2pt_vit_and_gives_identical_features(modality):
    torch.manual_seed(0)
    encoder = copy.deepcopy(ENCODERS[modality][0])
    if modality == 'point':  # the mini-PointNet max-pools after its last layer: no fold
        encoder['tokenizer']['group_embed'] = 'adjacency'
    head = dict(CLS, modality=modality)
    model = build(encoders={modality: encoder}, heads={'cls': head}).eval()
    with torch.no_grad():  # move every parameter off its init (FiLM, norms, positions)
        for p in model.parameters():
            p.add_(torch.randn_like(p) * .05)
    shape = ENCODERS[modality][1]
    if modality == 'image':  # another size than configured: resized positions fold too
        shape = (3, 24, 24)
    state, cfg = export_single_modality(model, modality, input_shape=shape, out_type='raw')
    assert cfg.pop('type') == 'M2PTVisionTransformer' and cfg['pre_norm']
    vit = M2PTVisionTransformer(**cfg)
    vit.load_state_dict(state, strict=True)
    vit.eval()
    x = sample_input(modality, 2) if modality != 'image' else torch.randn(2, *shape)
    with torch.no_grad():
        expected = model.encode(modality, x).outs[-1]
        got = vit(x)[0]
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_export_refuses_what_does_not_fold():
    encoders = {'image': dict(ENCODERS['image'][0], depth=1, num_heads=2),
                'point': copy.deepcopy(ENCODERS['point'][0])}
    model = build(encoders=encoders, heads={'cls': dict(CLS, modality='image')})
    with pytest.raises(ValueError, match='only a depth-0 encoder'):
        export_single_modality(model, 'image')
    with pytest.raises(ValueError, match="group_embed='pointnet' does not fold"):
        export_single_modality(model, 'point', input_shape=(64, 3))
    with pytest.raises(KeyError, match="no 'audio' encoder"):
        export_single_modality(model, 'audio')


# ---------------------------------------------------------------- trunk as M2PT aux
def test_omnivec_checkpoint_is_an_m2pt_aux_model(model, tmp_path):
    path = tmp_path / 'omnivec.pth'
    state = dict(model.state_dict())
    state['data_preprocessor.preprocessors.image.mean'] = torch.zeros(3, 1, 1)  # normalisation
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), path)
    ckpt = read_checkpoint(str(path))
    assert ckpt.format == 'omnivec/trunk' and (ckpt.depth, ckpt.embed_dims) == (DEPTH, DIMS)
    assert sorted(ckpt.dropped) == sorted(k for k in state if not k.startswith('trunk.'))
    assert any(k.startswith('encoders.') for k in ckpt.dropped)
    assert any(k.startswith('heads.') for k in ckpt.dropped)
    assert not [k for k in ckpt.state_dict if k.startswith('trunk.')]

    vit = M2PTVisionTransformer(arch=TRUNK['arch'], img_size=16, patch_size=4,
                                pathway=dict(aux_checkpoint=str(path)))
    vit.init_weights()
    for i in range(DEPTH):
        for path_name in ('attn.qkv', 'attn.proj', 'ffn.layers.0.0', 'ffn.layers.1'):
            layer = vit.layers[i].get_submodule(path_name)
            torch.testing.assert_close(
                layer.aux_weight, model.trunk.layers[i].get_submodule(path_name).weight)


@pytest.mark.parametrize('arch, message', [
    (dict(embed_dims=48, num_layers=DEPTH, num_heads=2, feedforward_channels=64),
     'has 2 blocks of width 32, but the backbone has 2 blocks of width 48'),
    (dict(embed_dims=DIMS, num_layers=3, num_heads=2, feedforward_channels=64),
     'has 2 blocks of width 32, but the backbone has 3 blocks of width 32'),
])
def test_trunk_checkpoint_of_the_wrong_shape_is_refused(model, tmp_path, arch, message):
    path = tmp_path / 'omnivec.pth'
    torch.save(model.state_dict(), path)
    vit = M2PTVisionTransformer(arch=arch, img_size=16, patch_size=4,
                                pathway=dict(aux_checkpoint=str(path)))
    with pytest.raises(CheckpointError, match=message):
        vit.init_weights()


# ---------------------------------------------------------------- bad input
def test_bad_batches_get_clear_errors(model):
    inputs, data = batch({'image': 'image_cls'})
    with pytest.raises(KeyError, match="'sound' inputs but the model has no encoder"):
        model({'sound': inputs['image']}, {'sound': data['image']}, mode='loss')
    with pytest.raises(KeyError, match="task 'image_det' has no head"):
        model(inputs, {'image': samples('image', 'image_det')}, mode='loss')
    with pytest.raises(ValueError, match="the head of task 'audio_cls' is for audio inputs"):
        model(inputs, {'image': samples('image', 'audio_cls')}, mode='loss')
    untagged = {'image': [DataSample().set_gt_label(0)] * 2}
    with pytest.raises(KeyError, match="task None has no head"):
        model(inputs, untagged, mode='loss')
    with pytest.raises(ValueError, match='2 inputs but 1 data samples'):
        model(inputs, {'image': data['image'][:1]}, mode='loss')
    with pytest.raises(ValueError, match=r"\['image_mae'\] are pretraining tasks"):
        model(inputs, {'image': samples('image', 'image_mae')}, mode='predict')


def test_bad_model_configs_get_clear_errors():
    with pytest.raises(KeyError, match="modality 'sound' has no encoder"):
        build(heads={'x_cls': dict(CLS, modality='sound')})
    with pytest.raises(KeyError, match="loss_weights names tasks without a head: \\['typo'\\]"):
        build(heads=SUPERVISED, loss_weights=dict(typo=2.))
    with pytest.raises(ValueError, match="reads \\('featmap',\\), not input='cls'"):
        build(heads={'seg': dict(SUPERVISED['depth_seg'], input='cls')})
    with pytest.raises(ValueError, match='must not contain "loss"'):
        build(heads={'gloss_cls': dict(CLS, modality='image')})
    with pytest.raises(KeyError, match="unknown modalities \\['sonar'\\]"):
        build(encoders={'sonar': ENCODERS['image'][0]}, heads=SUPERVISED)
    with pytest.raises(ValueError, match="OmniVecTrunk takes no \\['img_size'\\]"):
        build(trunk=dict(TRUNK, img_size=224), heads={'cls': dict(CLS, modality='image')})


def test_text_longer_than_the_encoder_maximum_is_refused(model):
    too_long = torch.randint(5, 40, (2, 13))
    with pytest.raises(ValueError, match='13 tokens exceed max_length=12'):
        model({'text': too_long}, {'text': samples('text', 'text_cls')}, mode='loss')


# ---------------------------------------------------------------- text vocabulary and transform
TEXTS = ['the quick brown fox jumps over the lazy dog', 'a handwritten seven on a grey scan',
         'points sampled on the surface of a chair', 'a dog barks twice in the recording'] * 5


def test_text_vocabulary_is_built_locally(tmp_path):
    from m2pt_mm.models.tokenizers import TextTokenizer
    from m2pt_mm.text_vocab import SPECIAL_TOKENS, build_text_vocab, load_text_vocab
    first = build_text_vocab(TEXTS, 60, tmp_path / 'a' / 'vocab.json')
    vocab = load_text_vocab(first).get_vocab()
    assert len(vocab) == 60
    ordered = sorted(vocab, key=vocab.get)
    assert ordered[:5] == list(SPECIAL_TOKENS) and ordered[5:] == sorted(ordered[5:])
    # the pieces spell the text back (lower-cased by BERT's normaliser)
    encoded = load_text_vocab(first).encode('The lazy DOG barks')
    assert ''.join(t.removeprefix('##') for t in encoded.tokens) == 'thelazydogbarks'
    tokenizer = TextTokenizer(embed_dims=8, vocab_file=str(first), max_length=16)
    assert tokenizer.vocab_size == 60
    with pytest.raises(ValueError, match='vocab_size=50 but .* has 60 tokens'):
        TextTokenizer(embed_dims=8, vocab_size=50, vocab_file=str(first))


def test_tokenize_text_truncates_and_records_it_or_refuses(tmp_path):
    from mmcv.transforms import Compose

    from m2pt_mm.datasets.transforms import TokenizeText
    from m2pt_mm.text_vocab import build_text_vocab
    vocab = str(build_text_vocab(TEXTS, 60, tmp_path / 'vocab.json'))
    pack = dict(type='PackInputs', input_key='input_ids',
                meta_keys=('sample_idx', 'text_length', 'num_text_tokens', 'truncated'))
    pipeline = Compose([dict(type='TokenizeText', vocab_file=vocab, max_length=6), pack])
    short = pipeline(dict(text='the dog', sample_idx=0))
    ids = short['inputs']
    assert ids.dtype == torch.long and ids.shape == (6, )
    n = short['data_samples'].text_length
    assert n >= 2 and ids[n:].eq(PAD_ID).all() and ids[:n].ge(5).all()
    assert short['data_samples'].truncated is False

    long = pipeline(dict(text=TEXTS[0], sample_idx=1))
    full = TokenizeText(vocab, max_length=64)(dict(text=TEXTS[0]))
    assert long['data_samples'].truncated is True
    assert long['data_samples'].text_length == 6
    assert long['data_samples'].num_text_tokens == full['text_length'] > 6
    torch.testing.assert_close(long['inputs'], full['input_ids'][:6])

    strict = TokenizeText(vocab, max_length=6, overflow='error')
    with pytest.raises(ValueError, match=r'sample 7 has \d+ tokens, more than max_length=6'):
        strict(dict(text=TEXTS[0], sample_idx=7))
    with pytest.raises(ValueError, match="needs a string under 'text'"):
        strict(dict(sentence='no text key', sample_idx=3))


def test_export_tool_writes_a_checkpoint_the_backbone_loads(tmp_path):
    from m2pt_mm.checkpoints import load_checkpoint_file
    from tests.helpers import call_tool
    torch.manual_seed(0)
    encoders = {'image': copy.deepcopy(ENCODERS['image'][0])}
    heads = {'cls': dict(CLS, modality='image')}
    model = build(encoders=encoders, heads=heads).eval()
    config = tmp_path / 'omnivec_tiny.py'
    model_cfg = dict(type='OmniVec', trunk=TRUNK, encoders=encoders, heads=heads,
                     vectorizer=dict(out_dims=OMNI, num_tokens=4))
    config.write_text(f"default_scope = 'mmpretrain'\nmodel = {model_cfg!r}\n")
    ckpt, out = tmp_path / 'epoch_1.pth', tmp_path / 'image_vit.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), ckpt)
    call_tool('model_converters/omnivec_export', config, ckpt, '--modality', 'image', out,
              '--out-type', 'raw')
    saved = load_checkpoint_file(str(out))
    cfg = dict(saved['meta']['backbone_cfg'])
    assert cfg.pop('type') == 'M2PTVisionTransformer'
    vit = M2PTVisionTransformer(**cfg).eval()
    vit.load_state_dict({k.removeprefix('backbone.'): v for k, v in saved['state_dict'].items()},
                        strict=True)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(vit(x)[0], model.encode('image', x).outs[-1],
                                   rtol=1e-5, atol=1e-5)


def test_export_tool_refuses_nan_weights_and_other_shapes(tmp_path):
    from m2pt_mm.checkpoints import CheckpointError
    from tests.helpers import call_tool
    encoders = {'image': copy.deepcopy(ENCODERS['image'][0])}
    heads = {'cls': dict(CLS, modality='image')}
    model = build(encoders=encoders, heads=heads)
    config = tmp_path / 'omnivec_tiny.py'
    model_cfg = dict(type='OmniVec', trunk=TRUNK, encoders=encoders, heads=heads,
                     vectorizer=dict(out_dims=OMNI, num_tokens=4))
    config.write_text(f"default_scope = 'mmpretrain'\nmodel = {model_cfg!r}\n")
    key = 'trunk.layers.0.ffn.layers.1.weight'
    for name, value, message in [
            ('nan', torch.full_like(model.state_dict()[key], float('nan')),
             f"key '{key}' holds {model.state_dict()[key].numel()} non-finite value"),
            ('wide', torch.zeros(1, 1), rf"shapes differ at '{key}': checkpoint \[1, 1\]")]:
        ckpt, out = tmp_path / f'{name}.pth', tmp_path / f'{name}_vit.pth'
        torch.save(dict(state_dict=dict(model.state_dict(), **{key: value})), ckpt)
        with pytest.raises(CheckpointError, match=message):
            call_tool('model_converters/omnivec_export', config, ckpt, '--modality', 'image', out)
        assert not out.exists()


def test_a_classification_only_model_never_imports_mmseg():
    # a fresh process: this one has mmseg loaded by other tests
    import subprocess
    import sys

    from tests.helpers import ROOT
    code = ('import sys\nfrom mmengine.config import Config\n'
            'from mmengine.registry import DefaultScope\nfrom mmpretrain.registry import MODELS\n'
            'import m2pt_mm.models\n'
            "cfg = Config.fromfile('configs/omnivec/"
            "omnivec_vit-tiny-p8_omnivec-4-pre_1xb16-2e_digits-32x32.py')\n"
            "with DefaultScope.overwrite_default_scope('mmpretrain'):\n"
            '    model = MODELS.build(cfg.model)\n'
            "print(sorted(model.heads), sorted(m for m in sys.modules if m.startswith('mmseg')))\n")
    result = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "['digits_cls'] []", result.stdout + result.stderr[-2000:]
