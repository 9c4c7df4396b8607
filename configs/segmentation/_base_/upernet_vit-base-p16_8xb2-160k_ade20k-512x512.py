# UperNet ViT-B/16 on ADE20K 512×512, 160k iterations: mmseg's MAE recipe (its
# `mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py`, the MAE paper's segmentation setting),
# with the M2PT backbone in place of mmseg's MAE ViT: blocks 4, 6, 8, 12 (out_indices 3, 5, 7, 11)
# rescaled ×4 / ×2 / ×1 / ×½ by mmseg's Feature2Pyramid, UperHead + FCN auxiliary head, batch 16
# (8 GPUs × 2), AdamW lr 1e-4, weight decay 0.05, layer decay 0.65, 1500 warm-up iterations then
# poly, drop path 0.1, slide inference (512 crops, stride 341), single-scale evaluation (paper).
# In fp32; the recipe's mixed precision is added by the AMP sibling
# ./upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py (the tiny CPU config inherits this one).
_base_ = [
    'mmseg::mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py',
    '../../_base_/m2pt_runtime.py',
]

__reproduce_notes__ = [
    "Patches are 16 × 16, as in MAE's ViT-B/16 weights and the official M2PT image code "
    "(`vit_base_patch16`); the paper's text (§3.1) says S = 14 by default.",
]

model = dict(
    # mmseg's EncoderDecoder hands `pretrained` to the backbone as a keyword; ours reads init_cfg
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmpretrain.M2PTVisionTransformer',
        arch='base',
        img_size=512,
        # 16 × 16 as MAE's ViT-B/16 weights and the official M2PT code; the paper's text says
        # S = 14 (§3.1)
        patch_size=16,
        drop_path_rate=0.1,
        out_type='featmap',
        out_indices=(3, 5, 7, 11),
        final_norm=False,
        tokenizer=dict(type='ImageTokenizer')))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    # mmpretrain's layer decay + λ without weight decay, W′/λ at their block's depth
    constructor='PathwayLayerDecayOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        layer_decay_rate=0.65,
        norm_decay_mult=0.,  # LayerNorms of the backbone, BatchNorms of neck and heads
        bias_decay_mult=0.,
        custom_keys={'.pos_embed': dict(decay_mult=0.), '.cls_token': dict(decay_mult=0.)}))

# the checkpoint hook and TensorBoard of every m2pt_mm run (../../_base_/m2pt_runtime.py)
default_hooks = dict(checkpoint={{_base_.m2pt_checkpoint_hook}})
visualizer = dict(vis_backends={{_base_.m2pt_vis_backends}})
