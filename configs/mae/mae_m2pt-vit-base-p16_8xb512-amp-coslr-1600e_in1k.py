# Image aux/target pretraining: mmpretrain's MAE recipe unchanged (ViT-B/16, mask 0.75, decoder
# 512 × 8 blocks, norm-pix L2, AdamW lr 1.5e-4 × 4096/256, betas 0.9/0.95, wd 0.05, 40 warmup +
# 1560 cosine epochs, batch 8 × 512, AMP) — the recipe of the MAE ImageNet weights M2PT uses as
# image target and aux. Only the backbone is ours: M2PTMAEViT has the state-dict names of
# M2PTVisionTransformer, so the checkpoint is read directly as `pathway.aux_checkpoint` or
# `init_cfg=dict(type='Pretrained')`.
_base_ = [
    'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k.py',
    '../_base_/m2pt_runtime.py',
]

model = dict(
    backbone=dict(_delete_=True, type='M2PTMAEViT', arch='base', img_size=224, patch_size=16,
                  mask_ratio=0.75))

# mmengine tags dicts of another package's base with `_scope_`, and its Runner passes every key
# of `collate_fn` but `type` to the function: default_collate(_scope_=...) is a TypeError
train_dataloader = dict(collate_fn=dict(_delete_=True, type='default_collate'))

# the checkpoint hook of every m2pt_mm run (_base_/m2pt_runtime.py)
default_hooks = dict(checkpoint={{_base_.m2pt_checkpoint_hook}})
