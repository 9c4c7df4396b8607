"""Audio (AudioSet / ESC-50) and video (Kinetics-400) classifiers: the tiny configs' models train
and merge exactly; the data preprocessor stacks without re-normalising; every config builds."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch.testing import assert_close

import m2pt_mm.datasets  # noqa: F401
import m2pt_mm.models  # noqa: F401
from m2pt_mm.models import VideoCutMix
from m2pt_mm.testing.tiny import assert_merge_is_exact, set_scales, timm_state_dict
from tests.helpers import ROOT, TINY_AUDIO, TINY_VIDEO

#: (config, input shape of one sample)
TINY = {'audio': (TINY_AUDIO, (1, 128, 128)), 'video': (TINY_VIDEO, (3, 4, 32, 32))}


def build_tiny(kind: str, aux_path, pathway: bool = True):
    """The tiny classifier of ``kind`` with W′ read from ``aux_path`` (or no pathway)."""
    cfg = Config.fromfile(str(TINY[kind][0]))
    if pathway:
        cfg.model.backbone.pathway.aux_checkpoint = str(aux_path)
    else:
        cfg.model.backbone.pathway = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def samples(kind: str, n: int = 2):
    if kind == 'audio':  # multi-label: class indices per clip
        return [DataSample().set_gt_label(labels) for labels in ([0], [1, 2])[:n]]
    return [DataSample().set_gt_label(label) for label in (0, 1)[:n]]


@pytest.fixture
def aux_file(tmp_path):
    """A timm-layout aux checkpoint of the tiny configs' shape (4 blocks x 64, MLP 128)."""
    path = tmp_path / 'aux_timm_64.pth'
    torch.save(timm_state_dict(seed=1, dims=64), path)
    return path


@pytest.mark.parametrize('kind', ['audio', 'video'])
def test_tiny_classifier_forward_backward_reaches_w_aux_and_lambda(kind, aux_file):
    model = build_tiny(kind, aux_file)
    aux = timm_state_dict(seed=1, dims=64)
    qkv = model.backbone.layers[1].attn.qkv
    assert_close(qkv.aux_weight.detach(), aux['blocks.1.attn.qkv.weight'])  # W′ really loaded
    set_scales(model, 0.1)
    model.train()
    x = torch.randn(2, *TINY[kind][1])
    losses = model(x, samples(kind), mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    for param in (qkv.weight, qkv.aux_weight, qkv.cross_modal_scale, model.head.fc.weight):
        assert param.grad is not None and param.grad.abs().sum() > 0
    feats = model.extract_feat(x)
    assert feats[-1].shape == (2, 64)  # mean pooling + fc_norm, as AudioMAE / VideoMAE


@pytest.mark.parametrize('kind', ['audio', 'video'])
def test_merged_equals_unmerged_and_loads_into_plain_model(kind, aux_file):
    model = build_tiny(kind, aux_file)
    set_scales(model, lambda name: 0.05 * (1 + hash(name) % 7))
    model.eval()
    x = torch.randn(3, *TINY[kind][1])
    assert_merge_is_exact(model, lambda m: m(x, mode='tensor'),
                          build_tiny(kind, aux_file, pathway=False))


def test_preprocessor_stacks_pipeline_outputs_without_renormalising(tmp_path):
    from mmpretrain.registry import DATASETS

    from m2pt_mm.testing.modalities import write_audioset, write_kinetics
    for kind, info in (('audio', write_audioset(tmp_path / 'as')),
                       ('video', write_kinetics(tmp_path / 'k400'))):
        cfg = Config.fromfile(str(TINY[kind][0]))
        ds_cfg = cfg.val_dataloader.dataset
        ds_cfg.update(info['val'] if kind == 'audio' else dict(data_root=info['val']['data_root']))
        dataset = DATASETS.build(ds_cfg)
        batch = [dataset[0], dataset[1]]
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)  # as mmengine's Runner
        model = MODELS.build(cfg.model)
        data = model.data_preprocessor(dict(inputs=[b['inputs'] for b in batch],
                                            data_samples=[b['data_samples'] for b in batch]))
        assert data['inputs'].shape == (2, *TINY[kind][1])
        assert_close(data['inputs'], torch.stack([b['inputs'] for b in batch]).float())
        with torch.no_grad():
            out = model(data['inputs'], data['data_samples'], mode='predict')
        assert out[0].pred_score.shape == (cfg.model.head.num_classes, )


def test_video_cutmix_cuts_the_same_box_from_every_frame():
    import numpy as np
    clips = torch.stack([torch.zeros(3, 4, 16, 16), torch.ones(3, 4, 16, 16)])
    scores = torch.eye(2)
    for seed in range(20):  # a seed that pairs the two clips (randperm may keep the order)
        torch.manual_seed(seed)
        np.random.seed(seed)
        mixed, mixed_scores = VideoCutMix(alpha=1.0).mix(clips.clone(), scores)
        pasted = mixed[0] != 0  # where clip 0 received pixels of clip 1
        if pasted.any() and not pasted.all():
            break
    else:
        pytest.fail('VideoCutMix never pasted a partial box in 20 seeds')
    # the box covers whole channels and frames: identical across C and T
    assert (pasted == pasted[:1, :1]).all()
    area = pasted[0, 0].float().mean()
    assert_close(mixed_scores[0, 1], area)  # label share = box area of one frame
    assert_close(mixed_scores.sum(1), torch.ones(2))
    with pytest.raises(ValueError, match='at least 4 axes'):
        VideoCutMix(alpha=1.0).mix(torch.zeros(2, 16), scores)


# ------------------------------------------------------------------ every config
def config_params():
    params = []
    paths = sorted((ROOT / 'configs/audio').glob('*.py')) + sorted(
        (ROOT / 'configs/video').glob('*.py'))
    for path in paths:
        tiny = 'tiny' in path.name
        params.append(pytest.param(path, marks=[] if tiny else [pytest.mark.slow],
                                   id=str(path.relative_to(ROOT / 'configs'))))
    return params


@pytest.mark.parametrize('path', config_params())
def test_audio_video_config_builds_with_its_modality(path: Path):
    cfg = Config.fromfile(str(path))
    cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)  # as mmengine's Runner
    model = MODELS.build(cfg.model)
    backbone = model.backbone
    audio = path.parent.name == 'audio'
    assert type(backbone.patch_embed).__name__ == ('AudioTokenizer' if audio else 'VideoTokenizer')
    assert backbone.out_type == 'avg_featmap' and not backbone.final_norm
    assert (backbone.cls_token is not None) == audio  # AudioMAE has a class token, VideoMAE none
    # the transforms normalise: the preprocessor must not do it again
    assert not model.data_preprocessor._enable_normalize
    multi_label = audio and 'audioset' in path.name
    head = 'MultiLabelLinearClsHead' if multi_label else 'LinearClsHead'
    assert type(model.head).__name__ == head
    evaluator = cfg.val_evaluator
    if multi_label:
        assert evaluator.type == 'AveragePrecision'
    else:
        assert evaluator.type == 'Accuracy' and tuple(evaluator.topk) == (1, 5)
    has_pathway = path.name.startswith('m2pt_')
    assert bool(backbone.pathway_cfgs) == has_pathway
    if has_pathway:
        aux = backbone.pathway_cfgs[0]['aux_checkpoint']
        if 'tiny' not in path.name:
            modality = path.name.split('_')[1].split('-')[-1]  # m2pt_vit-base-p16-<aux>_...
            assert modality in aux or (modality == 'image' and 'mae_pretrain' in aux), aux
    pretrained = '-pre_' in path.name
    assert (backbone.init_cfg is not None) == pretrained
